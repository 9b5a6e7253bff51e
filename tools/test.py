"""Evaluate a FastGAN checkpoint with the config's test metrics (FID, KID, ...).

    python tools/test.py CONFIG CHECKPOINT [--data-root DIR] [--work-dir DIR] [--cfg-options ...]
                         [--per-class [CLASS ...]]

``--per-class`` (class-conditional models) adds a ``PerClassMetric`` beside each test metric:
it is also computed per class (class-c samples against class-c real images) for the classes
named (names or indices; none named: every class), printed as ``<prefix>/<class>/<key>`` and
``<prefix>/mean/<key>`` (docs/conditional_sampling.md).
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
    parser.add_argument('--per-class', nargs='*', metavar='CLASS',
                        help='also compute every test metric per class of a class-conditional '
                        'model: of the CLASSes named (names or indices), else of every class')
    return parser.parse_args()


def add_per_class_metrics(cfg, classes) -> None:
    """Add a ``PerClassMetric`` of ``classes`` (empty: all) beside each test metric."""
    evaluator = cfg.get('test_evaluator') or {}
    metrics = evaluator.get('metrics') if isinstance(evaluator, dict) else evaluator
    metrics = [metrics] if isinstance(metrics, dict) else list(metrics or [])
    if not metrics:
        raise ValueError('--per-class: the config has no test_evaluator metrics to compute '
                         'per class')
    per_class = [dict(type='PerClassMetric', metric=metric, classes=classes or None)
                 for metric in metrics]
    cfg.test_evaluator = dict(evaluator if isinstance(evaluator, dict) else {},
                              metrics=metrics + per_class)


def main():
    args = parse_args()
    cfg = config_from_runner_args(args)  # --launcher pytorch without a GPU: gloo
    cfg.load_from = args.checkpoint
    if args.per_class is not None:
        add_per_class_metrics(cfg, args.per_class)
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
