"""MMEngine's ``CheckpointHook``, made safe to kill at any moment."""
import glob
import os.path as osp

import torch
from mmagic.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.runner.checkpoint import get_state_dict, weights_to_cpu

from fastgan_plugin.compat import runner_load_request
from fastgan_plugin.utils.atomic_io import (
    ATOMIC_BACKEND,
    remove_stale_partial_files,
    write_text_atomic,
)
from fastgan_plugin.utils.model import unwrap_model
from fastgan_plugin.utils.validation import check_bool, format_names

from .rng_state_hook import RNGStateHook


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
    """MMEngine's ``CheckpointHook`` (same arguments), safe to kill at any moment.

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
    - **Weights under the keys MMEngine loads**, also for networks wrapped one by one.
    - **No non-finite checkpoint.** With ``check_finite=True`` a checkpoint whose weights
      hold NaN or Inf is not written: training stops with the parameter named, and the
      last good checkpoint stays the latest.

    The RNG states (``RNGStateHook``, whose states of every rank this hook has gathered
    before each save) and the checks of the checkpoint to load
    (``CheckpointLoadCheckHook``) are hooks of their own, beside this one in
    ``configs/_base_/fastgan_runtime.py``.

    Args:
        check_finite (bool): Refuse to write non-finite weights. Defaults to True.
        **kwargs: ``CheckpointHook`` arguments (``interval``, ``by_epoch``,
            ``max_keep_ckpts``, ``save_best``, ``rule``, ...).
    """

    def __init__(self, *args, check_finite: bool = True, **kwargs) -> None:
        if 'save_rng_state' in kwargs:  # an argument of this hook before RNGStateHook
            raise TypeError('AtomicCheckpointHook has no save_rng_state: RNGStateHook '
                            '(default_hooks.rng_state) stores the RNG states; remove that '
                            'entry from the config to leave them out')
        super().__init__(*args, **kwargs)
        self.check_finite = check_bool(check_finite, 'AtomicCheckpointHook: check_finite')

    def before_train(self, runner) -> None:
        """Choose the atomic backend, clean partial files and warn about old checkpoints."""
        if self.backend_args is None and self.file_client_args is None:
            out_dir = runner.work_dir if self.out_dir is None else self.out_dir
            if '://' not in str(out_dir):
                self.backend_args = dict(backend=ATOMIC_BACKEND)
        super().before_train(runner)
        if is_main_process():
            self._remove_partial_files(runner)
            self._warn_about_earlier_checkpoints(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store the weights under the keys MMEngine loads."""
        # MMEngine saves model.state_dict(), which keeps the '.module' of networks wrapped
        # one by one (MMSeparateDistributedDataParallel: generator.module.*), but loads
        # with those wrappers removed (generator.*); a distributed run then resumed its
        # iteration and optimizer states, but not its weights.
        checkpoint['state_dict'] = weights_to_cpu(get_state_dict(unwrap_model(runner.model)))

    # MMEngine 0.10 has no extension point for the order of saving and pruning, nor for how
    # last_checkpoint is written: the two private methods below are overridden (listed in
    # fastgan_plugin/compat.py).
    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """Save ``filename_tmpl.format(step)``, then update last_checkpoint, then prune.

        MMEngine's order is prune, save, update (with a plain ``open``); a kill after the
        prune loses a checkpoint. Runs on every rank (the file is written by rank 0 only).
        """
        ckpt_filename = self.filename_tmpl.format(step)
        if self.check_finite:
            self._refuse_nonfinite_weights(runner, ckpt_filename)
        to_remove = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                to_remove = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        for hook in runner.hooks:  # on every rank: runner.save_checkpoint runs on rank 0 only
            if isinstance(hook, RNGStateHook):
                hook.gather_states()
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
        if not is_main_process():
            return
        write_text_atomic(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if to_remove is not None and to_remove != step:
            self._remove(self.file_backend.join_path(self.out_dir,
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
                self._remove(path)

    def _remove(self, path) -> None:
        """Remove a superseded checkpoint; never the latest or a current best one."""
        best = {getattr(self, 'best_ckpt_path', None),
                *getattr(self, 'best_ckpt_path_dict', {}).values()}
        if str(path) in {str(self.last_ckpt), *(str(p) for p in best if p)}:
            return
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # checkpoints saved by DeepSpeed are folders
            self.file_backend.rmtree(path)

    def _refuse_nonfinite_weights(self, runner, ckpt_filename: str) -> None:
        """Stop training before a checkpoint of NaN or Inf weights is written."""
        bad = [name for name, value in unwrap_model(runner.model).state_dict().items()
               if value.is_floating_point() and not torch.isfinite(value).all()]
        if bad:
            last = self.last_ckpt or 'none was written in this run'
            raise FloatingPointError(
                f'AtomicCheckpointHook: not writing {ckpt_filename} at iteration '
                f'{runner.iter + 1}: {len(bad)} weight(s) hold NaN or Inf '
                f'({format_names(bad)}); training stops. The last good checkpoint stays the '
                f'latest ({last}); resume from it with lower learning rates, or check the '
                'data.')

    def _remove_partial_files(self, runner) -> None:
        folders = [str(runner.work_dir)]
        if '://' not in str(self.out_dir):
            folders.append(str(self.out_dir))
        partial = remove_stale_partial_files(folders)
        if partial:
            runner.logger.warning(
                f'Removed {len(partial)} partial file(s) of checkpoint writes that were '
                f'interrupted ({format_names(partial)}); the checkpoints themselves are '
                'complete')

    def _warn_about_earlier_checkpoints(self, runner) -> None:
        _, resume, _ = runner_load_request(runner)
        if resume or '://' in str(self.out_dir) or runner.iter > 0:
            return
        pattern = osp.join(glob.escape(str(self.out_dir)),
                           self.filename_tmpl.replace('{}', '*'))
        found = sorted(osp.basename(p) for p in glob.glob(pattern))
        if found:
            runner.logger.warning(
                f'{self.out_dir!r} already holds {len(found)} checkpoint(s) of an earlier run '
                f'({format_names(found)}). This run starts from iteration 0 and replaces files '
                'of the same name; use --resume to continue that run instead, or --work-dir '
                'to keep both.')
