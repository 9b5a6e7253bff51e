"""Checks of the checkpoint the runner loads: the file, its architecture and its data."""
import glob
import hashlib
import os.path as osp
from typing import Optional

from mmagic.registry import HOOKS
from mmengine.dist import barrier, is_main_process
from mmengine.hooks import Hook

from fastgan_plugin.utils.atomic_io import write_text_atomic
from fastgan_plugin.utils.checkpoint import (
    check_checkpoint_file,
    check_state_dict_matches,
    find_resume_checkpoint,
)
from fastgan_plugin.utils.model import unwrap_model
from fastgan_plugin.utils.validation import check_bool, format_names

DATA_KEY = 'train_data'  # in checkpoint['meta']


def training_data_record(dataset) -> Optional[dict]:
    """What a checkpoint records of the training images (``gt_path`` or ``img_path`` of each
    ``dataset.get_data_info(i)``): ``count``, ``digest`` (SHA-256 of the sorted
    ``path<TAB>size`` lines), ``files`` (relative to ``data_root``, sorted) and ``sizes``
    (bytes); None for a dataset without such a list."""
    if not hasattr(dataset, 'get_data_info'):
        return None
    root = getattr(dataset, 'data_root', None) or ''
    entries = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        path = info.get('gt_path') or info.get('img_path') if isinstance(info, dict) else None
        if path is None:
            return None
        entries.append((osp.relpath(path, root) if root else path,
                        osp.getsize(path) if osp.isfile(path) else -1))
    if not entries:
        return None
    entries.sort()
    lines = '\n'.join(f'{name}\t{size}' for name, size in entries)
    return dict(count=len(entries), digest=hashlib.sha256(lines.encode()).hexdigest(),
                files=[name for name, _ in entries], sizes=[size for _, size in entries])


def describe_data_change(old: dict, new: dict) -> Optional[str]:
    """``'4 -> 4 file(s): 1 added (e.png), 1 removed (a.png)'``; None if nothing changed."""
    if old['digest'] == new['digest']:
        return None
    before, after = dict(zip(old['files'], old['sizes'])), dict(zip(new['files'], new['sizes']))
    changes = [(sorted(after.keys() - before.keys()), 'added'),
               (sorted(before.keys() - after.keys()), 'removed'),
               (sorted(k for k in before.keys() & after.keys() if before[k] != after[k]),
                'changed in size')]
    return f'{old["count"]} -> {new["count"]} file(s): ' + ', '.join(
        f'{len(names)} {what} ({format_names(names, 3)})' for names, what in changes if names)


@HOOKS.register_module()
class CheckpointLoadCheckHook(Hook):
    """Refuse a checkpoint that cannot be loaded whole, or not into this model, or a resume
    on other training images, with a message naming the file and what to do.

    ``resume=True`` without a path continues from the work dir's own checkpoint
    (``last_checkpoint`` is rewritten to name it). Checkpoints record the training images
    (:func:`training_data_record`).

    Args:
        allow_data_change (bool): Resume on changed training images. Defaults to False.
    """

    priority = 'VERY_LOW'

    def __init__(self, allow_data_change: bool = False) -> None:
        self.allow_data_change = check_bool(allow_data_change,
                                            'CheckpointLoadCheckHook: allow_data_change')
        self._path: Optional[str] = None
        self._resume = False
        self._loaded: Optional[tuple] = None  # (iteration, data record)
        self._record: Optional[dict] = None

    def before_run(self, runner) -> None:
        """Check the file that the runner will load, if any."""
        load_from, self._resume = runner.cfg.get('load_from'), bool(runner.cfg.get('resume'))
        self._path = None
        if self._resume and load_from is None:
            self._path = self._resume_checkpoint(runner)
        elif load_from is not None:
            self._path = str(load_from)
            check_checkpoint_file(self._path, '--resume PATH' if self._resume else 'load_from')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Refuse another architecture's weights (any difference when resuming)."""
        path = self._path or 'the loaded checkpoint'
        for warning in check_state_dict_matches(unwrap_model(runner.model), checkpoint, path,
                                                strict=self._resume):
            runner.logger.warning(warning)
        meta = checkpoint.get('meta', {})
        self._loaded = (meta.get('iter'), meta.get(DATA_KEY))

    def before_train(self, runner) -> None:
        """Refuse (or warn about) a resume on training images that changed."""
        self._record = training_data_record(runner.train_dataloader.dataset)
        loaded, self._loaded = self._loaded, None
        if (loaded is None or loaded[1] is None or self._record is None or runner.iter == 0
                or runner.iter != loaded[0]):
            return  # not a resume, or nothing to compare
        change = describe_data_change(loaded[1], self._record)
        if change is None:
            return
        message = (f'the training images changed since the checkpoint ({self._path}) was '
                   f'written: {change}')
        if not self.allow_data_change:
            raise ValueError(
                f'{message}. A resumed run continues the same run on the same images: restore '
                'them, or train from scratch; to resume anyway, pass --allow-data-change '
                '(default_hooks.checkpoint_check.allow_data_change=True)')
        runner.logger.warning(f'{message}; resuming anyway (allow_data_change=True)')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Record the training images in ``checkpoint['meta']['train_data']``."""
        if self._record is not None:
            checkpoint.setdefault('meta', {})[DATA_KEY] = self._record

    @staticmethod
    def _resume_checkpoint(runner) -> Optional[str]:
        """The checkpoint ``resume=True`` continues from, which ``last_checkpoint`` is made to
        name; FileNotFoundError if it names a missing file and there is no other."""
        work_dir = str(runner.work_dir)
        record = osp.join(work_dir, 'last_checkpoint')
        named = None
        if osp.isfile(record):
            with open(record, encoding='utf-8', errors='replace') as f:
                named = f.read().strip()
        path = find_resume_checkpoint(work_dir)
        if path is None and named is None:
            runner.logger.warning(
                f'--resume (resume=True): {work_dir!r} has no last_checkpoint, so training '
                'starts from iteration 0. To continue another run, pass its work dir '
                '(--work-dir) or a checkpoint (--resume PATH).')
        elif path is None and osp.isfile(named):
            return named  # a checkpoint outside the work dir (CheckpointHook's out_dir)
        elif path is None:
            found = sorted(glob.glob(osp.join(glob.escape(work_dir), '*.pth')))
            others = (f'checkpoints there: {format_names(osp.basename(p) for p in found)}'
                      if found else 'no .pth files there')
            raise FileNotFoundError(
                f'{record!r} names checkpoint {named!r}, which does not exist, and no other '
                f'complete checkpoint is there ({others}); resume from one of them with '
                '--resume PATH, or remove last_checkpoint to start from scratch')
        elif path != named:
            if is_main_process():
                write_text_atomic(record, path)
            runner.logger.info(f'Resuming from {path} (last_checkpoint named {named!r})')
        barrier()  # every rank reads last_checkpoint after rank 0 rewrote it
        return path
