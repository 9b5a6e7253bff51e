"""--threads: torch's CPU threads, by default the cores idle at start."""
import os
import subprocess
import sys

import pytest
import torch

from tool_utils.cli import idle_cores, set_threads


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_a_number_sets_torch_threads(restore_threads):
    set_threads(1)
    assert torch.get_num_threads() == 1


def test_auto_leaves_an_explicit_omp_num_threads(restore_threads, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    set_threads('auto')
    assert torch.get_num_threads() == 1


def test_auto_counts_a_busy_core_out(restore_threads, monkeypatch):
    cores = len(os.sched_getaffinity(0))
    if cores < 2:
        pytest.fail('needs 2 cores to leave one idle beside the busy one')
    busy = subprocess.Popen([sys.executable, '-c', 'while True: pass'])
    try:
        monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
        assert idle_cores(seconds=1.0) <= cores - 1
        set_threads('auto')
        assert 1 <= torch.get_num_threads() <= cores - 1
    finally:
        busy.kill()
        busy.wait()
