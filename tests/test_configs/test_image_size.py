"""The resolution is named once, in the model (``model.generator.im_size``), and the
``ResizeToSquare`` steps of every dataloader follow it (one dataset base for all sizes)."""
import glob
import os

import pytest
from mmengine.config import Config

import fastgan_plugin  # noqa: F401  (fastgan_plugin:: config paths)
from fastgan_plugin.apis.config import DATALOADERS, apply_image_size, load_config
from fastgan_plugin.datasets.transforms import ResizeToSquare

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = sorted(glob.glob(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_*.py')))


def _sizes(cfg):
    return [step.size for key in DATALOADERS if cfg.get(key)
            for step in cfg[key].dataset.pipeline if step.type == 'ResizeToSquare']


@pytest.mark.parametrize('path', CONFIGS, ids=os.path.basename)
def test_every_config_resizes_to_its_model_resolution(path):
    cfg = load_config(path)
    im_size = cfg.model.generator.im_size
    assert cfg.model.discriminator.im_size == im_size
    assert _sizes(cfg) and set(_sizes(cfg)) == {im_size}
    expected = int(os.path.basename(path).split('_')[1]) if 'demo' not in path else 128
    assert im_size == expected


def test_the_resolution_follows_a_model_override():
    cfg = load_config(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_1024_pokemon.py'),
                      {'model.generator.im_size': 512, 'model.discriminator.im_size': 512})
    assert set(_sizes(cfg)) == {512}


def test_a_step_with_its_own_size_keeps_it():
    cfg = load_config(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_256_obama.py'),
                      {'train_dataloader.dataset.pipeline.1.size': 128})
    assert [s.size for s in cfg.train_dataloader.dataset.pipeline
            if s.type == 'ResizeToSquare'] == [128]
    assert {s.size for s in cfg.val_dataloader.dataset.pipeline
            if s.type == 'ResizeToSquare'} == {256}


def test_a_step_without_size_and_no_model_resolution_is_refused():
    cfg = Config(dict(train_dataloader=dict(dataset=dict(
        type='FewShotImageDataset', pipeline=[dict(type='ResizeToSquare')]))))
    with pytest.raises(ValueError, match='train_dataloader.dataset.pipeline: ResizeToSquare '
                       'has no size .* model.generator.im_size'):
        apply_image_size(cfg)


def test_a_config_read_without_load_config_says_how_to_fix_the_size():
    """Config.fromfile alone leaves the size out; the transform names the fix."""
    cfg = Config.fromfile(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_256_obama.py'))
    step = next(s for s in cfg.train_dataloader.dataset.pipeline if s.type == 'ResizeToSquare')
    assert 'size' not in step
    with pytest.raises(ValueError, match='got None; .*load_config.*model.generator.im_size'):
        ResizeToSquare(**{k: v for k, v in step.items() if k != 'type'}, size=None)
