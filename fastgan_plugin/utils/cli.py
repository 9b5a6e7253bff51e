"""Command-line pieces shared by the sampling tools (``tools/generate.py`` and siblings)."""
import argparse
import sys
from typing import Callable

import torch
from mmengine.config import DictAction

from ..apis.inference import SAMPLE_MODELS, init_model


def positive_int(text: str) -> int:
    """argparse type: an int >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be a positive integer, got {text}')
    return value


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add CONFIG, CHECKPOINT, ``--device``, ``--sample-model``, ``--batch-size``,
    ``--cfg-options``."""
    parser.add_argument('config', help='config file, or fastgan_plugin::<name>.py')
    parser.add_argument('checkpoint', help='checkpoint file or http(s) URL')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='device to run on (default: cuda if available, else cpu)')
    parser.add_argument('--sample-model', choices=SAMPLE_MODELS, default='ema',
                        help='generator to sample with: the EMA average or the raw weights '
                        '(default: ema)')
    parser.add_argument('--batch-size', type=positive_int, default=8,
                        help='images per generator call (default: 8)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. model.generator.out_act=None')


def model_from_args(args: argparse.Namespace) -> torch.nn.Module:
    """The model of :func:`add_model_arguments`' arguments, by
    :func:`~fastgan_plugin.apis.init_model`."""
    return init_model(args.config, args.checkpoint, args.device, args.cfg_options)


def run(main: Callable[[], None]) -> None:
    """Run a tool's ``main``; a refused input ends it with one line on stderr and status 1.

    ``ValueError`` (our checks: wrong file, bad argument) and ``OSError`` (missing file,
    unreadable folder) are reported as ``error: <message>``, without a traceback; any
    other exception is a bug and keeps its traceback.
    """
    try:
        main()
    except (ValueError, OSError) as error:
        sys.exit(f'error: {error}')
