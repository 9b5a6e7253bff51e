"""Training learns: the demo config at tiny widths, through the real runner on the real
demo images (OpenMoji faces), must bring the EMA samples closer to the training images
(SWD, a validation metric of the run) than the initial generator is, with samples that
differ between seeds.

Measured (150 iterations, SWD x1e3 before -> after training, std across seeds):

- seed 0: 243.6 -> 143.1 (a drop of 100.5), 0.31; seed 1: 236.6 -> 131.7 (104.9), 0.30;
  seed 2: 241.1 -> 132.2 (109.0), 0.23;
- broken, seed 0: generator learning rate 0: 243.6 -> 192.1 (51.4: the EMA's BatchNorm
  statistics still move from their initial values), 0.18; generator loss sign flipped:
  243.6 -> 219.4 (24.1), 0.19; the old EMA (no ramp-up, averaged BatchNorm statistics):
  243.6 -> 485.7 (-242.2), 2e-5;
- bf16 autocast, seed 0 (native bf16 on the AVX512-BF16 CPU it ran on): 243.6 -> 133.1
  (110.5), 0.31: it learns as well as fp32.

The margin, 75, lies between the working runs' drops and the largest broken one.
``learning_run`` is also what those runs call (see the closing note of issue 10).

Those numbers are for the recipe of the demo before issue 22 (101 faces, lr 2e-4, DiffAugment
colour and translation, official decoder widths), which ``RECIPE`` keeps. The demo's faster
recipe (61 faces, lr 5e-4, translation only, quarter-width decoders) learns faces later: at
150 iterations its drops were 69.0, 69.3 and 91.5 (seeds 0-2) against 69.9 with the
generator's learning rate at 0 (the EMA's BatchNorm statistics move either way), so it
cannot tell learning from a broken generator that early. At 800 iterations (this module
with the demo's own recipe, 1 thread) seed 0 learnt (244.2 -> 46.4, std 0.29; the generator
at learning rate 0: 203.7) but seeds 1 and 2 had not started (240.1 and 585.3, grey samples):
the discriminator's losses reached about 0 by iteration 200. Seed 2, resumed, started learning
between iterations 1200 and 1400. A test on that recipe would fail by chance, so this one keeps
the calibrated recipe; docs/benchmarks.md, "A slow start", has the measurements.
"""
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest
import torch
from mmengine.runner import Runner

import fastgan_plugin  # noqa: F401
from fastgan_plugin.apis import sample_images
from fastgan_plugin.apis.config import load_config

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tools' / 'dataset_converters'))
from openmoji import FACE_RANGES, render_openmoji  # noqa: E402

ALL_FACES = tuple(code for first, last in FACE_RANGES for code in range(first, last + 1))
# The calibrated recipe (module docstring), over the demo config's own values.
RECIPE = {
    'model.discriminator.decoder_width': 1.0,
    'model.augment.policy': 'color,translation',
    'optim_wrapper.generator.optimizer.lr': 2e-4,
    'optim_wrapper.discriminator.optimizer.lr': 2e-4,
}

ITERS = 150
# SWD (x1e3) must fall by at least this much; measured drops: see the module docstring.
MIN_SWD_DROP = 75.0
# Std across seeds of the EMA samples in [-1, 1]: the training images have 0.26, the
# grey samples of issue 10 had 2e-5.
MIN_SEED_STD = 0.05


def learning_run(work_dir: Path, seed: int = 0, options: Optional[dict] = None,
                 amp: Optional[str] = None) -> Dict[str, float]:
    """Train the demo config at tiny widths for ``ITERS`` iterations.

    Returns:
        dict: ``swd_initial`` (EMA = initial generator), ``swd_final`` (the run's
        validation at its last iteration), ``seed_std`` (std across 8 seeds of the final
        EMA samples, in [-1, 1]).
    """
    data_root = str(work_dir / 'data')
    render_openmoji(data_root, size=128, codepoints=ALL_FACES)
    cfg_options = {
        **RECIPE,
        'train_dataloader.dataset.data_root': data_root,
        'val_dataloader.dataset.data_root': data_root,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0,
        'model.generator.ngf': 8,
        'model.generator.nz': 32,
        'model.discriminator.ndf': 8,
        'train_cfg.max_iters': ITERS,
        'train_cfg.val_interval': ITERS,
        'randomness.seed': seed,
        'custom_hooks': [],
    }
    cfg_options.update(options or {})
    cfg = load_config(str(REPO / 'configs' / 'fastgan' / 'fastgan_demo_cpu.py'), cfg_options,
                      str(work_dir))
    if amp is not None:
        from fastgan_plugin.apis.config import enable_amp
        enable_amp(cfg, amp)
    runner = Runner.from_cfg(cfg)
    runner.val()  # before any update: the EMA generator is the initial generator
    swd_initial = runner.message_hub.get_scalar('val/SWD/avg').current()
    runner.train()
    swd_final = runner.message_hub.get_scalar('val/SWD/avg').current()
    model = runner.model.eval()
    images = sample_images(model, seeds=range(8))  # (8, 3, R, R) in [-1, 1]
    return dict(swd_initial=swd_initial, swd_final=swd_final,
                seed_std=images.std(0).mean().item())


@pytest.mark.slow
def test_training_brings_ema_samples_closer_to_the_images(tmp_path):
    torch.set_num_threads(min(2, torch.get_num_threads()))
    result = learning_run(tmp_path)
    drop = result['swd_initial'] - result['swd_final']
    assert drop > MIN_SWD_DROP, f'SWD fell by {drop:.1f} only: {result}'
    assert result['seed_std'] > MIN_SEED_STD, f'samples barely differ across seeds: {result}'
