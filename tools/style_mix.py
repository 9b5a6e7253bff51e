"""Style mixing through the SLE gates: content from one latent, style from another.

    python tools/style_mix.py CONFIG CHECKPOINT [--content-seeds S ...] [--style-seeds S ...]
                              [--gates R ...] [--out FILE] [--batch-size B] [--device D]
                              [--sample-model ema|orig] [--truncation PSI]
                              [--classes CLASS ...]

Examples:
    python tools/style_mix.py configs/fastgan/fastgan_1024_pokemon.py pokemon.pth
    python tools/style_mix.py art.py art.pth --content-seeds 1 2 3 --style-seeds 7 8 --gates 64 128

Writes one grid image: the top row holds the style images, the left column the content
images, and cell (row c, column s) content c generated with the SLE gates (at the
resolutions ``--gates``, default all: 64 128 256 512) computed from style s
(fastgan_plugin.apis.style_mix_grid). ``--truncation PSI`` scales the latents and injection
noise of contents and styles by PSI, as tools/generate.py does. A class-conditional model
writes one grid per class of ``--classes`` (names or indices; default: every class), contents
and styles of that class: ``--out style_mix.png`` becomes ``style_mix_<class name>.png``.
"""
import argparse
import os

from fastgan_plugin.apis import style_mix_grid
from tool_utils.cli import (
    add_classes_argument,
    add_model_arguments,
    add_truncation_argument,
    classes_from_args,
    model_from_args,
    run,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='FastGAN style mixing through SLE gates')
    add_model_arguments(parser, 'style_mix.png', 'grid image to write')
    add_truncation_argument(parser)
    add_classes_argument(parser)
    parser.add_argument('--content-seeds', type=int, nargs='+', default=[0, 1, 2, 3],
                        help='seeds of the content (rows) (default: 0 1 2 3)')
    parser.add_argument('--style-seeds', type=int, nargs='+', default=[4, 5, 6, 7],
                        help='seeds of the style (columns) (default: 4 5 6 7)')
    parser.add_argument('--gates', type=int, nargs='+', default=None,
                        help='SLE resolutions whose gates come from the style (default: all)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = model_from_args(args)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    root, ext = os.path.splitext(args.out)
    for label, name in classes_from_args(model, args):
        out = args.out if name is None else f'{root}_{name}{ext}'
        style_mix_grid(model, args.content_seeds, args.style_seeds, args.gates, args.batch_size,
                       args.sample_model, progress=True, classes=label,
                       truncation=args.truncation).save(out)
        print(f'wrote {out} ({len(args.content_seeds)} contents x {len(args.style_seeds)} '
              'styles)')


if __name__ == '__main__':
    run(main)
