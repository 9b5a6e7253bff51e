"""Safe loading of MMEngine runner checkpoints under ``torch.load(weights_only=True)``.

From torch 2.6 on, ``torch.load`` only unpickles tensors, containers and allow-listed
types. MMEngine 0.10.x calls ``torch.load`` without ``weights_only`` and its runner
checkpoints also hold the message hub's ``HistoryBuffer`` objects, which store numpy
arrays. Allow-listing exactly those types lets ``--resume``, ``load_from`` and
``init_cfg=dict(type='Pretrained')`` load our checkpoints while any other object in a
checkpoint (and so any code hidden in it) is still refused.

``HistoryBuffer`` also pickles references to its statistics functions, which the pickle
stream spells ``builtins.getattr(HistoryBuffer, 'mean')``. Allowing ``getattr`` would let
a checkpoint reach any attribute of any allowed object, so instead checkpoints are written
without them: ``HistoryBuffer.__setstate__`` registers the built-in statistics again on
load, and custom ones are registered by the code that defines them.
"""
import numpy as np
import torch
from mmengine.logging import HistoryBuffer

# ``_reconstruct`` and ``scalar`` live in numpy.core (numpy 1) or numpy._core (numpy 2).
if np.lib.NumpyVersion(np.__version__) >= '2.0.0':
    from numpy._core import multiarray as _multiarray
else:
    from numpy.core import multiarray as _multiarray


def runner_checkpoint_types() -> list:
    """The non-tensor types found in MMEngine runner checkpoints.

    Returns:
        list: ``HistoryBuffer``, the numpy functions and classes that rebuild arrays
        and scalars, and the concrete dtype classes of the numbers MMEngine logs.
    """
    dtype_classes = [type(np.dtype(name)) for name in ('float64', 'float32', 'int64', 'int32')]
    return [HistoryBuffer, _multiarray._reconstruct, _multiarray.scalar, np.ndarray, np.dtype,
            *dtype_classes]


def _history_buffer_state(buffer: HistoryBuffer) -> dict:
    """``HistoryBuffer.__getstate__`` without the function references."""
    state = dict(buffer.__dict__)
    state.pop('statistics_methods', None)
    return state


def allow_runner_checkpoint_types() -> None:
    """Allow-list :func:`runner_checkpoint_types` for ``torch.load(weights_only=True)``
    and make new checkpoints hold only those types (see the module docstring).

    A no-op on torch versions without ``torch.serialization.add_safe_globals`` (< 2.4),
    where MMEngine loads checkpoints as it always did.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:
        add_safe_globals(runner_checkpoint_types())
    HistoryBuffer.__getstate__ = _history_buffer_state
