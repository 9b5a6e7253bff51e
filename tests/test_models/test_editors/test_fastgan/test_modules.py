"""FastGAN building blocks, width tables and image helpers."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from fastgan_plugin.models.editors.fastgan.modules import (
    DECODER_WIDTHS,
    DISCRIMINATOR_WIDTH_MULTIPLIERS,
    GENERATOR_WIDTH_MULTIPLIERS,
    DownBlockDouble,
    DownBlockSingle,
    InitLayer,
    NoiseInjection,
    SimpleDecoder,
    SLEBlock,
    UpBlockDouble,
    UpBlockSingle,
    crop_quadrant,
    init_fastgan_weights,
    layer_widths,
    resize_images,
    sn_conv2d,
)
from fastgan_plugin.models.editors.fastgan.spectral_norm import spectral_norm


def test_width_tables_follow_the_official_code():
    assert layer_widths('ngf', 64, GENERATOR_WIDTH_MULTIPLIERS, [4, 8, 64, 128, 1024],
                        1024) == {4: 1024, 8: 512, 64: 128, 128: 64, 1024: 8}
    assert layer_widths('ndf', 64, DISCRIMINATOR_WIDTH_MULTIPLIERS, [8, 16, 512, 1024],
                        1024) == {8: 1024, 16: 512, 512: 16, 1024: 8}
    assert GENERATOR_WIDTH_MULTIPLIERS[2048] == DISCRIMINATOR_WIDTH_MULTIPLIERS[2048] == 0.0625
    assert DECODER_WIDTHS == {16: 128, 32: 64, 64: 64, 128: 32}


@pytest.mark.parametrize('value', [0, -8, 12, 8.0, True])
def test_layer_widths_refuse_a_base_width_with_fractional_widths(value):
    with pytest.raises(ValueError, match=r'ngf must be a positive multiple of 8 at im_size=1024'):
        layer_widths('ngf', value, GENERATOR_WIDTH_MULTIPLIERS, [4, 512, 1024], 1024)


def test_layer_widths_accept_multiples():
    assert layer_widths('ngf', 16, GENERATOR_WIDTH_MULTIPLIERS, [4, 512, 1024], 1024)[1024] == 2
    assert layer_widths('ngf', 3, GENERATOR_WIDTH_MULTIPLIERS, [4, 64, 128], 128)[128] == 3


def test_noise_injection():
    x = torch.randn(2, 6, 4, 4)
    noise = NoiseInjection()
    assert noise.weight.item() == 0
    torch.testing.assert_close(noise(x), x)
    with torch.no_grad():
        noise.weight.fill_(1.0)
    difference = noise(x) - x
    assert difference.abs().sum() > 0
    # One noise map per sample, shared by the channels.
    torch.testing.assert_close(difference[:, :1].expand_as(difference), difference)
    assert noise(x.bfloat16()).dtype == torch.bfloat16  # mixed precision stays low


def test_noise_injection_takes_given_noise_without_drawing():
    x = torch.randn(2, 6, 4, 4)
    layer = NoiseInjection()
    with torch.no_grad():
        layer.weight.fill_(0.5)
    noise = torch.randn(2, 1, 4, 4, dtype=torch.float64)
    state = torch.get_rng_state()
    out = layer(x, noise)
    assert torch.equal(torch.get_rng_state(), state)  # no random number drawn
    torch.testing.assert_close(out, x + 0.5 * noise.float(), rtol=0, atol=0)
    assert layer(x.bfloat16(), noise).dtype == torch.bfloat16
    # None draws fresh noise, as without the argument.
    torch.manual_seed(3)
    fresh = layer(x)
    torch.manual_seed(3)
    torch.testing.assert_close(layer(x, None), fresh, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r'injection noise must have shape \(2, 1, 4, 4\)'):
        layer(x, torch.randn(1, 1, 4, 4))


def test_up_block_double_routes_noise_to_its_two_layers():
    block = UpBlockDouble(8, 4).eval()
    with torch.no_grad():
        block[2].weight.fill_(1.0)
        block[6].weight.fill_(1.0)
    x = torch.randn(2, 8, 4, 4)
    noise = [torch.randn(2, 1, 8, 8), torch.randn(2, 1, 8, 8)]
    torch.testing.assert_close(block(x, noise), block(x, [n.clone() for n in noise]),
                               rtol=0, atol=0)
    other = block(x, [noise[0], torch.randn(2, 1, 8, 8)])
    assert (other - block(x, noise)).abs().max() > 1e-4  # the second layer takes the second map
    with pytest.raises(ValueError, match='UpBlockDouble takes 2 noise maps, got 1'):
        block(x, noise[:1])


def test_init_layer_accepts_flat_and_4d_noise():
    layer = InitLayer(nz=16, channels=8).eval()
    noise = torch.randn(2, 16)
    out = layer(noise)
    assert out.shape == (2, 8, 4, 4)
    torch.testing.assert_close(layer(noise.view(2, 16, 1, 1)), out)


def test_up_blocks_shapes_and_official_layer_indices():
    single = UpBlockSingle(8, 4)
    double = UpBlockDouble(8, 4)
    x = torch.randn(2, 8, 4, 4)
    assert single(x).shape == double(x).shape == (2, 4, 8, 8)
    assert [k for k in single.state_dict() if 'original' in k] == [
        '1.parametrizations.weight.original'
    ]
    assert [k for k in double.state_dict() if k.endswith(('original', '.weight'))] == [
        '1.parametrizations.weight.original', '2.weight', '3.weight',
        '5.parametrizations.weight.original', '6.weight', '7.weight'
    ]


def test_sle_block_gates_per_channel():
    block = SLEBlock(small_channels=8, big_channels=4)
    small, big = torch.randn(2, 8, 8, 8), torch.randn(2, 4, 32, 32)
    out = block(small, big)
    assert out.shape == big.shape
    gate = out / big
    torch.testing.assert_close(gate, gate[:, :, :1, :1].expand_as(gate))
    assert gate.min() > 0 and gate.max() < 1
    block.eval()  # the spectral-norm vectors stay put, so the two calls use one weight
    assert block.gate(small).shape == (2, 4, 1, 1)
    torch.testing.assert_close(block(small, big), big * block.gate(small), rtol=0, atol=0)


def test_down_blocks_halve_resolution():
    x = torch.randn(2, 4, 16, 16)
    assert DownBlockSingle(4, 8)(x).shape == (2, 8, 8, 8)
    block = DownBlockDouble(4, 8)
    assert block(x).shape == (2, 8, 8, 8)
    assert set(dict(block.named_children())) == {'main', 'direct'}


@pytest.mark.parametrize('size', [8, 16])
def test_simple_decoder_outputs_128_images(size):
    decoder = SimpleDecoder(in_channels=4)
    out = decoder(torch.randn(2, 4, size, size))
    assert out.shape == (2, 3, 128, 128)
    assert out.abs().max() <= 1


def test_init_fastgan_weights():
    torch.manual_seed(0)
    model = nn.Sequential(sn_conv2d(64, 64, 3),
                          spectral_norm(nn.ConvTranspose2d(64, 64, 4, bias=False)),
                          nn.BatchNorm2d(512), nn.Conv2d(64, 64, 3, bias=False))
    init_fastgan_weights(model)
    for index in (0, 1):
        weight = model[index].parametrizations.weight.original
        assert abs(weight.std().item() - 0.02) < 2e-3
    assert abs(model[3].weight.std().item() - 0.02) < 2e-3
    assert abs(model[2].weight.mean().item() - 1) < 5e-3
    assert model[2].bias.abs().sum() == 0


def test_resize_images_modes():
    img = torch.rand(2, 3, 32, 32) * 2 - 1
    torch.testing.assert_close(resize_images(img, 16), F.interpolate(img, size=16))
    for mode in ('bilinear', 'bicubic', 'area'):
        assert resize_images(img, 16, mode).shape == (2, 3, 16, 16)
    torch.testing.assert_close(resize_images(img, 16, 'area'), F.avg_pool2d(img, 2))
    with pytest.raises(ValueError, match='resize mode must be one of'):
        resize_images(img, 16, 'lanczos')


def test_crop_quadrant_int_parts_follow_official_order():
    img = torch.arange(2 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4)
    expected = [img[:, :, :2, :2], img[:, :, :2, 2:], img[:, :, 2:, :2], img[:, :, 2:, 2:]]
    for part, quadrant in enumerate(expected):
        torch.testing.assert_close(crop_quadrant(img, part), quadrant)
    assert crop_quadrant(img, 1)[0, 0, 0, 0] == 2  # top-right starts at column W/2


def test_crop_quadrant_per_sample_parts():
    img = torch.randn(3, 2, 8, 8, requires_grad=True)
    parts = torch.tensor([3, 0, 1])
    out = crop_quadrant(img, parts)
    assert out.shape == (3, 2, 4, 4)
    for index, part in enumerate(parts.tolist()):
        torch.testing.assert_close(out[index], crop_quadrant(img, part)[index])
    out.sum().backward()
    assert img.grad.sum() == 3 * 2 * 4 * 4


@pytest.mark.parametrize('part', [4, -1, True, 1.0, torch.tensor([0, 4]),
                                  torch.tensor([0.0, 1.0]), torch.tensor([0, 1, 2])])
def test_crop_quadrant_refuses_bad_parts(part):
    with pytest.raises(ValueError, match='part'):
        crop_quadrant(torch.zeros(2, 1, 4, 4), part)


def test_crop_quadrant_refuses_odd_size():
    with pytest.raises(ValueError, match='even H and W'):
        crop_quadrant(torch.zeros(2, 1, 5, 4), 0)
