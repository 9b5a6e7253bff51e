"""Checks of the checkpoint that ``load_from`` / ``--resume`` names, before it is loaded."""
import glob
import os.path as osp
from typing import Optional

from mmagic.registry import HOOKS
from mmengine.hooks import Hook

from fastgan_plugin.compat import runner_load_request
from fastgan_plugin.utils.checkpoint import check_checkpoint_file, check_state_dict_matches
from fastgan_plugin.utils.model import unwrap_model
from fastgan_plugin.utils.validation import format_names


@HOOKS.register_module()
class CheckpointLoadCheckHook(Hook):
    """Refuse a checkpoint that cannot be loaded whole, or not into this model, with a
    message naming the file and what to do.

    MMEngine would fail inside ``torch.load`` on a missing, empty or truncated file, skip
    the weights of another architecture with a warning (training then starts from random
    weights), or crash in the first optimizer step of a resumed run. Here, in
    ``before_run`` (the runner loads right after it), the file is checked
    (:func:`~fastgan_plugin.utils.checkpoint.check_checkpoint_file`), and once loaded, its
    weights are compared with the model before they are copied into it
    (:func:`~fastgan_plugin.utils.checkpoint.check_state_dict_matches`: any difference
    refuses a resume; missing or unexpected keys of ``load_from`` are logged). ``--resume``
    in a work dir without ``last_checkpoint`` starts from iteration 0 with a warning.

    In ``default_hooks`` as ``checkpoint_check`` (``configs/_base_/fastgan_runtime.py``).
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._load_path: Optional[str] = None

    def before_run(self, runner) -> None:
        """Check the file that the runner will load, if any."""
        load_from, resume, has_loaded = runner_load_request(runner)
        self._load_path = None
        if has_loaded:
            return
        if resume and load_from is None:
            self._load_path = self._latest_checkpoint(runner)
            if self._load_path is not None:
                record = osp.join(runner.work_dir, 'last_checkpoint')
                check_checkpoint_file(self._load_path,
                                      f'the latest checkpoint, named in {record!r}')
        elif load_from is not None:
            self._load_path = str(load_from)
            check_checkpoint_file(self._load_path, '--resume PATH' if resume else 'load_from')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Refuse another architecture's weights (any difference when resuming)."""
        _, resume, _ = runner_load_request(runner)
        path = self._load_path or 'the loaded checkpoint'
        for warning in check_state_dict_matches(unwrap_model(runner.model), checkpoint, path,
                                                strict=resume):
            runner.logger.warning(warning)

    @staticmethod
    def _latest_checkpoint(runner) -> Optional[str]:
        """The path ``last_checkpoint`` names (None, with a warning, without one).

        Raises:
            FileNotFoundError: If it names a file that does not exist.
        """
        record = osp.join(runner.work_dir, 'last_checkpoint')
        if not osp.isfile(record):
            runner.logger.warning(
                f'--resume (resume=True): {runner.work_dir!r} has no last_checkpoint, so '
                'training starts from iteration 0. To continue another run, pass its work '
                'dir (--work-dir) or a checkpoint (--resume PATH).')
            return None
        with open(record, encoding='utf-8') as f:
            path = f.read().strip()
        if not path or not osp.exists(path):
            found = sorted(glob.glob(osp.join(glob.escape(runner.work_dir), '*.pth')))
            others = (f'checkpoints there: {format_names(osp.basename(p) for p in found)}'
                      if found else 'no .pth files there')
            raise FileNotFoundError(
                f'{record!r} names checkpoint {path!r}, which does not exist ({others}); '
                'resume from one of them with --resume PATH, or remove last_checkpoint '
                'to start from scratch')
        return path
