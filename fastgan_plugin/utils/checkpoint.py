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

MMEngine's loader for ``http://`` and ``https://`` checkpoints goes through
``torch.hub.load_state_dict_from_url``, whose ``weights_only`` defaults to False, so a
downloaded checkpoint could run code; :func:`use_weights_only_url_loader` replaces it.
"""
import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.logging import HistoryBuffer
from mmengine.runner import checkpoint as mmengine_checkpoint

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


def load_from_http_weights_only(filename: str, map_location=None) -> dict:
    """MMEngine's ``load_from_http`` with ``weights_only=True``.

    Downloads into the torch hub cache (``$TORCH_HOME/hub/checkpoints``), on rank 0 first
    when distributed, as MMEngine's loader does.

    Args:
        filename (str): ``http://`` or ``https://`` URL of the checkpoint.
        map_location (str | callable, optional): As for ``torch.load``.

    Returns:
        dict: The checkpoint.
    """
    def load() -> dict:
        return torch.hub.load_state_dict_from_url(
            filename, map_location=map_location, progress=False, weights_only=True)

    rank, world_size = get_dist_info()
    checkpoint = load() if rank == 0 else None
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = load()
    return checkpoint


def use_weights_only_url_loader() -> None:
    """Make MMEngine load http(s) checkpoints with :func:`load_from_http_weights_only`.

    Covers ``load_checkpoint``, ``load_from``, ``init_cfg=dict(type='Pretrained')`` with a
    URL, and the ``open-mmlab://`` / ``torchvision://`` schemes, which download through
    MMEngine's ``load_from_http``.
    """
    mmengine_checkpoint.CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'), loader=load_from_http_weights_only, force=True)
    mmengine_checkpoint.load_from_http = load_from_http_weights_only
