"""RGBA and grey end to end, through the real runner: an RGBA FastGAN learns the alpha of its
training set (transparent corners, opaque centre), which its initial generator does not
have; a grey config trains, evaluates and writes grey PNGs.

Measured (seed 0, 1 thread, mean alpha in [-1, 1] of 8 EMA samples, corners / centre):
before training -0.03 / -0.04; after 20, 40, 60 iterations -0.03 / -0.04, -0.37 / 0.66,
-0.76 / 0.63. At the demo's learning rate 2e-4 and batch 4, 120 iterations reach only
-0.53 / 0.48, hence the test's higher rate and smaller batch (half the time per iteration).
Measured with the demo recipe of that time, which ``RECIPE`` keeps (official decoder widths,
DiffAugment colour and translation) over the demo config's later values.
"""
from pathlib import Path

import numpy as np
import torch
from mmengine.runner import Runner
from PIL import Image, ImageDraw

import fastgan_plugin  # noqa: F401
from fastgan_plugin.apis import generate_to_folder, sample_images
from fastgan_plugin.apis.config import load_config

REPO = Path(__file__).resolve().parents[2]
RGBA_CONFIG = REPO / 'configs' / 'fastgan' / 'fastgan_demo_cpu_rgba.py'
RGBA_ITERS = 60
RGBA_LR = 1e-3  # G and D
# After training the corners' mean alpha must be below -ALPHA_MARGIN (transparent) and the
# centre's above +ALPHA_MARGIN (opaque); the initial generator's alpha is near 0 everywhere.
ALPHA_MARGIN = 0.5
PATCH = 12  # side of the corner and centre patches, in pixels
RECIPE = {'model.discriminator.decoder_width': 1.0, 'model.augment.policy': 'color,translation'}


def disc_images(folder: Path, count: int, mode: str) -> None:
    """``count`` 128 px PNGs: a disc of a random colour on a transparent background (RGBA),
    or a grey disc on black (``mode='L'``)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        image = Image.new(mode, (128, 128), 0)
        centre, radius = 64 + rng.integers(-4, 5, 2), rng.integers(34, 44)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        ImageDraw.Draw(image).ellipse([*(centre - radius), *(centre + radius)],
                                      fill=(*colour, 255) if mode == 'RGBA' else colour[0] | 64)
        image.save(folder / f'{index}.png')


def corner_and_centre_alpha(model) -> tuple:
    """Mean alpha in [-1, 1] of 8 EMA samples: over the four corner patches, over the centre."""
    alpha = sample_images(model, seeds=range(8))[:, 3]
    corners = torch.stack([alpha[:, :PATCH, :PATCH], alpha[:, :PATCH, -PATCH:],
                           alpha[:, -PATCH:, :PATCH], alpha[:, -PATCH:, -PATCH:]])
    middle = slice(64 - PATCH // 2, 64 + PATCH // 2)
    return corners.mean().item(), alpha[:, middle, middle].mean().item()


def tiny_options(data_root: Path, iters: int) -> dict:
    return {
        'train_dataloader.dataset.data_root': str(data_root),
        'val_dataloader.dataset.data_root': str(data_root),
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'model.generator.ngf': 8,
        'model.generator.nz': 32,
        'model.discriminator.ndf': 8,
        'train_cfg.max_iters': iters,
        'train_cfg.val_interval': iters,
        'default_hooks.checkpoint.interval': iters,
        'default_hooks.logger.interval': iters,
    }


def test_rgba_samples_learn_the_alpha_of_the_set(tmp_path):
    torch.set_num_threads(1)
    disc_images(tmp_path / 'data', 12, 'RGBA')
    options = tiny_options(tmp_path / 'data', RGBA_ITERS)
    options.update(RECIPE)
    options.update({'train_dataloader.batch_size': 2, 'val_cfg': None, 'val_dataloader': None,
                    'val_evaluator': None, 'optim_wrapper.generator.optimizer.lr': RGBA_LR,
                    'optim_wrapper.discriminator.optimizer.lr': RGBA_LR})
    options['custom_hooks'] = [dict(type='VisualizationHook', interval=RGBA_ITERS,
                                    fixed_input=True, n_samples=4,
                                    vis_kwargs_list=dict(type='GAN', name='fake_img',
                                                         sample_model='ema'))]
    runner = Runner.from_cfg(load_config(str(RGBA_CONFIG), options, str(tmp_path / 'work')))
    corners_before, centre_before = corner_and_centre_alpha(runner.model.eval())
    runner.train()
    corners, centre = corner_and_centre_alpha(runner.model.eval())
    measured = dict(before=(corners_before, centre_before), after=(corners, centre))
    assert not (corners_before < -ALPHA_MARGIN and centre_before > ALPHA_MARGIN), measured
    assert corners < -ALPHA_MARGIN and centre > ALPHA_MARGIN, measured
    # The visualizer shows the RGBA samples over a checkerboard: two grey levels in a corner.
    grid, = (tmp_path / 'work').glob(f'*/vis_data/vis_image/fake_img_{RGBA_ITERS}.png')
    corner = np.asarray(Image.open(grid).convert('RGB'))[4:20, 4:20].astype(int)
    assert len(np.unique(corner[..., 0] // 20)) == 2, np.unique(corner)
    assert np.abs(corner - corner.mean(2, keepdims=True)).max() < 40  # grey, not colours


def test_grey_config_trains_evaluates_and_writes_grey_pngs(tmp_path):
    torch.set_num_threads(1)
    disc_images(tmp_path / 'data', 4, 'L')
    config = tmp_path / 'grey.py'
    config.write_text(
        f"_base_ = '{REPO / 'configs' / 'fastgan' / 'fastgan_demo_cpu.py'}'\n"
        'img_channels = 1\n'
        'model = dict(data_preprocessor=dict(mean=127.5, std=127.5),\n'
        '             generator=dict(img_channels=img_channels),\n'
        '             discriminator=dict(img_channels=img_channels))\n'
        'load_image = dict(_base_.load_image, img_channels=img_channels)\n'
        'train_pipeline = [load_image, _base_.resize, _base_.flip, _base_.pack]\n'
        'val_pipeline = [load_image, _base_.resize, _base_.pack]\n'
        'train_dataloader = dict(dataset=dict(pipeline=train_pipeline))\n'
        'val_dataloader = dict(dataset=dict(pipeline=val_pipeline))\n')
    options = tiny_options(tmp_path / 'data', 2)
    options['custom_hooks'] = [dict(type='VisualizationHook', interval=2, n_samples=4,
                                    vis_kwargs_list=dict(type='GAN', name='fake_img')),
                               dict(type='ReconstructionGridHook', interval=2, n_samples=2)]
    runner = Runner.from_cfg(load_config(str(config), options, str(tmp_path / 'work')))
    runner.train()
    assert np.isfinite(runner.message_hub.get_scalar('val/SWD/avg').current())
    paths = generate_to_folder(runner.model.eval(), str(tmp_path / 'generated'), range(3))
    for path in paths:
        with Image.open(path) as image:
            assert image.mode == 'L' and image.size == (128, 128)
    assert len(list((tmp_path / 'work').glob('*/vis_data/vis_image/*_2.png'))) == 2
