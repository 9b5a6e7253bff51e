"""tests/helpers/feature_extractor.py: the random TorchScript stand-in for StyleGAN's
Inception, and the offline FID / KID configs that use it."""
import pytest
import torch
from mmagic.evaluation import FrechetInceptionDistance
from mmagic.evaluation.functional import load_inception
from mmagic.registry import METRICS

import fastgan_plugin  # noqa: F401  (registers KernelInceptionDistance)
from helpers.feature_extractor import build_torchscript_feature_extractor, offline_fid_kid_metrics


def _images(n=5, height=16, width=24, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, height, width), dtype=torch.uint8, generator=generator)


@pytest.fixture(scope='module')
def net_path(tmp_path_factory):
    return build_torchscript_feature_extractor(
        str(tmp_path_factory.mktemp('net') / 'net.pt'), feature_dim=8, num_classes=10)


def test_calling_convention(net_path):
    net = torch.jit.load(net_path)
    assert all(not p.requires_grad for p in net.parameters())
    for size in [(16, 16), (20, 28), (64, 64)]:
        feats = net(_images(4, *size), return_features=True)
        assert feats.shape == (4, 8)
        assert not feats.requires_grad
        assert torch.isfinite(feats).all() and (feats >= 0).all()
    probs = net(_images())
    assert probs.shape == (5, 10)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(5))
    probs_no_bias = net(_images(), no_output_bias=True)
    assert probs_no_bias.shape == (5, 10)
    assert not torch.allclose(probs, probs_no_bias)


def test_deterministic_for_seed(tmp_path):
    paths = [
        build_torchscript_feature_extractor(str(tmp_path / f'{name}.pt'), 8, seed)
        for name, seed in [('a', 0), ('b', 0), ('c', 1)]
    ]
    feats = [torch.jit.load(p)(_images(), return_features=True) for p in paths]
    assert torch.equal(feats[0], feats[1])
    assert not torch.allclose(feats[0], feats[2])


def test_global_rng_untouched(tmp_path):
    state = torch.get_rng_state()
    build_torchscript_feature_extractor(str(tmp_path / 'sub' / 'net.pt'))
    assert torch.equal(torch.get_rng_state(), state)
    assert (tmp_path / 'sub' / 'net.pt').is_file()


def test_rejects_wrong_inputs(net_path):
    net = torch.jit.load(net_path)
    with pytest.raises(Exception, match='uint8'):
        net(_images().float(), return_features=True)
    with pytest.raises(Exception, match=r'\(N, 3, H, W\)'):
        net(_images()[:, :2], return_features=True)


@pytest.mark.parametrize('kwargs, match', [
    (dict(feature_dim=0), 'feature_dim'),
    (dict(num_classes=2.0), 'num_classes'),
    (dict(resolution=60), 'divisible by 8'),
    (dict(width=True), 'width'),
    (dict(seed=-1), 'seed'),
])
def test_argument_errors(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_torchscript_feature_extractor(str(tmp_path / 'net.pt'), **kwargs)


def test_loads_as_stylegan_inception_in_mmagic(net_path):
    net, style = load_inception(dict(type='StyleGAN', inception_path=net_path), 'FID')
    assert style == 'StyleGAN'
    metric = FrechetInceptionDistance(fake_nums=4, inception_path=net_path)
    assert metric.inception_style == 'StyleGAN'
    # mmagic passes float BGR images in [0, 255] and converts the result to numpy.
    feats = metric.forward_inception(_images().float())
    assert feats.cpu().numpy().shape == (5, 8)



def test_offline_fid_kid_metrics_build_in_mmagic(tmp_path):
    configs = offline_fid_kid_metrics(str(tmp_path), num_subsets=3)
    network = tmp_path / 'inception.pt'
    written = network.stat().st_mtime_ns
    assert offline_fid_kid_metrics(str(tmp_path), num_subsets=3) == configs
    assert network.stat().st_mtime_ns == written  # written once
    fid, kid = (METRICS.build(config) for config in configs)
    assert (fid.prefix, kid.prefix) == ('FID-Full', 'KID-Full')
    assert fid.inception_style == kid.inception_style == 'StyleGAN'  # the stand-in loaded
