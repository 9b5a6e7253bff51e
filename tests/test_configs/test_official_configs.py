"""The ``*_official.py`` configs: the official FastGAN-pytorch behaviour, every deviation of
our defaults reverted, and nothing else changed.

One table, :data:`OFFICIAL`, holds each config key the official recipe sets, its official
value and the option's name in docs/design.md ("Defaults that differ from the official
code"). The tests check that every official config has those values, builds and loads
images, that it differs from its default sibling in those keys only, and that each option
is documented.
"""
import glob
import os
import re

import numpy as np
import pytest
from mmagic.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope
from PIL import Image
from torchvision import transforms

import fastgan_plugin  # noqa: F401  (registers the modules)
from fastgan_plugin.apis.config import load_config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OFFICIAL_CONFIGS = sorted(glob.glob(os.path.join(REPO, 'configs', 'fastgan', '*_official.py')))
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
EMA = 'model.ema_config'

# config key ('{loader}': each dataloader) -> (official value, or a function of the
# resolution, as out_act is in the official code; the option's name in design.md).
OFFICIAL = {
    'model.generator.out_act': (lambda size: 'tanh' if size == 1024 else None,
                                'SLEGenerator.out_act'),
    'model.discriminator.resize_mode': ('nearest', 'SSDiscriminator.resize_mode'),
    'model.rec_loss.reduction': ('sum', 'ReconstructionLoss.reduction'),
    'model.rec_loss.loss_weight': (1.0, 'ReconstructionLoss.reduction'),
    'model.quadrant': ('batch', 'FastGAN.quadrant'),
    f'{EMA}.type': ('FastGANEMA', 'FastGANEMA.bn_stats'),
    f'{EMA}.momentum': (0.001, 'FastGANEMA.bn_stats'),
    f'{EMA}.rampup': (None, 'FastGANEMA.rampup'),
    f'{EMA}.bn_stats': ('raw', 'FastGANEMA.bn_stats'),
    '{loader}.dataset.extensions': (['.jpg', '.png', '.jpeg'], 'FewShotImageDataset.extensions'),
    '{loader}.dataset.case_sensitive': (True, 'FewShotImageDataset.extensions'),
    '{loader}.dataset.pipeline.0.exif_orientation': (False, 'LoadRGBImage.exif_orientation'),
    '{loader}.dataset.pipeline.0.pil_convert': (True, 'LoadRGBImage.pil_convert'),
    '{loader}.dataset.pipeline.1.mode': ('stretch', 'ResizeToSquare.mode'),
    '{loader}.dataset.pipeline.1.interpolation': ('bilinear', 'ResizeToSquare.interpolation'),
    '{loader}.dataset.pipeline.1.reducing_gap': (None, 'ResizeToSquare.reducing_gap'),
    '{loader}.dataset.pipeline.1.size': (lambda size: size, 'ResizeToSquare.mode'),
}
# Variables the config files use to build the pipelines (not read by the runner), and the
# work dir, named after the config file.
NOT_COMPARED = {'load_image', 'resize', 'flip', 'pack', 'train_pipeline', 'val_pipeline',
                'official_files', 'im_size', 'dataset_type', 'work_dir'}


def _expected(size):
    """{flat config key: official value} for a config of resolution ``size``."""
    table = {}
    for key, (value, _) in OFFICIAL.items():
        value = value(size) if callable(value) else value
        for loader in (LOADERS if '{loader}' in key else ('', )):
            table[key.format(loader=loader)] = value
    return table


def _flatten(value, prefix=''):
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)) and prefix.endswith('pipeline'):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return {prefix: list(value) if isinstance(value, tuple) else value}
    flat = {}
    for key, item in items:
        flat.update(_flatten(item, f'{prefix}.{key}' if prefix else key))
    return flat


def _runtime_keys(cfg):
    return {k: v for k, v in _flatten(cfg.to_dict()).items()
            if k.split('.')[0] not in NOT_COMPARED}


def _sibling(path):
    return path.replace('_official.py', '.py')


def test_every_experiment_config_has_an_official_sibling():
    # The paper's datasets; the demos and the class-conditional configs have no official code.
    defaults = [p for p in glob.glob(os.path.join(REPO, 'configs', 'fastgan', 'fastgan_*_*.py'))
                if 'demo' not in p and 'conditional' not in p and not p.endswith('_official.py')]
    assert len(defaults) == 12
    assert sorted(p.replace('.py', '_official.py') for p in defaults) == OFFICIAL_CONFIGS


@pytest.mark.parametrize('path', OFFICIAL_CONFIGS, ids=os.path.basename)
def test_official_values(path):
    cfg = _runtime_keys(Config.fromfile(path))
    expected = _expected(cfg['model.generator.im_size'])
    assert {key: cfg.get(key, 'missing') for key in expected} == expected


@pytest.mark.parametrize('path', OFFICIAL_CONFIGS, ids=os.path.basename)
def test_differs_from_its_default_sibling_only_in_the_official_keys(path):
    official = _runtime_keys(Config.fromfile(path))
    default = _runtime_keys(Config.fromfile(_sibling(path)))
    differing = {k for k in official.keys() | default.keys()
                 if official.get(k, 'missing') != default.get(k, 'missing')}
    assert differing <= set(_expected(official['model.generator.im_size']))
    assert official['data_root'] == default['data_root']
    # The reverted deviations, at least these (the EMA helper may change more defaults):
    assert {'model.quadrant', 'model.rec_loss.reduction', f'{EMA}.bn_stats',
            'train_dataloader.dataset.pipeline.1.mode'} <= differing


def test_every_reverted_option_is_in_the_design_table():
    design = open(os.path.join(REPO, 'docs', 'design.md')).read()
    table = design.split('## Defaults that differ from the official code')[1].split('\n## ')[0]
    option_cells = [row.split('|')[1] for row in table.splitlines() if row.startswith('| `')]
    for option in {name for _, name in OFFICIAL.values()}:
        owner, name = option.split('.')  # a row may list several: `A.x`, `y`
        in_a_row = any(f'`{owner}.' in cell and re.search(rf'\b{name}\b', cell)
                       for cell in option_cells)
        assert in_a_row or f'`{option}`' in table, option  # or among the unchanged ones


@pytest.mark.parametrize('path', OFFICIAL_CONFIGS, ids=os.path.basename)
def test_builds_and_loads_images_as_the_official_code(path, tmp_path):
    """Model (tiny widths, L1 in place of LPIPS, whose VGG takes seconds to build; the
    official options untouched) and every dataloader's dataset and pipeline, which must
    give the image the official loader gives."""
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)).save(tmp_path / 'a.png')
    Image.fromarray(rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)).save(tmp_path / 'b.PNG')
    cfg = load_config(path, {'model.generator.ngf': 8, 'model.discriminator.ndf': 8,
                             'model.rec_loss.distance': 'l1'}, data_root=str(tmp_path))
    size = cfg.model.generator.im_size
    # The official ImageFolder and transforms.Resize((im_size, im_size)) on the PIL image:
    official = np.array(transforms.Resize((size, size))(
        Image.open(tmp_path / 'a.png').convert('RGB')))
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
        assert model.quadrant == 'batch'
        for key in LOADERS:
            dataset = DATASETS.build(cfg[key].dataset)
            assert len(dataset) == 1  # b.PNG: upper case, skipped as the official code does
            img = dataset[0]['data_samples'].gt_img
            ours = img.permute(1, 2, 0).numpy()
            if key == 'train_dataloader' and not np.array_equal(ours, official):
                ours = ours[:, ::-1]  # the random horizontal flip
            np.testing.assert_array_equal(ours, official)
