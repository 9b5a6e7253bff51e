"""The README's demo: draw a small image set, train FastGAN on it offline, sample from it.

    python tools/demo.py [--work-dir DIR] [--iters N] [--num-images N] [--num-generated N]
"""
import argparse
import os
import time

from mmengine.runner import Runner

import fastgan_plugin  # noqa: F401
from fastgan_plugin.apis import generate_to_folder
from fastgan_plugin.utils.config import load_config
from fastgan_plugin.utils.demo_data import make_demo_images

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, 'configs', 'fastgan_demo_cpu.py')


def parse_args():
    parser = argparse.ArgumentParser(description='Train a small FastGAN offline on CPU')
    parser.add_argument('--work-dir', default='work_dirs/fastgan_demo_cpu',
                        help='where data, logs, samples and the checkpoint go')
    parser.add_argument('--iters', type=int, default=None, help='training iterations')
    parser.add_argument('--num-images', type=int, default=64, help='images in the data set')
    parser.add_argument('--num-generated', type=int, default=16,
                        help='images generated after training')
    return parser.parse_args()


def main():
    args = parse_args()
    start = time.time()
    work_dir = os.path.abspath(args.work_dir)
    data_root = os.path.join(work_dir, 'data')
    options = {'train_dataloader.dataset.data_root': data_root}
    if args.iters is not None:
        options.update({'train_cfg.max_iters': args.iters,
                        'default_hooks.checkpoint.interval': args.iters})
    cfg = load_config(CONFIG, options, work_dir)

    make_demo_images(data_root, args.num_images, size=cfg.model.generator.im_size)
    runner = Runner.from_cfg(cfg)
    runner.train()

    model = runner.model.eval()
    generated = os.path.join(work_dir, 'generated')
    generate_to_folder(model, generated, range(args.num_generated))
    checkpoint = os.path.join(work_dir, f'iter_{runner.iter}.pth')
    vis_dir = os.path.join(runner.log_dir, 'vis_data', 'vis_image')
    print(f'\nFastGAN demo finished in {time.time() - start:.0f} s')
    print(f'  training images : {data_root} ({args.num_images} drawn by code)')
    print(f'  sample grids    : {vis_dir} (EMA samples and reconstructions every 100 iters)')
    print(f'  checkpoint      : {checkpoint}')
    print(f'  generated images: {generated} ({args.num_generated} PNGs)')
    print(f'  log             : {runner.log_dir}')


if __name__ == '__main__':
    main()
