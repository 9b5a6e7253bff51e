"""The catalogue of bad inputs (docs/reliability.md), through the user's path.

Every case builds MMEngine's runner from a config (``Runner.from_cfg``, what
``tools/train.py`` does) and trains. A bad input must either fail before the first
update with a message naming the file or config key and what to do, or be skipped (or
accepted) with a log line, while training runs. The dataset's own unit tests
(tests/test_datasets/) cover the file checks in detail; here each case is seen end to end.
"""
import io
import os
import re
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.runner import Runner
from PIL import Image
from reliability_helpers import make_images, tiny_config

from helpers.images import png_with_corrupt_data

IM_SIZE = 256


def _train(cfg):
    """Build the runner from ``cfg`` and train; return the runner (None if the build
    failed) and the exception, if any."""
    runner = None
    try:
        runner = Runner.from_cfg(cfg)
        runner.train()
    except Exception as err:  # noqa: BLE001  (the tests check the exception)
        return runner, err
    return runner, None


def fails_before_training(cfg, error, *patterns):
    """Train from ``cfg``; assert it fails with ``error`` before any update and before
    any checkpoint, its message matching every regular expression of ``patterns``."""
    work_dir = Path(cfg.work_dir)
    before = set(work_dir.glob('*.pth')) if work_dir.exists() else set()
    runner, err = _train(cfg)
    assert isinstance(err, error), f'expected {error.__name__}, got {err!r}'
    for pattern in patterns:
        assert re.search(pattern, str(err)), f'{pattern!r} not in: {err}'
    if runner is not None:  # no iteration completed (an unbuilt loop is still a dict)
        assert getattr(runner._train_loop, 'iter', 0) == 0
    assert set(work_dir.glob('*.pth')) == before
    return err


# --------------------------------------------------------------------- folder-level cases
@pytest.fixture
def images(tmp_path):
    return make_images(tmp_path / 'images', 4)


def test_missing_data_root(tmp_path):
    fails_before_training(tiny_config(tmp_path / 'work', None), TypeError,
                          'data_root must be the path', 'got None',
                          'train_dataloader.dataset.data_root')


def test_missing_folder(tmp_path):
    missing = tmp_path / 'no_such_folder'
    fails_before_training(tiny_config(tmp_path / 'work', missing), FileNotFoundError,
                          re.escape(str(missing)), 'does not exist', 'set data_root')


def test_data_root_is_a_file(tmp_path, images):
    a_file = next(images.iterdir())
    fails_before_training(tiny_config(tmp_path / 'work', a_file), NotADirectoryError,
                          re.escape(str(a_file)), 'is not a folder')


def test_empty_folder(tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    fails_before_training(tiny_config(tmp_path / 'work', empty), ValueError,
                          re.escape(str(empty)), 'found 0 images', 'need one of')


def test_images_only_in_subfolders(tmp_path):
    root = tmp_path / 'nested'
    make_images(root / 'class_a', 2)
    fails_before_training(tiny_config(tmp_path / 'work', root), ValueError,
                          'found 0 images directly in', 'set recursive=True')


def test_only_non_image_files(tmp_path):
    root = tmp_path / 'docs'
    root.mkdir()
    (root / 'readme.txt').write_text('no images here')
    (root / 'data.csv').write_text('a,b\n')
    fails_before_training(tiny_config(tmp_path / 'work', root), ValueError,
                          'found 0 images', r'2 other file\(s\)', 'need one of')


def test_no_readable_image(tmp_path):
    root = tmp_path / 'broken'
    root.mkdir()
    (root / 'a.png').write_bytes(b'')
    (root / 'b.jpg').write_bytes(b'not a jpeg' * 10)
    fails_before_training(tiny_config(tmp_path / 'work', root), ValueError,
                          r'found 0 readable image\(s\)', r'2 unreadable and skipped',
                          'add images')


# ---------------------------------------------------------------------- model-level cases
def test_unsupported_im_size(tmp_path, images):
    cfg = tiny_config(tmp_path / 'work', images,
                      **{'model.generator.im_size': 300, 'model.discriminator.im_size': 300})
    fails_before_training(cfg, ValueError, r'im_size must be one of \(128, 256, 512, 1024, 2048\)',
                          'got 300')


def test_generator_and_discriminator_resolutions_differ(tmp_path, images):
    cfg = tiny_config(tmp_path / 'work', images, **{'model.discriminator.im_size': 512})
    fails_before_training(cfg, ValueError,
                          r'generator.im_size \(256\) and discriminator.im_size \(512\)',
                          'must be equal')


def test_odd_network_width(tmp_path, images):
    cfg = tiny_config(tmp_path / 'work', images, **{'model.generator.ngf': 7})
    fails_before_training(cfg, ValueError, 'ngf must be a positive multiple of 2 at im_size=256',
                          'got ngf=7')


def test_unknown_augmentation_policy(tmp_path, images):
    cfg = tiny_config(tmp_path / 'work', images,
                      **{'model.augment.policy': 'color,translation,zoom'})
    fails_before_training(cfg, ValueError, "unknown DiffAugment policy 'zoom'",
                          'valid policies: color')


def test_images_not_resized_to_im_size(tmp_path, images):
    cfg = tiny_config(tmp_path / 'work', images)
    resize = next(t for t in cfg.train_dataloader.dataset.pipeline
                  if t['type'] == 'ResizeToSquare')
    resize['size'] = 128
    fails_before_training(cfg, ValueError, 'real images arrive as 128x128 but im_size is 256',
                          'ResizeToSquare size of train_pipeline to 256')


def test_batch_size_one_with_batchnorm(tmp_path, images):
    cfg = tiny_config(tmp_path / 'work', images, **{'train_dataloader.batch_size': 1})
    fails_before_training(cfg, ValueError, 'a batch of 1 image per process', 'BatchNorm',
                          'Set train_dataloader.batch_size to 2 or more')


# ------------------------------------------------------------------------ file-level cases
def _noise(width, height, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def _encoded(img, fmt):
    buffer = io.BytesIO()
    img.save(buffer, fmt)
    return buffer.getvalue()


def _bomb_png(path):
    """A PNG whose header claims 30000 x 30000 pixels (over Pillow's bomb limit)."""
    data = bytearray(_encoded(Image.fromarray(_noise(8, 8)), 'PNG'))
    data[16:24] = struct.pack('>II', 30000, 30000)
    data[29:33] = struct.pack('>I', zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))


def _large_jpeg(path):
    """A 4000 x 3000 (12 MP) photo-sized JPEG (a smooth gradient, quick to write)."""
    ramp = np.linspace(0, 255, 4000).astype(np.uint8)
    rgb = np.stack([np.broadcast_to(ramp, (3000, 4000)),
                    np.broadcast_to(ramp[::-1], (3000, 4000)),
                    np.full((3000, 4000), 128, np.uint8)], axis=2)
    Image.fromarray(rgb).save(path, quality=80)


# name -> writer; each must be trained on (it reaches the model as 3 x 256 x 256).
ACCEPTED = {
    'grey.png': lambda p: Image.fromarray(_noise(300, 300)[..., 0]).save(p),
    'palette.png': lambda p: Image.fromarray(_noise(300, 300)).convert(
        'P', palette=Image.Palette.ADAPTIVE).save(p),
    'rgba.png': lambda p: Image.fromarray(np.dstack(
        [_noise(300, 300), _noise(300, 300, 1)[..., :1]])).save(p),
    'cmyk.jpg': lambda p: Image.fromarray(_noise(300, 300)).convert('CMYK').save(p),
    'grey16.png': lambda p: Image.fromarray(np.random.default_rng(2).integers(
        0, 65536, (300, 300)).astype(np.uint16)).save(p),
    'small.png': lambda p: Image.fromarray(_noise(40, 30)).save(p),
    'large.jpg': _large_jpeg,
    'odd width.png': lambda p: Image.fromarray(_noise(301, 157)).save(p),
    'name with spaces é 猫.png': lambda p: Image.fromarray(_noise(260, 260)).save(p),
    'link.png': lambda p: os.symlink(p.parent / 'grey.png', p),
}
# name -> (writer, the reason logged with the skipped file's name)
SKIPPED = {
    'corrupt.jpg': (lambda p: p.write_bytes(b'this is not an image\n' * 50),
                    'UnidentifiedImageError: cannot identify image file'),
    'truncated.jpg': (lambda p: p.write_bytes(_encoded(Image.fromarray(_noise(64, 64)),
                                                       'JPEG')[:400]),
                      '(?i)OSError: .*truncated'),
    'truncated.png': (lambda p: p.write_bytes(_encoded(Image.fromarray(_noise(64, 64)),
                                                       'PNG')[:2000]),
                      'OSError: Truncated File Read'),
    'zero_bytes.png': (lambda p: p.write_bytes(b''), r'empty file \(0 bytes\)'),
    'bomb.png': (_bomb_png, r'DecompressionBombError: Image size \(900000000 pixels\)'),
    'float32.tif': (lambda p: Image.fromarray(np.zeros((32, 32), np.float32)).save(p),
                    "unsupported pixel mode 'F'"),
    'broken_link.png': (lambda p: os.symlink(p.parent / 'deleted.png', p),
                        'broken symbolic link'),
}
OTHER_FILES = ('notes.txt', 'Thumbs.db')


@pytest.fixture(scope='module')
def odd_folder_run(tmp_path_factory):
    """One training run on a folder holding every file-level case beside 2 good images."""
    root = tmp_path_factory.mktemp('odd_folder')
    data = make_images(root / 'images', 2)
    for name, write in ACCEPTED.items():
        write(data / name)
    for name, (write, _) in SKIPPED.items():
        write(data / name)
    for name in OTHER_FILES:
        (data / name).write_text('not an image')
    make_images(data / 'subfolder', 1)
    cfg = tiny_config(root / 'work', data)
    runner, err = _train(cfg)
    assert err is None, f'training on the odd folder failed: {err!r}'
    dataset = runner.train_dataloader.dataset
    shapes = {dataset.get_data_info(i)['gt_path']: tuple(dataset[i]['data_samples'].gt_img.shape)
              for i in range(len(dataset))}
    log = Path(runner.log_dir, f'{runner.timestamp}.log').read_text(encoding='utf-8')
    return SimpleNamespace(runner=runner, data=data, shapes=shapes, log=log,
                           checkpoint=Path(cfg.work_dir) / 'iter_2.pth')


def test_odd_folder_trains(odd_folder_run):
    assert odd_folder_run.runner.iter == 2
    assert odd_folder_run.checkpoint.is_file()
    assert len(odd_folder_run.shapes) == 2 + len(ACCEPTED)


@pytest.mark.parametrize('name', ACCEPTED)
def test_accepted_file_reaches_the_model(odd_folder_run, name):
    path = str(odd_folder_run.data / name)
    assert odd_folder_run.shapes[path] == (3, IM_SIZE, IM_SIZE)


@pytest.mark.parametrize('name', SKIPPED)
def test_unreadable_file_is_skipped_and_named(odd_folder_run, name):
    warning = re.search(r'skipped (\d+) of (\d+) image file\(s\).*?that cannot be read:\n'
                        r'((?:  .*\n)+)', odd_folder_run.log)
    assert warning, odd_folder_run.log[-3000:]
    assert int(warning.group(1)) == len(SKIPPED)
    line = next((line for line in warning.group(3).splitlines()
                 if line.startswith(f'  {name}: ')), None)
    assert line is not None, warning.group(3)
    assert re.search(SKIPPED[name][1], line), line
    assert str(odd_folder_run.data / name) not in odd_folder_run.shapes


def test_non_image_files_and_subfolders_are_ignored_with_one_line(odd_folder_run):
    log = odd_folder_run.log
    assert re.search(r"ignored 2 file\(s\) without an image extension .*'Thumbs.db', "
                     r"'notes.txt'", log)
    assert re.search(r"ignored 1 subfolder\(s\) .*'subfolder'.* because recursive=False", log)


def test_png_corrupt_behind_valid_crcs_is_skipped_while_training(tmp_path):
    data = make_images(tmp_path / 'images', 1)
    (data / 'corrupt_data.png').write_bytes(png_with_corrupt_data())
    cfg = tiny_config(tmp_path / 'work', data)  # batches of 2 of the 2 files: both drawn
    runner, err = _train(cfg)
    assert err is None, f'training stopped: {err!r}'
    assert runner.iter == 2
    assert len(runner.train_dataloader.dataset) == 2  # the build-time check passes it
    assert re.search(r"WARNING - LoadRGBImage: cannot read '[^']*corrupt_data.png': OSError: "
                     r'broken data stream.*another image is used in its place',
                     _log_text(runner))


# ------------------------------------------------------------------------ checkpoint cases
@pytest.fixture(scope='module')
def checkpoint(odd_folder_run):
    """A real runner checkpoint of the tiny model (ngf = ndf = 8), after 2 iterations."""
    return odd_folder_run.checkpoint


def test_load_from_missing_file(tmp_path, images):
    missing = tmp_path / 'no_such.pth'
    cfg = tiny_config(tmp_path / 'work', images, load_from=str(missing))
    fails_before_training(cfg, FileNotFoundError, re.escape(repr(str(missing))),
                          r'\(load_from\) does not exist', 'leave load_from unset')


def test_load_from_empty_file(tmp_path, images):
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    cfg = tiny_config(tmp_path / 'work', images, load_from=str(empty))
    fails_before_training(cfg, ValueError, re.escape(str(empty)), r'empty \(0 bytes\)',
                          'use another checkpoint')


def test_load_from_truncated_file(tmp_path, images, checkpoint):
    torn = tmp_path / 'torn.pth'
    data = checkpoint.read_bytes()
    torn.write_bytes(data[:len(data) * 2 // 3])
    cfg = tiny_config(tmp_path / 'work', images, load_from=str(torn))
    fails_before_training(cfg, ValueError, re.escape(str(torn)), 'is truncated or corrupt',
                          'use another checkpoint')


def test_load_from_another_architecture(tmp_path, images, checkpoint):
    cfg = tiny_config(tmp_path / 'work', images, load_from=str(checkpoint),
                      **{'model.discriminator.ndf': 16})
    fails_before_training(cfg, ValueError, re.escape(str(checkpoint)),
                          'does not fit this model', 'differ in shape',
                          'use the config it was trained with')


def test_load_from_a_file_that_is_not_a_runner_checkpoint(tmp_path, images):
    official = tmp_path / 'official.pth'
    torch.save({'g': {'init.init.0.weight': torch.zeros(2)}, 'd': {}}, official)
    cfg = tiny_config(tmp_path / 'work', images, load_from=str(official))
    fails_before_training(cfg, ValueError, 'holds none of the weights of this model',
                          'convert it first with '
                          'tools/model_converters/convert_official_checkpoint.py')


def test_resume_when_last_checkpoint_names_a_missing_file(tmp_path, images, checkpoint):
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'last_checkpoint').write_text(str(work / 'iter_9.pth'))
    cfg = tiny_config(work, images, resume=True)
    fails_before_training(cfg, FileNotFoundError, 'last_checkpoint', 'iter_9.pth',
                          'does not exist', 'resume from one of them with --resume PATH')


def test_resume_from_a_folder(tmp_path, images):
    cfg = tiny_config(tmp_path / 'work', images, resume=True, load_from=str(tmp_path))
    fails_before_training(cfg, IsADirectoryError, re.escape(str(tmp_path)), 'is a folder',
                          'give a .pth file')


def test_resume_with_a_changed_model(tmp_path, images, checkpoint):
    cfg = tiny_config(tmp_path / 'work', images, resume=True, load_from=str(checkpoint))
    cfg.model.ema_config = None  # the checkpoint holds generator_ema weights
    fails_before_training(cfg, ValueError, f'cannot resume from {re.escape(repr(str(checkpoint)))}',
                          r'weight\(s\) in it are not in the model', 'generator_ema')


# ------------------------------------------------------------------------ work-dir cases
def _log_text(runner):
    return Path(runner.log_dir, f'{runner.timestamp}.log').read_text(encoding='utf-8')


def test_new_run_in_a_work_dir_of_an_earlier_run_keeps_its_files(tmp_path, images,
                                                                checkpoint):
    work = tmp_path / 'work'
    work.mkdir()
    earlier = ['best_FID-Full_fid_iter_4.pth', 'iter_2.pth', 'iter_4.pth']
    for name in earlier:
        (work / name).write_bytes(checkpoint.read_bytes())
    (work / 'notes.txt').write_text('mine')
    cfg = tiny_config(work, images, **{'default_hooks.checkpoint.interval': 1})
    runner, err = _train(cfg)  # max_keep_ckpts=2: keeps its own iter_1.pth and iter_2.pth
    assert err is None
    assert sorted(p.name for p in work.glob('*.pth')) == sorted(earlier + ['iter_1.pth'])
    assert (work / 'notes.txt').read_text() == 'mine'
    replaced = torch.load(work / 'iter_2.pth', weights_only=True)['meta']['experiment_name']
    assert replaced == runner.experiment_name  # the file of the same name, as warned
    assert re.search(r'already holds 2 checkpoint\(s\) of an earlier run \(iter_2.pth, '
                     r'iter_4.pth\).*replaces files of the same name; use --resume',
                     _log_text(runner))


def test_resume_without_a_checkpoint_starts_from_scratch_with_a_warning(tmp_path, images):
    cfg = tiny_config(tmp_path / 'work', images, resume=True, **{'train_cfg.max_iters': 1})
    runner, err = _train(cfg)
    assert err is None and runner.iter == 1
    assert re.search(r"--resume \(resume=True\): '.*work' has no last_checkpoint, so "
                     'training starts from iteration 0', _log_text(runner))
