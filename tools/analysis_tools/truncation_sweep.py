"""What the truncation psi does to a model: SWD to the training images and diversity, per psi.

    python tools/analysis_tools/truncation_sweep.py CONFIG CHECKPOINT [--data DIR]
        [--psis PSI ...] [--repeats R] [--device D] [--sample-model ema|orig]
        [--batch-size B]

Example:
    python tools/analysis_tools/truncation_sweep.py work_dirs/demo/config.py \\
        work_dirs/demo/iter_300.pth --data work_dirs/demo/data --psis 1.0 0.9 0.8 0.7 0.5

For each psi and each of ``--repeats`` sets of M seeds (M = the number of training images;
set r has seeds r*M .. r*M + M - 1, the same for every psi), it samples M images and prints
a Markdown table of the mean and standard deviation over the sets of

- SWD: mmagic's ``SlicedWassersteinDistance`` (7x7 Laplacian-pyramid patches, x 1e3, the
  average over its resolutions; lower = closer) between the samples and the M training
  images, made square at the model's size as in training (RGBA composited on white);
- diversity: the mean RMS pixel distance (64 px, in [0, 2]) between two samples of the set.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from mmagic.evaluation.metrics import SlicedWassersteinDistance

from fastgan_plugin.apis import ImageDistance, load_image_folder, sample_images
from fastgan_plugin.utils.channels import to_rgb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/, for tool_utils
from tool_utils.cli import (  # noqa: E402
    add_model_arguments,
    model_from_args,
    positive_int,
    run,
    truncation_psi,
)


def sliced_wasserstein_distance(fakes: torch.Tensor, reals: torch.Tensor, seed: int = 0,
                                batch_size: int = 32) -> float:
    """mmagic's SWD (x 1e3, average over its pyramid levels) between images (M, C, R, R) in
    [-1, 1], as many fakes as reals, quantised to [0, 255] as a saved image is; ``seed``
    fixes its random patches and directions."""
    np.random.seed(seed)
    torch.manual_seed(seed)
    fakes, reals = (to_rgb(images.float().clamp(-1, 1)) for images in (fakes, reals))
    metric = SlicedWassersteinDistance(len(reals), tuple(reals.shape[1:]), prefix='SWD')
    for fake, real in zip(fakes.split(batch_size), reals.split(batch_size)):
        metric.process(None, [dict(gt_img=((r + 1) * 127.5).round(),
                                   fake_img=((f + 1) * 127.5).round()) for f, r in zip(fake, real)])
    return metric.compute_metrics(metric.fake_results, metric.real_results)['avg']


def diversity(images: torch.Tensor) -> float:
    """Mean RMS pixel distance (64 px) between two different images of (N, C, H, W)."""
    distances = ImageDistance('pixel').pairwise(to_rgb(images.float().clamp(-1, 1)))
    return (distances.sum() / (len(images) * (len(images) - 1))).item()


def sweep(model, reals: torch.Tensor, psis, repeats: int, batch_size: int = 8,
          sample_model: str = 'ema') -> dict:
    """psi -> (SWD per set, diversity per set) for ``repeats`` sets of len(reals) seeds."""
    results = {}
    for psi in psis:
        swds, spreads = [], []
        for index in range(repeats):
            seeds = range(index * len(reals), (index + 1) * len(reals))
            fakes = sample_images(model, seeds, batch_size, sample_model, truncation=psi)
            swds.append(sliced_wasserstein_distance(fakes, reals, seed=index))
            spreads.append(diversity(fakes))
        results[psi] = (swds, spreads)
    return results


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='SWD and diversity against truncation psi')
    add_model_arguments(parser, '', 'unused')
    parser.add_argument('--data', help='folder of the training images (default: the '
                        "config's train_dataloader.dataset.data_root)")
    parser.add_argument('--psis', type=truncation_psi, nargs='+',
                        default=[1.0, 0.9, 0.8, 0.7, 0.5], help='psi values (default: 1.0 '
                        '0.9 0.8 0.7 0.5)')
    parser.add_argument('--repeats', type=positive_int, default=3,
                        help='sets of seeds per psi (default: 3)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = model_from_args(args)
    dataset = (model.cfg.get('train_dataloader') or {}).get('dataset') or {}
    data = args.data or dataset.get('data_root')
    if not data or not Path(data).is_dir():
        raise FileNotFoundError(f'no folder of training images at {data!r}: pass --data DIR')
    reals = load_image_folder(data, model.generator.im_size)[0]
    if len(reals) < 2:
        raise ValueError(f'{data!r} holds {len(reals)} image: SWD and diversity need two')
    results = sweep(model, reals, args.psis, args.repeats, args.batch_size, args.sample_model)
    print(f'{len(reals)} training images in {data}; {args.repeats} sets of {len(reals)} '
          f'{args.sample_model} samples per psi (mean +- std over the sets)\n')
    print('| psi | SWD (x1e3, avg) | diversity (RMS pixel distance) |\n|---|---|---|')
    for psi, (swds, spreads) in results.items():
        print(f'| {psi:g} | {np.mean(swds):.1f} +- {np.std(swds):.1f} | '
              f'{np.mean(spreads):.4f} +- {np.std(spreads):.4f} |')


if __name__ == '__main__':
    run(main)
