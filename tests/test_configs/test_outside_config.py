"""A user's config in another folder inherits ours and trains with plain MMEngine: a script
that does what mmagic's tools/train.py does (``Config.fromfile``, work dir,
``Runner.from_cfg(cfg).train()``), no fastgan_plugin helper."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from helpers.feature_extractor import offline_fid_kid_metrics

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The user's data folder set the MMEngine way (the three dataloader keys), tiny networks,
# 2 iterations, FID and KID at the end with a stand-in Inception (no download).
USER_CONFIG = """
_base_ = '{base}'

data_root = '{data_root}'
train_dataloader = dict(batch_size=2, num_workers=0, dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = dict(dataset=dict(data_root=data_root))
model = dict(
    generator=dict(ngf=8, nz=16),
    discriminator=dict(ndf=8),
    rec_loss=dict(distance='lpips', pretrained=False))  # no VGG download here
train_cfg = dict(max_iters=2, val_interval=1000)
val_evaluator = dict(metrics={metrics!r})
default_hooks = dict(checkpoint=dict(interval=2))
custom_hooks = []
"""

# mmagic's tools/train.py, reduced to what it does with this config.
TRAIN_SCRIPT = """
import sys
{import_line}
from mmengine.config import Config
from mmengine.runner import Runner

cfg = Config.fromfile(sys.argv[1])
cfg.work_dir = sys.argv[2]
Runner.from_cfg(cfg).train()
"""


def _user_project(tmp_path, base, import_line):
    project, data = tmp_path / 'my_project', tmp_path / 'my images'
    project.mkdir()
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray((rng.random((300, 260, 3)) * 255).astype(np.uint8)).save(data / f'{i}.jpg')
    metrics = offline_fid_kid_metrics(str(tmp_path / 'metrics'), num_subsets=2)
    (project / 'my_fastgan.py').write_text(USER_CONFIG.format(base=base, data_root=data,
                                                              metrics=metrics))
    (project / 'train.py').write_text(TRAIN_SCRIPT.format(import_line=import_line))
    return project


def _train(project, work_dir):
    return subprocess.run([sys.executable, 'train.py', 'my_fastgan.py', str(work_dir)],
                          cwd=project, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore'))


@pytest.mark.slow
@pytest.mark.parametrize('base, import_line', [
    # fastgan_plugin:: paths resolve once the package is imported (it registers itself in
    # MMEngine's MODULE2PACKAGE), so the script imports it before reading the config ...
    ('fastgan_plugin::fastgan/fastgan_256_obama.py', 'import fastgan_plugin'),
    # ... while a base given by its file needs no import: custom_imports registers all.
    (os.path.join(REPO, 'configs', 'fastgan', 'fastgan_256_obama.py'), ''),
], ids=['package_path', 'file_path_no_import'])
def test_user_config_inherits_and_trains_with_plain_mmengine(tmp_path, base, import_line):
    project = _user_project(tmp_path, base, import_line)
    result = _train(project, tmp_path / 'work')
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert 'Failed to search registry' not in log  # the fastgan_plugin scope has its registries
    assert f"FewShotImageDataset: 3 images in '{tmp_path / 'my images'}'" in log
    assert re.search(r'FID-Full/fid: \S+.*KID-Full/kid_x1e3: \S+', log), log[-3000:]
    assert (tmp_path / 'work' / 'iter_2.pth').is_file()
    assert list((tmp_path / 'work').glob('best_FID-Full_fid_iter_2.pth'))
    dumped = (tmp_path / 'work' / 'my_fastgan.py').read_text()
    assert 'im_size=256' in dumped and 'ngf=8' in dumped  # ours, with the user's overrides


def test_without_the_import_mmengine_does_not_know_the_package(tmp_path):
    """Why the README tells scripts to import fastgan_plugin before Config.fromfile."""
    config = tmp_path / 'my_fastgan.py'
    config.write_text("_base_ = 'fastgan_plugin::fastgan/fastgan_256_obama.py'\n")
    code = f'from mmengine.config import Config; Config.fromfile({str(config)!r})'
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode != 0
    assert 'mmengine does not support to load fastgan_plugin config' in result.stderr
