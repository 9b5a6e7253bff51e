"""Train FastGAN from a config: ``python tools/train.py CONFIG [options]``.

Examples (CONFIG = configs/fastgan/fastgan_1024_pokemon.py):
    python tools/train.py CONFIG
    python tools/train.py CONFIG --data-root /my/images        # train, val and test images
    python tools/train.py CONFIG --resume                      # last checkpoint in the work dir
    python tools/train.py CONFIG --resume work_dirs/x/iter_5000.pth
    python tools/train.py CONFIG --amp --cfg-options train_cfg.max_iters=9
    torchrun --nproc_per_node=2 tools/train.py CONFIG --launcher pytorch   (or tools/dist_train.sh)
"""
from tool_utils.console import runner_class  # first: it silences upstream import warnings

# isort: split
import argparse
import os

from mmengine.dist import is_main_process
from mmengine.logging import print_log

import fastgan_plugin  # noqa: F401  (registers FastGAN and fastgan_plugin:: config paths)
from fastgan_plugin.apis.config import AMP_DTYPES, enable_amp
from fastgan_plugin.utils.checkpoint import find_resume_checkpoint
from fastgan_plugin.utils.dist import close_distributed
from tool_utils.cli import add_runner_arguments, config_from_runner_args, run


def parse_args():
    parser = argparse.ArgumentParser(description='Train FastGAN with MMEngine')
    add_runner_arguments(parser, work_dir_help='where logs, checkpoints and samples go')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
        help='resume training: from CHECKPOINT, or without a value from the last complete '
        'checkpoint in the work dir (none: train from the start)')
    parser.add_argument('--allow-data-change', action='store_true',
                        help='resume although the training images changed since the '
                        'checkpoint was written (a warning instead of an error)')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision for generator and discriminator')
    parser.add_argument('--amp-dtype', choices=AMP_DTYPES, default='auto',
                        help='autocast dtype with --amp; auto: bfloat16 where the GPU or CPU '
                        'has it natively, else float16 on a GPU and float32 (with a warning) '
                        'on a CPU without AVX512-BF16 or AMX (default: auto)')
    parser.add_argument('--no-report', action='store_true',
                        help='do not write the HTML training report (tools/report.py) into '
                        'the work dir at the end')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = config_from_runner_args(args)  # --launcher pytorch without a GPU: gloo, CPU DDP
    if args.amp:
        enable_amp(cfg, args.amp_dtype)
    if args.resume == 'auto':
        found = find_resume_checkpoint(cfg.work_dir)
        if found is None:
            print_log(f'--resume: no checkpoint in {cfg.work_dir}: training from the start',
                      logger='current')
        else:
            cfg.load_from, cfg.resume = found, True
    elif args.resume:
        cfg.load_from, cfg.resume = args.resume, True
    if args.allow_data_change:  # CheckpointLoadCheckHook's option
        cfg.merge_from_dict({'default_hooks.checkpoint_check.allow_data_change': True})
    runner = runner_class(args.verbose).from_cfg(cfg)
    runner.train()
    main_process = is_main_process()  # asked before the process group is closed
    close_distributed()
    report = None
    if not args.no_report and main_process:
        report = write_report(cfg.work_dir, runner.logger)
    # The summary comes last: where everything is.
    runner.logger.info(f'Checkpoints, logs and samples are in {os.path.abspath(cfg.work_dir)}')
    if report:
        runner.logger.info(f'Training report: {report}')


def write_report(work_dir: str, logger):
    """Write ``<work_dir>/report.html`` (tools/report.py, without progress bars).

    Returns:
        str | None: The page's path; None if it could not be written (a warning, since
        the checkpoints are saved: a page never fails a training run).
    """
    try:
        import report  # tools/report.py, beside this script

        path = os.path.abspath(report.build_report(report.parse_args([work_dir, '--quiet'])))
    except Exception as error:
        logger.warning(f'the training report could not be written ({type(error).__name__}: '
                       f'{error}); write it later with: python tools/report.py {work_dir}')
        return None
    return path


if __name__ == '__main__':
    run(main)
