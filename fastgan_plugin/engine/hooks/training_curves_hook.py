"""Training curves as a PNG in the work dir, redrawn at each checkpoint and at the end."""
import os.path as osp
from typing import Optional

from mmagic.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from fastgan_plugin.visualization.curves import CURVES_FILE, plot_curves, read_scalars


@HOOKS.register_module()
class TrainingCurvesHook(Hook):
    """Plot every logged loss term and metric against iterations into the work dir.

    Reads what the ``LoggerHook`` wrote to ``<work_dir>/<timestamp>/vis_data/scalars.json``
    (of this run and of the runs it resumes, see
    :func:`~fastgan_plugin.visualization.curves.read_scalars`) and draws
    ``<work_dir>/training_curves.png`` with
    :func:`~fastgan_plugin.visualization.curves.plot_curves`: whenever a checkpoint is
    saved (the regular ones and a new best, so validation metrics are in) and when
    training ends. Only on the main process, and cheap (one matplotlib figure, no model
    call). Drawing never stops training: a failure is logged as a warning. Needs
    ``vis_backends`` to hold a ``VisBackend`` (MMEngine's ``LocalVisBackend``), which
    every FastGAN config has.

    Args:
        out_file (str): PNG to write, relative to the work dir (or absolute). Defaults
            to ``'training_curves.png'``.
    """
    priority = 'LOWEST'

    def __init__(self, out_file: str = CURVES_FILE) -> None:
        self.out_file = out_file

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        self._plot(runner)

    def after_train(self, runner) -> None:
        self._plot(runner)

    def _plot(self, runner) -> Optional[str]:
        if not is_main_process():
            return None
        path = osp.join(runner.work_dir, self.out_file)
        try:
            scalars = read_scalars(runner.work_dir)
            if not scalars:  # nothing logged yet
                return None
            plot_curves(scalars, path, osp.basename(osp.abspath(runner.work_dir)))
        except Exception as error:  # a plot must never cost the training run
            runner.logger.warning(f'TrainingCurvesHook: could not draw {path}: '
                                  f'{type(error).__name__}: {error}')
            return None
        return path
