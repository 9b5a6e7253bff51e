"""Resuming is exact: 2N iterations straight = N iterations, resume, N more.

Seeded, deterministic mode, on the CPU, with a data-loader worker (as every FastGAN
config has). What made resumed runs differ, and is fixed by ``RNGStateHook``:
MMEngine checkpoints do not hold the RNG states, so a resumed run drew other noise,
DiffAugment parameters, hinge margins and quadrants than the straight one. The sampler
position is restored by MMEngine itself (it re-draws the skipped batches).
"""
import pytest
import torch
from mmengine.runner import Runner
from reliability_helpers import load_checkpoint, make_images, tiny_config

from fastgan_plugin.utils.model import unwrap_model

N = 2


def _config(work_dir, data, max_iters, **options):
    return tiny_config(work_dir, data, **{
        'train_cfg.max_iters': max_iters,
        'default_hooks.checkpoint.interval': N,
        'default_hooks.checkpoint.max_keep_ckpts': -1,
        'train_dataloader.num_workers': 1,
        'train_dataloader.persistent_workers': True,
        'randomness.seed': 0,
        'randomness.deterministic': True,
        **options
    })


def _train(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def _state(runner):
    return dict(model=unwrap_model(runner.model).state_dict(),
                optimizer=runner.optim_wrapper.state_dict())


def _differences(a, b, prefix=''):
    """Paths where two nested states differ (tensors compared exactly)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return [] if torch.equal(torch.as_tensor(a), torch.as_tensor(b)) else [prefix]
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f'{prefix} (keys)']
        return [d for k in a for d in _differences(a[k], b[k], f'{prefix}.{k}')]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return [f'{prefix} (length)']
        return [d for i, (x, y) in enumerate(zip(a, b))
                for d in _differences(x, y, f'{prefix}[{i}]')]
    return [] if a == b else [prefix]


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp('determinism')
    data = make_images(root / 'images', 6)
    straight = _state(_train(_config(root / 'straight', data, 2 * N)))
    _train(_config(root / 'resumed', data, N))
    checkpoint = root / 'resumed' / f'iter_{N}.pth'
    resumed_runner = _train(_config(root / 'resumed', data, 2 * N, resume=True))
    return dict(root=root, data=data, straight=straight, checkpoint=checkpoint,
                resumed_runner=resumed_runner, resumed=_state(resumed_runner))


def test_checkpoint_holds_rng_states_loadable_with_weights_only(runs):
    meta = load_checkpoint(runs['checkpoint'])['meta']
    (state, ) = meta['rng_states']  # one process
    assert state['torch'].dtype == torch.uint8 and state['numpy']['keys'].numel() == 624


def test_resumed_run_equals_the_straight_run(runs):
    assert runs['resumed_runner'].iter == 2 * N
    model = runs['straight']['model']
    assert any(k.startswith('generator_ema.') for k in model)
    assert any(k.startswith('discriminator.') for k in model)
    assert set(runs['straight']['optimizer']) == {'generator', 'discriminator'}
    assert _differences(runs['straight'], runs['resumed']) == []


def test_without_the_rng_states_the_resumed_run_differs(runs):
    """The control: resuming the same checkpoint without restoring the RNG states."""
    cfg = _config(runs['root'] / 'control', runs['data'], 2 * N, resume=True,
                  load_from=str(runs['checkpoint']))
    del cfg.default_hooks['rng_state']  # MMEngine accepts None for its own hooks only
    control = _train(cfg)
    differences = _differences(runs['straight'], _state(control))
    assert any(d.startswith('.model.generator.') for d in differences)
