"""Graceful pre-emption: on SIGTERM or SIGUSR1, checkpoint after the current iteration and
exit with a status of its own."""
import os
import signal
from typing import Dict, Optional, Sequence

import torch
from mmagic.registry import HOOKS
from mmengine.dist import all_reduce, get_dist_info
from mmengine.hooks import Hook

from fastgan_plugin.utils.checkpoint import checkpoint_path, save_checkpoint_now
from fastgan_plugin.utils.dist import close_distributed
from fastgan_plugin.utils.validation import check_int

PREEMPTED_EXIT_CODE = 75  # EX_TEMPFAIL (sysexits.h): "try again", here with --resume


@HOOKS.register_module()
class PreemptionHook(Hook):
    """Save a checkpoint and stop when the job is about to be pre-empted.

    During training a signal sets a flag; after the iteration every rank agrees on it, the
    iteration's checkpoint is written as ``CheckpointHook`` would (unless it just did) and
    the process exits with ``exit_code``. Outside training, and for a second signal, the
    previous handler is used. Iteration-based loops only (FastGAN's).

    Args:
        signals (Sequence[str]): Signal names. Defaults to ``('SIGTERM', 'SIGUSR1')``.
        exit_code (int): Exit status once the checkpoint is saved. Defaults to 75
            (``EX_TEMPFAIL``; an error ends with 1, a kill by SIGTERM with -15 / 143).
    """

    priority = 'LOWEST'  # after CheckpointHook (and RNGStateHook) in the same iteration

    def __init__(self, signals: Sequence[str] = ('SIGTERM', 'SIGUSR1'),
                 exit_code: int = PREEMPTED_EXIT_CODE) -> None:
        unknown = [name for name in signals
                   if not isinstance(getattr(signal, str(name), None), signal.Signals)]
        if unknown:
            raise ValueError(f'PreemptionHook: signals must be signal names such as SIGTERM, '
                             f'got {unknown}')
        self.signals = [getattr(signal, name) for name in signals]
        self.exit_code = check_int(exit_code, 'PreemptionHook: exit_code', 1, 255)
        self._training = False
        self._received: Optional[int] = None
        self._previous: Dict[int, object] = {}

    def before_train(self, runner) -> None:
        """Install the handlers (main thread only, where Python delivers signals)."""
        self._received = None
        try:
            for sig in self.signals:
                previous = signal.signal(sig, self._on_signal)
                self._previous[sig] = signal.SIG_DFL if previous is None else previous
            self._training = True
        except ValueError:
            runner.logger.warning('PreemptionHook: training runs outside the main thread, '
                                  'where signals cannot be caught; pre-emption is not handled')

    def after_train(self, runner) -> None:
        self._training = False
        self._restore()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Checkpoint and exit if any process received a signal."""
        flag = torch.tensor([self._received or 0])
        if get_dist_info()[1] > 1:
            all_reduce(flag, op='max')  # the signal number; 0: none
        if not flag.item():
            return
        step = runner.iter + 1
        path = checkpoint_path(runner, step)
        if runner.message_hub.get_info('last_ckpt') != path:  # not saved by CheckpointHook
            save_checkpoint_now(runner, step)
        runner.logger.info(
            f'Pre-empted by {signal.Signals(flag.item()).name}: saved {path} after iteration '
            f'{step} (last_checkpoint names it); exiting with status {self.exit_code}. '
            'Continue with --resume.')
        self.after_train(runner)
        close_distributed()
        raise SystemExit(self.exit_code)

    def _restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _on_signal(self, signum: int, frame) -> None:
        if self._training and self._received is None:
            self._received = signum
            # Slurm and torchrun signal the data-loader workers too, which die; PyTorch's
            # SIGCHLD handler would raise about them mid-iteration. Not put back: we exit.
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            return
        previous = self._previous.get(signum, signal.SIG_DFL)  # outside training, or again
        self._restore()
        if callable(previous):
            previous(signum, frame)
        else:
            os.kill(os.getpid(), signum)
