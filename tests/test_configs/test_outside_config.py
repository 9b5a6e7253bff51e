"""A user's config in another project inherits ours with ``fastgan_plugin::`` and trains."""
import os
import subprocess
import sys

import numpy as np
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

USER_CONFIG = """
_base_ = 'fastgan_plugin::fastgan/fastgan_1024_pokemon.py'

# the user's own data and a smaller, quicker variant of our Pokemon config
data_root = '{data_root}'
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(data_root=data_root))
val_dataloader = None
val_cfg = None
val_evaluator = None
model = dict(
    generator=dict(ngf=8, nz=16),
    discriminator=dict(ndf=8),
    rec_loss=dict(distance='lpips', pretrained=False))  # no VGG download here
train_cfg = dict(max_iters=1)
default_hooks = dict(checkpoint=dict(interval=1, save_best=None, rule=None))
custom_hooks = []
"""


def test_user_config_outside_the_repository_inherits_and_trains(tmp_path):
    project = tmp_path / 'my_project'
    data = tmp_path / 'my images'
    project.mkdir()
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray((rng.random((64, 48, 3)) * 255).astype(np.uint8)).save(data / f'{i}.jpg')
    (project / 'my_fastgan.py').write_text(USER_CONFIG.format(data_root=data))

    result = subprocess.run(
        [sys.executable, os.path.join(REPO, 'tools', 'train.py'), 'my_fastgan.py',
         '--work-dir', str(tmp_path / 'work')],
        cwd=project, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert 'Failed to search registry' not in log
    assert (tmp_path / 'work' / 'iter_1.pth').is_file()
    dumped = (tmp_path / 'work' / 'my_fastgan.py').read_text()
    assert 'im_size=1024' in dumped and 'ngf=8' in dumped  # ours, with the user's overrides
