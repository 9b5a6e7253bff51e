"""Capture and restore the global random number generators (Python, numpy, torch, CUDA) as
tensors, lists and numbers only, which load under ``torch.load(weights_only=True)``."""
import random

import numpy as np
import torch


def get_rng_state() -> dict:
    """The current global RNG states: ``python`` (dict), ``numpy`` (dict), ``torch`` (uint8
    tensor) and, when CUDA is initialised, ``cuda`` (uint8 tensor of the current device)."""
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
    """Restore states of :func:`get_rng_state` (``cuda`` to the current device, if any)."""
    py = state['python']
    random.setstate((py['version'], tuple(py['internal']), py['gauss_next']))
    npy = state['numpy']
    np.random.set_state((npy['name'], npy['keys'].numpy().astype(np.uint32), npy['pos'],
                         npy['has_gauss'], npy['cached_gaussian']))
    torch.set_rng_state(state['torch'].cpu())
    cuda = state.get('cuda')
    if cuda is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state(cuda.cpu())
