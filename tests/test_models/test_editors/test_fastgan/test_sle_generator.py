"""SLEGenerator: shapes at every resolution, outputs, official structure, errors."""
import copy

import pytest
import torch
from mmagic.registry import MODELS

from fastgan_plugin.models.editors.fastgan import SLEGenerator
from fastgan_plugin.models.editors.fastgan.modules import UpBlockDouble, UpBlockSingle

NZ = 16
# Smallest ngf per resolution (the rule: a multiple of 1 / smallest multiplier used).
TINY_NGF = {128: 8, 256: 8, 512: 8, 1024: 8, 2048: 16}


@pytest.mark.parametrize('im_size', [128, 256, 512, 1024, 2048])
def test_output_shapes_at_every_resolution(im_size):
    generator = SLEGenerator(im_size=im_size, ngf=TINY_NGF[im_size], nz=NZ)
    noise = torch.randn(2, NZ)
    with torch.no_grad():
        outputs = generator(noise, return_small=True)
    assert outputs['fake_img'].shape == (2, 3, im_size, im_size)
    assert outputs['fake_img_128'].shape == (2, 3, 128, 128)
    assert outputs['fake_img'].abs().max() <= 1 and outputs['fake_img_128'].abs().max() <= 1
    last = getattr(generator, f'feat_{im_size}')
    assert isinstance(last, UpBlockDouble if im_size in (128, 512, 2048) else UpBlockSingle)


def test_forward_returns_tensor_or_dict():
    generator = SLEGenerator(im_size=256, ngf=8, nz=NZ).eval()
    noise = torch.randn(2, NZ)
    image = generator(noise)
    assert isinstance(image, torch.Tensor) and image.shape == (2, 3, 256, 256)
    outputs = generator(noise.view(2, NZ, 1, 1), return_noise=True)
    assert set(outputs) == {'fake_img', 'fake_img_128', 'noise'}
    assert outputs['noise'].shape == (2, NZ, 1, 1)
    torch.testing.assert_close(outputs['fake_img'], image)


def test_raw_outputs_without_activation():
    torch.manual_seed(0)
    raw = SLEGenerator(im_size=256, ngf=8, nz=NZ, out_act=None).eval()
    squashed = copy.deepcopy(raw)
    squashed.out_act = 'tanh'
    noise = torch.randn(2, NZ)
    raw_out, tanh_out = raw(noise, return_small=True), squashed(noise, return_small=True)
    for key in ('fake_img', 'fake_img_128'):
        torch.testing.assert_close(torch.tanh(raw_out[key]), tanh_out[key])


def test_official_structure_and_parameter_order():
    generator = SLEGenerator(im_size=1024, ngf=8, nz=NZ)
    assert list(dict(generator.named_children())) == [
        'init', 'feat_8', 'feat_16', 'feat_32', 'feat_64', 'feat_128', 'feat_256', 'se_64',
        'se_128', 'se_256', 'to_128', 'to_big', 'feat_512', 'se_512', 'feat_1024'
    ]
    assert generator.noise_size == NZ
    names = [name for name, _ in generator.named_parameters()]
    assert names[:3] == [
        'init.init.0.parametrizations.weight.original', 'init.init.1.weight', 'init.init.1.bias'
    ]
    assert names.index('to_big.parametrizations.weight.original') < names.index(
        'feat_512.1.parametrizations.weight.original')
    official_512 = SLEGenerator(im_size=512, ngf=8, nz=NZ)
    assert list(dict(official_512.named_children()))[-4:] == [
        'to_128', 'to_big', 'feat_512', 'se_512'
    ]
    small = SLEGenerator(im_size=128, ngf=8, nz=NZ)
    assert list(dict(small.named_children()))[-4:] == ['se_64', 'se_128', 'to_128', 'to_big']
    large = SLEGenerator(im_size=2048, ngf=16, nz=NZ)
    assert list(dict(large.named_children()))[-3:] == ['se_512', 'feat_1024', 'feat_2048']


def test_built_from_registry_and_trainable():
    generator = MODELS.build(dict(type='SLEGenerator', im_size=128, ngf=8, nz=NZ))
    assert isinstance(generator, SLEGenerator)
    generator.init_weights()
    ema = copy.deepcopy(generator)
    generator(torch.randn(2, NZ)).mean().backward()
    grad = generator.init.init[0].parametrizations.weight.original.grad
    assert grad is not None and grad.abs().sum() > 0
    assert ema.init.init[0].parametrizations.weight.original.grad is None


def test_official_initialisation():
    torch.manual_seed(0)
    generator = SLEGenerator(im_size=128, ngf=64, nz=256)
    conv = generator.init.init[0].parametrizations.weight.original
    assert abs(conv.std().item() - 0.02) < 1e-3
    assert abs(generator.feat_8[3].weight.mean().item() - 1) < 1e-2
    assert generator.feat_8[3].bias.abs().sum() == 0
    assert generator.feat_8[2].weight.item() == 0


@pytest.mark.parametrize('kwargs,message', [
    (dict(im_size=300), r'im_size must be one of \(128, 256, 512, 1024, 2048\), got 300'),
    (dict(im_size=1024, ngf=12), r'ngf must be a positive multiple of 8 at im_size=1024'),
    (dict(im_size=2048, ngf=8), r'ngf must be a positive multiple of 16 at im_size=2048'),
    (dict(im_size=256, ngf=0), r'ngf must be a positive multiple of 2'),
    (dict(im_size=256, ngf=8, nz=0), r'nz must be a positive int, got 0'),
    (dict(im_size=256, ngf=8, out_act='relu'), r"out_act must be one of \('tanh', None\)"),
])
def test_constructor_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SLEGenerator(**kwargs)


@pytest.mark.parametrize('shape', [(2, NZ + 1), (2, NZ, 2, 2), (NZ, ), (2, NZ, 1)])
def test_forward_refuses_wrong_noise_shape(shape):
    generator = SLEGenerator(im_size=128, ngf=8, nz=NZ)
    with pytest.raises(ValueError, match=rf'noise must have shape \(N, {NZ}\)'):
        generator(torch.randn(shape))
