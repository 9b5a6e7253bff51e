"""Tests of KernelInceptionDistance: the estimator against an independent numpy version,
argument checks, and a validation run with mmagic's FID through MultiValLoop, offline."""
import math
import pickle
import socket

import numpy as np
import pytest
import torch
from mmagic.evaluation.functional import inception_utils
from mmagic.registry import METRICS
from mmengine.runner import Runner
from PIL import Image

from fastgan_plugin.evaluation.metrics import (
    KernelInceptionDistance,
    kernel_inception_distance,
    polynomial_mmd2_unbiased,
)
from helpers.feature_extractor import build_torchscript_feature_extractor

NUM_REAL = 12
FEATURE_DIM = 8


def _features(n, d=16, shift=0.0, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d)) + shift


def _numpy_mmd2_loops(x, y):
    """Unbiased MMD^2 with k(a, b) = (a.b/d + 1)^3, written term by term."""
    d = x.shape[1]

    def k(a, b):
        return (a @ b / d + 1) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def _numpy_kid(real, fake, num_subsets, subset_size, seed):
    """KID as in StyleGAN2-ADA's metrics/kernel_inception_distance.py, same sampling order."""
    n = real.shape[1]
    m = min(subset_size, len(real), len(fake))
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(num_subsets):
        x = fake[rng.choice(len(fake), m, replace=False)]
        y = real[rng.choice(len(real), m, replace=False)]
        a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
        b = (x @ y.T / n + 1) ** 3
        values.append(((a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m) / m)
    return np.mean(values), np.std(values)


def test_mmd2_matches_numpy_loops():
    x, y = _features(7, d=5, seed=1), _features(9, d=5, shift=0.3, seed=2)
    value = polynomial_mmd2_unbiased(torch.from_numpy(x), torch.from_numpy(y))
    assert value.item() == pytest.approx(_numpy_mmd2_loops(x, y), rel=1e-10, abs=1e-12)


def test_kid_matches_numpy_reference():
    real, fake = _features(40, seed=1), _features(50, shift=0.2, seed=2)
    kid, kid_std = kernel_inception_distance(
        torch.from_numpy(real).float(), torch.from_numpy(fake).float(), num_subsets=20,
        subset_size=30, seed=3)
    ref_kid, ref_std = _numpy_kid(real.astype(np.float32).astype(np.float64),
                                  fake.astype(np.float32).astype(np.float64), 20, 30, 3)
    assert kid == pytest.approx(ref_kid, rel=1e-9)
    assert kid_std == pytest.approx(ref_std, rel=1e-9)
    assert kid_std > 0


def test_whole_set_subsets_have_no_spread():
    real, fake = _features(20, seed=1), _features(20, shift=0.5, seed=2)
    kid, kid_std = kernel_inception_distance(
        torch.from_numpy(real), torch.from_numpy(fake), num_subsets=5, subset_size=1000)
    assert kid == pytest.approx(_numpy_mmd2_loops(fake, real), rel=1e-9)
    assert kid_std == pytest.approx(0, abs=1e-12)


def test_identical_distributions_near_zero_shifted_clearly_positive():
    real = torch.from_numpy(_features(300, seed=1))
    same = torch.from_numpy(_features(300, seed=2))
    shifted = torch.from_numpy(_features(300, shift=0.5, seed=2))
    kid_same, _ = kernel_inception_distance(real, same, num_subsets=30, subset_size=100)
    kid_shifted, _ = kernel_inception_distance(real, shifted, num_subsets=30, subset_size=100)
    # Measured: |kid_same| < 0.01 with a subset spread of 0.02; kid_shifted about 1.
    assert abs(kid_same) < 0.05
    assert kid_shifted > 0.5


def test_deterministic_for_seed():
    real, fake = torch.from_numpy(_features(60, seed=1)), torch.from_numpy(_features(60, seed=2))
    first = kernel_inception_distance(real, fake, num_subsets=10, subset_size=20, seed=7)
    assert kernel_inception_distance(real, fake, num_subsets=10, subset_size=20, seed=7) == first
    assert kernel_inception_distance(real, fake, num_subsets=10, subset_size=20, seed=8) != first


@pytest.mark.parametrize('real_shape, fake_shape, match', [
    ((10, 4), (10, 5), 'dimension 4 .* have 5'),
    ((10,), (10, 4), '2-D'),
    ((1, 4), (10, 4), 'at least 2'),
])
def test_estimator_errors(real_shape, fake_shape, match):
    with pytest.raises(ValueError, match=match):
        kernel_inception_distance(torch.ones(real_shape), torch.ones(fake_shape))


@pytest.fixture(scope='module')
def inception_path(tmp_path_factory):
    return build_torchscript_feature_extractor(
        str(tmp_path_factory.mktemp('inception') / 'random_inception.pt'), FEATURE_DIM)


def test_registered_once(inception_path):
    metric = METRICS.build(dict(type='KernelInceptionDistance', fake_nums=4,
                                inception_path=inception_path))
    assert isinstance(metric, KernelInceptionDistance)
    assert metric.prefix == 'KID-Full'
    assert [cls for cls in METRICS.module_dict.values() if cls is KernelInceptionDistance] == [
        KernelInceptionDistance]


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(fake_nums=1), ValueError, 'fake_nums'),
    (dict(real_nums=0), ValueError, 'real_nums'),
    (dict(num_subsets=0), ValueError, 'num_subsets'),
    (dict(subset_size=1), ValueError, 'subset_size'),
    (dict(seed=-1), ValueError, 'seed'),
    (dict(seed=1.5), ValueError, 'seed'),
    (dict(inception_style='TF'), ValueError, 'inception_style'),
    (dict(inception_path='missing.pt'), FileNotFoundError, 'missing.pt'),
    (dict(inception_pkl='http://example.com/feat.pkl'), ValueError, 'local path'),
])
def test_argument_errors(inception_path, kwargs, error, match):
    args = dict(fake_nums=4, inception_path=inception_path)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        KernelInceptionDistance(**args)


@pytest.fixture(scope='module')
def validation(tmp_path_factory, inception_path):
    """Run FID and KID once through MultiValLoop on a tiny DCGAN, refusing network access."""
    root = tmp_path_factory.mktemp('kid_val')
    rng = np.random.default_rng(0)
    (root / 'imgs').mkdir()
    for i in range(NUM_REAL):
        pixels = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / 'imgs' / f'{i:03d}.png')
    paths = dict(fid=str(root / 'fid.pkl'), kid=str(root / 'kid.pkl'))
    pipeline = [dict(type='LoadImageFromFile', key='gt'), dict(type='PackInputs')]
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError('network access attempted')

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, 'connect', refuse)
        mp.setattr(socket, 'create_connection', refuse)
        mp.setattr(inception_utils, 'download_from_url', refuse)
        runner = Runner(
            model=dict(
                type='DCGAN',
                noise_size=8,
                data_preprocessor=dict(type='DataPreprocessor'),
                generator=dict(type='DCGANGenerator', output_scale=16, base_channels=16),
                discriminator=dict(type='DCGANDiscriminator', input_scale=16, output_scale=4,
                                   out_channels=1, base_channels=16)),
            work_dir=str(root / 'work_dir'),
            val_dataloader=dict(
                batch_size=4,
                num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                dataset=dict(type='BasicImageDataset', data_root=str(root / 'imgs'),
                             data_prefix=dict(gt=''), pipeline=pipeline)),
            val_evaluator=dict(
                type='Evaluator',
                metrics=[
                    dict(type='FID-Full', prefix='FID-Full', fake_nums=10,
                         inception_path=inception_path, inception_pkl=paths['fid']),
                    dict(type='KernelInceptionDistance', fake_nums=10,
                         inception_path=inception_path, inception_pkl=paths['kid'],
                         num_subsets=10, subset_size=6),
                ]),
            val_cfg=dict(type='MultiValLoop'),
            default_scope='mmagic',
            log_level='WARNING')
        runner.val()
    return runner, paths, attempts


def test_validation_with_fid_offline(validation):
    runner, paths, attempts = validation
    assert attempts == []
    hub = runner.message_hub
    fid = hub.get_scalar('val/FID-Full/fid').current()
    kid = hub.get_scalar('val/KID-Full/kid_x1e3').current()
    kid_std = hub.get_scalar('val/KID-Full/kid_std_x1e3').current()
    assert all(math.isfinite(v) for v in (fid, kid, kid_std))
    assert kid_std > 0  # 10 generated images, subsets of 6: subsets differ

    with open(paths['kid'], 'rb') as f:
        kid_state = pickle.load(f)
    assert kid_state['raw_feature'].shape == (NUM_REAL, FEATURE_DIM)
    np.testing.assert_allclose(kid_state['real_mean'], kid_state['raw_feature'].mean(0),
                               rtol=1e-5)
    # The KID pkl also holds FID's statistics, equal to those FID extracted itself.
    with open(paths['fid'], 'rb') as f:
        fid_state = pickle.load(f)
    assert 'raw_feature' not in fid_state
    np.testing.assert_allclose(kid_state['real_cov'], fid_state['real_cov'], rtol=1e-5)


def test_refuses_fid_pkl(validation, inception_path):
    runner, paths, _ = validation
    metric = KernelInceptionDistance(
        fake_nums=4, inception_path=inception_path, inception_pkl=paths['fid'])
    with pytest.raises(ValueError, match='no raw real features'):
        metric.prepare(runner.model, runner.val_loop.dataloaders[0])
