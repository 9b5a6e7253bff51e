"""How much closer projection gets to training images than the best of N random samples.

    python tools/analysis_tools/projection_margin.py CONFIG CHECKPOINT [--data DIR]
        [--images K] [--seeds S ...] [--num-random N] [--steps N] [--lr LR]
        [--space z|feat4|feat8] [--[no-]optimize-noise] [--candidates N] [--device D]

Example:
    python tools/analysis_tools/projection_margin.py work_dirs/demo/config.py \\
        work_dirs/demo/iter_300.pth --data work_dirs/demo/data --images 4 --seeds 0 1 2

For each seed s and each of the first K training images: the RMS pixel distance (64 px, in
[0, 2]; fastgan_plugin.apis.ImageDistance) to the image of the best of N random samples
(seeds 100000 + s*N ..), and of the projection (fastgan_plugin.apis.project, candidates
from seed s*C, pixel objective, in --space); a Markdown table, the ratio projection /
best-of-N and the time per projection.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

from fastgan_plugin.apis import ImageDistance, load_image_folder, project, sample_images
from fastgan_plugin.apis.projection import (
    DEFAULT_CANDIDATES,
    DEFAULT_LR,
    DEFAULT_STEPS,
    PROJECTION_SPACES,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/, for tool_utils
from tool_utils.cli import add_model_arguments, model_from_args, positive_int, run  # noqa

RANDOM_SEED_BASE = 100000  # random samples' seeds: apart from the projection's candidates


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Projection against the best random sample')
    add_model_arguments(parser, '', 'unused')
    parser.add_argument('--data', help="training images (default: the config's data_root)")
    parser.add_argument('--images', type=positive_int, default=4,
                        help='the first K training images (default: 4)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='one run per seed (default: 0 1 2)')
    parser.add_argument('--num-random', type=positive_int, default=256,
                        help='N random samples per seed (default: 256)')
    parser.add_argument('--steps', type=int, default=DEFAULT_STEPS, help='default: %(default)s')
    parser.add_argument('--lr', type=float, default=DEFAULT_LR, help='default: %(default)s')
    parser.add_argument('--space', choices=tuple(PROJECTION_SPACES), default='z',
                        help='what project optimises (default: z, the latent)')
    parser.add_argument('--optimize-noise', action=argparse.BooleanOptionalAction, default=True,
                        help='default: on')
    parser.add_argument('--candidates', type=positive_int, default=DEFAULT_CANDIDATES,
                        help='default: %(default)s')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = model_from_args(args)
    data = args.data or model.cfg.train_dataloader.dataset.data_root
    targets, paths = load_image_folder(data, model.generator.im_size)
    distance, ratios, seconds = ImageDistance('pixel'), [], 0.0
    print('| seed | image | best of N random | projection | ratio |\n|---|---|---|---|---|')
    for seed in args.seeds:
        first = RANDOM_SEED_BASE + seed * args.num_random
        randoms = sample_images(model, range(first, first + args.num_random), args.batch_size,
                                args.sample_model)
        for target, path in list(zip(targets, paths))[:args.images]:
            best = distance.pairwise(randoms, target[None]).min().item()
            start = time.perf_counter()
            result = project(model, target, args.steps, args.lr, lpips='off', space=args.space,
                             optimize_noise=args.optimize_noise,
                             num_candidates=args.candidates, seed=seed * args.candidates,
                             sample_model=args.sample_model, batch_size=args.batch_size)
            seconds += time.perf_counter() - start
            projected = distance.pairwise(result.image[None], target[None]).item()
            ratios.append(projected / best)
            print(f'| {seed} | {Path(path).name} | {best:.4f} | {projected:.4f} | '
                  f'{ratios[-1]:.3f} |', flush=True)
    print(f'\nratio projection / best of {args.num_random}: mean {np.mean(ratios):.3f}, std '
          f'{np.std(ratios):.3f}, worst {max(ratios):.3f} over {len(ratios)} runs; '
          f'{seconds / len(ratios):.1f} s per projection')


if __name__ == '__main__':
    run(main)
