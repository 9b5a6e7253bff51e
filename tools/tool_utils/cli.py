"""Command-line pieces shared by the tools: the runner tools (``tools/train.py``,
``tools/test.py``) and the sampling tools (``tools/generate.py`` and siblings)."""
import argparse
import os
import pickle
import sys
import time
from typing import Callable, List, Optional, Tuple

import torch
from mmengine.config import Config, DictAction

from fastgan_plugin.apis.classes import class_indices, class_names
from fastgan_plugin.apis.config import load_config
from fastgan_plugin.apis.inference import SAMPLE_MODELS, init_model
from fastgan_plugin.utils.config_check import check_config
from fastgan_plugin.utils.dist import setup_cpu_distributed
from tool_utils.console import add_verbose_argument

CONFIG_HELP = 'config file, or fastgan_plugin::fastgan/<name>.py'


class CfgOptionsAction(DictAction):
    """MMEngine's ``--cfg-options`` parser, with a usage error naming the bad KEY=VALUE
    (MMEngine's raises a bare ValueError, AssertionError or RecursionError)."""

    def __call__(self, parser, namespace, values, option_string=None):
        for value in values:
            try:
                super().__call__(parser, namespace, [value], option_string)
            except (ValueError, AssertionError, RecursionError) as error:
                reason = ('not KEY=VALUE' if '=' not in value else str(error) if
                          isinstance(error, ValueError) else 'brackets do not match')
                raise argparse.ArgumentError(self, f'{value!r}: {reason}') from error


def positive_int(text: str) -> int:
    """argparse type: an int >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be a positive integer, got {text}')
    return value


def add_runner_arguments(parser: argparse.ArgumentParser, work_dir_help: str) -> None:
    """Add CONFIG, ``--work-dir``, ``--data-root``, ``--cfg-options``, ``--launcher``,
    ``--local-rank`` (also ``--local_rank``, as ``torch.distributed.launch`` passes it) and
    ``--verbose``: the options of the tools that run MMEngine's runner.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        work_dir_help (str): What the work dir receives, for ``--help``.
    """
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument('--work-dir', help=work_dir_help)
    parser.add_argument('--data-root', metavar='DIR',
                        help='folder of images for training and for the real images of '
                        "FID / KID: sets the config's data_root and the data_root of "
                        'train_dataloader, val_dataloader and test_dataloader')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config entries, e.g. train_cfg.max_iters=1000')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher for distributed runs')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_verbose_argument(parser)
    add_threads_argument(parser)


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--threads N|auto`` (default auto): torch's CPU threads, see :func:`set_threads`."""
    parser.add_argument(
        '--threads', default='auto', type=lambda text: text if text == 'auto' else
        positive_int(text), help="torch CPU threads; auto (default): the cores that are idle "
        "at start, shared by this machine's processes of the run (docs/benchmarks.md, "
        '"Threads")')


def idle_cores(seconds: float = 0.5) -> int:
    """Cores not busy over ``seconds`` (Linux ``/proc/stat``; elsewhere all cores), >= 1."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    def sample():
        with open('/proc/stat') as stat:
            ticks = [int(field) for field in stat.readline().split()[1:]]
        return ticks[3] + ticks[4], sum(ticks)  # idle + iowait, all

    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
    except (OSError, ValueError, IndexError):
        return cores or 1
    busy = 1 - (idle1 - idle0) / max(1, total1 - total0)
    return max(1, min(cores, round((1 - busy) * (os.cpu_count() or cores))))


def set_threads(threads) -> None:
    """``torch.set_num_threads``: ``threads``, or for ``'auto'`` the idle cores divided among
    this machine's processes of a distributed run (``LOCAL_WORLD_SIZE``); ``'auto'`` leaves
    an ``OMP_NUM_THREADS`` set in the environment as it is.

    torch's default (one thread per core) slows training by 9x when one other process keeps a
    core busy: its threads wait for each other on the shared core (docs/benchmarks.md).
    """
    if threads == 'auto':
        if 'OMP_NUM_THREADS' in os.environ:
            return  # the user's explicit choice, which torch already follows
        threads = max(1, idle_cores() // int(os.environ.get('LOCAL_WORLD_SIZE', 1)))
    torch.set_num_threads(threads)


def config_from_runner_args(args: argparse.Namespace) -> Config:
    """The config of :func:`add_runner_arguments`' arguments, ready for ``Runner.from_cfg``.

    Sets ``LOCAL_RANK`` from ``--local-rank`` where the launcher did not, reads the config
    (:func:`~fastgan_plugin.apis.config.load_config`: overrides, work dir, data root),
    refuses its mistakes (:func:`~fastgan_plugin.utils.config_check.check_config`), sets
    its launcher and, for ``--launcher pytorch`` without a GPU, starts the gloo process
    group (:func:`~fastgan_plugin.utils.dist.setup_cpu_distributed`).
    """
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    set_threads(args.threads)
    cfg = load_config(args.config, args.cfg_options, args.work_dir, args.data_root)
    check_config(cfg)
    cfg.launcher = args.launcher
    setup_cpu_distributed(cfg)
    return cfg


def add_model_arguments(parser: argparse.ArgumentParser, out: str,
                        out_help: str = 'output folder') -> None:
    """Add what every sampling tool takes: CONFIG, CHECKPOINT, ``--device``,
    ``--sample-model``, ``--batch-size``, ``--cfg-options`` and ``--out``.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        out (str): Default of ``--out``.
        out_help (str): What ``--out`` names, for ``--help``.
    """
    parser.add_argument('config', help=CONFIG_HELP)
    parser.add_argument('checkpoint', help='checkpoint file or http(s) URL')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='device to run on (default: cuda if available, else cpu)')
    parser.add_argument('--sample-model', choices=SAMPLE_MODELS, default='ema',
                        help='generator to sample with: the EMA average or the raw weights '
                        '(default: ema)')
    parser.add_argument('--batch-size', type=positive_int, default=8,
                        help='images per generator call (default: 8)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction,
                        help='override config entries, e.g. model.generator.out_act=None')
    parser.add_argument('--out', default=out, help=f'{out_help} (default: {out})')


def truncation_psi(text: str) -> float:
    """argparse type: a float in [0, 1]."""
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f'must be in [0, 1], got {text}')
    return value


def add_truncation_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--truncation PSI`` (default 1, off): the random inputs scaled toward their mean,
    see :func:`~fastgan_plugin.apis.generate`."""
    parser.add_argument('--truncation', type=truncation_psi, default=1.0, metavar='PSI',
                        help='truncation psi in [0, 1]: latent and injection noise scaled by '
                        'PSI toward their mean 0; lower = less diverse, more typical images '
                        '(default: 1, off)')


def add_classes_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--classes NAME|INDEX ...`` (default: every class of a class-conditional model),
    resolved by :func:`~fastgan_plugin.apis.class_indices`."""
    parser.add_argument('--classes', nargs='+', metavar='CLASS',
                        help='classes of a class-conditional model, by name (its training '
                        'subfolders) or index (default: every class); not for an '
                        'unconditional model')


def classes_from_args(model: torch.nn.Module,
                      args: argparse.Namespace) -> List[Tuple[Optional[int], Optional[str]]]:
    """(index, name) of each class of :func:`add_classes_argument`'s ``--classes`` for a
    class-conditional ``model``, every class by default; [(None, None)] for an unconditional
    one (``ValueError`` if it was given ``--classes``)."""
    names = class_names(model)
    return [(index, names[index]) for index in class_indices(model, args.classes)] or [
        (None, None)]


def add_seed_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """Add ``--num`` (default 16) and ``--seed`` (default 0): the tool makes ``what``
    (e.g. ``'images'``) from the seeds SEED..SEED+NUM-1, see :func:`seeds_from_args`."""
    parser.add_argument('--num', type=positive_int, default=16,
                        help=f'number of {what} (default: 16)')
    parser.add_argument('--seed', type=int, default=0,
                        help=f'first seed; {what} use seeds SEED..SEED+NUM-1 (default: 0)')


def seeds_from_args(args: argparse.Namespace) -> range:
    """The seeds of :func:`add_seed_arguments`' arguments: SEED..SEED+NUM-1."""
    return range(args.seed, args.seed + args.num)


def model_from_args(args: argparse.Namespace) -> torch.nn.Module:
    """The model of :func:`add_model_arguments`' arguments, by
    :func:`~fastgan_plugin.apis.init_model`."""
    return init_model(args.config, args.checkpoint, args.device, args.cfg_options)


# Errors that carry a message for the user (our checks, missing files, refused checkpoints,
# config syntax); anything else is a bug and keeps its traceback.
KNOWN_ERRORS = (ValueError, OSError, FloatingPointError, SyntaxError, pickle.UnpicklingError)


def run(main: Callable[[], None]) -> None:
    """Run a tool's ``main``; a known error ends it with one line on stderr and status 1.

    ``--debug`` anywhere on the command line (removed before ``main`` parses it) shows the
    traceback instead.
    """
    debug = '--debug' in sys.argv
    if debug:
        sys.argv.remove('--debug')
    try:
        main()
    except KNOWN_ERRORS as error:
        if debug:
            raise
        message = ' '.join(str(error).split()) or type(error).__name__
        sys.exit(f'{os.path.basename(sys.argv[0])}: error: {message} (--debug shows the traceback)')
