"""Each checkpoint records the training images (count, a digest, names and sizes); a resume
on images that changed is refused before training, naming what changed, unless
``default_hooks.checkpoint_check.allow_data_change=True`` (``--allow-data-change``)."""
import shutil
from pathlib import Path

import pytest
from mmengine.runner import Runner
from reliability_helpers import load_checkpoint, make_images, tiny_config


def _runner(work, images, **options):
    return Runner.from_cfg(tiny_config(work, images, **options))


def test_a_resume_on_changed_images_is_refused_or_warned_about(tmp_path):
    images = make_images(tmp_path / 'images', 4)
    work = tmp_path / 'work'
    _runner(work, images).train()
    record = load_checkpoint(work / 'iter_2.pth')['meta']['train_data']
    assert record['count'] == 4 and record['files'][0] == 'scene_000.png'

    (images / 'scene_000.png').unlink()
    shutil.copy(images / 'scene_001.png', images / 'added_1.png')
    shutil.copy(images / 'scene_002.png', images / 'added_2.png')
    runner = _runner(work, images, resume=True, **{'train_cfg.max_iters': 3})
    with pytest.raises(ValueError) as info:
        runner.train()
    assert runner.iter == 2  # resumed, not trained
    message = str(info.value)
    assert (f'the training images changed since the checkpoint ({work}/iter_2.pth) was '
            'written: 4 -> 5 file(s): 2 added (added_1.png, added_2.png), 1 removed '
            '(scene_000.png)') in message
    assert 'pass --allow-data-change (default_hooks.checkpoint_check.allow_data_change=True)' \
        in message

    runner = _runner(work, images, resume=True, **{
        'train_cfg.max_iters': 3, 'default_hooks.checkpoint_check.allow_data_change': True})
    runner.train()
    assert runner.iter == 3
    log = Path(runner.log_dir, f'{runner.timestamp}.log').read_text(encoding='utf-8')
    assert '2 added (added_1.png, added_2.png), 1 removed (scene_000.png); resuming anyway' in log
