"""Nearest training images of generated images, and a memorisation score.

    python tools/nearest_neighbors.py CONFIG CHECKPOINT [--data DIR] [--num N] [--seed S]
                                      [--k K] [--metric pixel|lpips] [--size PX]
                                      [--quantile Q] [--resize-mode crop|pad]
                                      [--cell-size PX] [--out DIR] [--batch-size B]
                                      [--device D] [--sample-model ema|orig]
                                      [--classes CLASS ...]

Examples:
    python tools/nearest_neighbors.py configs/fastgan/fastgan_256_obama.py obama.pth --num 32
    python tools/nearest_neighbors.py art.py art.pth --data data/art --metric lpips --k 5

Writes ``DIR/nearest_neighbors.png`` (a row per sample: the sample, then its K nearest
training images, nearest first) and ``DIR/nearest_neighbors.json`` (distances, file names,
threshold, score), and prints the memorisation score: the share of samples closer to a
training image than the ``--quantile`` (default 0.05) of the training images'
nearest-neighbour distances to each other. About Q means no copying, well above Q means
near-copies; see fastgan_plugin/apis/nearest_neighbors.py and docs/model_zoo.md.
``--metric lpips`` needs the ImageNet VGG16 weights of torchvision (downloaded once).

A class-conditional model samples the seeds in each class of ``--classes`` (names or indices;
default: every class), compares them with the training images of every class, and writes one
grid per class, ``DIR/nearest_neighbors_<class name>.png``; each sample in the JSON names its
``class``, and ``class_scores`` holds the score per class.
"""
import argparse
import json
import os

from fastgan_plugin.apis import ImageDistance, nearest_neighbors_grid, nearest_training_images
from fastgan_plugin.apis.nearest_neighbors import DISTANCE_METRICS
from tool_utils.cli import (
    add_classes_argument,
    add_model_arguments,
    add_seed_arguments,
    classes_from_args,
    model_from_args,
    positive_int,
    run,
    seeds_from_args,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Nearest training images of FastGAN samples, and a memorisation score')
    add_model_arguments(parser, 'nearest_neighbors')
    parser.add_argument('--data', help='folder of the training images (default: '
                        'train_dataloader.dataset.data_root of the config)')
    add_seed_arguments(parser, 'samples')
    parser.add_argument('--k', type=positive_int, default=3,
                        help='nearest training images shown per sample (default: 3)')
    parser.add_argument('--metric', choices=DISTANCE_METRICS, default='pixel',
                        help='image distance (default: pixel)')
    parser.add_argument('--size', type=positive_int, default=64,
                        help='resolution the images are compared at (default: 64)')
    parser.add_argument('--quantile', type=float, default=0.05,
                        help='quantile of the training NN distances used as threshold '
                        '(default: 0.05)')
    parser.add_argument('--resize-mode', choices=('crop', 'pad'), default='crop',
                        help='how training images are made square (default: crop)')
    parser.add_argument('--cell-size', type=positive_int, default=128,
                        help='side of each image in the grid (default: 128)')
    add_classes_argument(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = model_from_args(args)
    data = args.data or ((model.cfg.get('train_dataloader') or {}).get('dataset') or {}).get(
        'data_root')
    if not data:
        raise ValueError('no training images: pass --data DIR (the config sets no '
                         'train_dataloader.dataset.data_root)')
    classes = classes_from_args(model, args)
    seeds = list(seeds_from_args(args))
    labels = [label for label, _ in classes for _ in seeds]
    result = nearest_training_images(
        model, data, seeds * len(classes), ImageDistance(args.metric, args.size,
                                                         device=args.device),
        args.k, args.quantile, args.resize_mode, args.cell_size, args.batch_size,
        args.sample_model, progress=True, classes=None if labels[0] is None else labels)
    os.makedirs(args.out, exist_ok=True)
    for label, name in classes:
        nearest_neighbors_grid(result, args.cell_size, label).save(os.path.join(
            args.out, 'nearest_neighbors' + ('' if name is None else f'_{name}') + '.png'))
    names = [name for _, name in classes for _ in seeds]
    report = dict(
        metric=args.metric, size=args.size, quantile=args.quantile,
        threshold=result['threshold'], memorisation_score=result['score'], data=data,
        samples=[
            dict(seed=seed, memorised=bool(memorised),
                 neighbors=[os.path.relpath(result['train_paths'][j], data)
                            for j in indices.tolist()],
                 distances=distances.tolist(), **({} if name is None else {'class': name}))
            for seed, name, memorised, indices, distances in zip(
                result['seeds'], names, result['memorised'], result['nn_indices'],
                result['nn_distances'])
        ])
    if labels[0] is not None:
        report['class_scores'] = {name: result['memorised'][result['labels'] == label]
                                  .float().mean().item() for label, name in classes}
    with open(os.path.join(args.out, 'nearest_neighbors.json'), 'w') as f:
        json.dump(report, f, indent=2)
    print(f'memorisation score ({args.metric}, quantile {args.quantile}): '
          f'{result["score"]:.3f} ({int(result["memorised"].sum())} of {len(result["seeds"])} '
          f'samples closer to a training image than {result["threshold"]:.4f}); wrote '
          f'{args.out}')


if __name__ == '__main__':
    run(main)
