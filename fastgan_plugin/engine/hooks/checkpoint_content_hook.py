"""What MMEngine's ``CheckpointHook`` writes: resumable weights, finite ones only, and data
that loads with ``torch.load(weights_only=True)``."""
import glob
import os.path as osp

import numpy as np
import torch
from mmagic.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import get_state_dict, weights_to_cpu

from fastgan_plugin.utils.atomic_io import remove_stale_partial_files
from fastgan_plugin.utils.checkpoint import find_resume_checkpoint
from fastgan_plugin.utils.model import unwrap_model
from fastgan_plugin.utils.validation import check_bool, format_names


@HOOKS.register_module()
class CheckpointContentHook(Hook):
    """Make the checkpoints of MMEngine's ``CheckpointHook`` safe to resume and to load.

    Unwrapped weights are stored (MMEngine saves ``generator.module.*`` of separately
    wrapped networks but loads ``generator.*``); with ``check_finite``, NaN or Inf weights
    stop training instead of being written; the message hub's ``HistoryBuffer`` objects
    (refused by ``weights_only=True``) are stored as tensors. ``max_keep_ckpts=1`` is
    refused; partial files of interrupted writes are removed at the start.

    Args:
        check_finite (bool): Refuse to write non-finite weights. Defaults to True.
    """

    priority = 'LOWEST'  # before_train: after CheckpointHook has chosen its folder

    def __init__(self, check_finite: bool = True) -> None:
        self.check_finite = check_bool(check_finite, 'CheckpointContentHook: check_finite')

    def before_run(self, runner) -> None:
        """Refuse ``max_keep_ckpts=1``."""
        if any(h.max_keep_ckpts == 1 for h in self._checkpoint_hooks(runner)):
            raise ValueError(
                'default_hooks.checkpoint.max_keep_ckpts=1 can leave no checkpoint: MMEngine '
                'deletes the previous checkpoint before writing the next one, so a kill or a '
                'full disk in between loses both. Set max_keep_ckpts to 2 or more (or -1 to '
                'keep every checkpoint).')

    def before_train(self, runner) -> None:
        """Remove partial files of interrupted writes; warn about an earlier run's files."""
        if not is_main_process():
            return
        hooks = self._checkpoint_hooks(runner)
        folders = [str(runner.work_dir)] + [str(h.out_dir) for h in hooks
                                            if '://' not in str(h.out_dir)]
        partial = remove_stale_partial_files(folders)
        if partial:
            runner.logger.warning(
                f'Removed {len(partial)} partial file(s) of checkpoint writes that were '
                f'interrupted ({format_names(partial)}); the checkpoints themselves are '
                'complete')
        for hook in hooks if runner.iter == 0 else []:  # a new run, not a resumed one
            pattern = osp.join(glob.escape(str(hook.out_dir)),
                               hook.filename_tmpl.replace('{}', '*'))
            found = sorted(osp.basename(p) for p in glob.glob(pattern))
            if found:
                runner.logger.warning(
                    f'{hook.out_dir!r} already holds {len(found)} checkpoint(s) of an earlier '
                    f'run ({format_names(found)}). This run starts from iteration 0 and '
                    'replaces files of the same name; use --resume to continue that run '
                    'instead, or --work-dir to keep both.')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Unwrapped, finite weights and a plain message hub (rank 0, before writing)."""
        weights = get_state_dict(unwrap_model(runner.model))
        bad = [name for name, value in weights.items() if self.check_finite
               and value.is_floating_point() and not torch.isfinite(value).all()]
        if bad:  # stop training before a checkpoint of NaN or Inf weights is written
            name = osp.basename(str(runner.message_hub.get_info('last_ckpt', 'the checkpoint')))
            last = find_resume_checkpoint(str(runner.work_dir)) or 'none was written'
            raise FloatingPointError(
                f'not writing {name} at iteration {checkpoint["meta"]["iter"]}: {len(bad)} '
                f'weight(s) hold NaN or Inf ({format_names(bad)}); training stops. The last '
                f'good checkpoint stays the latest ({last}); resume from it with lower '
                'learning rates, or check the data.')
        checkpoint['state_dict'] = weights_to_cpu(weights)
        hub = checkpoint.get('message_hub')
        if hub is not None:
            hub['log_scalars'] = {
                key: dict(log_history=torch.as_tensor(buffer.data[0]),
                          count_history=torch.as_tensor(buffer.data[1]),
                          max_length=buffer.max_length)
                if isinstance(buffer, HistoryBuffer) else buffer
                for key, buffer in hub['log_scalars'].items()}
            hub['runtime_info'] = {key: value.item() if isinstance(value, np.generic) else value
                                   for key, value in hub['runtime_info'].items()}

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Rebuild the message hub's buffers before the runner resumes it."""
        scalars = checkpoint.get('message_hub', {}).get('log_scalars', {})
        for key, value in scalars.items():
            if isinstance(value, dict) and 'log_history' in value:
                scalars[key] = HistoryBuffer(value['log_history'].numpy(),
                                             value['count_history'].numpy(),
                                             value['max_length'])

    @staticmethod
    def _checkpoint_hooks(runner) -> list:
        return [h for h in runner.hooks if isinstance(h, CheckpointHook)]
