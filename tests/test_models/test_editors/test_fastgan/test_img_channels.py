"""img_channels in G, D (stems and decoders) and FastGAN: shapes, BGR(A) for the metrics, a
training step on RGBA and grey batches, and early errors for mismatched channels."""
import pytest
import torch
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmagic.utils import register_all_modules
from mmengine import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict

import fastgan_plugin  # noqa: F401
from fastgan_plugin.models.editors.fastgan import SLEGenerator, SSDiscriminator
from helpers.tiny_fastgan import tiny_fastgan_cfg

register_all_modules()  # mmagic's DataPreprocessor


@pytest.mark.parametrize('channels', [1, 4])
def test_generator_and_discriminator_shapes(channels):
    generator = SLEGenerator(im_size=128, ngf=8, nz=16, img_channels=channels)
    out = generator(torch.randn(2, 16), return_small=True)
    assert out['fake_img'].shape == (2, channels, 128, 128)
    assert out['fake_img_128'].shape == (2, channels, 128, 128)
    discriminator = SSDiscriminator(im_size=256, ndf=4, img_channels=channels)
    logits, recs = discriminator(torch.rand(2, channels, 256, 256) * 2 - 1, part=0)
    assert logits.shape == (2 * 2 * 25, )
    assert {name: rec.shape[1] for name, rec in recs.items()} == dict(
        rec_big=channels, rec_small=channels, rec_part=channels)
    with pytest.raises(ValueError, match=rf'img must have shape \(N, {channels}, 256, 256\)'):
        discriminator(torch.zeros(2, 3, 256, 256))


def test_three_channels_is_todays_model():
    default, explicit = SLEGenerator(im_size=128, ngf=8), SLEGenerator(im_size=128, ngf=8,
                                                                         img_channels=3)
    assert list(default.state_dict()) == list(explicit.state_dict())
    assert default.to_big.weight.shape == explicit.to_big.weight.shape


def test_invalid_channels():
    with pytest.raises(ValueError, match=r'img_channels \(1 grey, 3 RGB, 4 RGBA\)'):
        SLEGenerator(im_size=128, ngf=8, img_channels=2)
    with pytest.raises(ValueError, match=r'img_channels \(1 grey, 3 RGB, 4 RGBA\)'):
        SSDiscriminator(im_size=128, ndf=4, img_channels=0)


def _model(channels, mean=127.5, d_channels=None):
    cfg = tiny_fastgan_cfg(im_size=128, ndf=4)
    cfg['generator']['img_channels'] = channels
    cfg['discriminator']['img_channels'] = d_channels or channels
    cfg['data_preprocessor'] = dict(type='DataPreprocessor', mean=mean, std=mean,
                                    output_channel_order='RGB')
    return MODELS.build(cfg)


def _batch(channels, count=2):
    gen = torch.Generator().manual_seed(0)
    return dict(inputs=dict(), data_samples=[
        DataSample(gt_img=torch.randint(0, 256, (channels, 128, 128), generator=gen,
                                        dtype=torch.uint8),
                   metainfo=dict(gt_channel_order='rgb',
                                 gt_color_type='color' if channels > 1 else 'grayscale'))
        for _ in range(count)])


def _wrappers(model):
    MessageHub.get_current_instance().update_info('iter', 0)
    return OptimWrapperDict(**{
        name: OptimWrapper(torch.optim.Adam(getattr(model, name).parameters(), lr=2e-4))
        for name in ('generator', 'discriminator')})


@pytest.mark.parametrize('channels', [1, 4])
def test_training_step_and_samples_in_bgra_or_grey(channels):
    model = _model(channels)
    logs = model.train_step(_batch(channels), _wrappers(model))
    assert all(torch.isfinite(value) for value in logs.values())
    rgb = torch.tensor([0.2, 0.4, 0.6, 0.8][:channels]).view(1, channels, 1, 1)
    model.generator_ema.module.register_forward_hook(
        lambda module, args, output: rgb.expand_as(output))
    model.eval()
    sample = model.val_step(dict(inputs=dict(num_batches=1, sample_model='ema')))[0]
    expected = [0.6, 0.4, 0.2, 0.8] if channels == 4 else [0.2]  # BGRA: alpha stays last
    pixel = (sample.fake_img[:, 0, 0] / 127.5 - 1).tolist()
    assert pixel == pytest.approx(expected, abs=1e-2)


def test_mismatched_channels_fail_early():
    with pytest.raises(ValueError, match=r'generator.img_channels \(4\) and '
                       r'discriminator.img_channels \(3\)'):
        _model(4, d_channels=3)
    with pytest.raises(ValueError, match=r'data_preprocessor.mean has 3 values but '
                       r'img_channels is 4: set mean=127.5'):
        _model(4, mean=[127.5] * 3)
    model = _model(4)
    with pytest.raises(ValueError, match=r'real images arrive with 3 channels but img_channels '
                       r'is 4; set LoadRGBImage\(img_channels=4\)'):
        model.train_step(_batch(3), _wrappers(model))
