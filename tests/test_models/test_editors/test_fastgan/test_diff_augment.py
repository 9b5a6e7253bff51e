"""Tests of DiffAugment against an independent reimplementation of the reference maths."""
import pytest
import torch
import torch.nn.functional as F
from mmagic.registry import MODELS

from fastgan_plugin.models.editors.fastgan import DiffAugment


def _draw(x):
    return torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype)  # one U[0, 1) draw per sample


def _ref_brightness(x):
    return x + (_draw(x) - 0.5)


def _ref_saturation(x):
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_draw(x) * 2) + mean


def _ref_contrast(x):
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (_draw(x) + 0.5) + mean


def _ref_color(x):
    """Brightness, saturation, contrast, in that order."""
    return _ref_contrast(_ref_saturation(_ref_brightness(x)))


def _ref_translation(x, ratio=0.125):
    """Per-sample integer shifts, applied by explicit slicing into a zero canvas."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dys = torch.randint(-sh, sh + 1, size=[n, 1, 1])
    dxs = torch.randint(-sw, sw + 1, size=[n, 1, 1])
    out = torch.zeros_like(x)
    for i in range(n):
        dy, dx = int(dys[i]), int(dxs[i])  # out[i, :, r, c] = x[i, :, r + dy, c + dx]
        r0, r1 = max(0, -dy), min(h, h - dy)
        c0, c1 = max(0, -dx), min(w, w - dx)
        out[i, :, r0:r1, c0:c1] = x[i, :, r0 + dy:r1 + dy, c0 + dx:c1 + dx]
    return out


def _ref_cutout(x, ratio=0.5):
    """Per-sample rectangle around a random centre, zeroed by explicit slicing."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cys = torch.randint(0, h + (1 - ch % 2), size=[n, 1, 1])
    cxs = torch.randint(0, w + (1 - cw % 2), size=[n, 1, 1])
    out = x.clone()
    for i in range(n):
        top, left = int(cys[i]) - ch // 2, int(cxs[i]) - cw // 2
        out[i, :, max(top, 0):max(top + ch, 0), max(left, 0):max(left + cw, 0)] = 0
    return out


def _images(n=4, h=9, w=12, seed=0):
    return torch.randn(n, 3, h, w, generator=torch.Generator().manual_seed(seed))


def test_registered_and_identity():
    aug = MODELS.build(dict(type='DiffAugment', policy=''))
    assert isinstance(aug, DiffAugment)
    x = _images()
    state = torch.get_rng_state()
    assert aug(x) is x
    assert torch.equal(torch.get_rng_state(), state)
    assert list(aug.parameters()) == [] and aug.state_dict() == {}


@pytest.mark.parametrize('size', [(9, 12), (16, 16), (1, 5)])
@pytest.mark.parametrize('policy, reference', [
    ('color', [_ref_color]),
    ('translation', [_ref_translation]),
    ('cutout', [_ref_cutout]),
    ('color,translation,cutout', [_ref_color, _ref_translation, _ref_cutout]),
    ('brightness', [_ref_brightness]),
    ('saturation', [_ref_saturation]),
    ('contrast', [_ref_contrast]),
    # colour without contrast (demo candidates K, L), and the demo's policy
    ('brightness,saturation,translation', [_ref_brightness, _ref_saturation, _ref_translation]),
    ('brightness,translation', [_ref_brightness, _ref_translation]),
])
def test_ops_match_reference(policy, reference, size):
    x = _images(h=size[0], w=size[1])
    torch.manual_seed(7)
    out = DiffAugment(policy)(x)
    torch.manual_seed(7)
    expected = x
    for op in reference:
        expected = op(expected)
    torch.testing.assert_close(out, expected)
    assert out.shape == x.shape and out.is_contiguous()


@pytest.mark.parametrize('ratio', [0.0, 0.25, 1.0])
def test_ratios(ratio):
    x = _images(h=8, w=8)
    torch.manual_seed(3)
    translated = DiffAugment('translation', translation_ratio=ratio)(x)
    cut = DiffAugment('cutout', cutout_ratio=ratio)(x)
    torch.manual_seed(3)
    torch.testing.assert_close(translated, _ref_translation(x, ratio))
    torch.testing.assert_close(cut, _ref_cutout(x, ratio))
    if ratio == 0:
        assert torch.equal(translated, x) and torch.equal(cut, x)


def test_generator_argument_and_seeding():
    x = _images()
    aug = DiffAugment('color,translation,cutout')
    first = aug(x, generator=torch.Generator().manual_seed(11))
    assert torch.equal(aug(x, generator=torch.Generator().manual_seed(11)), first)
    torch.manual_seed(11)  # the CPU global generator yields the same stream
    assert torch.equal(aug(x), first)
    assert not torch.equal(aug(x, generator=torch.Generator().manual_seed(12)), first)


def test_randomness_is_per_sample():
    image = _images(n=1, h=16, w=16)
    batch = image.expand(8, -1, -1, -1).contiguous()
    gen = torch.Generator().manual_seed(0)
    for policy in ('color', 'translation', 'cutout'):
        out = DiffAugment(policy)(batch, generator=gen)
        distinct = {tuple(sample.flatten().tolist()) for sample in out}
        assert len(distinct) > 1, policy


def test_gradients_flow_to_input():
    aug = DiffAugment('color,translation,cutout')
    x = _images().requires_grad_()
    weights = torch.rand(x.shape)
    (aug(x) * weights).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0

    x64 = _images(n=2, h=5, w=6).double().requires_grad_()

    def fixed_draw(t):
        return aug(t, generator=torch.Generator().manual_seed(1))

    assert torch.autograd.gradcheck(fixed_draw, (x64, ))


def test_translation_is_a_zero_padded_shift():
    x = _images(n=6, h=8, w=8) + 10  # no zeros in the input
    out = DiffAugment('translation', translation_ratio=0.25)(x)
    for sample, image in zip(out, x):
        canvas = F.pad(image, [2, 2, 2, 2])
        assert any(
            torch.equal(sample, canvas[:, 2 + dy:10 + dy, 2 + dx:10 + dx])
            for dy in range(-2, 3) for dx in range(-2, 3))


def test_invalid_arguments():
    valid = 'color, brightness, saturation, contrast, translation, cutout'
    with pytest.raises(ValueError, match=f"'colour'.*{valid}"):
        DiffAugment('colour,translation')
    with pytest.raises(ValueError, match="unknown DiffAugment policy ''"):
        DiffAugment('color,')
    with pytest.raises(TypeError, match='policy'):
        DiffAugment(['color'])
    with pytest.raises(ValueError, match='translation_ratio'):
        DiffAugment(translation_ratio=-0.1)
    with pytest.raises(ValueError, match='cutout_ratio'):
        DiffAugment(cutout_ratio=2)
    with pytest.raises(ValueError, match=r'\(N, C, H, W\)'):
        DiffAugment()(torch.zeros(3, 8, 8))


def test_rgba_colour_ops_leave_alpha_and_geometry_moves_it():
    """RGBA: RGB gets exactly what an RGB batch gets (same draws); alpha is untouched by the
    colour ops and translated / cut out with the image."""
    rgb, alpha = _images(), _images(seed=1)[:, :1]
    for policy in ('color', 'color,translation,cutout'):
        torch.manual_seed(7)
        out = DiffAugment(policy)(torch.cat([rgb, alpha], dim=1))
        torch.manual_seed(7)
        expected_rgb = DiffAugment(policy)(rgb)
        torch.manual_seed(7)
        geometry = [op for op in (_ref_translation, _ref_cutout) if op.__name__[5:] in policy]
        for _ in range(3):  # the colour ops' draws
            torch.rand(len(rgb), 1, 1, 1)
        expected_alpha = alpha
        for op in geometry:
            expected_alpha = op(expected_alpha)
        torch.testing.assert_close(out[:, :3], expected_rgb)
        torch.testing.assert_close(out[:, 3:], expected_alpha)
    for single in ('brightness', 'saturation', 'contrast'):  # each colour op alone too
        out = DiffAugment(single)(torch.cat([rgb, alpha], dim=1))
        assert torch.equal(out[:, 3:], alpha) and not torch.equal(out[:, :3], rgb)


def test_grey_colour_ops_act_on_the_one_channel():
    grey = _images()[:, :1]
    torch.manual_seed(7)
    out = DiffAugment('color')(grey)
    torch.manual_seed(7)
    torch.testing.assert_close(out, _ref_color(grey))
    assert out.shape == grey.shape and not torch.equal(out, grey)
