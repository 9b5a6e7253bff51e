import numpy as np
import pytest
from mmagic.registry import TRANSFORMS

import fastgan_plugin.datasets  # noqa: F401  (registers the transforms)
from fastgan_plugin.datasets.transforms import ResizeToSquare


def _resize(img, size, **kwargs):
    return ResizeToSquare(size, **kwargs)(dict(gt=img))['gt']


def _random(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _uniform(height, width, color=(200, 100, 50)):
    return np.broadcast_to(np.array(color, np.uint8), (height, width, 3)).copy()


@pytest.mark.parametrize('interpolation', ['bicubic', 'area', 'bilinear', 'lanczos',
                                           'nearest'])
def test_crop_keeps_the_centre_square_of_a_landscape_image(interpolation):
    img = _random(16, 64)
    out = _resize(img, 16, interpolation=interpolation)  # scale 1: the crop alone
    np.testing.assert_array_equal(out, img[:, 24:40])


def test_crop_keeps_the_centre_square_of_a_portrait_image():
    img = _random(48, 16)
    np.testing.assert_array_equal(_resize(img, 16), img[16:32])


def test_crop_scales_the_short_side_to_size():
    img = _uniform(30, 60)
    img[:, :15] = 0  # outer quarters: cropped away after scaling 30 -> 10
    img[:, 45:] = 0
    out = _resize(img, 10, interpolation='area')
    assert out.shape == (10, 10, 3)
    assert (out == (200, 100, 50)).all()


@pytest.mark.parametrize('shape, content', [((20, 40), (slice(4, 12), slice(None))),
                                            ((40, 20), (slice(None), slice(4, 12)))])
def test_pad_scales_the_long_side_and_centres(shape, content):
    out = _resize(_uniform(*shape), 16, mode='pad', pad_value=(1, 2, 3))
    assert out.shape == (16, 16, 3)
    mask = np.zeros((16, 16), bool)
    mask[content] = True
    assert (out[mask] == (200, 100, 50)).all()
    assert (out[~mask] == (1, 2, 3)).all()


def test_pad_value_defaults_to_white_and_accepts_one_integer():
    assert (_resize(_uniform(4, 8), 8, mode='pad')[0] == 255).all()
    assert (_resize(_uniform(4, 8), 8, mode='pad', pad_value=7)[0] == 7).all()


@pytest.mark.parametrize('mode', ['crop', 'pad'])
def test_square_image_of_the_right_size_is_unchanged(mode):
    img = _random(12, 12)
    assert _resize(img, 12, mode=mode) is img  # not even copied


@pytest.mark.parametrize('mode', ['crop', 'pad'])
def test_small_images_are_upscaled(mode):
    out = _resize(_uniform(3, 5), 32, mode=mode, pad_value=(200, 100, 50))
    assert out.shape == (32, 32, 3)
    assert (out == (200, 100, 50)).all()


def test_extreme_aspect_ratio_pads_to_at_least_one_row():
    out = _resize(_uniform(1, 200), 8, mode='pad', pad_value=0)
    assert (out[3] == (200, 100, 50)).all()
    assert (np.delete(out, 3, axis=0) == 0).all()


def test_very_large_image_is_reduced():
    img = _uniform(1500, 3000)
    img[:, 1500:] = (0, 0, 200)  # right half blue: the centre square straddles both halves
    out = _resize(img, 16)
    assert out.shape == (16, 16, 3) and out.flags['C_CONTIGUOUS']
    # Columns whose filter footprint stays on one side of the edge keep that colour.
    np.testing.assert_allclose(out[:, :6].astype(int), np.broadcast_to((200, 100, 50), (16, 6, 3)),
                               atol=2)
    np.testing.assert_allclose(out[:, 10:].astype(int), np.broadcast_to((0, 0, 200), (16, 6, 3)),
                               atol=2)


@pytest.mark.parametrize('kwargs, match', [
    (dict(size=None), "size must be a positive integer, got None; set it to the model's im_size"),
    (dict(size=0), 'size must be a positive integer'),
    (dict(size=True), 'size must be a positive integer'),
    (dict(size=16.0), 'size must be a positive integer'),
    (dict(size=16, mode='fit'), r"mode must be one of \('crop', 'pad', 'stretch'\)"),
    (dict(size=16, reducing_gap=0.5), 'reducing_gap must be a number >= 1 or None'),
    (dict(size=16, reducing_gap='3'), 'reducing_gap must be a number >= 1 or None'),
    (dict(size=16, interpolation='cubic'), 'interpolation must be one of'),
    (dict(size=16, pad_value=(0, 0, 256)), 'pad_value must be three integers'),
    (dict(size=16, pad_value='white'), 'pad_value must be three integers'),
    (dict(size=16, key=''), 'key must be a non-empty string'),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ResizeToSquare(**kwargs)


def test_missing_size_names_the_fix():
    with pytest.raises(ValueError, match="got None; set it to the model's im_size"):
        TRANSFORMS.build(dict(type='ResizeToSquare', mode='crop'))


def test_missing_key():
    with pytest.raises(KeyError, match=r"results have no 'gt'.*LoadRGBImage\(key='gt'\)"):
        ResizeToSquare(8)(dict(img=_uniform(4, 4)))


@pytest.mark.parametrize('img, described', [
    (np.zeros((4, 4, 3), np.float32), 'float32 array of shape (4, 4, 3)'),
    (np.zeros((4, 4), np.uint8), 'uint8 array of shape (4, 4)'),
    ([[0]], 'list'),
])
def test_wrong_image_type(img, described):
    with pytest.raises(TypeError, match=r"results\['gt'\] must be a uint8 array") as err:
        _resize(img, 8)
    assert described in str(err.value)


def test_registered():
    transform = TRANSFORMS.build(dict(type='ResizeToSquare', size=8, mode='pad'))
    assert isinstance(transform, ResizeToSquare)
    assert repr(transform) == ("ResizeToSquare(size=8, key='gt', mode='pad', "
                               "pad_value=(255, 255, 255), interpolation='bicubic', "
                               'reducing_gap=3.0)')


def test_stretch_scales_each_side_to_size():
    img = _uniform(10, 40)
    img[:, 20:] = (0, 0, 200)  # right half blue stays the right half
    out = _resize(img, 16, mode='stretch', interpolation='nearest')
    assert out.shape == (16, 16, 3)
    assert (out[:, :8] == (200, 100, 50)).all() and (out[:, 8:] == (0, 0, 200)).all()


@pytest.mark.parametrize('shape', [(300, 200), (64, 97), (1024, 1024), (40, 40)])
def test_official_resize_is_torchvision_resize_on_the_pil_image(shape):
    """The official pipeline: transforms.Resize((s, s)) on a PIL image (bilinear)."""
    from PIL import Image
    from torchvision import transforms
    img = _random(*shape)
    official = np.array(transforms.Resize((128, 128))(Image.fromarray(img)))
    ours = _resize(img, 128, mode='stretch', interpolation='bilinear', reducing_gap=None)
    np.testing.assert_array_equal(ours, official)


def test_reducing_gap_is_what_makes_large_shrinks_inexact():
    img = _random(1200, 900)
    exact = _resize(img, 64, mode='stretch', interpolation='bilinear', reducing_gap=None)
    fast = _resize(img, 64, mode='stretch', interpolation='bilinear')
    assert not np.array_equal(exact, fast)
    assert np.abs(exact.astype(int) - fast.astype(int)).mean() < 8  # visually close


@pytest.mark.parametrize('mode', ['crop', 'pad', 'stretch'])
def test_keeps_one_and_four_channels(mode):
    rgba = np.zeros((20, 40, 4), np.uint8)
    rgba[..., 3] = 255
    out = ResizeToSquare(16, mode=mode)(dict(gt=rgba))['gt']
    assert out.shape == (16, 16, 4)
    if mode == 'pad':  # transparent bars above and below, opaque image between
        assert (out[0, :, 3] == 0).all() and (out[8, :, 3] == 255).all()
    else:
        assert (out[..., 3] == 255).all()
    grey = np.full((20, 40, 1), 7, np.uint8)
    out = ResizeToSquare(16, mode=mode, pad_value=255)(dict(gt=grey))['gt']
    assert out.shape == (16, 16, 1) and out[8, 8, 0] == 7
    assert out[0, 0, 0] == (255 if mode == 'pad' else 7)
