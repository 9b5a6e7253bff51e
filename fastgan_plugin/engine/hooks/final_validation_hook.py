"""A run stopped during its final validation validates when it is resumed."""
from mmagic.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop

from fastgan_plugin.utils.checkpoint import checkpoint_path, save_checkpoint_now

# Message hub runtime info. Not prefixed 'val': MMEngine prints such keys in every val log line.
VALIDATED_KEY = 'last_validated_iter'


@HOOKS.register_module()
class FinalValidationHook(Hook):
    """Run the final validation on resume if the run it continues did not finish it.

    MMEngine validates after writing the last checkpoint, so a run killed during that
    validation resumed at ``max_iters`` and ended without it. Finished validations are
    recorded (``last_validated_iter``, also in the last checkpoint, written again). Iteration-based
    loops only.
    """

    priority = 'LOWEST'  # after_val_epoch: after CheckpointHook's best checkpoint

    def __init__(self) -> None:
        self._training = False

    def before_train(self, runner) -> None:
        self._training = True

    def after_train(self, runner) -> None:
        self._training = False

    def after_train_epoch(self, runner) -> None:
        """Validate if the final validation is due and was not done (a resumed run)."""
        loop = runner.train_loop
        if (isinstance(loop, IterBasedTrainLoop) and runner.val_loop is not None
                and runner.iter == loop.max_iters >= loop.val_begin
                and runner.message_hub.get_info(VALIDATED_KEY) != runner.iter):
            runner.logger.info(f'The run stopped during its final validation (iteration '
                               f'{runner.iter}): validating now')
            runner.val_loop.run()

    def after_val_epoch(self, runner, metrics=None) -> None:
        """Record the validation; after the final one, store the record in the checkpoint."""
        if not self._training:
            return
        runner.message_hub.update_info(VALIDATED_KEY, runner.iter)
        if (runner.iter == runner.train_loop.max_iters and runner.message_hub.get_info(
                'last_ckpt') == checkpoint_path(runner, runner.iter)):  # written before it
            save_checkpoint_now(runner, runner.iter)
