"""A tiny FastGAN model for the API tests."""
from pathlib import Path

import pytest

from fastgan_plugin.apis import init_model

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / 'configs' / 'fastgan' / 'fastgan_256_obama.py')
# configs/fastgan/fastgan_256_obama.py made tiny: narrow networks and a short latent.
TINY_OPTIONS = {'model.generator.ngf': 8, 'model.generator.nz': 16, 'model.discriminator.ndf': 8}


@pytest.fixture(scope='session')
def tiny_config():
    """(config path, cfg_options) of the tiny model."""
    return CONFIG, dict(TINY_OPTIONS)


@pytest.fixture(scope='module')
def tiny_model(tiny_config, trained_like):
    """A tiny FastGAN that behaves like a trained one: BatchNorm statistics of real batches,
    non-zero noise-injection weights (so samples depend on the injection noise) and EMA
    weights that differ from the raw ones."""
    model = init_model(tiny_config[0], cfg_options=tiny_config[1])
    trained_like(model)
    return model
