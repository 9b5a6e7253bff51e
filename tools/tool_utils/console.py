"""What the runner tools print: the training progress and the results, not upstream noise.

The tools import this module before anything else, since the Python warnings below are
raised while torch, transformers, diffusers and MMEngine are being imported.
"""
import logging
import warnings

# Upstream deprecation warnings that do not concern our code or its results; only these
# exact messages are silenced, so every warning of ours still shows.
# - transformers / diffusers (imported by mmagic) register pytree nodes with the name
#   torch 2.2+ deprecates; the function still works.
warnings.filterwarnings('ignore', r'`torch\.utils\._pytree\._register_pytree_node` is '
                        'deprecated', FutureWarning)
# - MMEngine's package utils import setuptools' pkg_resources, which setuptools deprecates;
#   it is only used to look packages up.
warnings.filterwarnings('ignore', 'pkg_resources is deprecated as an API', UserWarning)
# - mmagic's MultiValLoop / MultiTestLoop, for a dataset without class metainfo (ours: plain
#   images); FID, KID, SWD and the image hooks do not read dataset_meta.
warnings.filterwarnings('ignore', r'Dataset \w+ has no metainfo', UserWarning)

from mmengine.runner import Runner  # noqa: E402  (importing it raises the warnings above)

# Start of MMEngine's start-up blocks, long and in the log file anyway: the system
# environment, the whole config and the hook table.
START_UP_BLOCKS = ('\n---', 'Config:\n', 'Hooks will be executed in the following order')
# MMEngine log warnings about its own internals: CheckpointHook still goes through the
# deprecated FileClient / HardDiskBackend names, and warns that our iteration-based
# configs have no parameter schedulers to save.
UPSTREAM_LOG_WARNINGS = ('"FileClient" will be deprecated',
                         '"HardDiskBackend" is the alias of "LocalBackend"',
                         '`save_param_scheduler` is True but')


class ConsoleFilter(logging.Filter):
    """Drops :data:`START_UP_BLOCKS` and :data:`UPSTREAM_LOG_WARNINGS` from a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(START_UP_BLOCKS + UPSTREAM_LOG_WARNINGS)


class QuietRunner(Runner):
    """MMEngine's Runner whose console leaves out what :class:`ConsoleFilter` drops; the
    log file in the work dir keeps everything. Used by the tools without ``--verbose``."""

    def build_logger(self, *args, **kwargs):
        logger = super().build_logger(*args, **kwargs)
        for handler in logger.handlers:
            if not isinstance(handler, logging.FileHandler):  # the console's StreamHandler
                handler.addFilter(ConsoleFilter())
        return logger


def runner_class(verbose: bool) -> type:
    """:class:`QuietRunner`, or MMEngine's Runner (everything on the console) for
    ``--verbose``."""
    return Runner if verbose else QuietRunner


def add_verbose_argument(parser) -> None:
    """Add ``--verbose``: MMEngine's full console output (see :func:`runner_class`)."""
    parser.add_argument('--verbose', action='store_true',
                        help='also print the environment, the config and the hook table '
                        '(always in the log file of the work dir)')
