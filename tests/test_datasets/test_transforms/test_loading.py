import logging
from unittest.mock import patch

import numpy as np
import pytest
from mmagic.datasets.transforms import Flip
from mmagic.registry import TRANSFORMS
from mmengine.logging import MMLogger
from PIL import Image

import fastgan_plugin.datasets  # noqa: F401  (registers the transforms)
from fastgan_plugin.datasets.transforms import LoadRGBImage, pil_to_rgb

WHITE = (255, 255, 255)


def _load(path, **kwargs):
    return LoadRGBImage(**kwargs)(dict(gt_path=str(path)))['gt']


def _save(tmp_path, name, img, **kwargs):
    path = tmp_path / name
    img.save(path, **kwargs)
    return path


def _palette_image():
    """4x4 palette image: index 0 (red) transparent everywhere except (0, 0), index 1 green."""
    img = Image.new('P', (4, 4), 0)
    img.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    img.putpixel((0, 0), 1)
    return img


def test_records_rgb_order_and_shape_like_mmagic(tmp_path):
    path = _save(tmp_path, 'red image é.png', Image.new('RGB', (6, 4), (255, 0, 0)))
    results = LoadRGBImage()(dict(gt_path=path))
    img = results['gt']
    assert img.shape == (4, 6, 3) and img.dtype == np.uint8
    assert img.flags['C_CONTIGUOUS'] and img.flags['WRITEABLE']
    assert (img == (255, 0, 0)).all()
    assert results['ori_gt_shape'] == (4, 6, 3)
    assert results['gt_channel_order'] == 'rgb'
    assert results['gt_color_type'] == 'color'


def test_custom_key(tmp_path):
    path = _save(tmp_path, 'a.bmp', Image.new('RGB', (3, 2), (1, 2, 3)))
    results = LoadRGBImage(key='img')(dict(img_path=path))
    assert (results['img'] == (1, 2, 3)).all()
    assert results['img_channel_order'] == 'rgb'


@pytest.mark.parametrize('mode, color, expected', [
    ('1', 1, WHITE),
    ('L', 100, (100, 100, 100)),
    ('RGB', (10, 20, 30), (10, 20, 30)),
    ('RGBX', (10, 20, 30, 0), (10, 20, 30)),
    ('HSV', (0, 255, 255), (255, 0, 0)),
])
def test_opaque_modes(mode, color, expected):
    img = pil_to_rgb(Image.new(mode, (5, 3), color))
    assert img.shape == (3, 5, 3) and img.dtype == np.uint8
    assert (img == expected).all()


@pytest.mark.parametrize('name, mode', [('grey.TIFF', 'L'), ('bilevel.tif', '1'),
                                        ('grey.jpeg', 'L')])
def test_grey_files(tmp_path, name, mode):
    path = _save(tmp_path, name, Image.new(mode, (5, 3), 255))
    assert Image.open(path).mode == mode
    assert (_load(path) == WHITE).all()


@pytest.mark.parametrize('ext', ['JPG', 'tif'])
def test_cmyk(tmp_path, ext):
    path = _save(tmp_path, f'cmyk.{ext}', Image.new('CMYK', (8, 8), (0, 255, 255, 0)),
                 **({'quality': 100} if ext == 'JPG' else {}))
    assert Image.open(path).mode == 'CMYK'
    img = _load(path).astype(int)
    np.testing.assert_allclose(img, np.broadcast_to((255, 0, 0), img.shape), atol=3)


def test_16_bit_grey_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)
    path = _save(tmp_path, 'grey16.png', Image.fromarray(values))
    assert Image.open(path).mode == 'I;16'
    img = _load(path)
    np.testing.assert_array_equal(img[0, :, 0], [0, 1, 128, 255])
    assert (img[..., 0] == img[..., 1]).all() and (img[..., 0] == img[..., 2]).all()


def test_32_bit_int_mode_is_read_as_16_bit_range(tmp_path):
    values = np.array([[0, 65535, 70000, -5]], dtype=np.int32)
    path = _save(tmp_path, 'grey32.tif', Image.fromarray(values, 'I'))
    assert Image.open(path).mode == 'I'
    np.testing.assert_array_equal(_load(path)[0, :, 1], [0, 255, 255, 0])


def test_rgba_is_composited_on_white_by_default(tmp_path):
    path = _save(tmp_path, 'half.png', Image.new('RGBA', (2, 2), (255, 0, 0, 128)))
    img = _load(path).astype(int)
    np.testing.assert_allclose(img, np.broadcast_to((255, 127, 127), img.shape), atol=1)


def test_transparent_pixels_take_the_background(tmp_path):
    path = _save(tmp_path, 'clear.webp', Image.new('RGBA', (2, 2), (255, 0, 0, 0)),
                 lossless=True)
    assert (_load(path) == WHITE).all()
    assert (_load(path, background=(0, 0, 255)) == (0, 0, 255)).all()


def test_grey_with_alpha(tmp_path):
    img = Image.new('LA', (2, 1), (50, 255))
    img.putpixel((1, 0), (50, 0))
    out = _load(_save(tmp_path, 'la.png', img), background=(9, 8, 7))
    np.testing.assert_array_equal(out[0], [(50, 50, 50), (9, 8, 7)])


def test_palette_with_transparency(tmp_path):
    path = _save(tmp_path, 'p.png', _palette_image(), transparency=0)
    assert Image.open(path).mode == 'P'
    img = _load(path, background=(1, 2, 3))
    assert tuple(img[0, 0]) == (0, 255, 0)
    assert (img[1:] == (1, 2, 3)).all()


def test_palette_without_transparency(tmp_path):
    img = _load(_save(tmp_path, 'p.bmp', _palette_image()))
    assert tuple(img[0, 0]) == (0, 255, 0)
    assert (img[1:] == (255, 0, 0)).all()


def test_rgb_colour_key_transparency(tmp_path):
    path = _save(tmp_path, 'key.png', Image.new('RGB', (2, 2), (1, 2, 3)), transparency=(1, 2, 3))
    assert (_load(path) == WHITE).all()


def test_exif_orientation_is_applied(tmp_path):
    stored = np.zeros((2, 4, 3), dtype=np.uint8)
    stored[:, :2] = (255, 0, 0)  # left half red
    stored[:, 2:] = (0, 0, 255)  # right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # the stored image must be rotated 90 degrees clockwise for display
    path = _save(tmp_path, 'rotated.jpg', Image.fromarray(stored), exif=exif, quality=100)

    img = _load(path).astype(int)

    assert img.shape == (4, 2, 3)  # upright: the left half became the top
    np.testing.assert_allclose(img[:2], np.broadcast_to((255, 0, 0), (2, 2, 3)), atol=40)
    np.testing.assert_allclose(img[2:], np.broadcast_to((0, 0, 255), (2, 2, 3)), atol=40)


def test_output_works_with_mmagic_flip_in_place(tmp_path):
    stored = np.zeros((2, 4, 3), dtype=np.uint8)
    stored[:, :2] = (255, 0, 0)
    results = LoadRGBImage()(dict(gt_path=_save(tmp_path, 'half.png', Image.fromarray(stored))))
    flipped = Flip(keys=['gt'], flip_ratio=1.0, direction='horizontal')(results)['gt']
    assert (flipped[:, 2:] == (255, 0, 0)).all() and (flipped[:, :2] == 0).all()


def test_missing_path_key():
    with pytest.raises(KeyError, match="results have no 'gt_path'"):
        LoadRGBImage()(dict(img_path='x.png'))


@pytest.mark.parametrize('content', [b'', b'plain text', b'\x89PNG\r\n\x1a\n\0\0'])
def test_unreadable_file_is_named(tmp_path, content):
    path = tmp_path / 'bad file.png'
    path.write_bytes(content)
    with pytest.raises(OSError, match='cannot read') as err:
        _load(path, skip_unreadable=False)
    assert str(path) in str(err.value)


def test_unreadable_file_is_skipped_with_one_warning(tmp_path):
    path = tmp_path / 'bad file.png'
    path.write_bytes(b'plain text')
    transform = LoadRGBImage()
    logger = MMLogger.get_current_instance()
    with patch.object(logger, 'log', wraps=logger.log) as log:
        assert transform(dict(gt_path=str(path))) is None  # BaseDataset serves another sample
        assert transform(dict(gt_path=str(path))) is None
    assert log.call_count == 1
    level, message = log.call_args[0]
    assert level == logging.WARNING
    assert f'cannot read {str(path)!r}: UnidentifiedImageError' in message


def test_unsupported_mode_is_named(tmp_path):
    path = _save(tmp_path, 'float.tif', Image.new('F', (2, 2), 0.5))
    with pytest.raises(OSError, match="unsupported pixel mode 'F'") as err:
        _load(path, skip_unreadable=False)
    assert str(path) in str(err.value)


@pytest.mark.parametrize('background', [(255, 255), (0, 0, 256), 'white', (0, 0, 1.5),
                                        (True, 0, 0)])
def test_invalid_background(background):
    with pytest.raises(ValueError, match='background must be three integers'):
        LoadRGBImage(background=background)


def test_registered():
    transform = TRANSFORMS.build(dict(type='LoadRGBImage', key='gt', background=[0, 0, 0]))
    assert isinstance(transform, LoadRGBImage)
    assert repr(transform) == ("LoadRGBImage(key='gt', background=(0, 0, 0), img_channels=3, "
                               'exif_orientation=True, pil_convert=False, skip_unreadable=True)')


def _rotated_jpeg(tmp_path):
    """A 2x4 JPEG (left half red, right half blue) whose EXIF says: rotate 90 degrees."""
    stored = np.zeros((2, 4, 3), dtype=np.uint8)
    stored[:, :2] = (255, 0, 0)
    stored[:, 2:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    return _save(tmp_path, 'rotated.jpg', Image.fromarray(stored), exif=exif, quality=100)


def test_exif_orientation_can_be_ignored_as_the_official_code_does(tmp_path):
    path = _rotated_jpeg(tmp_path)
    stored = np.array(Image.open(path).convert('RGB'))  # the official reading
    np.testing.assert_array_equal(_load(path, exif_orientation=False), stored)
    assert _load(path).shape == (4, 2, 3)


@pytest.mark.parametrize('name, img, kwargs', [
    ('clear.png', Image.new('RGBA', (2, 2), (255, 0, 0, 0)), {}),
    ('la.png', Image.new('LA', (2, 1), (50, 0)), {}),
    ('p.png', _palette_image(), dict(transparency=0)),
    ('grey16.png', Image.fromarray(np.array([[0, 200, 65535]], np.uint16)), {}),
    ('cmyk.jpg', Image.new('CMYK', (2, 2), (0, 255, 255, 0)), {}),
])
def test_pil_convert_reads_every_mode_exactly_as_the_official_code(tmp_path, name, img, kwargs):
    path = _save(tmp_path, name, img, **kwargs)
    official = np.array(Image.open(path).convert('RGB'))  # FastGAN-pytorch's ImageFolder
    out = _load(path, pil_convert=True, background=(1, 2, 3))
    np.testing.assert_array_equal(out, official)
    assert out.dtype == np.uint8 and out.flags['C_CONTIGUOUS'] and out.flags['WRITEABLE']


def test_pil_convert_differs_from_the_default_where_the_official_code_loses_information(
        tmp_path):
    clear = _save(tmp_path, 'clear.png', Image.new('RGBA', (2, 2), (255, 0, 0, 0)))
    assert (_load(clear, pil_convert=True) == (255, 0, 0)).all()  # hidden colour shows
    assert (_load(clear) == WHITE).all()
    grey = _save(tmp_path, 'grey16.png', Image.fromarray(np.array([[30000]], np.uint16)))
    assert (_load(grey, pil_convert=True) == 255).all()  # clipped
    assert (_load(grey) == round(30000 * 255 / 65535)).all()


@pytest.mark.parametrize('kwargs', [dict(exif_orientation=1), dict(pil_convert='yes'),
                                    dict(skip_unreadable=None)])
def test_invalid_flags(kwargs):
    with pytest.raises(TypeError, match='must be True or False'):
        LoadRGBImage(**kwargs)


def test_rgba_keeps_alpha_and_makes_files_without_alpha_opaque(tmp_path):
    half = Image.new('RGBA', (4, 2), (10, 20, 30, 0))
    half.putpixel((0, 0), (200, 100, 50, 128))
    rgba = _load(_save(tmp_path, 'a.png', half), img_channels=4)
    assert rgba.shape == (2, 4, 4)
    assert tuple(rgba[0, 0]) == (200, 100, 50, 128) and tuple(rgba[1, 1]) == (10, 20, 30, 0)
    opaque = _load(_save(tmp_path, 'b.jpg', Image.new('RGB', (4, 2), (9, 9, 9))), img_channels=4)
    assert (opaque[..., 3] == 255).all()
    palette = _load(_save(tmp_path, 'p.png', _palette_image(), transparency=0), img_channels=4)
    assert palette[0, 0, 3] == 255 and (palette[1:, :, 3] == 0).all()


def test_grey_composites_on_the_background_and_records_grayscale(tmp_path):
    img = Image.new('RGBA', (3, 3), (0, 0, 0, 0))
    img.putpixel((1, 1), (255, 0, 0, 255))
    results = LoadRGBImage(img_channels=1, background=(0, 0, 0))(
        dict(gt_path=_save(tmp_path, 'a.png', img)))
    grey = results['gt']
    assert grey.shape == (3, 3, 1)
    assert grey[1, 1, 0] == 76 and grey[0, 0, 0] == 0  # ITU-R 601 luma of red; black background
    assert results['gt_color_type'] == 'grayscale'


def test_16_bit_grey_keeps_one_channel(tmp_path):
    img = Image.fromarray(np.full((2, 2), 65535, np.uint16))
    assert (_load(_save(tmp_path, 'a.png', img), img_channels=1) == 255).all()


def test_refuses_other_channel_counts():
    with pytest.raises(ValueError, match=r'LoadRGBImage: img_channels \(1 grey, 3 RGB, 4 RGBA\)'):
        LoadRGBImage(img_channels=2)


@pytest.mark.parametrize('img_channels', [1, 4])
def test_mmagic_data_preprocessor_keeps_the_channels(tmp_path, img_channels):
    """With mean and std of one value, mmagic's preprocessor keeps RGBA (BGRA for metrics,
    alpha last) and grey; its output_channel_order does not touch grey."""
    from mmagic.datasets.transforms import PackInputs
    from mmagic.models import DataPreprocessor
    img = Image.new('RGBA', (2, 2), (255, 0, 0, 0))
    packed = PackInputs()(LoadRGBImage(img_channels=img_channels)(
        dict(gt_path=_save(tmp_path, 'a.png', img))))
    preprocessor = DataPreprocessor(mean=127.5, std=127.5, output_channel_order='RGB')
    batch = dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']])
    train = preprocessor(batch, True)['data_samples'].gt_img
    assert train.shape == (1, img_channels, 2, 2)
    batch = dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']])
    test = preprocessor(batch, False)['data_samples'].gt_img
    if img_channels == 4:
        assert train[0, :, 0, 0].tolist() == [1, -1, -1, -1]  # RGBA, transparent
        assert test[0, :, 0, 0].tolist() == [0, 0, 255, 0]  # BGRA in [0, 255]
    else:  # transparent red on white: white
        assert train.eq(1).all() and test.eq(255).all() and test.shape == (1, 1, 2, 2)
