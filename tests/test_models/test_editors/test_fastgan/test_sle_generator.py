"""SLEGenerator: shapes at every resolution, outputs, official structure, errors."""
import copy

import pytest
import torch
from mmagic.registry import MODELS

from fastgan_plugin.models.editors.fastgan import SLEGenerator
from fastgan_plugin.models.editors.fastgan.modules import (
    NoiseInjection,
    UpBlockDouble,
    UpBlockSingle,
)

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


def _noisy_generator(im_size=256):
    """An eval-mode generator whose noise-injection weights are non-zero (as trained ones),
    so that its images depend on the injection noise."""
    torch.manual_seed(0)
    generator = SLEGenerator(im_size=im_size, ngf=8, nz=NZ).eval()
    with torch.no_grad():
        for layer in generator.modules():
            if isinstance(layer, NoiseInjection):
                layer.weight.fill_(0.5)
    return generator


def _draw(shapes, batch):
    return [torch.randn(batch, *shape) for shape in shapes]


def test_injection_noise_shapes_follow_the_double_up_blocks():
    generator = SLEGenerator(im_size=256, ngf=8, nz=NZ)
    assert generator.injection_noise_shapes == [(1, 8, 8)] * 2 + [(1, 32, 32)] * 2 + [
        (1, 128, 128)
    ] * 2
    layers = [m for m in generator.modules() if isinstance(m, NoiseInjection)]
    assert len(generator.injection_noise_shapes) == len(layers)


@torch.no_grad()
def test_injection_noise_is_what_the_layers_would_draw():
    generator = _noisy_generator()
    noise = torch.randn(2, NZ)
    torch.manual_seed(7)
    default = generator(noise)
    torch.manual_seed(7)
    given = _draw(generator.injection_noise_shapes, 2)
    state = torch.get_rng_state()
    torch.testing.assert_close(generator(noise, injection_noise=given), default, rtol=0, atol=0)
    assert torch.equal(torch.get_rng_state(), state)  # nothing drawn with given noise
    # The same noise gives the same image, other noise another one.
    torch.testing.assert_close(generator(noise, injection_noise=given), default, rtol=0, atol=0)
    other = generator(noise, injection_noise=_draw(generator.injection_noise_shapes, 2))
    assert (other - default).abs().max() > 1e-3
    outputs = generator(noise, return_small=True, injection_noise=given)
    torch.testing.assert_close(outputs['fake_img'], default, rtol=0, atol=0)


def test_injection_noise_is_checked():
    generator = _noisy_generator(128)
    noise = torch.randn(2, NZ)
    given = _draw(generator.injection_noise_shapes, 2)
    with pytest.raises(ValueError, match='injection_noise must hold 6 tensors, one per '
                       'noise-injection layer, got 5'):
        generator(noise, injection_noise=given[:5])
    with pytest.raises(ValueError, match=r'injection noise must have shape \(2, 1, 8, 8\)'):
        generator(noise, injection_noise=[torch.randn(1, 1, 8, 8)] + given[1:])


@torch.no_grad()
def test_sle_gates_of_a_latent_reproduce_its_image():
    generator = _noisy_generator()
    noise = torch.randn(2, NZ)
    given = _draw(generator.injection_noise_shapes, 2)
    gates = generator.sle_gates(noise, given)
    assert generator.sle_resolutions == [64, 128, 256]
    assert {res: tuple(gate.shape) for res, gate in gates.items()} == {
        64: (2, 16, 1, 1), 128: (2, 8, 1, 1), 256: (2, 4, 1, 1)
    }
    assert all(((gate >= 0) & (gate <= 1)).all() for gate in gates.values())  # sigmoid
    plain = generator(noise, injection_noise=given)
    torch.testing.assert_close(generator(noise, injection_noise=given, gates=gates), plain,
                               rtol=0, atol=0)
    assert generator.sle_gates(noise, given, resolutions=[128]).keys() == {128}
    torch.testing.assert_close(generator.sle_gates(noise, given, resolutions=[128])[128],
                               gates[128], rtol=0, atol=0)
    assert generator.sle_gates(noise, resolutions=[]) == {}


@torch.no_grad()
def test_gates_of_another_latent_change_the_image():
    generator = _noisy_generator()
    content, style = torch.randn(1, NZ), torch.randn(1, NZ)
    given = _draw(generator.injection_noise_shapes, 1)
    plain = generator(content, injection_noise=given)
    style_gates = generator.sle_gates(style, given)
    mixed = generator(content, injection_noise=given, gates=style_gates)
    only_64 = generator(content, injection_noise=given, gates={64: style_gates[64]})
    assert (mixed - plain).abs().max() > 1e-3
    assert (only_64 - plain).abs().max() > 1e-4 and (only_64 - mixed).abs().max() > 1e-4


def test_unknown_gates_are_refused():
    generator = _noisy_generator()
    noise = torch.randn(1, NZ)
    message = (r'gates \[512\] are not SLE resolutions of this generator; '
               r'choose from \[64, 128, 256\]')
    with pytest.raises(ValueError, match=message):
        generator.sle_gates(noise, resolutions=[64, 512])
    with pytest.raises(ValueError, match=message):
        generator(noise, gates={512: torch.ones(1, 2, 1, 1)})
