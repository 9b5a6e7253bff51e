"""MMEngine's ``CheckpointHook``, made safe to kill at any moment and to resume exactly."""
import glob
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional

import torch
from mmagic.registry import HOOKS
from mmengine.dist import all_gather_object, get_dist_info, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import get_state_dict, weights_to_cpu

from fastgan_plugin.utils.atomic_io import (
    ATOMIC_BACKEND,
    stale_partial_files,
    write_text_atomic,
)
from fastgan_plugin.utils.rng import get_rng_state, set_rng_state

_MAX_NAMES = 5
_ZIP_MAGIC = b'PK\x03\x04'  # torch.save's (zip) format since torch 1.6


def _names(items: List[str]) -> str:
    shown = ', '.join(items[:_MAX_NAMES])
    return shown + (f', ... ({len(items)} in all)' if len(items) > _MAX_NAMES else '')


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
    own = get_state_dict(model)  # the keys MMEngine loads (see before_save_checkpoint)
    common = [k for k in weights if k in own]
    hint = ('It was trained with another architecture (im_size, ngf, ndf, nz, EMA); use the '
            'config it was trained with, or train without load_from / --resume.')
    if not common:
        raise ValueError(
            f'checkpoint {path!r} holds none of the weights of this model (its top-level '
            f'keys: {_names([str(k) for k in checkpoint])}; the model has '
            f'{_names(sorted({k.split(".")[0] for k in own}))}). If it is an official '
            'FastGAN checkpoint (keys g, d, opt), convert it first with '
            'tools/convert_official_checkpoint.py.')
    mismatched = [
        f'{k}: checkpoint {tuple(weights[k].shape)}, model {tuple(own[k].shape)}'
        for k in common if hasattr(weights[k], 'shape') and weights[k].shape != own[k].shape
    ]
    if mismatched:
        raise ValueError(f'checkpoint {path!r} does not fit this model: {len(mismatched)} '
                         f'weight(s) differ in shape ({_names(mismatched)}). {hint}')
    missing = [k for k in own if k not in weights]
    unexpected = [k for k in weights if k not in own]
    problems = []
    if missing:
        problems.append(f'{len(missing)} weight(s) of the model are not in it '
                        f'({_names(missing)})')
    if unexpected:
        problems.append(f'{len(unexpected)} weight(s) in it are not in the model '
                        f'({_names(unexpected)})')
    if problems and strict:
        raise ValueError(f'cannot resume from {path!r}: ' + '; '.join(problems) + f'. {hint}')
    return [f'checkpoint {path!r}: {problem}' for problem in problems]


class _DeferredRemoval:
    """A file backend whose ``remove`` / ``rmtree`` are recorded instead of done."""

    def __init__(self, backend, removals: list) -> None:
        self._backend = backend
        self._removals = removals

    def remove(self, path) -> None:
        self._removals.append(path)

    def rmtree(self, path) -> None:
        self._removals.append(path)

    def __getattr__(self, name):
        return getattr(self._backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """MMEngine's ``CheckpointHook`` (same arguments), safe to kill and to resume exactly.

    A drop-in replacement: ``default_hooks.checkpoint.type = 'AtomicCheckpointHook'``.
    What it changes:

    - **Atomic writes.** Checkpoints in a local ``out_dir`` are written to a temporary
      file in the same folder, fsync'ed and renamed (``fastgan_atomic_local`` backend,
      unless ``backend_args`` chooses another); ``last_checkpoint`` is rewritten the same
      way, and only after the checkpoint it names is complete. A kill at any moment
      leaves the previous checkpoint and a ``last_checkpoint`` naming a whole file;
      partial files of a killed write are removed at the next start.
    - **Nothing is removed before its replacement exists.** MMEngine deletes the oldest
      checkpoint (``max_keep_ckpts``) and the previous best *before* writing the new
      one, so a kill in between can leave no checkpoint at all. Here removals happen
      after the new file and ``last_checkpoint`` are written. Only ``iter_*`` / ``epoch_*``
      files this run or the run it resumes wrote are pruned; best checkpoints are only
      replaced by a better one; other files are never touched. A new (not resumed) run
      in a work dir holding checkpoints says so, since files of the same name are
      replaced.
    - **Checked loading.** Before ``load_from`` / ``--resume`` is loaded, a missing,
      empty or truncated file and weights of another architecture are refused with a
      message naming the file and what to do (MMEngine would skip mismatched weights
      with a warning, or crash in the first optimizer step).
    - **Exact resume.** With ``save_rng_state=True`` the RNG states (Python, numpy,
      torch, CUDA) of every process are stored in ``meta['rng_states']`` (as tensors and
      plain types, loadable with ``weights_only=True``) and restored on resume, and a
      validation run leaves the training RNG states as it found them. With a seed (and
      ``deterministic=True`` where the device needs it) a resumed run then follows the
      uninterrupted one exactly, provided the data loader has ``num_workers >= 1``:
      MMEngine re-draws the skipped batches on resume, which with ``num_workers=0``
      consumes the main process's RNG after it was restored.
    - **No non-finite checkpoint.** With ``check_finite=True`` a checkpoint whose weights
      hold NaN or Inf is not written: training stops with the parameter named, and the
      last good checkpoint stays the latest.

    Args:
        save_rng_state (bool): Store and restore RNG states. Defaults to True.
        check_finite (bool): Refuse to write non-finite weights. Defaults to True.
        **kwargs: ``CheckpointHook`` arguments (``interval``, ``by_epoch``,
            ``max_keep_ckpts``, ``save_best``, ``rule``, ...).
    """

    def __init__(self, *args, save_rng_state: bool = True, check_finite: bool = True,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.save_rng_state = save_rng_state
        self.check_finite = check_finite
        self._load_path: Optional[str] = None
        self._resuming = False
        self._rng_to_restore: Optional[dict] = None
        self._rng_to_save: Optional[list] = None
        self._rng_before_val: Optional[dict] = None

    # ------------------------------------------------------------------ loading
    def before_run(self, runner) -> None:
        """Check the checkpoint that ``load_from`` / ``--resume`` will load."""
        self._resuming = bool(getattr(runner, '_resume', False))
        load_from = getattr(runner, '_load_from', None)
        self._load_path = None
        if getattr(runner, '_has_loaded', False):
            return
        if self._resuming and load_from is None:
            record = osp.join(runner.work_dir, 'last_checkpoint')
            if not osp.isfile(record):
                runner.logger.warning(
                    f'--resume (resume=True): {runner.work_dir!r} has no last_checkpoint, '
                    'so training starts from iteration 0. To continue another run, pass '
                    'its work dir (--work-dir) or a checkpoint (--resume PATH).')
                return
            with open(record, encoding='utf-8') as f:
                path = f.read().strip()
            found = sorted(glob.glob(osp.join(glob.escape(runner.work_dir), '*.pth')))
            if not path or not osp.exists(path):
                others = (f'checkpoints there: {_names([osp.basename(p) for p in found])}'
                          if found else 'no .pth files there')
                raise FileNotFoundError(
                    f'{record!r} names checkpoint {path!r}, which does not exist ({others}); '
                    'resume from one of them with --resume PATH, or remove last_checkpoint '
                    'to start from scratch')
            self._load_path = path
            check_checkpoint_file(path, f'the latest checkpoint, named in {record!r}')
        elif load_from is not None:
            self._load_path = str(load_from)
            check_checkpoint_file(self._load_path,
                                  '--resume PATH' if self._resuming else 'load_from')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Refuse another architecture's weights; take the RNG states to restore."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        path = self._load_path or 'the loaded checkpoint'
        for warning in check_state_dict_matches(model, checkpoint, path,
                                                strict=self._resuming):
            runner.logger.warning(warning)
        if not (self._resuming and self.save_rng_state):
            return
        states = checkpoint.get('meta', {}).get('rng_states')
        rank, world_size = get_dist_info()
        if states is None:
            runner.logger.warning(
                f'{path!r} holds no RNG states (not written by AtomicCheckpointHook): '
                'training resumes with fresh random streams')
        elif len(states) != world_size:
            runner.logger.warning(
                f'{path!r} holds the RNG states of {len(states)} process(es), this run has '
                f'{world_size}: training resumes with fresh random streams')
        else:
            self._rng_to_restore = states[rank]

    # ----------------------------------------------------------------- training
    def before_train(self, runner) -> None:
        """Choose the atomic backend, clean partial files, warn about old checkpoints and
        restore the resumed RNG states."""
        if self.backend_args is None and self.file_client_args is None:
            out_dir = runner.work_dir if self.out_dir is None else self.out_dir
            if '://' not in str(out_dir):
                self.backend_args = dict(backend=ATOMIC_BACKEND)
        super().before_train(runner)
        if is_main_process():
            self._remove_partial_files(runner)
            self._warn_about_earlier_checkpoints(runner)
        if self._rng_to_restore is not None:
            set_rng_state(self._rng_to_restore)
            self._rng_to_restore = None
            runner.logger.info('Restored the RNG states saved in the checkpoint')

    def before_val(self, runner) -> None:
        """Keep the training RNG states, so that validating does not change training."""
        if self.save_rng_state:
            self._rng_before_val = get_rng_state()

    def after_val(self, runner) -> None:
        """Put back the training RNG states of :meth:`before_val`."""
        if self._rng_before_val is not None:
            set_rng_state(self._rng_before_val)
            self._rng_before_val = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the weights under the keys MMEngine loads, and the RNG states gathered
        for this checkpoint in its meta."""
        # MMEngine saves model.state_dict(), which keeps the '.module' of networks wrapped
        # one by one (MMSeparateDistributedDataParallel: generator.module.*), but loads
        # with those wrappers removed (generator.*); a distributed run then resumed its
        # iteration and optimizer states, but not its weights.
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        checkpoint['state_dict'] = weights_to_cpu(get_state_dict(model))
        if self._rng_to_save is not None:
            checkpoint.setdefault('meta', {})['rng_states'] = self._rng_to_save
            self._rng_to_save = None

    # ------------------------------------------------------------------- saving
    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Save ``filename_tmpl.format(step)``, then update last_checkpoint, then prune.

        MMEngine's order is prune, save, update; a kill after the prune loses a
        checkpoint. Runs on every rank (the file is written by rank 0 only).
        """
        ckpt_filename = self.filename_tmpl.format(step)
        if self.check_finite:
            self._check_finite_weights(runner, ckpt_filename)
        to_remove = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                to_remove = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        if self.save_rng_state:
            state = self._rng_before_val if self._rng_before_val is not None \
                else get_rng_state()
            self._rng_to_save = all_gather_object(state)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        self._rng_to_save = None
        if not is_main_process():
            return
        write_text_atomic(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if to_remove is not None and to_remove != step:
            self._remove(runner,
                         self.file_backend.join_path(self.out_dir,
                                                     self.filename_tmpl.format(to_remove)))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """MMEngine's, with the previous best removed only once the new one is written."""
        if not self.save_best:  # as MMEngine's; a bare runner.val() has no file backend
            return
        backend, removals = self.file_backend, []
        self.file_backend = _DeferredRemoval(backend, removals)
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = backend
        if is_main_process():
            for path in removals:
                self._remove(runner, path)

    # ------------------------------------------------------------------ helpers
    def _best_paths(self) -> set:
        paths = {getattr(self, 'best_ckpt_path', None)}
        paths.update(getattr(self, 'best_ckpt_path_dict', {}).values())
        return {str(p) for p in paths if p}

    def _remove(self, runner, path) -> None:
        """Remove a superseded checkpoint; never the latest or a current best one."""
        if str(path) == str(self.last_ckpt) or str(path) in self._best_paths():
            return
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # checkpoints saved by DeepSpeed are folders
            self.file_backend.rmtree(path)

    def _check_finite_weights(self, runner, ckpt_filename: str) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        bad = [name for name, value in model.state_dict().items()
               if value.is_floating_point() and not torch.isfinite(value).all()]
        if bad:
            last = self.last_ckpt or 'none was written in this run'
            raise FloatingPointError(
                f'AtomicCheckpointHook: not writing {ckpt_filename} at iteration '
                f'{runner.iter + 1}: {len(bad)} weight(s) hold NaN or Inf ({_names(bad)}); '
                f'training stops. The last good checkpoint stays the latest ({last}); '
                'resume from it with lower learning rates, or check the data.')

    def _remove_partial_files(self, runner) -> None:
        folders = {str(runner.work_dir)}
        if '://' not in str(self.out_dir):
            folders.add(str(self.out_dir))
        partial = [p for folder in sorted(folders) for p in stale_partial_files(folder)]
        for path in partial:
            os.remove(path)
        if partial:
            runner.logger.warning(
                f'Removed {len(partial)} partial file(s) of checkpoint writes that were '
                f'interrupted ({_names(partial)}); the checkpoints themselves are complete')

    def _warn_about_earlier_checkpoints(self, runner) -> None:
        if self._resuming or '://' in str(self.out_dir) or runner.iter > 0:
            return
        pattern = osp.join(glob.escape(str(self.out_dir)),
                           self.filename_tmpl.replace('{}', '*'))
        found = sorted(osp.basename(p) for p in glob.glob(pattern))
        if found:
            runner.logger.warning(
                f'{self.out_dir!r} already holds {len(found)} checkpoint(s) of an earlier run '
                f'({_names(found)}). This run starts from iteration 0 and replaces files of '
                'the same name; use --resume to continue that run instead, or --work-dir '
                'to keep both.')
