"""The README's demo: render 61 OpenMoji faces, train FastGAN on them offline, sample.

    python tools/demo.py [--work-dir DIR] [--iters N] [--num-generated N] [--transparent]
                         [--conditional] [--verbose]
"""
from tool_utils.console import add_verbose_argument, runner_class  # first: see its docstring

# isort: split
import argparse
import os
import sys
import time

import fastgan_plugin  # noqa: F401
from fastgan_plugin.apis import generate_to_folder
from fastgan_plugin.apis.config import load_config
from fastgan_plugin.visualization.curves import CURVES_FILE
from tool_utils.cli import add_threads_argument, set_threads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, 'configs', 'fastgan', 'fastgan_demo_cpu.py')
RGBA_CONFIG = os.path.join(ROOT, 'configs', 'fastgan', 'fastgan_demo_cpu_rgba.py')
CONDITIONAL_CONFIG = os.path.join(ROOT, 'configs', 'fastgan', 'fastgan_demo_cpu_conditional.py')
sys.path.insert(0, os.path.join(ROOT, 'tools', 'dataset_converters'))
from openmoji import (  # noqa: E402
    ATTRIBUTION,
    LICENSE_FILE,
    render_openmoji,
    render_openmoji_classes,
)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a small FastGAN offline on CPU')
    parser.add_argument('--work-dir', default=None,
                        help='where data, logs, samples and the checkpoint go (default: '
                        'work_dirs/<config name>)')
    parser.add_argument('--transparent', action='store_true',
                        help='RGBA: the emoji on a transparent background, transparent samples '
                        '(configs/fastgan/fastgan_demo_cpu_rgba.py)')
    parser.add_argument('--conditional', action='store_true',
                        help='class-conditional: animals, faces and plants, one model sampled by '
                        'class (configs/fastgan/fastgan_demo_cpu_conditional.py)')
    parser.add_argument('--iters', type=int, default=None, help='training iterations')
    parser.add_argument('--num-generated', type=int, default=16,
                        help='images generated after training')
    add_verbose_argument(parser)
    add_threads_argument(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    set_threads(args.threads)
    start = time.time()
    if args.conditional and args.transparent:
        raise SystemExit('demo: choose --conditional or --transparent, not both')
    config = CONDITIONAL_CONFIG if args.conditional else RGBA_CONFIG if args.transparent \
        else CONFIG
    work_dir = os.path.abspath(args.work_dir or os.path.join(
        'work_dirs', os.path.splitext(os.path.basename(config))[0]))
    data_root = os.path.join(work_dir, 'data')
    options = {'train_dataloader.dataset.data_root': data_root,
               'val_dataloader.dataset.data_root': data_root}
    if args.iters is not None:
        options.update({'train_cfg.max_iters': args.iters,
                        'train_cfg.val_interval': args.iters,
                        'default_hooks.checkpoint.interval': args.iters})
    cfg = load_config(config, options, work_dir)

    images = (render_openmoji_classes(data_root, size=cfg.model.generator.im_size)
              if args.conditional else render_openmoji(
                  data_root, size=cfg.model.generator.im_size, transparent=args.transparent))
    print(f'{len(images)} training images in {data_root}\n{ATTRIBUTION}')
    runner = runner_class(args.verbose).from_cfg(cfg)
    runner.train()  # ends with the SWD of the EMA samples against the training images
    swd = runner.message_hub.get_scalar('val/SWD/avg').current()

    model = runner.model.eval()
    generated = os.path.join(work_dir, 'generated')
    num_classes = cfg.model.generator.get('num_classes')  # conditional: generated/<class>/
    generate_to_folder(model, generated, range(args.num_generated), classes=None if (
        num_classes is None) else [seed % num_classes for seed in range(args.num_generated)])
    checkpoint = os.path.join(work_dir, f'iter_{runner.iter}.pth')

    from train import write_report  # tools/train.py: tools/report.py's page of this run

    report = write_report(work_dir, runner.logger)  # before the summary, which comes last
    vis_dir = os.path.join(runner.log_dir, 'vis_data', 'vis_image')
    grid_interval = next(hook['interval'] for hook in cfg.custom_hooks
                         if hook['type'] == 'VisualizationHook')
    print(f'\nFastGAN demo finished in {time.time() - start:.0f} s')
    kind = 'emoji in class subfolders' if args.conditional else 'faces'
    print(f'  training images : {data_root} ({len(images)} OpenMoji {kind}, licence in '
          f'{LICENSE_FILE})')
    print(f'  attribution     : {ATTRIBUTION}')
    print(f'  sample grids    : {vis_dir} (EMA samples and reconstructions every '
          f'{grid_interval} iters)')
    print(f'  SWD (EMA samples vs training images, x1e3, lower is closer): {swd:.1f}')
    print(f'  loss curves     : {os.path.join(work_dir, CURVES_FILE)}')
    print(f'  checkpoint      : {checkpoint}')
    print(f'  generated images: {generated} ({args.num_generated} PNGs)')
    print(f'  log             : {runner.log_dir}')
    print(f'  training report : {report or "not written (see the warning above)"}')


if __name__ == '__main__':
    main()
