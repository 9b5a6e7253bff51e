"""A tiny FastGAN config and checkpoint for the tool tests, a checkpoint that runs code, and
ways to run a tool."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.runner import save_checkpoint

from fastgan_plugin.apis import init_model

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools'

# configs/fastgan/fastgan_256_obama.py made tiny: narrow networks, short latent, L1 reconstruction.
TINY_CONFIG = f"""
_base_ = '{REPO / 'configs' / 'fastgan' / 'fastgan_256_obama.py'}'
model = dict(
    generator=dict(ngf=8, nz=16),
    discriminator=dict(ndf=8),
    rec_loss=dict(distance='l1'))
"""
CONDITIONAL_OPTIONS = """
model.update(generator=dict(ngf=8, nz=16, im_size=128, num_classes=2),
             discriminator=dict(ndf=8, im_size=128, num_classes=2))
pipeline = [dict(type='LoadRGBImage', key='gt'), dict(type='ResizeToSquare', key='gt', size=128),
            dict(type='PackInputs')]
train_dataloader = dict(dataset=dict(pipeline=pipeline, class_folders=True, num_classes=2))
val_dataloader = dict(dataset=dict(pipeline=pipeline, class_folders=True, num_classes=2))
test_dataloader = val_dataloader
"""


@pytest.fixture(scope='session')
def tiny_files(tmp_path_factory, trained_like):
    """(config, checkpoint) of a tiny FastGAN that behaves like a trained one: BatchNorm
    statistics of real batches, non-zero noise-injection weights (so samples depend on the
    injection noise) and EMA weights that differ from the raw ones."""
    folder = tmp_path_factory.mktemp('tiny_fastgan')
    config = folder / 'tiny_fastgan.py'
    config.write_text(TINY_CONFIG)
    model = init_model(str(config))
    trained_like(model)
    checkpoint = folder / 'tiny_fastgan.pth'
    save_checkpoint(dict(state_dict=model.state_dict(), meta=dict(iter=7)), str(checkpoint))
    return str(config), str(checkpoint)


@pytest.fixture(scope='session')
def tiny_conditional_files(tmp_path_factory, trained_like):
    """(config, checkpoint) of the tiny FastGAN at 128 px, class-conditional with the classes
    ``cat`` and ``dog`` (named in the checkpoint's ``dataset_meta``, as MMEngine saves them),
    behaving like a trained one."""
    folder = tmp_path_factory.mktemp('tiny_conditional')
    config = folder / 'tiny_conditional.py'
    config.write_text(TINY_CONFIG + CONDITIONAL_OPTIONS)
    model = init_model(str(config))
    trained_like(model)
    checkpoint = folder / 'tiny_conditional.pth'
    save_checkpoint(dict(state_dict=model.state_dict(),
                         meta=dict(iter=7, dataset_meta=dict(classes=('cat', 'dog')))),
                    str(checkpoint))
    return str(config), str(checkpoint)


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(f'tool_{name}', TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_tool(name: str, *args, cwd=None, env=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS='ignore', **(env or {}))
    return subprocess.run([sys.executable, str(TOOLS / f'{name}.py'), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


@pytest.fixture(scope='session')
def load_tool():
    """``load_tool(name)`` imports ``tools/<name>.py`` as a module, to call its
    ``main(argv)`` in this process (one import of mmagic for all calls)."""
    return _load_tool


@pytest.fixture(scope='session')
def run_tool():
    """``run_tool(name, *args, cwd=None, env=None)`` runs ``tools/<name>.py`` as a command,
    the way users do (``env``: extra environment variables), and returns the
    ``CompletedProcess`` (text output captured)."""
    return _run_tool


class _RunsCode:
    """Unpickling this creates the file ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker), ))


@pytest.fixture
def code_checkpoint(tmp_path):
    """``code_checkpoint(name, **entries)`` saves ``dict(entries, payload=...)`` as
    ``tmp_path / name``, a checkpoint that creates ``tmp_path / 'code_ran'`` when unpickled
    without ``weights_only=True``; returns its path."""
    def save(name: str, **entries) -> Path:
        torch.save(dict(entries, payload=_RunsCode(tmp_path / 'code_ran')), tmp_path / name)
        return tmp_path / name

    return save
