"""Evaluate a FastGAN checkpoint with the config's test metrics (FID, KID, ...).

    python tools/test.py CONFIG CHECKPOINT [--data-root DIR] [--work-dir DIR] [--cfg-options ...]
"""
from tool_utils.console import runner_class  # first: it silences upstream import warnings

# isort: split
import argparse

from mmengine.dist import is_main_process

import fastgan_plugin  # noqa: F401
from fastgan_plugin.utils.dist import close_distributed
from tool_utils.cli import add_runner_arguments, config_from_runner_args, run


def parse_args():
    parser = argparse.ArgumentParser(description='Evaluate FastGAN with MMEngine')
    add_runner_arguments(parser, work_dir_help='where the evaluation logs go')
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = config_from_runner_args(args)  # --launcher pytorch without a GPU: gloo
    cfg.load_from = args.checkpoint
    runner = runner_class(args.verbose).from_cfg(cfg)
    runner.test()
    main_process = is_main_process()  # asked before the process group is closed
    close_distributed()
    if not main_process:
        return
    # mmagic's MultiTestLoop returns nothing; MMEngine records the results as 'test/<name>'
    for name, buffer in runner.message_hub.log_scalars.items():
        if name.startswith('test/'):
            print(f"{name[len('test/'):]}: {buffer.current()}")


if __name__ == '__main__':
    run(main)
