"""Capture and restore the global random number generators, in checkpoint-safe types.

MMEngine checkpoints do not hold the RNG states, so a resumed run draws different noise,
augmentations and hinge margins than the run it continues. :func:`get_rng_state` returns
the states of Python's ``random``, numpy's global generator, torch's CPU generator and
the current CUDA device's generator as tensors, lists, ints, floats and strings only: they
load under ``torch.load(weights_only=True)`` without widening the allow-list of
:mod:`fastgan_plugin.utils.checkpoint`.
"""
import random
from typing import Optional

import numpy as np
import torch


def get_rng_state() -> dict:
    """The current global RNG states.

    Returns:
        dict: ``python`` (dict), ``numpy`` (dict), ``torch`` (uint8 tensor) and, when CUDA
        is initialised, ``cuda`` (uint8 tensor of the current device).
    """
    version, internal, gauss_next = random.getstate()
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state(legacy=True)
    state = dict(
        python=dict(version=version, internal=list(internal), gauss_next=gauss_next),
        numpy=dict(name=str(name), keys=torch.from_numpy(keys.astype(np.int64)), pos=int(pos),
                   has_gauss=int(has_gauss), cached_gaussian=float(cached_gaussian)),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict) -> None:
    """Restore states captured by :func:`get_rng_state`.

    Args:
        state (dict): As returned by :func:`get_rng_state`. A ``cuda`` entry is applied
            to the current CUDA device when CUDA is available, and ignored otherwise.
    """
    py = state['python']
    random.setstate((py['version'], tuple(py['internal']), py['gauss_next']))
    npy = state['numpy']
    np.random.set_state((npy['name'], npy['keys'].numpy().astype(np.uint32), npy['pos'],
                         npy['has_gauss'], npy['cached_gaussian']))
    torch.set_rng_state(state['torch'].cpu())
    cuda: Optional[torch.Tensor] = state.get('cuda')
    if cuda is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(cuda.cpu())
