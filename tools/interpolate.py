"""Interpolate between seeds: PNG frames and a video.

    python tools/interpolate.py CONFIG CHECKPOINT [--seeds S1 S2 ...] [--steps N]
                                [--method slerp|lerp] [--loop] [--out DIR] [--fps F]
                                [--video auto|mp4|gif|none] [--batch-size B] [--device D]
                                [--sample-model ema|orig] [--truncation PSI]
                                [--classes CLASS ...]

Examples:
    python tools/interpolate.py configs/fastgan/fastgan_256_obama.py obama.pth --seeds 0 7 42 --loop
    python tools/interpolate.py art.py art.pth --steps 60 --fps 30 --video mp4 --out interp/art

Writes ``DIR/frame_0000.png`` ... (``--steps`` frames per pair of consecutive seeds, both
ends included once) and ``DIR/interpolation.mp4`` or ``.gif``. MP4 needs the
``imageio-ffmpeg`` package; ``--video auto`` (default) writes MP4 when it is installed and
a GIF otherwise, and says so. Every frame uses the first seed's injection noise, so only
the latent moves. A class-conditional model writes one interpolation per class of
``--classes`` (names or indices; default: every class) into ``DIR/<class name>/``.
"""
import argparse
import os

from fastgan_plugin.apis import interpolate, to_pil
from fastgan_plugin.apis.interpolation import INTERPOLATION_METHODS
from tool_utils.cli import (
    add_classes_argument,
    add_model_arguments,
    add_truncation_argument,
    classes_from_args,
    model_from_args,
    positive_int,
    run,
)
from tool_utils.video import write_video

VIDEO_FORMATS = ('auto', 'mp4', 'gif', 'none')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Interpolate FastGAN latents between seeds')
    add_model_arguments(parser, 'interpolation')
    add_truncation_argument(parser)
    add_classes_argument(parser)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3],
                        help='seeds to pass through, in order (default: 0 1 2 3)')
    parser.add_argument('--steps', type=positive_int, default=16,
                        help='frames per pair of seeds, both ends included (default: 16)')
    parser.add_argument('--method', choices=INTERPOLATION_METHODS, default='slerp',
                        help='spherical or linear interpolation (default: slerp)')
    parser.add_argument('--loop', action='store_true',
                        help='return to the first seed, for a seamless loop')
    parser.add_argument('--fps', type=positive_int, default=12,
                        help='frames per second of the video (default: 12)')
    parser.add_argument('--video', choices=VIDEO_FORMATS, default='auto',
                        help='video format; auto = mp4 if imageio-ffmpeg is installed, else '
                        'gif (default: auto)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model = model_from_args(args)
    for label, name in classes_from_args(model, args):
        out = args.out if name is None else os.path.join(args.out, name)
        frames = to_pil(
            interpolate(model, args.seeds, args.steps, args.method, args.loop, args.batch_size,
                        args.sample_model, progress=True, truncation=args.truncation,
                        classes=label))
        os.makedirs(out, exist_ok=True)
        for index, frame in enumerate(frames):
            frame.save(os.path.join(out, f'frame_{index:04d}.png'))
        video = write_video(frames, out, args.fps, args.video)
        print(f'wrote {len(frames)} frames to {out}' + (f' and {video}' if video else ''))


if __name__ == '__main__':
    run(main)
