"""PerClassMetric and class_swd on a constructed case: each class's real images are one
picture, and a stand-in generator draws, per label, either that class's picture (right) or
the other class's (wrong); the per-class metrics must tell the two apart, class by class."""
from pathlib import Path

import pytest
import torch
from mmagic.evaluation.functional import inception_utils
from mmagic.registry import DATASETS, METRICS
from mmengine.dataset import BaseDataset, pseudo_collate
from mmengine.registry import init_default_scope
from PIL import Image, ImageDraw
from torch import nn
from torch.utils.data import DataLoader

import fastgan_plugin  # noqa: F401
from fastgan_plugin.apis import init_model
from fastgan_plugin.apis.config import load_config
from fastgan_plugin.evaluation import class_swd
from fastgan_plugin.evaluation.metrics.per_class import class_subset
from helpers.feature_extractor import build_torchscript_feature_extractor

REPO = Path(__file__).resolve().parents[3]
CLASSES = ('disc', 'stripes')


def picture(kind):
    """A yellow disc on white, or blue and white stripes: RGB, 128 px."""
    image = Image.new('RGB', (128, 128), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    if kind == 'disc':
        draw.ellipse([16, 16, 112, 112], fill=(250, 200, 30))
    else:
        for x in range(0, 128, 16):
            draw.rectangle([x, 0, x + 7, 127], fill=(20, 60, 220))
    return image


class PicturePerLabel(nn.Module):
    """A generator drawing ``pictures[order[label]]`` (RGB in [-1, 1]) for each label."""

    def __init__(self, order):
        super().__init__()
        pictures = [torch.from_numpy(__import__('numpy').array(picture(kind))) for kind in CLASSES]
        self.register_buffer('pictures', torch.stack(pictures).permute(0, 3, 1, 2) / 127.5 - 1)
        self.order = torch.tensor(order)

    def forward(self, noise, return_noise=False, labels=None):
        return self.pictures[self.order[labels.cpu()]]


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    init_default_scope('mmagic')
    root = tmp_path_factory.mktemp('classes')
    for kind in CLASSES:
        (root / kind).mkdir()
        for index in range(4):
            picture(kind).save(root / kind / f'{index}.png')
    cfg = load_config(str(REPO / 'configs' / 'fastgan' / 'fastgan_demo_cpu.py'), {
        'model.generator.ngf': 8, 'model.discriminator.ndf': 8,
        'model.generator.num_classes': 2, 'model.discriminator.num_classes': 2})
    cfg.val_dataloader.dataset.update(data_root=str(root), class_folders=True, num_classes=2)
    return init_model(cfg).eval(), cfg.val_dataloader.dataset, root


def evaluate(model, dataset_cfg, metric):
    """The metric through mmagic's steps (prepare, sampler, val_step, process, evaluate)."""
    loader = DataLoader(DATASETS.build(dataset_cfg), batch_size=3, collate_fn=pseudo_collate)
    metric = METRICS.build(metric)
    torch.manual_seed(0)
    metric.prepare(model, loader)
    for data in metric.get_metric_sampler(model, loader, [metric]):
        metric.process(data, [s.to_dict() for s in model.val_step(data)])
    return metric.evaluate()


def test_per_class_swd_tells_right_from_wrong_classes(setup):
    model, dataset, _ = setup
    found = {}
    for order in ((0, 1), (1, 0)):
        model.generator_ema.module = PicturePerLabel(order)
        found[order] = evaluate(model, dataset, dict(
            type='PerClassMetric', metric=dict(type='GeneratorSWD', fake_nums=-1,
                                               image_shape=(3, 128, 128))))
    for results in found.values():
        assert results['SWD/mean/avg'] == pytest.approx(
            sum(results[f'SWD/{name}/avg'] for name in CLASSES) / 2)
    # SWD of 4 identical images is ~75 (random patches on each side), of the other class ~530
    for name in CLASSES:
        assert found[(1, 0)][f'SWD/{name}/avg'] > 3 * found[(0, 1)][f'SWD/{name}/avg'], found


@pytest.mark.parametrize('cache', ['given', 'default'])
def test_per_class_fid_gets_each_class_its_own_features(setup, tmp_path, monkeypatch, cache):
    model, dataset, _ = setup
    inception = str(tmp_path / 'inception.pt')
    build_torchscript_feature_extractor(inception, feature_dim=8)
    (tmp_path / 'cache').mkdir()
    monkeypatch.setattr(inception_utils, 'MMAGIC_CACHE_DIR', str(tmp_path / 'cache'))
    fid = dict(type='FrechetInceptionDistance', prefix='FID', fake_nums=4, real_nums=-1,
               inception_style='StyleGAN', inception_path=inception, sample_model='ema',
               inception_pkl=str(tmp_path / 'fid.pkl') if cache == 'given' else None)
    found = {}
    for order in ((0, 1), (1, 0)):
        model.generator_ema.module = PicturePerLabel(order)
        found[order] = evaluate(model, dataset, dict(type='PerClassMetric', metric=fid,
                                                     classes=['stripes', 0]))
    # the real features of each class in a file of its own (mmagic's cache if none is given)
    if cache == 'given':
        assert sorted(path.name for path in tmp_path.glob('*.pkl')) == ['fid_disc.pkl',
                                                                        'fid_stripes.pkl']
    else:
        assert len(list((tmp_path / 'cache').glob('*.pkl'))) == 2
    for name in CLASSES:
        assert found[(0, 1)][f'FID/{name}/fid'] < 1e-3  # the very images: FID 0
        assert found[(1, 0)][f'FID/{name}/fid'] > 1e-2
    assert list(found[(0, 1)])[0].startswith('FID/stripes/')  # in the order asked for


def test_class_swd(setup):
    model, dataset, _ = setup
    model.generator_ema.module = PicturePerLabel((0, 1))
    right = class_swd(model, dataset, batch_size=3)
    assert list(right) == [*CLASSES, 'mean'] and max(right.values()) < 150  # about 75
    assert class_swd(model, dataset, batch_size=3) == right  # seeded
    model.generator_ema.module = PicturePerLabel((1, 0))
    wrong = class_swd(model, dataset, classes=['stripes'])
    assert list(wrong) == ['stripes', 'mean'] and wrong['stripes'] > 300  # about 530


def test_refuses_a_data_set_without_classes(setup, tmp_path):
    model, dataset, root = setup
    with pytest.raises(ValueError, match='names no classes'):
        evaluate(model, dict(dataset, data_root=str(root / 'disc'), class_folders=False,
                             num_classes=None),
                 dict(type='PerClassMetric', metric=dict(type='GeneratorSWD', fake_nums=-1,
                                                         image_shape=(3, 128, 128))))


def test_class_subset_copies_nothing_stale(setup):
    """MMEngine's ``get_subset`` deep-copies through a memo kept across calls, so an object
    reusing a freed one's id could come back as that stale copy; ``class_subset`` deep-copies
    nothing. Made deterministic here by planting such a stale entry for the pipeline's last
    transform in that memo (MMEngine's default argument, read only to show the fault)."""
    _, dataset_cfg, _ = setup
    dataset = DATASETS.build(dataset_cfg)
    pack = dataset.pipeline.transforms[-1]
    memo = BaseDataset._copy_without_annotation.__defaults__[0]
    memo[id(pack)] = 'stale'
    try:
        assert dataset.get_subset([0]).pipeline.transforms[-1] == 'stale'  # the fault
        subset = class_subset(dataset, [4, 5, 6])
    finally:
        del memo[id(pack)]
    assert subset.pipeline.transforms[-1] is pack
    assert [subset.get_data_info(i)['gt_label'] for i in range(3)] == [1, 1, 1]
    assert len(subset) == 3 and len(dataset) == 8  # the evaluated data set keeps its images
    assert subset[0]['data_samples'].gt_label.label.item() == 1
