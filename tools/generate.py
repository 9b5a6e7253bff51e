"""Generate images with a trained (or converted) FastGAN.

    python tools/generate.py CONFIG CHECKPOINT [--num N] [--out DIR] [--seed S]
                             [--batch-size B] [--device D] [--sample-model ema|orig]
                             [--truncation PSI] [--classes CLASS ...]

Examples:
    python tools/generate.py configs/fastgan/fastgan_256_obama.py \\
        work_dirs/fastgan_256_obama/iter_50000.pth
    python tools/generate.py checkpoints/art.py checkpoints/art.pth --num 1000 --out fakes/art
    python tools/generate.py checkpoints/art.py checkpoints/art.pth --truncation 0.7

Writes one PNG per seed, ``DIR/seed_000000.png`` ..., seeds S to S + N - 1. An image
depends only on its seed (latent and injection noise) and ``--truncation``, so any subset
can be regenerated. ``--truncation PSI`` < 1 scales the latent and the injection noise by PSI
toward their mean: more typical, less diverse images.

A class-conditional model writes ``DIR/<class name>/seed_000000.png`` ..., the same seeds for
each class of ``--classes`` (names or indices; default: every class):

    python tools/generate.py animals.py animals.pth --classes cat dog --num 100
"""
import argparse

from fastgan_plugin.apis import generate_to_folder
from tool_utils.cli import (
    add_classes_argument,
    add_model_arguments,
    add_seed_arguments,
    add_truncation_argument,
    classes_from_args,
    model_from_args,
    run,
    seeds_from_args,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Generate images with FastGAN')
    add_model_arguments(parser, 'generated')
    add_seed_arguments(parser, 'images')
    add_truncation_argument(parser)
    add_classes_argument(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = model_from_args(args)
    seeds, paths = seeds_from_args(args), []
    for label, _ in classes_from_args(model, args):
        paths += generate_to_folder(model, args.out, seeds, args.batch_size, args.sample_model,
                                    progress=True, truncation=args.truncation, classes=label)
    print(f'wrote {len(paths)} images to {args.out}')


if __name__ == '__main__':
    run(main)
