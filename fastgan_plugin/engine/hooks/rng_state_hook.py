"""Checkpoints that hold the RNG states, so that a resumed run draws what the run it
continues would have drawn."""
from typing import Optional

from mmagic.registry import HOOKS
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import CheckpointHook, Hook

from fastgan_plugin.utils.rng import get_rng_state, set_rng_state


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Store the RNG states of every process in each checkpoint and restore them on resume.

    The states go to ``meta['rng_states']``, one per rank (gathered on every rank, as
    ``before_save_checkpoint`` runs on rank 0 only); validation does not move the training
    RNG. A resumed run follows the uninterrupted one exactly (with a seed) if the data loader
    has ``num_workers >= 1``: with 0, MMEngine's re-drawing of the skipped batches consumes
    the restored RNG.
    """

    priority = 85  # after hooks that may draw (LOW), before CheckpointHook (VERY_LOW) saves

    def __init__(self) -> None:
        self._loaded: Optional[tuple] = None  # (iteration, states) of the loaded checkpoint
        self._states_before_val: Optional[dict] = None
        self._gathered: Optional[list] = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the checkpoint's states until :meth:`before_train` knows it is a resume."""
        meta = checkpoint.get('meta', {})
        self._loaded = (meta.get('iter'), meta.get('rng_states'))

    def before_train(self, runner) -> None:
        """Restore this rank's states if training resumes from the loaded checkpoint."""
        loaded, self._loaded = self._loaded, None
        if loaded is None or runner.iter == 0 or runner.iter != loaded[0]:
            return  # no checkpoint, or one loaded as load_from (weights only)
        states = loaded[1]
        rank, world_size = get_dist_info()
        if states is None:
            runner.logger.warning('the checkpoint holds no RNG states (not written with '
                                  'RNGStateHook): training resumes with fresh random streams')
        elif len(states) != world_size:
            runner.logger.warning(
                f'the checkpoint holds the RNG states of {len(states)} process(es), this run '
                f'has {world_size}: training resumes with fresh random streams')
        else:
            set_rng_state(states[rank])
            runner.logger.info('Restored the RNG states saved in the checkpoint')

    def before_val(self, runner) -> None:
        """Keep the training states, so that validating does not change training."""
        self._states_before_val = get_rng_state()

    def after_val(self, runner) -> None:
        """Put back the training states kept by :meth:`before_val`."""
        if self._states_before_val is not None:
            set_rng_state(self._states_before_val)
            self._states_before_val = None

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        """Forget the states gathered in the previous iteration: they are out of date."""
        self._gathered = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Gather the states if a ``CheckpointHook`` saves after this iteration."""
        if get_dist_info()[1] > 1 and any(  # CheckpointHook's schedule
                not h.by_epoch and (h.every_n_train_iters(runner, h.interval, h.save_begin)
                                    or h.save_last and h.is_last_train_iter(runner))
                for h in runner.hooks if isinstance(h, CheckpointHook)):
            self.gather_states()

    def after_val_epoch(self, runner, metrics=None) -> None:
        """Gather the states for a best checkpoint of this validation."""
        if get_dist_info()[1] > 1:
            self.gather_states()

    def gather_states(self) -> None:
        """Collect every rank's training states for the next checkpoint (a collective)."""
        states = self._states_before_val or get_rng_state()
        self._gathered = all_gather_object(states) if get_dist_info()[1] > 1 else [states]

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store every rank's training states in ``checkpoint['meta']['rng_states']``."""
        if get_dist_info()[1] == 1:
            self.gather_states()  # nothing to collect: the states of now
        if self._gathered is not None:
            checkpoint.setdefault('meta', {})['rng_states'] = self._gathered
