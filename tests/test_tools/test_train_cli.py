"""tools/train.py as users run it: config mistakes end in one line naming the key before
anything is built, ``num_workers=0`` trains, and ``--resume`` without a value continues
from the work dir's last checkpoint (or starts fresh, saying so)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tool_utils.demo_data import make_demo_images

REPO = Path(__file__).resolve().parents[2]
OBAMA = REPO / 'configs' / 'fastgan' / 'fastgan_256_obama.py'
TINY = """
_base_ = '{base}'
data_root = '{data}'
train_dataloader = dict(batch_size=2, dataset=dict(data_root=data_root))
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
model = dict(generator=dict(ngf=8, nz=16), discriminator=dict(ndf=8), rec_loss=dict(distance='l1'))
default_hooks = dict(checkpoint=dict(interval=1, save_best=None, rule=None))
custom_hooks = []
"""


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory):
    root = tmp_path_factory.mktemp('train_cli')
    make_demo_images(str(root / 'images'), 4, size=64)
    config = root / 'tiny.py'
    config.write_text(TINY.format(base=OBAMA, data=root / 'images'))
    return config


def train(*args):
    return subprocess.run([sys.executable, str(REPO / 'tools' / 'train.py'), *map(str, args)],
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore'))


@pytest.mark.parametrize('option, message', [
    ('trian_cfg.max_iters=3', "unknown key 'trian_cfg': did you mean 'train_cfg'?"),
    ('train_cfg.max_iters=0', 'train_cfg.max_iters must be a positive int, got 0'),
    ('default_hooks.checkpoint.intervall=1', "unknown key 'default_hooks.checkpoint.intervall'"
     ": did you mean 'default_hooks.checkpoint.interval'?"),
])
def test_a_config_mistake_ends_in_one_line_before_anything_is_built(tiny_config, tmp_path,
                                                                     option, message):
    result = train(tiny_config, '--work-dir', tmp_path / 'work', '--cfg-options', option)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f'train.py: error: {message} (--debug shows the traceback)')
    assert 'Traceback' not in result.stderr
    assert not (tmp_path / 'work').exists()


@pytest.mark.slow
def test_num_workers_0_trains_and_resume_continues_from_the_last_checkpoint(tiny_config,
                                                                             tmp_path):
    work = tmp_path / 'work'
    first = train(tiny_config, '--work-dir', work, '--resume', '--no-report',
                  '--cfg-options', 'train_dataloader.num_workers=0', 'train_cfg.max_iters=1')
    log = first.stdout + first.stderr
    assert first.returncode == 0, log[-3000:]
    assert f'--resume: no checkpoint in {work}: training from the start' in log
    assert (work / 'iter_1.pth').is_file()

    second = train(tiny_config, '--work-dir', work, '--resume', '--allow-data-change',
                   '--no-report', '--cfg-options', 'train_cfg.max_iters=2')
    log = second.stdout + second.stderr
    assert second.returncode == 0, log[-3000:]
    assert re.search(r'resumed epoch: \d+, iter: 1', log), log[-3000:]
    assert (work / 'iter_2.pth').is_file()
    assert 'allow_data_change=True' in (work / 'tiny.py').read_text()  # the dumped config
