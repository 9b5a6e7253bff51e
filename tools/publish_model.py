"""Prepare a checkpoint for publishing.

    python tools/publish_model.py IN OUT

Example:
    python tools/publish_model.py work_dirs/fastgan_256_obama/iter_50000.pth \\
        checkpoints/fastgan_256_obama.pth
    # -> checkpoints/fastgan_256_obama-1a2b3c4d.pth

Keeps the weights (``state_dict``) and a minimal ``meta`` (iter, mmengine_version,
dataset_meta, official_fastgan); drops the optimizer, message hub, parameter schedulers
and every other entry. Appends the first 8 hex digits of the file's sha256 to the name
(replacing only a final ``.pth``). Prints the written path.
"""
import argparse

from fastgan_plugin.apis import publish_checkpoint
from tool_utils.cli import run


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Strip a checkpoint to its weights and '
                                     'put its sha256 prefix in the file name')
    parser.add_argument('checkpoint', metavar='IN', help='checkpoint to publish')
    parser.add_argument('out', metavar='OUT',
                        help='output name without the hash, e.g. fastgan_256_obama.pth')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    print(publish_checkpoint(args.checkpoint, args.out))


if __name__ == '__main__':
    run(main)
