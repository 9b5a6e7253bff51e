"""Convert an official FastGAN-pytorch checkpoint to an mmagic checkpoint and its config.

    python tools/convert_official_checkpoint.py IN OUT [--config-out PATH]
                                                [--im-size S --ngf N --ndf N --nz N]

Examples:
    python tools/convert_official_checkpoint.py train_results/art/models/all_50000.pth \\
        checkpoints/fastgan_official_art.pth --config-out checkpoints/fastgan_official_art.py
    python tools/convert_official_checkpoint.py 50000.pth checkpoints/art_ema.pth > art.py

IN is ``all_N.pth`` (g, d, g_ema, opt_g, opt_d) or ``N.pth`` (g = EMA weights, d), with or
without DataParallel's ``module.`` prefixes, read with ``torch.load(weights_only=True)``.
im_size, ngf, ndf and nz are read off the tensor shapes unless given. OUT is an mmagic
checkpoint of the FastGAN model (generator, discriminator, generator_ema; no optimizer
state) for ``load_from``, ``init_cfg`` or ``fastgan_plugin.apis.init_model``. The matching
config is printed, or written to ``--config-out``. A file that is not an official FastGAN
checkpoint is refused with a message and exit status 1. See docs/model_zoo.md.
"""
import argparse
import os
import sys

import torch

from fastgan_plugin.models.editors.fastgan.official_converter import (
    OFFICIAL_SIZES,
    convert_official_checkpoint,
)
from fastgan_plugin.utils.cli import positive_int, run


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an official FastGAN-pytorch checkpoint for fastgan_plugin')
    parser.add_argument('checkpoint', metavar='IN', help='official all_N.pth or N.pth')
    parser.add_argument('out', metavar='OUT', help='mmagic checkpoint to write (.pth)')
    parser.add_argument('--config-out', metavar='PATH',
                        help='write the matching config to PATH instead of printing it')
    parser.add_argument('--im-size', type=int, choices=OFFICIAL_SIZES,
                        help='resolution (default: read off the weights)')
    parser.add_argument('--ngf', type=positive_int,
                        help='generator base width (default: read off the weights)')
    parser.add_argument('--ndf', type=positive_int,
                        help='discriminator base width (default: read off the weights)')
    parser.add_argument('--nz', type=positive_int,
                        help='noise dimension (default: read off the weights)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    checkpoint, config = convert_official_checkpoint(
        args.checkpoint, args.out, im_size=args.im_size, ngf=args.ngf, ndf=args.ndf,
        nz=args.nz)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save(checkpoint, args.out)
    meta = checkpoint['meta']['official_fastgan']
    sizes = ', '.join(f'{key}={meta[key]}' for key in ('im_size', 'ngf', 'ndf', 'nz'))
    print(f'wrote {args.out} ({sizes}; generator_ema from {meta["generator_ema"]!r})',
          file=sys.stderr)
    if args.config_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.config_out)), exist_ok=True)
        with open(args.config_out, 'w') as f:
            f.write(config)
        print(f'wrote {args.config_out}', file=sys.stderr)
    else:
        print(config, end='')


if __name__ == '__main__':
    run(main)
