"""Fixtures of the reliability tests."""
import pytest
import torch


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    """Train on one thread: on a shared 2-core machine, torch's spinning OpenMP threads
    make an iteration 5-10x slower when other processes compete for the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
