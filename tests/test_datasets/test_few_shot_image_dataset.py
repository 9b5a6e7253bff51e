import logging
import os
import signal
import socket

import numpy as np
import pytest
import torch
from mmagic.models import DataPreprocessor
from mmagic.registry import DATASETS
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from PIL import Image

import fastgan_plugin.datasets  # noqa: F401  (registers the datasets and transforms)
from fastgan_plugin.datasets import FewShotImageDataset, check_image, find_image_files
from helpers.images import png_with_corrupt_data

RED = (255, 0, 0)


@pytest.fixture
def log_messages():
    """Collect what the current MMLogger receives (it does not propagate to caplog)."""
    messages = []

    class _ListHandler(logging.Handler):

        def emit(self, record):
            messages.append((record.levelno, record.getMessage()))

    logger = MMLogger.get_current_instance()
    handler = _ListHandler(level=logging.DEBUG)
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


@pytest.fixture
def mmagic_scope():
    """Build pipeline dicts from mmagic's registries, as configs with default_scope do."""
    with DefaultScope.overwrite_default_scope('mmagic'):
        yield


def _save(path, color=RED, size=(24, 16), mode='RGB', **kwargs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.new(mode, size, color).save(path, **kwargs)
    return path


def _noisy_bytes(tmp_path, ext):
    """Encode random pixels, so that most of the file is compressed image data."""
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    path = tmp_path / f'noisy.{ext}'
    Image.fromarray(pixels).save(path)
    return path.read_bytes()


def test_lists_every_extension_in_any_case_with_odd_names_and_symlinks(tmp_path):
    root = tmp_path / 'data'
    names = ['a.jpg', 'B.JPEG', 'c.Png', 'd.webp', 'e.BMP', 'f.tif', 'g.TIFF',
             'with space é.png', '日本語.jpg']
    for name in names:
        _save(str(root / name))
    target = _save(str(tmp_path / 'elsewhere' / 'target.png'))
    os.symlink(target, root / 'link.png')

    dataset = FewShotImageDataset(str(root))

    assert len(dataset) == 10
    keys = [dataset.get_data_info(i)['key'] for i in range(len(dataset))]
    assert keys == sorted(os.path.splitext(n)[0] for n in names + ['link.png'])
    info = dataset.get_data_info(keys.index('with space é'))
    assert info['gt_path'] == os.path.join(str(root), 'with space é.png')
    assert set(info) == {'gt_path', 'key', 'sample_idx'}


def test_pipeline_loads_samples(tmp_path, mmagic_scope):
    root = tmp_path / 'data'
    _save(str(root / '日本語 1.PNG'), mode='RGBA', color=(255, 0, 0, 255))
    dataset = FewShotImageDataset(
        root, pipeline=[dict(type='LoadRGBImage'),
                        dict(type='ResizeToSquare', size=8)])
    sample = dataset[0]
    assert sample['gt'].shape == (8, 8, 3)
    assert (sample['gt'] == RED).all()


def test_unreadable_files_are_skipped_and_named(tmp_path, log_messages):
    root = tmp_path / 'data'
    _save(str(root / 'good.png'))
    (root / 'zero.jpg').write_bytes(b'')
    (root / 'text.png').write_text('not an image')
    jpeg = _noisy_bytes(tmp_path, 'jpg')
    (root / 'truncated.jpg').write_bytes(jpeg[:len(jpeg) // 2])
    png = _noisy_bytes(tmp_path, 'png')
    (root / 'truncated.png').write_bytes(png[:len(png) - 20])
    os.symlink(tmp_path / 'missing.png', root / 'broken link.png')
    _save(str(root / 'float.tif'), mode='F', color=0.5)

    dataset = FewShotImageDataset(str(root))

    assert [dataset.get_data_info(i)['key'] for i in range(len(dataset))] == ['good']
    warnings = [msg for level, msg in log_messages if level == logging.WARNING]
    assert len(warnings) == 1
    warning = warnings[0]
    assert f'skipped 6 of 7 image file(s) in {str(root)!r}' in warning
    assert 'zero.jpg: empty file (0 bytes)' in warning
    assert 'broken link.png: broken symbolic link' in warning
    assert "float.tif: unsupported pixel mode 'F'" in warning
    for name in ('text.png', 'truncated.jpg', 'truncated.png'):
        assert f'  {name}: ' in warning
    assert 'good.png' not in warning


@pytest.mark.parametrize('ext', ['jpg', 'png', 'webp', 'bmp', 'tiff'])
def test_check_image_catches_truncation(tmp_path, ext):
    data = _noisy_bytes(tmp_path, ext)
    (tmp_path / f'cut.{ext}').write_bytes(data[:len(data) - 100])
    assert check_image(str(tmp_path / f'noisy.{ext}')) is None
    assert check_image(str(tmp_path / f'cut.{ext}')) is not None


def test_non_image_files_are_summarised_in_one_line(tmp_path, log_messages):
    root = tmp_path / 'data'
    _save(str(root / 'a.png'))
    (root / 'notes.txt').write_text('hello')
    (root / '.DS_Store').write_bytes(b'\0\0\0\1Bud1')
    (root / 'anim.gif').write_bytes(b'GIF89a')

    dataset = FewShotImageDataset(str(root))

    assert len(dataset) == 1
    lines = [msg for _, msg in log_messages if 'without an image extension' in msg]
    assert len(lines) == 1
    assert 'ignored 3 file(s) without an image extension in' in lines[0]
    assert "'.DS_Store', 'anim.gif', 'notes.txt'" in lines[0]
    assert '\n' not in lines[0]
    assert not [msg for level, msg in log_messages if level >= logging.WARNING]


def test_missing_folder(tmp_path):
    missing = tmp_path / 'nope'
    with pytest.raises(FileNotFoundError, match='does not exist') as err:
        FewShotImageDataset(str(missing))
    assert str(missing) in str(err.value)


def test_data_root_is_a_file(tmp_path):
    path = _save(str(tmp_path / 'one.png'))
    with pytest.raises(NotADirectoryError, match='is not a folder') as err:
        FewShotImageDataset(path)
    assert path in str(err.value)


def test_empty_folder(tmp_path):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match=r'found 0 images in .*\(0 other file\(s\)\)') as err:
        FewShotImageDataset(str(tmp_path / 'empty'))
    assert str(tmp_path / 'empty') in str(err.value)


def test_folder_with_only_other_files(tmp_path):
    (tmp_path / 'notes.txt').write_text('x')
    with pytest.raises(ValueError, match=r'found 0 images in .*\(1 other file\(s\)\); images '
                                         r'need one of \.jpg'):
        FewShotImageDataset(str(tmp_path))


def test_images_only_in_subfolders_suggest_recursive(tmp_path):
    root = tmp_path / 'data'
    _save(str(root / 'cats' / 'a.png'))
    _save(str(root / 'cats' / 'deeper' / 'b.jpg'))
    with pytest.raises(ValueError) as err:
        FewShotImageDataset(str(root))
    message = str(err.value)
    assert f'found 0 images directly in {str(root)!r}' in message
    assert 'but 2 in its subfolders' in message
    assert os.path.join('cats', 'a.png') in message
    assert 'set recursive=True' in message

    dataset = FewShotImageDataset(str(root), recursive=True)
    assert [dataset.get_data_info(i)['key'] for i in range(2)] == [
        os.path.join('cats', 'a'), os.path.join('cats', 'deeper', 'b')]


def test_subfolders_ignored_without_recursive_are_reported(tmp_path, log_messages):
    _save(str(tmp_path / 'top.png'))
    _save(str(tmp_path / 'sub' / 'nested.png'))
    dataset = FewShotImageDataset(str(tmp_path))
    assert len(dataset) == 1
    assert any('ignored 1 subfolder(s)' in msg and 'recursive=False' in msg
               for _, msg in log_messages)


def test_recursive_follows_directory_symlinks_without_looping(tmp_path):
    root = tmp_path / 'data'
    _save(str(root / 'a.png'))
    _save(str(tmp_path / 'outside' / 'b.png'))
    os.symlink(tmp_path / 'outside', root / 'linked')
    os.symlink(root, root / 'loop')
    dataset = FewShotImageDataset(str(root), recursive=True)
    assert [dataset.get_data_info(i)['key'] for i in range(len(dataset))] == [
        'a', os.path.join('linked', 'b')]


def test_no_readable_images_left(tmp_path):
    (tmp_path / 'a.png').write_bytes(b'')
    (tmp_path / 'b.jpg').write_text('text')
    with pytest.raises(ValueError) as err:
        FewShotImageDataset(str(tmp_path))
    message = str(err.value)
    assert f'found 0 readable image(s) in {str(tmp_path)!r}' in message
    assert '(2 image file(s), 2 unreadable and skipped' in message


def test_min_images(tmp_path):
    _save(str(tmp_path / 'a.png'))
    _save(str(tmp_path / 'b.png'))
    (tmp_path / 'c.png').write_bytes(b'')
    with pytest.raises(ValueError) as err:
        FewShotImageDataset(str(tmp_path), min_images=3)
    message = str(err.value)
    assert f'found 2 readable image(s) in {str(tmp_path)!r}' in message
    assert '1 unreadable and skipped' in message
    assert 'fewer than min_images=3' in message
    assert len(FewShotImageDataset(str(tmp_path), min_images=2)) == 2


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(data_root=None), TypeError, 'data_root must be the path'),
    (dict(data_root=''), TypeError, 'data_root must be the path'),
    (dict(data_root='.', min_images=0), ValueError, 'min_images must be a positive'),
    (dict(data_root='.', min_images=True), ValueError, 'min_images must be a positive'),
    (dict(data_root='.', recursive='yes'), TypeError, 'recursive must be True or False'),
    (dict(data_root='.', case_sensitive=1), TypeError, 'case_sensitive must be True or False'),
    (dict(data_root='.', extensions='.jpg'), ValueError, 'extensions must be a non-empty list'),
    (dict(data_root='.', extensions=['jpg']), ValueError, "suffixes starting with '.'"),
    (dict(data_root='.', extensions=[]), ValueError, 'extensions must be a non-empty list'),
])
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        FewShotImageDataset(**kwargs)


def test_missing_data_root_names_where_to_set_it():
    with pytest.raises(TypeError, match='got None') as err:
        FewShotImageDataset()  # as the dataset base leaves it
    for hint in ('train_dataloader.dataset.data_root', 'val_dataloader and test_dataloader',
                 '--data-root', '--cfg-options'):
        assert hint in str(err.value)


def test_official_extensions_are_lower_case_jpg_png_jpeg_only(tmp_path):
    for name in ('a.jpg', 'b.png', 'c.jpeg', 'D.JPG', 'e.webp', 'f.Png'):
        _save(str(tmp_path / name))
    official = FewShotImageDataset(str(tmp_path), extensions=('.jpg', '.png', '.jpeg'),
                                   case_sensitive=True)
    assert [official.get_data_info(i)['key'] for i in range(len(official))] == ['a', 'b', 'c']
    assert len(FewShotImageDataset(str(tmp_path), extensions=['.JPG', '.png'])) == 4  # any case


def test_find_image_files_checks_names_only_and_names_the_folder(tmp_path):
    (tmp_path / 'broken.png').write_bytes(b'not an image')
    (tmp_path / 'notes.txt').write_text('x')
    assert find_image_files(str(tmp_path)) == (['broken.png'], ['notes.txt'], [])
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='found 0 images') as err:
        find_image_files(str(tmp_path / 'empty'))
    assert str(tmp_path / 'empty') in str(err.value)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        find_image_files(str(tmp_path / 'nope'))


def test_data_root_expands_user(tmp_path, monkeypatch):
    monkeypatch.setenv('HOME', str(tmp_path))
    _save(str(tmp_path / 'imgs' / 'a.png'))
    dataset = FewShotImageDataset('~/imgs')
    assert dataset.get_data_info(0)['gt_path'] == os.path.join(str(tmp_path), 'imgs', 'a.png')


@pytest.mark.parametrize('serialize_data', [True, False])
def test_built_from_registry_with_and_without_serialization(tmp_path, serialize_data):
    _save(str(tmp_path / 'b.png'))
    _save(str(tmp_path / 'a.jpg'))
    dataset = DATASETS.build(dict(type='FewShotImageDataset', data_root=str(tmp_path),
                                  serialize_data=serialize_data))
    assert isinstance(dataset, FewShotImageDataset)
    assert dataset.get_data_info(1) == dict(gt_path=os.path.join(str(tmp_path), 'b.png'),
                                            key='b', sample_idx=1)
    assert hasattr(dataset, 'data_bytes') == serialize_data


@pytest.mark.parametrize('output_channel_order', [None, 'RGB'])
def test_red_image_reaches_the_model_as_rgb_in_minus_one_one(tmp_path, mmagic_scope,
                                                             output_channel_order):
    _save(str(tmp_path / 'red.png'), size=(40, 24))
    _save(str(tmp_path / 'red.jpg'), size=(12, 20), quality=100)
    pipeline = [
        dict(type='LoadRGBImage', key='gt'),
        dict(type='ResizeToSquare', key='gt', size=16),
        dict(type='Flip', keys=['gt'], direction='horizontal', flip_ratio=1.0),
        dict(type='PackInputs'),
    ]
    dataset = DATASETS.build(dict(type='FewShotImageDataset', data_root=str(tmp_path),
                                  pipeline=pipeline))
    preprocessor = DataPreprocessor(mean=[127.5] * 3, std=[127.5] * 3,
                                    output_channel_order=output_channel_order)
    batch = pseudo_collate([dataset[0], dataset[1]])

    data = preprocessor(batch, training=True)

    real = data['data_samples'].gt_img
    assert real.shape == (2, 3, 16, 16)
    assert data['inputs'] == {}
    torch.testing.assert_close(real[:, 0], torch.ones(2, 16, 16), atol=0.02, rtol=0)
    torch.testing.assert_close(real[:, 1:], -torch.ones(2, 2, 16, 16), atol=0.02, rtol=0)
    assert data['data_samples'].metainfo['gt_channel_order'] == ['rgb', 'rgb']


def test_evaluation_batches_arrive_as_bgr_for_mmagic_metrics(tmp_path, mmagic_scope):
    _save(str(tmp_path / 'red.png'), size=(16, 16))
    dataset = DATASETS.build(dict(
        type='FewShotImageDataset', data_root=str(tmp_path),
        pipeline=[dict(type='LoadRGBImage'), dict(type='PackInputs')]))
    preprocessor = DataPreprocessor(mean=[127.5] * 3, std=[127.5] * 3,
                                    output_channel_order='RGB')

    real = preprocessor(pseudo_collate([dataset[0]]), training=False)['data_samples'].gt_img

    # mmagic's FID / IS take real images as BGR in [0, 255] and swap them to RGB.
    expected = np.zeros((1, 3, 16, 16), dtype=np.float32)
    expected[:, 2] = 255
    np.testing.assert_array_equal(real.numpy(), expected)


def test_pack_inputs_with_keys_gt_would_give_the_model_swapped_inputs(tmp_path, mmagic_scope):
    """Why the recommended pipeline uses ``PackInputs()`` and not ``keys=['gt']``."""
    _save(str(tmp_path / 'red.png'), size=(8, 8))
    dataset = DATASETS.build(dict(
        type='FewShotImageDataset', data_root=str(tmp_path),
        pipeline=[dict(type='LoadRGBImage'), dict(type='PackInputs', keys=['gt'])]))
    preprocessor = DataPreprocessor(mean=[127.5] * 3, std=[127.5] * 3,
                                    output_channel_order='RGB')

    data = preprocessor(pseudo_collate([dataset[0]]), training=True)

    assert data['data_samples'].gt_img[0, :, 0, 0].tolist() == [1.0, -1.0, -1.0]
    assert data['inputs'][0, :, 0, 0].tolist() == [-1.0, -1.0, 1.0]  # taken as BGR, swapped


def test_png_corrupt_behind_valid_crcs_is_skipped_at_load_time_and_named(tmp_path, log_messages,
                                                                         mmagic_scope):
    _save(str(tmp_path / 'a_good.png'))
    (tmp_path / 'b_corrupt.png').write_bytes(png_with_corrupt_data())
    assert check_image(str(tmp_path / 'b_corrupt.png')) is None  # the cheap check passes it
    dataset = FewShotImageDataset(str(tmp_path), [dict(type='LoadRGBImage')])
    assert len(dataset) == 2

    samples = [dataset[1], dataset[1]]  # the corrupt file, twice

    assert [s['gt_path'] for s in samples] == [str(tmp_path / 'a_good.png')] * 2
    assert all((s['gt'] == RED).all() for s in samples)
    warnings = [msg for level, msg in log_messages if level == logging.WARNING]
    assert len(warnings) == 1  # once per file
    assert f"cannot read {str(tmp_path / 'b_corrupt.png')!r}" in warnings[0]
    assert 'broken data stream' in warnings[0] and 'another image is used' in warnings[0]


def test_special_files_are_named_as_what_they_are(tmp_path, log_messages):
    _save(str(tmp_path / 'good.png'))
    os.mkfifo(tmp_path / 'pipe.png')
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / 'socket.png'))
    os.symlink('/dev/null', tmp_path / 'null.png')
    os.symlink('loop.png', tmp_path / 'loop.png')
    (tmp_path / 'folder.png').mkdir()
    try:
        dataset = FewShotImageDataset(str(tmp_path))
    finally:
        server.close()
    assert len(dataset) == 1
    warning = next(msg for level, msg in log_messages if level == logging.WARNING)
    assert 'skipped 4 of 5 image file(s)' in warning
    for line in ('pipe.png: FIFO (named pipe), not a regular file',
                 'socket.png: socket, not a regular file',
                 'null.png: character device, not a regular file',
                 'loop.png: OSError: Too many levels of symbolic links'):
        assert f'  {line}' in warning
    assert any('subfolder(s) of' in msg and "'folder.png'" in msg for _, msg in log_messages)


def test_check_image_never_opens_a_fifo(tmp_path):
    os.mkfifo(tmp_path / 'pipe.png')

    def blocked(signum, frame):
        raise TimeoutError('check_image opened the FIFO and blocks')

    previous = signal.signal(signal.SIGALRM, blocked)
    signal.alarm(10)
    try:
        assert check_image(str(tmp_path / 'pipe.png')) == 'FIFO (named pipe), not a regular file'
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_non_utf8_file_names_keep_the_warning_in_the_log(tmp_path, mmagic_scope):
    """A name that is not UTF-8 (a lone surrogate after os.fsdecode) would make the log's
    encoder drop the whole warning."""
    root = tmp_path / 'data'
    _save(str(root / 'good.png'))
    raw_root = os.fsencode(str(root))
    with open(os.path.join(raw_root, b'bad\xff.png'), 'wb') as f:
        f.write(b'not an image')
    with open(os.path.join(raw_root, b'corrupt\xfe.png'), 'wb') as f:
        f.write(png_with_corrupt_data())
    log_file = tmp_path / 'run.log'
    MMLogger.get_instance(f'non_utf8_{os.getpid()}', log_file=str(log_file))

    dataset = FewShotImageDataset(str(root), [dict(type='LoadRGBImage')])
    corrupt = next(i for i in range(len(dataset))
                   if 'corrupt' in dataset.get_data_info(i)['gt_path'])
    assert dataset[corrupt]['gt_path'] == str(root / 'good.png')

    log = log_file.read_text(encoding='utf-8')
    assert 'skipped 1 of 3 image file(s)' in log
    assert '  bad\\xff.png: UnidentifiedImageError' in log
    assert "cannot read '" in log and "corrupt\\udcfe.png'" in log


def _class_tree(root, counts):
    """``root/<class>/<i>.png`` with ``counts[class]`` images each."""
    for name, count in counts.items():
        os.makedirs(root / name, exist_ok=True)
        for i in range(count):
            _save(str(root / name / f'{i}.png'))


def test_class_folders_label_each_image_by_its_sorted_subfolder(tmp_path):
    _class_tree(tmp_path, {'dogs': 2, 'cats': 3})
    (tmp_path / 'LICENSE.txt').write_text('ignored')
    dataset = FewShotImageDataset(data_root=str(tmp_path), class_folders=True, num_classes=2)
    assert dataset.metainfo['classes'] == ('cats', 'dogs')
    assert [(info['key'], info['gt_label']) for info in dataset] == [
        ('cats/0', 0), ('cats/1', 0), ('cats/2', 0), ('dogs/0', 1), ('dogs/1', 1)]


def test_packed_label_reaches_the_data_sample(tmp_path, mmagic_scope):
    _class_tree(tmp_path, {'a': 2, 'b': 2})
    dataset = FewShotImageDataset(data_root=str(tmp_path), class_folders=True, pipeline=[
        dict(type='LoadRGBImage', key='gt'), dict(type='PackInputs')])
    assert dataset[3]['data_samples'].gt_label.label.tolist() == [1]


@pytest.mark.parametrize('counts, match', [
    ({'cats': 3, 'dogs': 1}, r"these have fewer: 'dogs' \(1\)"),
    ({'cats': 3, 'empty': 0}, r"these have fewer: 'empty' \(0\)"),
])
def test_a_class_with_fewer_than_two_images_is_named(tmp_path, counts, match):
    _class_tree(tmp_path, counts)
    with pytest.raises(ValueError, match=match):
        FewShotImageDataset(data_root=str(tmp_path), class_folders=True)


def test_num_classes_unlike_the_folders_names_the_key_and_folder(tmp_path):
    _class_tree(tmp_path, {'a': 2, 'b': 2, 'c': 2})
    with pytest.raises(ValueError, match=r"num_classes=2 but data_root '.*' .*has 3 classes "
                                         r"\('a', 'b', 'c'\).*model.generator.num_classes"):
        FewShotImageDataset(data_root=str(tmp_path), class_folders=True, num_classes=2)


def test_class_folders_refuse_loose_images_and_flat_layout_hints_at_them(tmp_path):
    _class_tree(tmp_path, {'a': 2})
    _save(str(tmp_path / 'loose.png'))
    with pytest.raises(ValueError, match=r"1 image\(s\) directly in it \('loose.png'\)"):
        FewShotImageDataset(data_root=str(tmp_path), class_folders=True)
    os.remove(tmp_path / 'loose.png')
    with pytest.raises(ValueError, match='class_folders=True and num_classes'):
        FewShotImageDataset(data_root=str(tmp_path))


@pytest.mark.parametrize('ann, text', [
    ('ann.txt', 'x/1.png dog\nx/0.png cat\ny/0.png dog\ny/1.png cat\n'),
    ('ann.json', '{"x/1.png": "dog", "x/0.png": "cat", "y/0.png": "dog", "y/1.png": "cat"}'),
])
def test_ann_file_maps_images_to_classes(tmp_path, ann, text):
    _class_tree(tmp_path, {'x': 2, 'y': 2})
    (tmp_path / ann).write_text(text)
    dataset = FewShotImageDataset(data_root=str(tmp_path), ann_file=ann, num_classes=2)
    assert dataset.metainfo['classes'] == ('cat', 'dog')
    assert [(info['key'], info['gt_label']) for info in dataset] == [
        ('x/0', 0), ('x/1', 1), ('y/0', 1), ('y/1', 0)]
    indexed = FewShotImageDataset(data_root=str(tmp_path), ann_file=ann,
                                  metainfo=dict(classes=('dog', 'cat')))
    assert [info['gt_label'] for info in indexed] == [1, 0, 0, 1]
