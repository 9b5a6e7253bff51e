"""CompositeFID and metric_rgb: every metric sees RGBA composited on white and grey repeated;
RGB exactly as mmagic's FID."""
import torch
from mmagic.evaluation.metrics import FrechetInceptionDistance
from mmagic.registry import METRICS

import fastgan_plugin  # noqa: F401
from fastgan_plugin.evaluation.metrics import CompositeFID, GeneratorSWD, metric_rgb
from tests.helpers.feature_extractor import build_torchscript_feature_extractor


def _bgra(alpha: float) -> torch.Tensor:
    """Two (4, 16, 16) BGRA images in [0, 255], random colour, the same alpha everywhere."""
    colour = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 255
    return torch.cat([colour, torch.full((2, 1, 16, 16), alpha)], dim=1)


def test_metric_rgb_composites_on_white_and_repeats_grey():
    clear, opaque = _bgra(0.0), _bgra(255.0)
    assert torch.equal(metric_rgb(clear), torch.full((2, 3, 16, 16), 255.0))
    assert torch.equal(metric_rgb(opaque), opaque[:, :3])
    assert torch.equal(metric_rgb(opaque[0]), opaque[0, :3])  # one (C, H, W) sample
    assert torch.equal(metric_rgb(opaque[:, :1]), opaque[:, :1].repeat(1, 3, 1, 1))


def test_composite_fid_features(tmp_path):
    path = build_torchscript_feature_extractor(str(tmp_path / 'net.pt'))
    args = dict(fake_nums=2, inception_style='StyleGAN', inception_path=path)
    fid, mmagic_fid = METRICS.build(dict(type='CompositeFID', **args)), \
        FrechetInceptionDistance(**args)
    assert isinstance(fid, CompositeFID)
    for metric in (fid, mmagic_fid):
        metric.device = 'cpu'
    rgb = _bgra(255.0)[:, :3]
    assert torch.equal(fid.forward_inception(rgb), mmagic_fid.forward_inception(rgb))
    white = torch.full((2, 3, 16, 16), 255.0)
    assert torch.equal(fid.forward_inception(_bgra(0.0)), mmagic_fid.forward_inception(white))
    grey = rgb[:, :1]
    assert torch.equal(fid.forward_inception(grey),
                       mmagic_fid.forward_inception(grey.repeat(1, 3, 1, 1)))


def test_swd_sees_rgba_composited_on_white():
    """Samples with a transparent left half are close to real images that are those samples
    on white, not to their colours without the alpha."""
    def swd(real, fake):
        torch.manual_seed(0)
        metric = GeneratorSWD(fake_nums=-1, image_shape=(3, 16, 16))
        metric.process({}, [dict(gt_img=r, fake_img=f) for r, f in zip(real, fake)])
        return metric.evaluate()['avg']
    rgba = torch.cat([_bgra(255.0)] * 4)
    rgba[:, 3, :, :8] = 0
    on_white = rgba[:, :3].clone()
    on_white[:, :, :, :8] = 255
    same, without_alpha = swd(on_white, rgba), swd(rgba[:, :3], rgba)
    assert same < 0.5 * without_alpha, (same, without_alpha)
