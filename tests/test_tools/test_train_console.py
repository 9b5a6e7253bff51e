"""What tools/train.py prints: the progress and the summary last, MMEngine's start-up blocks
(environment, config, hook table) and known upstream warnings only in the log file unless
``--verbose``."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tool_utils.demo_data import make_demo_images

REPO = Path(__file__).resolve().parents[2]
TINY = """
_base_ = '{base}'
data_root = '{data}'
train_dataloader = dict(batch_size=2, num_workers=0, dataset=dict(data_root=data_root))
val_dataloader = val_cfg = val_evaluator = None
test_dataloader = test_cfg = test_evaluator = None
model = dict(generator=dict(ngf=8, nz=16), discriminator=dict(ndf=8), rec_loss=dict(distance='l1'))
default_hooks = dict(checkpoint=dict(interval=2, save_best=None, rule=None))
train_cfg = dict(max_iters=2)
custom_hooks = []
"""
START_UP = ('System environment:', 'Config:', 'Hooks will be executed in the following order')
UPSTREAM = ('_register_pytree_node', 'pkg_resources', '"FileClient" will be deprecated')


def train(config, work, *options):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('PYTHONWARNINGS', None)  # the warnings must be silenced by the tool itself
    return subprocess.run([sys.executable, str(REPO / 'tools' / 'train.py'), str(config),
                           '--work-dir', str(work), *options],
                          capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.slow
def test_console_shows_progress_and_summary_last_and_verbose_shows_everything(tmp_path):
    make_demo_images(str(tmp_path / 'images'), 4, size=64)
    config = tmp_path / 'tiny.py'
    config.write_text(TINY.format(base=REPO / 'configs' / 'fastgan' / 'fastgan_256_obama.py',
                                  data=tmp_path / 'images'))

    quiet = train(config, tmp_path / 'quiet')
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    console = quiet.stdout + quiet.stderr
    for text in START_UP + UPSTREAM:
        assert text not in console, text
    assert 'Iter(train) [2/2]' in console and 'loss: ' in console
    assert '%|' not in console  # no report progress bars
    last = quiet.stdout.strip().splitlines()[-2:]
    assert last[0].endswith(f'Checkpoints, logs and samples are in {tmp_path / "quiet"}')
    assert last[1].endswith(f'Training report: {tmp_path / "quiet" / "report.html"}')
    log = next((tmp_path / 'quiet').glob('*/*.log')).read_text()
    for text in START_UP + ('"FileClient" will be deprecated',):
        assert text in log, text

    verbose = train(config, tmp_path / 'verbose', '--verbose', '--no-report')
    assert verbose.returncode == 0, verbose.stderr[-3000:]
    for text in START_UP:
        assert text in verbose.stdout, text
    assert verbose.stdout.strip().splitlines()[-1].endswith(
        f'Checkpoints, logs and samples are in {tmp_path / "verbose"}')
