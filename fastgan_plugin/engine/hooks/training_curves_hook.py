"""Training curves as a PNG in the work dir, redrawn at each checkpoint and at the end."""
import os.path as osp
from typing import Optional

from mmagic.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from fastgan_plugin.visualization.curves import CURVES_FILE, plot_curves, read_scalars


@HOOKS.register_module()
class TrainingCurvesHook(Hook):
    """Draw every scalar the ``LoggerHook`` logged (also of the runs this one resumes) into
    ``out_file`` (relative to the work dir, or absolute) at each checkpoint (a new best too,
    so metrics are in) and when training ends. Main process only; needs a ``VisBackend``.
    A failure to draw is logged as a warning and never stops training."""
    priority = 'LOWEST'

    def __init__(self, out_file: str = CURVES_FILE) -> None:
        self.out_file = out_file

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        self.plot(runner)

    def after_train(self, runner) -> None:
        self.plot(runner)

    def plot(self, runner) -> Optional[str]:
        """Draw the curves; the path written, or None if nothing was (logged)."""
        if not is_main_process():
            return None
        path = osp.join(runner.work_dir, self.out_file)
        try:
            scalars = read_scalars(runner.work_dir)
            if not scalars:
                return None
            plot_curves(scalars, path, osp.basename(osp.abspath(runner.work_dir)))
        except Exception as error:  # a plot must never cost the training run
            runner.logger.warning(f'TrainingCurvesHook: could not draw {path}: '
                                  f'{type(error).__name__}: {error}')
            return None
        return path
