"""End to end through MMEngine's Runner with a real config of ours (tiny widths, 256 px):
train, validate with FID and KID, keep the best checkpoint, write sample and
reconstruction grids, then resume and continue with iteration and optimizer state.

The Inception network cannot be downloaded here: a small TorchScript network built by
``build_torchscript_feature_extractor`` stands in for it through ``inception_path``, the
same code path mmagic uses for the real file.
"""
import glob
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.runner import Runner
from PIL import Image

import fastgan_plugin  # noqa: F401
from fastgan_plugin.apis.config import load_config
from helpers.feature_extractor import offline_fid_kid_metrics

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = os.path.join(REPO, 'configs', 'fastgan', 'fastgan_256_obama.py')


def write_images(folder, count=6, size=256):
    os.makedirs(folder)
    rng = np.random.default_rng(0)
    for i in range(count):
        pixels = (rng.random((size // 8, size // 8, 3)) * 255).astype(np.uint8)
        Image.fromarray(pixels).resize((size, size)).save(os.path.join(folder, f'img {i}.png'))


def tiny_config(tmp_path, max_iters, resume=False):
    data_root = str(tmp_path / 'data')
    metrics = offline_fid_kid_metrics(str(tmp_path), num_subsets=4)
    loader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                  dataset=dict(data_root=data_root))
    options = {
        'model.generator.ngf': 8, 'model.generator.nz': 16, 'model.discriminator.ndf': 8,
        'model.rec_loss.distance': 'l1', 'model.rec_loss.loss_weight': 1.0,
        'train_dataloader': loader, 'val_dataloader': loader, 'test_dataloader': loader,
        'train_cfg.max_iters': max_iters, 'train_cfg.val_interval': 2,
        'val_evaluator.metrics': metrics, 'test_evaluator.metrics': metrics,
        'default_hooks.checkpoint.interval': 2, 'default_hooks.logger.interval': 1,
        'custom_hooks': [
            dict(type='VisualizationHook', interval=2, fixed_input=True, n_samples=4,
                 vis_kwargs_list=dict(type='GAN', name='fake_img', sample_model='ema')),
            dict(type='ReconstructionGridHook', interval=2, n_samples=2),
        ],
        'resume': resume,
    }
    return load_config(CONFIG, options, str(tmp_path / 'work'))


@pytest.mark.slow
def test_train_validate_best_checkpoint_and_resume(tmp_path):
    write_images(str(tmp_path / 'data'))
    runner = Runner.from_cfg(tiny_config(tmp_path, max_iters=4))
    runner.train()

    work = tmp_path / 'work'
    assert (work / 'iter_2.pth').is_file() and (work / 'iter_4.pth').is_file()
    best = glob.glob(str(work / 'best_FID-Full_fid_iter_*.pth'))
    assert len(best) == 1
    fid = runner.message_hub.get_scalar('val/FID-Full/fid').current()
    kid = runner.message_hub.get_scalar('val/KID-Full/kid_x1e3').current()
    assert np.isfinite(fid) and np.isfinite(kid)
    vis = glob.glob(str(work / '*' / 'vis_data' / 'vis_image' / '*.png'))
    names = {os.path.basename(p) for p in vis}
    assert any(n.startswith('reconstruction') for n in names), names
    assert any('fake_img' in n for n in names), names
    grid = Image.open(next(p for p in vis if 'reconstruction' in os.path.basename(p)))
    assert grid.size == (5 * 130 + 2, 2 * 130 + 2)  # 5 columns x 2 images, 128 px + padding
    checkpoint = torch.load(work / 'iter_4.pth', map_location='cpu', weights_only=True)
    assert checkpoint['meta']['iter'] == 4
    assert {'generator', 'discriminator'} <= set(checkpoint['optimizer'])

    resumed = Runner.from_cfg(tiny_config(tmp_path, max_iters=6, resume=True))
    resumed.train()
    assert resumed.iter == 6
    for name in ('generator', 'discriminator'):
        state = resumed.optim_wrapper[name].optimizer.state_dict()['state']
        assert int(next(iter(state.values()))['step']) == 6, name  # 4 restored + 2 new

    # tools/test.py evaluates the best checkpoint with the config's test metrics
    config_file = tmp_path / 'tiny_fastgan.py'
    resumed.cfg.dump(str(config_file))
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, 'tools', 'test.py'), str(config_file), best[0],
         '--work-dir', str(tmp_path / 'test')],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(': ', 1) for line in result.stdout.splitlines() if ': ' in line)
    assert np.isfinite(float(lines['FID-Full/fid']))
    assert np.isfinite(float(lines['KID-Full/kid_x1e3']))
