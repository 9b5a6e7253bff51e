"""Checkpoints that hold the RNG states, so that a resumed run draws what the run it
continues would have drawn."""
from typing import Optional

from mmagic.registry import HOOKS
from mmengine.dist import all_gather_object, get_dist_info, get_world_size
from mmengine.hooks import Hook
from mmengine.runner import find_latest_checkpoint

from fastgan_plugin.compat import runner_load_request
from fastgan_plugin.utils.rng import get_rng_state, set_rng_state


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Store the RNG states of every process in each checkpoint and restore them on resume.

    MMEngine checkpoints hold no RNG states, so a resumed run draws other noise,
    augmentations, hinge margins and quadrants than the uninterrupted one. This hook:

    - stores the Python, numpy, torch and CUDA states of every process
      (:func:`~fastgan_plugin.utils.rng.get_rng_state`: tensors and plain types, loadable
      with ``weights_only=True``) in ``meta['rng_states']`` (a list, one per rank) of every
      checkpoint the runner saves;
    - restores this rank's states when training resumes (``--resume``), unless the
      checkpoint holds none or those of another number of processes (a warning then);
    - keeps validation from moving the training RNG: the states are kept before
      validation and put back after it, and a checkpoint saved during validation (the
      best one) stores the kept ones.

    With a seed (and ``deterministic=True`` where the device needs it) a resumed run then
    follows the uninterrupted one exactly, provided the data loader has
    ``num_workers >= 1``: MMEngine re-draws the skipped batches on resume, which with
    ``num_workers=0`` consumes the main process's RNG after it was restored.

    In ``default_hooks`` as ``rng_state`` (``configs/_base_/fastgan_runtime.py``). In
    distributed runs the states of all processes must be gathered on every rank before a
    checkpoint is saved (:meth:`gather_states`): MMEngine's ``Runner.save_checkpoint``, and
    so ``before_save_checkpoint``, runs on rank 0 only. ``AtomicCheckpointHook`` does it
    for its ``iter_*`` / ``epoch_*`` checkpoints; other checkpoints of a distributed run
    (best ones, or those of MMEngine's own ``CheckpointHook``) hold no RNG states.
    """

    # Last: the states are restored after, and kept before, any other hook draws.
    priority = 'LOWEST'

    def __init__(self) -> None:
        self._resumed_states: Optional[dict] = None
        self._states_before_val: Optional[dict] = None
        self._gathered: Optional[list] = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Take this rank's states from a checkpoint being resumed."""
        load_from, resume, _ = runner_load_request(runner)
        if not resume:
            return
        path = load_from or find_latest_checkpoint(runner.work_dir)
        states = checkpoint.get('meta', {}).get('rng_states')
        rank, world_size = get_dist_info()
        if states is None:
            runner.logger.warning(
                f'{path!r} holds no RNG states (not written with RNGStateHook): training '
                'resumes with fresh random streams')
        elif len(states) != world_size:
            runner.logger.warning(
                f'{path!r} holds the RNG states of {len(states)} process(es), this run has '
                f'{world_size}: training resumes with fresh random streams')
        else:
            self._resumed_states = states[rank]

    def before_train(self, runner) -> None:
        """Restore the resumed states, once every other hook has prepared training."""
        if self._resumed_states is not None:
            set_rng_state(self._resumed_states)
            self._resumed_states = None
            runner.logger.info('Restored the RNG states saved in the checkpoint')

    def before_val(self, runner) -> None:
        """Keep the training states, so that validating does not change training."""
        self._states_before_val = get_rng_state()

    def after_val(self, runner) -> None:
        """Put back the training states kept by :meth:`before_val`."""
        if self._states_before_val is not None:
            set_rng_state(self._states_before_val)
            self._states_before_val = None

    def gather_states(self) -> None:
        """Collect every rank's training states for the next checkpoint (a collective:
        call it on every rank, before rank 0 saves)."""
        self._gathered = all_gather_object(self._training_states())

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Store every rank's training states in ``checkpoint['meta']['rng_states']``."""
        states, self._gathered = self._gathered, None
        if states is None and get_world_size() == 1:
            states = [self._training_states()]
        if states is not None:
            checkpoint.setdefault('meta', {})['rng_states'] = states

    def _training_states(self) -> dict:
        """This rank's states, as training left them (also during validation)."""
        return get_rng_state() if self._states_before_val is None else self._states_before_val
