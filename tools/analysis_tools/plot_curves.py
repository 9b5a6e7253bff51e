"""Plot every logged loss term and metric of a training run against iterations.

    python tools/analysis_tools/plot_curves.py WORK_DIR [--out PNG] [--title TEXT]

Example:
    python tools/analysis_tools/plot_curves.py work_dirs/fastgan_1024_pokemon

Reads ``WORK_DIR/<timestamp>/vis_data/scalars.json`` of every run in the work dir (a
resumed run continues the curves of the run it resumes) and writes one PNG (default
``WORK_DIR/training_curves.png``) with a subplot per group: the discriminator's hinge
terms, its reconstruction terms, the generator's loss, each metric (FID, KID, SWD, ...),
the learning rates and the time per iteration. The ``TrainingCurvesHook`` of the FastGAN
configs writes the same file at every checkpoint and at the end of training.
"""
import argparse
import sys
from pathlib import Path

from fastgan_plugin.visualization.curves import plot_training_curves

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/, for tool_utils
from tool_utils.cli import run  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Plot the training curves of a work dir')
    parser.add_argument('work_dir', help='work dir of tools/train.py')
    parser.add_argument('--out', help='PNG to write (default: WORK_DIR/training_curves.png)')
    parser.add_argument('--title', help="title above the plots (default: the work dir's name)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    path = plot_training_curves(args.work_dir, args.out, args.title)
    print(f'wrote {path}')


if __name__ == '__main__':
    run(main)
