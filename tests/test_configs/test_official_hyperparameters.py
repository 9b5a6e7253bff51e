"""Every shipped dataset config (and its ``_official`` twin) trains with the official FastGAN
hyperparameters.

The values are read from the resolved configs (``_base_`` inheritance applied), so the test
holds however the configs are arranged. Official (FastGAN-pytorch ``train.py``): batch 8,
Adam lr 2e-4 with betas (0.5, 0.999) for both networks, 50k iterations, DiffAugment
'color,translation', EMA decay 0.999 (momentum 0.001).
"""
from pathlib import Path

import pytest
from mmengine import Config

import fastgan_plugin  # noqa: F401  (resolves the configs' fastgan_plugin:: paths)

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs' / 'fastgan'
ADAM = ('Adam', 2e-4, (0.5, 0.999))

# config: (im_size, batch size, G optimiser, D optimiser, iterations, DiffAugment, EMA momentum)
OFFICIAL = {
    'fastgan_1024_anime_faces.py': (1024, 8, ADAM, ADAM, 50000, 'color,translation', 0.001),
    'fastgan_1024_art_paintings.py': (1024, 8, ADAM, ADAM, 50000, 'color,translation', 0.001),
    'fastgan_1024_ffhq_1k.py': (1024, 8, ADAM, ADAM, 50000, 'color,translation', 0.001),
    'fastgan_1024_flowers.py': (1024, 8, ADAM, ADAM, 50000, 'color,translation', 0.001),
    'fastgan_1024_pokemon.py': (1024, 8, ADAM, ADAM, 50000, 'color,translation', 0.001),
    'fastgan_1024_shells.py': (1024, 8, ADAM, ADAM, 50000, 'color,translation', 0.001),
    'fastgan_1024_skulls.py': (1024, 8, ADAM, ADAM, 50000, 'color,translation', 0.001),
    'fastgan_256_animalface_cat.py': (256, 8, ADAM, ADAM, 50000, 'color,translation', 0.001),
    'fastgan_256_animalface_dog.py': (256, 8, ADAM, ADAM, 50000, 'color,translation', 0.001),
    'fastgan_256_grumpy_cat.py': (256, 8, ADAM, ADAM, 50000, 'color,translation', 0.001),
    'fastgan_256_obama.py': (256, 8, ADAM, ADAM, 50000, 'color,translation', 0.001),
    'fastgan_256_panda.py': (256, 8, ADAM, ADAM, 50000, 'color,translation', 0.001),
}


def optimiser(cfg, network):
    optimizer = cfg.optim_wrapper[network].optimizer
    return optimizer.type, optimizer.lr, tuple(optimizer.betas)


def hyperparameters(cfg):
    """The table's columns, read from a resolved config."""
    model = cfg.model
    assert model.generator.im_size == model.discriminator.im_size
    return (model.generator.im_size, cfg.train_dataloader.batch_size,
            optimiser(cfg, 'generator'), optimiser(cfg, 'discriminator'),
            cfg.train_cfg.max_iters, model.augment.policy, model.ema_config.momentum)


@pytest.mark.parametrize('variant', ['', '_official'])
@pytest.mark.parametrize('name', sorted(OFFICIAL))
def test_dataset_config_has_the_official_hyperparameters(name, variant):
    """Each dataset config and its official-recipe twin (``<name>_official.py``)."""
    cfg = Config.fromfile(str(CONFIG_DIR / name.replace('.py', f'{variant}.py')))
    assert hyperparameters(cfg) == OFFICIAL[name]


def test_the_table_names_the_twelve_shipped_dataset_configs():
    shipped = {path.name for size in (256, 1024)
               for path in CONFIG_DIR.glob(f'fastgan_{size}_*.py')}
    assert len(OFFICIAL) == 12 and set(OFFICIAL) <= shipped
