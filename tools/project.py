"""Project real images into a FastGAN: the latent (and optionally the injection noise) with
which the generator reproduces each image, to interpolate or style-mix it like a sample.

    python tools/project.py CONFIG CHECKPOINT IMAGE [IMAGE ...] [--out DIR] [--steps N]
                            [--lr LR] [--space z|feat4|feat8] [--[no-]optimize-noise]
                            [--lpips auto|on|off]
                            [--lpips-weight W] [--candidates N] [--seed S] [--frame-every K]
                            [--mix-seed S] [--mix-steps N] [--resize-mode crop|pad]
                            [--device D] [--sample-model ema|orig] [--batch-size B]

Examples:
    python tools/project.py work_dirs/demo/config.py work_dirs/demo/iter_300.pth face.png
    python tools/project.py art.py art.pth data/art/*.jpg --steps 500 --out proj/

Writes, per image ``NAME.ext``: ``NAME_projection.png`` (the target, made square as in
training, beside the projection), ``NAME.pt`` (the latent, the injection noise, optimised
unless ``--no-optimize-noise``, the seed it started from, the objective per step, the
``--space`` and its optimised feature maps;
``torch.load(path, weights_only=True)``; docs/projection.md shows how to generate,
interpolate and style-mix from it),
``NAME_progress.png`` (the reconstruction every ``--frame-every`` steps) and
``NAME_interpolation.png`` (from the projection to the sample of ``--mix-seed``). It prints
the distance it minimised: LPIPS needs torchvision's VGG16 weights, which ``--lpips auto``
(default) uses only when they are already in the torch hub cache, else the multi-scale pixel
term alone.
"""
import argparse
import os

import torch

from fastgan_plugin.apis import select_generator, to_grid
from fastgan_plugin.apis.projection import (
    DEFAULT_CANDIDATES,
    DEFAULT_LR,
    DEFAULT_STEPS,
    LPIPS_MODES,
    PROJECTION_SPACES,
    load_image,
    project,
    projection_interpolation,
    projection_objective,
    save_projection,
)
from tool_utils.cli import add_model_arguments, model_from_args, positive_int, run

TOOL_LPIPS_MODES = tuple(mode for mode in LPIPS_MODES if mode != 'random')  # random: tests


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Project images into a FastGAN generator')
    add_model_arguments(parser, 'projections')
    parser.add_argument('images', nargs='+', metavar='IMAGE', help='image files to project')
    parser.add_argument('--steps', type=int, default=DEFAULT_STEPS,
                        help='Adam steps per image (default: %(default)s)')
    parser.add_argument('--lr', type=float, default=DEFAULT_LR,
                        help='peak Adam learning rate, ramped up over the first 5 %% of the '
                        'steps and down over the last 25 %% (default: %(default)s)')
    parser.add_argument('--space', choices=tuple(PROJECTION_SPACES), default='z',
                        help='what is optimised: z = the latent (default), feat4 / feat8 = '
                        'the 4 px / 4 and 8 px feature maps: closer, but may leave the '
                        "generator's range")
    parser.add_argument('--optimize-noise', action=argparse.BooleanOptionalAction, default=True,
                        help='optimise the injection noise too (default): closer '
                        'reconstructions; --no-optimize-noise: the latent alone, the noise '
                        'stays that of a seed')
    parser.add_argument('--lpips', choices=TOOL_LPIPS_MODES, default='auto',
                        help='LPIPS term: auto = if the VGG16 weights are cached, on = '
                        'download them if needed, off = pixel term only (default: auto)')
    parser.add_argument('--lpips-weight', type=float, default=1.0,
                        help='weight of LPIPS against the pixel term (default: 1)')
    parser.add_argument('--candidates', type=positive_int, default=DEFAULT_CANDIDATES,
                        help='seeded samples to start from the best of (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0,
                        help='first seed of the candidates (default: 0)')
    parser.add_argument('--frame-every', type=positive_int, default=20,
                        help='steps between the frames of the progress strip (default: 20)')
    parser.add_argument('--mix-seed', type=int, default=0,
                        help='seed of the sample the interpolation goes to (default: 0)')
    parser.add_argument('--mix-steps', type=positive_int, default=8,
                        help='frames of the interpolation (default: 8)')
    parser.add_argument('--resize-mode', choices=('crop', 'pad'), default='crop',
                        help='how an image is made square, as in training (default: crop)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    names = [os.path.splitext(os.path.basename(path))[0] for path in args.images]
    for path in args.images:
        if not os.path.isfile(path):
            raise FileNotFoundError(f'image {path!r} does not exist')
    if len(set(names)) < len(names):
        raise ValueError(f'images {args.images} share a file name: their outputs '
                         '(NAME_projection.png, NAME.pt) would overwrite each other')
    if args.steps < 0 or args.lr < 0 or args.mix_steps < 2:
        raise ValueError('--steps and --lr must be >= 0 and --mix-steps >= 2')
    model = model_from_args(args)
    generator = select_generator(model, args.sample_model)
    print('distance: ' + projection_objective(args.lpips, args.lpips_weight)[1])
    os.makedirs(args.out, exist_ok=True)
    for path, name in zip(args.images, names):
        target = load_image(path, generator.im_size, args.resize_mode, generator.img_channels)
        result = project(model, target, args.steps, args.lr, space=args.space,
                         optimize_noise=args.optimize_noise, lpips=args.lpips,
                         lpips_weight=args.lpips_weight, num_candidates=args.candidates,
                         seed=args.seed, frame_every=args.frame_every,
                         sample_model=args.sample_model, batch_size=args.batch_size)
        out = os.path.join(args.out, name)
        to_grid(torch.cat([target, result.image[None]]), 2).save(f'{out}_projection.png')
        to_grid(result.frames, len(result.frames)).save(f'{out}_progress.png')
        save_projection(result, f'{out}.pt')
        to_grid(projection_interpolation(model, result.latent, result.injection_noise,
                                         args.mix_seed, args.mix_steps, args.sample_model,
                                         space=result.space, features=result.features),
                args.mix_steps).save(f'{out}_interpolation.png')
        print(f'{path}: objective {result.losses[0]:.4g} (best of seeds {args.seed}..'
              f'{args.seed + args.candidates - 1}: {result.noise_seed}) -> '
              f'{result.losses[-1]:.4g} after {args.steps} steps; wrote {out}.pt and '
              f'{out}_projection.png, _progress.png, _interpolation.png')


if __name__ == '__main__':
    run(main)
