"""Shared pytest fixtures.

The official-format checkpoints live outside the repository, in ``../shared/fixtures/official``
(beside the checkout, as on developers' machines and in CI); ``FASTGAN_FIXTURES`` overrides
the location. A missing folder fails the tests that need it instead of skipping them.
"""
import os
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='session')
def official_fixture_dir() -> Path:
    default = REPO_ROOT.parent / 'shared' / 'fixtures' / 'official'
    path = Path(os.environ.get('FASTGAN_FIXTURES', default))
    if not (path / 'fastgan_official_256_ngf8.pth').is_file():
        pytest.fail(f'official FastGAN fixtures not found in {path}: set FASTGAN_FIXTURES to '
                    'the folder holding fastgan_official_*_ngf8.pth')
    return path


def _settle_batch_norm(generator: torch.nn.Module, noise_size: int) -> None:
    """Give BatchNorm the statistics of a training batch (a fresh network's running
    statistics, mean 0 and variance 1, let eval-mode activations saturate, and then tiny
    rounding differences between batch sizes flip pixels)."""
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average: after one batch, that batch's statistics
    generator.train()
    generator(torch.randn(16, noise_size))
    generator.eval()
    for norm in norms:
        norm.momentum = 0.1


def make_trained_like(model: torch.nn.Module) -> None:
    """Make a fresh tiny FastGAN behave like a trained one, in place: BatchNorm statistics
    of real batches, non-zero noise-injection weights (so samples depend on the injection
    noise) and EMA weights that differ from the raw ones."""
    from fastgan_plugin.models.editors.fastgan.modules import NoiseInjection

    torch.manual_seed(0)
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, NoiseInjection):
                layer.weight.fill_(0.5)
        for parameter in model.generator_ema.parameters():
            parameter.add_(0.01 * torch.randn_like(parameter))
        for generator in (model.generator, model.generator_ema.module):
            _settle_batch_norm(generator, model.noise_size)


@pytest.fixture(scope='session')
def trained_like():
    """:func:`make_trained_like`, for the fixtures that build tiny models."""
    return make_trained_like
