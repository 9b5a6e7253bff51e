"""TrainingCurvesHook in a real (tiny) training run: the curves PNG is drawn at each
checkpoint, from the scalars logged so far, and at the end; a failure only warns."""
import os
from pathlib import Path

import pytest
from mmagic.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.runner import Runner
from PIL import Image

from fastgan_plugin.apis.config import load_config
from fastgan_plugin.engine.hooks import TrainingCurvesHook
from fastgan_plugin.visualization.curves import read_scalars
from tool_utils.demo_data import make_demo_images

REPO = Path(__file__).resolve().parents[3]
DEMO_CONFIG = str(REPO / 'configs' / 'fastgan' / 'fastgan_demo_cpu.py')


@HOOKS.register_module()
class CurvesProbeHook(Hook):
    """After each iteration (and so after the checkpoint hook), note the curves PNG."""
    priority = 'LOWEST'

    def __init__(self):
        self.seen = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        path = os.path.join(runner.work_dir, 'training_curves.png')
        self.seen[runner.iter + 1] = os.path.getmtime(path) if os.path.exists(path) else None


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('curves_hook')
    make_demo_images(str(root / 'data'), 4, size=256)
    options = {
        'model.generator.ngf': 8, 'model.generator.nz': 16, 'model.discriminator.ndf': 8,
        'train_dataloader.batch_size': 2, 'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': str(root / 'data'),
        'val_dataloader.dataset.data_root': str(root / 'data'),
        'train_cfg.max_iters': 4, 'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': 2,
        'custom_hooks': [dict(type='TrainingCurvesHook'), dict(type='CurvesProbeHook')],
    }
    runner = Runner.from_cfg(load_config(DEMO_CONFIG, options, str(root / 'work')))
    runner.train()
    return runner


def test_demo_config_has_the_hook():
    hooks = load_config(DEMO_CONFIG).custom_hooks
    assert dict(type='TrainingCurvesHook') in hooks


def test_drawn_at_each_checkpoint_and_at_the_end(trained):
    probe = next(hook for hook in trained.hooks if isinstance(hook, CurvesProbeHook))
    assert probe.seen[1] is None  # no checkpoint yet
    assert probe.seen[2] is not None  # drawn with the checkpoint of iteration 2
    assert probe.seen[3] == probe.seen[2]  # not redrawn between checkpoints
    assert probe.seen[4] is not None
    path = Path(trained.work_dir) / 'training_curves.png'
    with Image.open(path) as image:
        assert image.size[0] >= 1000 and image.size[1] >= 700
        assert len(set(image.convert('L').getdata())) > 50  # drawn, not blank
    scalars = read_scalars(trained.work_dir)
    for name in ('loss_disc_real', 'loss_disc_fake', 'loss_rec_big', 'loss_gen'):
        assert [step for step, _ in scalars[name]] == [1, 2, 3, 4]


def test_a_failure_only_warns(trained, tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(trained.logger, 'warning', warnings.append)
    hook = TrainingCurvesHook(out_file=str(tmp_path))  # a folder: cannot be written as a PNG
    assert hook.plot(trained) is None  # no exception
    assert len(warnings) == 1
    assert warnings[0].startswith(f'TrainingCurvesHook: could not draw {tmp_path}')
