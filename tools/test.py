"""Evaluate a FastGAN checkpoint with the config's test metrics (FID, KID, ...).

    python tools/test.py CONFIG CHECKPOINT [--data-root DIR] [--work-dir DIR] [--cfg-options ...]
"""
import argparse
import os

from mmengine.config import DictAction
from mmengine.dist import is_main_process
from mmengine.runner import Runner

import fastgan_plugin  # noqa: F401
from fastgan_plugin.utils.config import load_config
from fastgan_plugin.utils.dist import close_distributed, setup_cpu_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Evaluate FastGAN with MMEngine')
    parser.add_argument('config', help='config file, or fastgan_plugin::<name>.py')
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument('--work-dir', help='where the evaluation logs go')
    parser.add_argument('--data-root', metavar='DIR',
                        help='folder of images for training and for the real images of '
                        "FID / KID: sets the config's data_root and the data_root of "
                        'train_dataloader, val_dataloader and test_dataloader')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options, args.work_dir, args.data_root)
    cfg.launcher = args.launcher
    setup_cpu_distributed(cfg)  # --launcher pytorch without a GPU: gloo
    cfg.load_from = args.checkpoint
    runner = Runner.from_cfg(cfg)
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
    main()
