"""Loading checkpoints without running code from them, and finding the one to resume.

Importing this module makes two process-wide changes: MMEngine's loaders of local paths and
``http(s)://`` URLs are replaced (public ``CheckpointLoader.register_scheme``) by ones passing
``weights_only=True`` explicitly, which ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` cannot override;
and :func:`runner_checkpoint_types` join torch's weights-only allow-list (older checkpoints).
"""
import glob
import logging
import os.path as osp
import pickle
import re
import zipfile
from typing import List, Optional

import numpy as np
import torch
from mmengine.dist import barrier, get_dist_info, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader, get_state_dict

from .atomic_io import write_text_atomic
from .validation import format_names

_ZIP_MAGIC = b'PK\x03\x04'  # torch.save's (zip) format since torch 1.6
_STEP_RE = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def runner_checkpoint_types() -> list:
    """The non-tensor types of older runner checkpoints: ``HistoryBuffer``, and what rebuilds
    numpy arrays and scalars of the dtypes MMEngine logs."""
    # What pickle calls to rebuild arrays and scalars (in numpy.core, or numpy._core in 2.x).
    rebuilders = [np.zeros(1).__reduce__()[0], np.float64(0).__reduce__()[0]]
    dtype_classes = [type(np.dtype(name)) for name in ('float64', 'float32', 'int64', 'int32')]
    return [HistoryBuffer, *rebuilders, np.ndarray, np.dtype, *dtype_classes]


def _load_weights_only(load, filename: str) -> dict:
    """Run ``load()`` (a ``weights_only=True`` load) with a message naming the file on refusal."""
    try:
        return load()
    except pickle.UnpicklingError as error:
        found = re.search(r'Unsupported (?:global: GLOBAL \S+|[^.\n]*)', str(error))
        raise pickle.UnpicklingError(
            f'{filename} was refused by torch.load(weights_only=True)'
            f'{f" ({found.group(0)})" if found else ""}: it is not a torch checkpoint, or it '
            'holds objects other than tensors and plain data, which could run code when loaded '
            '(nothing in it was run). Use a checkpoint written by fastgan_plugin or MMEngine, '
            'or re-save the tensors of one you trust.') from error
    except (EOFError, KeyError) as error:  # torch's legacy reader on a file of another kind
        raise ValueError(f'{filename} is not a torch checkpoint ({type(error).__name__}: '
                         f'{error}); use a .pth file written by torch.save') from error


def load_from_local_weights_only(filename: str, map_location=None) -> dict:
    """MMEngine's local loader with ``weights_only=True`` and :func:`check_checkpoint_file`."""
    filename = osp.expanduser(filename)
    check_checkpoint_file(filename)
    return _load_weights_only(
        lambda: torch.load(filename, map_location=map_location, weights_only=True), filename)


def load_from_http_weights_only(filename: str, map_location=None) -> dict:
    """MMEngine's ``load_from_http`` with ``weights_only=True`` (rank 0 downloads first)."""
    def load() -> dict:
        return _load_weights_only(lambda: torch.hub.load_state_dict_from_url(
            filename, map_location=map_location, progress=False, weights_only=True), filename)

    rank, world_size = get_dist_info()
    checkpoint = load() if rank == 0 else None
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = load()
    return checkpoint


CheckpointLoader.register_scheme('', load_from_local_weights_only, force=True)
CheckpointLoader.register_scheme(('http://', 'https://'), load_from_http_weights_only,
                                 force=True)
# Process-wide: torch's safe_globals context manager would remove on exit what others added.
torch.serialization.add_safe_globals(runner_checkpoint_types())


def check_checkpoint_file(path: str, source: Optional[str] = None) -> None:
    """Refuse a local file that cannot be a whole checkpoint, before it is read.

    Args:
        path (str): The checkpoint; URLs and other remote paths are left alone.
        source (str, optional): Where the path came from, for the message ('load_from').

    Raises:
        FileNotFoundError, IsADirectoryError: If it does not exist, or is a folder.
        ValueError: If it is empty, or a torch zip file without its end (a torn write).
    """
    if '://' in path:
        return
    what = f'checkpoint {path!r}' + (f' ({source})' if source else '')
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


def _is_complete(path: str) -> bool:
    try:
        check_checkpoint_file(path)
    except (OSError, ValueError):
        return False
    return True


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` continues from, found inside ``work_dir`` itself.

    Only the file name of ``last_checkpoint`` is used, so that a copied or moved work dir
    resumes from its own files; if that file is missing or torn, the newest complete
    ``iter_*.pth`` / ``epoch_*.pth`` is taken (with a warning). None if there is none.
    """
    record = osp.join(work_dir, 'last_checkpoint')
    named = None
    if osp.isfile(record):
        with open(record, encoding='utf-8', errors='replace') as f:
            named = osp.basename(f.read().strip()) or None
        if named and _is_complete(osp.join(work_dir, named)):
            return osp.join(work_dir, named)
    steps = {path: int(match.group(1))
             for path in glob.glob(osp.join(glob.escape(work_dir), '*_*.pth'))
             if (match := _STEP_RE.match(osp.basename(path)))}
    found = next((p for p in sorted(steps, key=steps.get, reverse=True) if _is_complete(p)),
                 None)
    if found is not None and named is not None:
        print_log(f'{record} names {named}, which is missing or incomplete in {work_dir}; '
                  f'resuming from the newest complete checkpoint there, '
                  f'{osp.basename(found)}', logger='current', level=logging.WARNING)
    return found


def check_state_dict_matches(model: torch.nn.Module, checkpoint: dict, path: str,
                             strict: bool) -> List[str]:
    """Compare a checkpoint's weights with ``model`` before MMEngine (non-strictly) loads them.

    Args:
        model (nn.Module): The (unwrapped) model.
        checkpoint (dict): The loaded checkpoint (``state_dict`` inside, or the weights).
        path (str): The checkpoint's path, for messages.
        strict (bool): Also refuse missing or unexpected keys; otherwise returns warnings.

    Raises:
        ValueError: If no key matches, if shapes differ, or (strict) if keys differ.
    """
    weights = checkpoint.get('state_dict', checkpoint)
    if not isinstance(weights, dict):
        raise ValueError(f'checkpoint {path!r} holds no state_dict; it is not a checkpoint '
                         'of this model')
    weights = {re.sub(r'^module\.', '', k): v for k, v in weights.items()}
    own = get_state_dict(model)  # the keys MMEngine loads (and CheckpointContentHook saves)
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
    mismatched = [f'{k}: checkpoint {tuple(weights[k].shape)}, model {tuple(own[k].shape)}'
                  for k in common
                  if hasattr(weights[k], 'shape') and weights[k].shape != own[k].shape]
    if mismatched:
        raise ValueError(f'checkpoint {path!r} does not fit this model: {len(mismatched)} '
                         f'weight(s) differ in shape ({format_names(mismatched)}). {hint}')
    problems = [f'{len(keys)} weight(s) {where} ({format_names(keys)})' for keys, where in (
        ([k for k in own if k not in weights], 'of the model are not in it'),
        ([k for k in weights if k not in own], 'in it are not in the model')) if keys]
    if problems and strict:
        raise ValueError(f'cannot resume from {path!r}: ' + '; '.join(problems) + f'. {hint}')
    return [f'checkpoint {path!r}: {problem}' for problem in problems]


def checkpoint_path(runner, step: int) -> str:
    """The path the runner's ``CheckpointHook`` gives the checkpoint of ``step``; ValueError
    without that hook."""
    hook = next((h for h in runner.hooks if isinstance(h, CheckpointHook)), None)
    if hook is None:
        raise ValueError('saving a checkpoint outside the schedule needs a CheckpointHook '
                         '(default_hooks.checkpoint)')
    return hook.file_backend.join_path(hook.out_dir, hook.filename_tmpl.format(step))


def save_checkpoint_now(runner, step: int) -> str:
    """Save the checkpoint of iteration ``step`` now, as the ``CheckpointHook`` of the
    (training) runner would; returns its path.

    A collective (call it on every rank): hooks with ``gather_states`` (``RNGStateHook``)
    gather first; the step joins ``keep_ckpt_ids`` so that ``max_keep_ckpts`` prunes it.
    """
    path = checkpoint_path(runner, step)
    hook = next(h for h in runner.hooks if isinstance(h, CheckpointHook))
    for other in runner.hooks:
        if hasattr(other, 'gather_states'):
            other.gather_states()
    hub = runner.message_hub
    if hook.max_keep_ckpts > 0 and step not in hub.get_info('keep_ckpt_ids', []):
        hub.update_info('keep_ckpt_ids', [*hub.get_info('keep_ckpt_ids', []), step])
    hub.update_info('last_ckpt', path)
    runner.save_checkpoint(hook.out_dir, osp.basename(path), save_optimizer=hook.save_optimizer,
                           save_param_scheduler=hook.save_param_scheduler,
                           meta=dict(epoch=runner.epoch, iter=step), by_epoch=False,
                           backend_args=hook.backend_args, **hook.args)
    if is_main_process():
        write_text_atomic(osp.join(runner.work_dir, 'last_checkpoint'), path)
    barrier()
    return path
