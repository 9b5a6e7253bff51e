"""A tiny FastGAN model for the API tests."""
from pathlib import Path

import pytest

from fastgan_plugin.apis import init_model

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / 'configs' / 'fastgan' / 'fastgan_256_obama.py')
# configs/fastgan/fastgan_256_obama.py made tiny: narrow networks and a short latent.
TINY_OPTIONS = {'model.generator.ngf': 8, 'model.generator.nz': 16, 'model.discriminator.ndf': 8}
CONDITIONAL_OPTIONS = {'model.generator.im_size': 128, 'model.discriminator.im_size': 128,
                       'model.generator.num_classes': 2, 'model.discriminator.num_classes': 2}


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


@pytest.fixture(scope='module')
def tiny_conditional_model(trained_like):
    """The tiny FastGAN at 128 px, class-conditional with the classes ``cat`` and ``dog`` (as
    a checkpoint's ``dataset_meta`` names them), behaving like a trained one."""
    model = init_model(CONFIG, cfg_options=dict(TINY_OPTIONS, **CONDITIONAL_OPTIONS))
    trained_like(model)
    model.dataset_meta = dict(classes=('cat', 'dog'))
    return model
