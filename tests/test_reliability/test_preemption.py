"""Graceful pre-emption of real ``tools/train.py`` processes: SIGTERM or SIGUSR1 to the
whole process group (as Slurm and torchrun send them: the data-loader worker dies of them)
saves a checkpoint after the current iteration and exits with status 75; ``--resume`` then
ends with the weights of an uninterrupted run, bit for bit (seeded, deterministic, one
data-loader worker, as in test_determinism.py). The signal comes in the middle of iteration
3 (a test-only hook pauses there), where a pre-emption finds a run nearly always: between the
last hook of one iteration and the next batch, a worker killed by the same signal makes the
batch unreadable (docs/reliability.md)."""
import os
import signal

import pytest
import torch
from reliability_helpers import (
    last_checkpoint,
    load_checkpoint,
    make_images,
    start_training,
    subprocess_env,
    tail,
    tiny_config,
    wait_for,
)

pytestmark = pytest.mark.slow
TIMEOUT = 300
MAX_ITERS = 6


def _config(tmp_path, name):
    config = tmp_path / f'{name}.py'
    tiny_config(tmp_path / name, tmp_path / 'images', **{
        'train_cfg.max_iters': MAX_ITERS,
        'default_hooks.checkpoint.interval': 100,  # only pre-emption and the last iteration
        'train_dataloader.num_workers': 1,
        'train_dataloader.persistent_workers': True,
        'randomness.seed': 0,
        'randomness.deterministic': True,
        'custom_hooks': [dict(type='DumpStateHook'), dict(type='PauseInIterationHook')],
    }).dump(str(config))
    return config, tmp_path / name


def _preempt(tmp_path, name, send):
    """Start a run, signal it in iteration 3; return its config, work dir and log."""
    config, work = _config(tmp_path, name)
    log = tmp_path / f'{name}.log'
    marker = tmp_path / f'{name}.paused'
    run = start_training(config, log, start_new_session=True, env=subprocess_env(
        FASTGAN_TEST_PAUSE_ITER='3', FASTGAN_TEST_PAUSE_MARKER=str(marker)))
    wait_for(marker.exists, run, log, TIMEOUT, 'iteration 3')
    send(run)
    assert run.wait(timeout=TIMEOUT) == 75, tail(log)
    return config, work, log


def test_sigterm_to_the_process_group_saves_exits_75_and_resumes_exactly(tmp_path):
    make_images(tmp_path / 'images', 6)
    config, work, log = _preempt(tmp_path, 'preempted',
                                 lambda run: os.killpg(run.pid, signal.SIGTERM))
    step = 3
    assert last_checkpoint(work) == f'iter_{step}.pth'
    assert load_checkpoint(work / f'iter_{step}.pth')['meta']['iter'] == step
    assert (f'Pre-empted by SIGTERM: saved {work}/iter_3.pth after iteration 3 '
            '(last_checkpoint names it); exiting with status 75') in log.read_text()

    assert start_training(config, log, '--resume').wait(timeout=TIMEOUT) == 0, tail(log)
    assert f'resumed epoch: 0, iter: {step}' in log.read_text()
    straight_config, straight = _config(tmp_path, 'straight')
    assert start_training(straight_config, tmp_path / 'straight.log').wait(
        timeout=TIMEOUT) == 0, tail(tmp_path / 'straight.log')
    resumed, uninterrupted = (torch.load(w / 'weights_rank0.pt', weights_only=True)
                              for w in (work, straight))
    for kind in ('params', 'buffers'):
        assert [k for k, v in uninterrupted[kind].items()
                if not torch.equal(v, resumed[kind][k])] == []


def test_sigusr1_as_slurm_sends_it(tmp_path):
    """``--signal=USR1@120``: to every process of the job step, data-loader worker included."""
    make_images(tmp_path / 'images', 6)
    _, work, log = _preempt(tmp_path, 'preempted',
                            lambda run: os.killpg(run.pid, signal.SIGUSR1))
    assert f'Pre-empted by SIGUSR1: saved {work}/iter_3.pth' in log.read_text()
    assert load_checkpoint(work / last_checkpoint(work))['meta']['iter'] == 3
