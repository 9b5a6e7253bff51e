"""The resolution: one dataset base per size (``configs/_base_/datasets/few_shot_imgs_<size>.py``)
whose ``ResizeToSquare`` steps state it, and every config resizes to its model's resolution
when read by plain ``Config.fromfile``."""
import glob
import os

import pytest
from mmengine.config import Config

from fastgan_plugin.apis.config import DATALOADERS

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = sorted(glob.glob(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_*.py')))


def _sizes(cfg):
    return [step.get('size') for key in DATALOADERS if cfg.get(key)
            for step in cfg[key].dataset.pipeline if step.type == 'ResizeToSquare']


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_every_config_resizes_to_its_model_resolution(path):
    cfg = Config.fromfile(path)
    im_size = cfg.model.generator.im_size
    assert cfg.model.discriminator.im_size == im_size
    assert _sizes(cfg) == [im_size] * (2 if 'demo' in path else 3)
    expected = 128 if 'demo' in path else next(  # fastgan_256_x.py, fastgan_conditional_256.py
        int(part) for part in os.path.basename(path)[:-3].split('_') if part.isdigit())
    assert im_size == expected


@pytest.mark.parametrize('size', [128, 256, 512, 1024])
def test_each_dataset_base_resizes_to_its_size(size):
    cfg = Config.fromfile(os.path.join(REPO, 'configs', '_base_', 'datasets',
                                       f'few_shot_imgs_{size}.py'))
    assert _sizes(cfg) == [size] * 3
    flips = [[step.type == 'Flip' for step in cfg[key].dataset.pipeline] for key in DATALOADERS]
    assert [any(f) for f in flips] == [True, False, False]  # flip in training only
