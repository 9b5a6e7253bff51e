"""PreemptionHook in MMEngine's runner (toy model): a signal during training checkpoints that
iteration and exits with status 75; outside training the previous handler gets the signal,
and it is put back after training. tests/test_reliability/test_preemption.py has real
``tools/train.py`` processes and the exact resume."""
import os
import signal

import pytest
from mmengine.hooks import CheckpointHook, Hook

import fastgan_plugin  # noqa: F401
from fastgan_plugin.engine.hooks import CheckpointContentHook, PreemptionHook
from helpers.toy_runner import toy_runner


class _SignalAt(Hook):
    """Sends ``sig`` to this process in iteration ``iteration`` (1-based)."""

    def __init__(self, iteration, sig):
        self.iteration, self.sig = iteration, sig

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 == self.iteration:
            os.kill(os.getpid(), self.sig)


@pytest.fixture
def previous_handler():
    received = []

    def handler(signum, frame):
        received.append(signum)

    old = signal.signal(signal.SIGUSR1, handler)
    yield received
    assert signal.getsignal(signal.SIGUSR1) is handler  # put back by the hook
    signal.signal(signal.SIGUSR1, old)


def _runner(work_dir, max_iters=5, **kwargs):
    return toy_runner(work_dir, CheckpointHook(interval=100, by_epoch=False), max_iters,
                      default_hooks=dict(preemption=PreemptionHook(),
                                         content=CheckpointContentHook()), **kwargs)


def test_a_signal_checkpoints_the_iteration_and_exits_75(tmp_path, previous_handler):
    runner = _runner(tmp_path, custom_hooks=[_SignalAt(2, signal.SIGUSR1)])
    with pytest.raises(SystemExit) as info:
        runner.train()
    assert info.value.code == 75
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'iter_2.pth')
    with open(f'{runner.log_dir}/{runner.timestamp}.log', encoding='utf-8') as f:
        assert (f'Pre-empted by SIGUSR1: saved {tmp_path}/iter_2.pth after iteration 2 '
                '(last_checkpoint names it); exiting with status 75') in f.read()
    os.kill(os.getpid(), signal.SIGUSR1)  # the handler from before is back
    assert previous_handler == [signal.SIGUSR1]

    resumed = _runner(tmp_path, resume=True)
    resumed.train()
    assert resumed.iter == 5


def test_outside_training_the_previous_handler_gets_the_signal(tmp_path, previous_handler):
    _runner(tmp_path)  # built (handlers installed), not training
    os.kill(os.getpid(), signal.SIGUSR1)
    assert previous_handler == [signal.SIGUSR1]


def test_unknown_signal_names_are_refused():
    with pytest.raises(ValueError, match=r"signals must be signal names such as SIGTERM, "
                       r"got \['SIGTERMINATE'\]"):
        PreemptionHook(signals=('SIGTERMINATE', ))
