"""Loading MMEngine runner checkpoints: safely, and only when they fit.

From torch 2.6 on, ``torch.load`` only unpickles tensors, containers and allow-listed
types. MMEngine 0.10.x calls ``torch.load`` without ``weights_only`` and its runner
checkpoints also hold the message hub's ``HistoryBuffer`` objects, which store numpy
arrays. Allow-listing exactly :func:`runner_checkpoint_types` (done on import, in
:mod:`fastgan_plugin.compat`) lets ``--resume``, ``load_from`` and
``init_cfg=dict(type='Pretrained')`` load our checkpoints while any other object in a
checkpoint (and so any code hidden in it) is still refused. Checkpoints downloaded from
http(s) URLs load through :func:`load_from_http_weights_only`, also with
``weights_only=True``.

:func:`check_checkpoint_file` and :func:`check_state_dict_matches` refuse, before anything
is loaded into the model, a file that cannot be a whole checkpoint and weights of another
architecture, with a message naming the file and what to do.
"""
import os.path as osp
import re
import zipfile
from typing import List

import numpy as np
import torch
from mmengine.dist import get_dist_info
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import get_state_dict

from .validation import format_names

# ``_reconstruct`` and ``scalar`` live in numpy.core (numpy 1) or numpy._core (numpy 2).
if np.lib.NumpyVersion(np.__version__) >= '2.0.0':
    from numpy._core import multiarray as _multiarray
else:
    from numpy.core import multiarray as _multiarray

_ZIP_MAGIC = b'PK\x03\x04'  # torch.save's (zip) format since torch 1.6


def runner_checkpoint_types() -> list:
    """The non-tensor types found in MMEngine runner checkpoints.

    Returns:
        list: ``HistoryBuffer``, the numpy functions and classes that rebuild arrays
        and scalars, and the concrete dtype classes of the numbers MMEngine logs.
    """
    dtype_classes = [type(np.dtype(name)) for name in ('float64', 'float32', 'int64', 'int32')]
    return [HistoryBuffer, _multiarray._reconstruct, _multiarray.scalar, np.ndarray, np.dtype,
            *dtype_classes]


def load_from_http_weights_only(filename: str, map_location=None) -> dict:
    """MMEngine's ``load_from_http`` with ``weights_only=True``.

    Downloads into the torch hub cache (``$TORCH_HOME/hub/checkpoints``), on rank 0 first
    when distributed, as MMEngine's loader does. Covers ``load_checkpoint``, ``load_from``,
    ``init_cfg=dict(type='Pretrained')`` with a URL, and the ``open-mmlab://`` /
    ``torchvision://`` schemes (installed by :func:`fastgan_plugin.compat.apply`).

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


def check_checkpoint_file(path: str, source: str) -> None:
    """Refuse, before anything is loaded, a checkpoint file that cannot be a whole one.

    Checks that a local ``path`` exists, is a non-empty file and, in torch's zip format,
    ends with its zip directory (a truncated copy or an interrupted write lacks it).
    URLs and other remote paths are left to MMEngine.

    Args:
        path (str): The checkpoint.
        source (str): Where the path came from, for the message (e.g. ``'load_from'``).

    Raises:
        FileNotFoundError: If it does not exist.
        IsADirectoryError: If it is a folder.
        ValueError: If it is empty or truncated.
    """
    if '://' in path:
        return
    what = f'checkpoint {path!r} ({source})'
    if not osp.exists(path):
        raise FileNotFoundError(f'{what} does not exist; give the path of an existing .pth '
                                'file, or leave load_from unset to train from scratch')
    if osp.isdir(path):
        raise IsADirectoryError(f'{what} is a folder; give a .pth file in it, or use --resume '
                                'without a value to continue from the latest checkpoint of '
                                'the work dir')
    size = osp.getsize(path)
    if size == 0:
        raise ValueError(f'{what} is empty (0 bytes), likely an interrupted copy or write; '
                         'use another checkpoint')
    with open(path, 'rb') as f:
        magic = f.read(len(_ZIP_MAGIC))
    if magic == _ZIP_MAGIC and not zipfile.is_zipfile(path):
        raise ValueError(f'{what} is truncated or corrupt ({size} bytes, no zip directory at '
                         'its end), likely an interrupted copy or write; use another '
                         'checkpoint')


def check_state_dict_matches(model: torch.nn.Module, checkpoint: dict, path: str,
                             strict: bool) -> List[str]:
    """Compare a checkpoint's weights with ``model`` before MMEngine loads them.

    MMEngine loads ``load_from`` non-strictly: weights of another architecture are
    skipped with a warning and training silently starts from random weights (and a
    resumed optimizer then fails on the first step). This refuses them instead.

    Args:
        model (nn.Module): The (unwrapped) model.
        checkpoint (dict): The loaded checkpoint (``state_dict`` inside, or the weights).
        path (str): The checkpoint's path, for messages.
        strict (bool): Also refuse missing or unexpected keys (resuming needs the exact
            model); otherwise they are only returned.

    Returns:
        list[str]: Warnings about missing and unexpected keys (not strict).

    Raises:
        ValueError: If no key matches, if shapes differ, or (strict) if keys differ.
    """
    weights = checkpoint.get('state_dict', checkpoint)
    if not isinstance(weights, dict):
        raise ValueError(f'checkpoint {path!r} holds no state_dict; it is not a checkpoint '
                         'of this model')
    weights = {re.sub(r'^module\.', '', k): v for k, v in weights.items()}
    own = get_state_dict(model)  # the keys MMEngine loads (and AtomicCheckpointHook saves)
    common = [k for k in weights if k in own]
    hint = ('It was trained with another architecture (im_size, ngf, ndf, nz, EMA); use the '
            'config it was trained with, or train without load_from / --resume.')
    if not common:
        raise ValueError(
            f'checkpoint {path!r} holds none of the weights of this model (its top-level '
            f'keys: {format_names(map(str, checkpoint))}; the model has '
            f'{format_names(sorted({k.split(".")[0] for k in own}))}). If it is an official '
            'FastGAN checkpoint (keys g, d, opt), convert it first with '
            'tools/model_converters/convert_official_checkpoint.py.')
    mismatched = [
        f'{k}: checkpoint {tuple(weights[k].shape)}, model {tuple(own[k].shape)}'
        for k in common if hasattr(weights[k], 'shape') and weights[k].shape != own[k].shape
    ]
    if mismatched:
        raise ValueError(f'checkpoint {path!r} does not fit this model: {len(mismatched)} '
                         f'weight(s) differ in shape ({format_names(mismatched)}). {hint}')
    missing = [k for k in own if k not in weights]
    unexpected = [k for k in weights if k not in own]
    problems = []
    if missing:
        problems.append(f'{len(missing)} weight(s) of the model are not in it '
                        f'({format_names(missing)})')
    if unexpected:
        problems.append(f'{len(unexpected)} weight(s) in it are not in the model '
                        f'({format_names(unexpected)})')
    if problems and strict:
        raise ValueError(f'cannot resume from {path!r}: ' + '; '.join(problems) + f'. {hint}')
    return [f'checkpoint {path!r}: {problem}' for problem in problems]
