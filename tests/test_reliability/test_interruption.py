"""A training process killed with SIGKILL, during training and during a checkpoint write,
resumes from its last complete checkpoint; a torn file is never picked, and the newest
complete checkpoint survives MMEngine's pruning (``max_keep_ckpts=2``).

Real ``tools/train.py`` processes on a tiny config. The checkpoint write is made slow
only for the test, by the test's ``slow_atomic_local`` backend (reliability_helpers),
which stalls half way through one named file until the process is killed.
"""
import re
import signal
from pathlib import Path

import pytest
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
TIMEOUT = 300  # seconds per stage; a stage takes 15-40 s on 2 busy cores


def _iteration(name: str) -> int:
    return int(re.fullmatch(r'iter_(\d+)\.pth', name).group(1))


def _checkpoints(work: Path):
    return sorted(p.name for p in work.glob('*.pth'))


def _kill(process):
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


def _logged_iteration(log: Path, iteration: int):
    pattern = re.compile(rf'Iter\(train\) \[\s*{iteration}/')
    return lambda: log.exists() and bool(pattern.search(log.read_text(errors='replace')))


def test_sigkill_during_training_and_during_a_checkpoint_write(tmp_path):
    data = make_images(tmp_path / 'images', 4)
    work = tmp_path / 'work'
    config = tmp_path / 'tiny_fastgan.py'
    tiny_config(work, data, **{
        'train_cfg.max_iters': 100,
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.checkpoint.max_keep_ckpts': 2,
        'default_hooks.checkpoint.backend_args': dict(backend='slow_atomic_local'),
    }).dump(str(config))

    # 1. Killed during training: between checkpoints, once iteration 3 has been logged.
    log1 = tmp_path / 'run1.log'
    run1 = start_training(config, log1)
    wait_for(_logged_iteration(log1, 3), run1, log1, TIMEOUT, 'iteration 3')
    _kill(run1)
    complete = last_checkpoint(work)
    assert complete is not None and _checkpoints(work)[-1:] == [complete], tail(log1)
    step = _iteration(complete)
    assert step >= 2
    assert load_checkpoint(work / complete)['meta']['iter'] == step

    # 2. Resumed, then killed half way through writing the next checkpoint.
    target = f'iter_{step + 2}.pth'
    marker = tmp_path / 'write_started'
    log2 = tmp_path / 'run2.log'
    run2 = start_training(config, log2, '--resume', env=subprocess_env(
        FASTGAN_TEST_SLOW_WRITE=target, FASTGAN_TEST_SLOW_WRITE_MARKER=str(marker)))
    wait_for(marker.exists, run2, log2, TIMEOUT, f'the write of {target}')
    _kill(run2)
    assert f'resumed epoch: 0, iter: {step}' in log2.read_text()
    torn = Path(marker.read_text())
    assert torn.parent == work and torn.name.startswith(f'.{target}.partial-')
    assert torn.stat().st_size > 0
    # The previous checkpoint survived (MMEngine's hook deletes the oldest of the 2 kept
    # before writing the next one), and is still the one last_checkpoint names.
    assert complete in _checkpoints(work)
    assert last_checkpoint(work) == complete
    assert load_checkpoint(work / complete)['meta']['iter'] == step

    # 3. Resumed again: from the last complete checkpoint, to the end.
    log3 = tmp_path / 'run3.log'
    run3 = start_training(config, log3, '--resume', '--cfg-options',
                          f'train_cfg.max_iters={step + 2}')
    assert run3.wait(timeout=TIMEOUT) == 0, tail(log3)
    text = log3.read_text()
    assert f'resumed epoch: 0, iter: {step}' in text
    assert re.search(r'Removed 1 partial file\(s\) of checkpoint writes', text)
    assert not torn.exists()
    assert _checkpoints(work) == sorted([complete, target])  # max_keep_ckpts=2
    assert last_checkpoint(work) == target
    assert load_checkpoint(work / target)['meta']['iter'] == step + 2
