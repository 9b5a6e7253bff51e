"""RNG states round-trip, and load with torch.load(weights_only=True)."""
import random

import numpy as np
import torch

from fastgan_plugin.utils.rng import get_rng_state, set_rng_state


def _draw():
    return random.random(), np.random.rand(), np.random.randn(), torch.rand(3).tolist()


def test_round_trip_through_a_weights_only_checkpoint(tmp_path):
    np.random.randn()  # leaves a cached Gaussian in numpy's state
    state = get_rng_state()
    expected = _draw()
    torch.save(dict(meta=dict(rng_states=[state])), tmp_path / 'ckpt.pth')
    _draw()
    loaded = torch.load(tmp_path / 'ckpt.pth', weights_only=True)['meta']['rng_states'][0]
    set_rng_state(loaded)
    assert _draw() == expected
