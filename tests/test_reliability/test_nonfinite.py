"""A NaN or Inf loss stops the run (or skips the update), and never reaches a checkpoint.

NaN is injected by ``NaNAtIterationHingeLoss`` (a test-only ``HingeLoss`` returning NaN
once) or by setting a weight to NaN (``CorruptWeightHook``), in real runner runs.
"""
import pytest
import torch
from mmagic.registry import MODELS
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from reliability_helpers import last_checkpoint, load_checkpoint, make_images, tiny_config


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    return make_images(tmp_path_factory.mktemp('nonfinite') / 'images', 4)


def _nan_loss(iteration, target):
    return dict(type='NaNAtIterationHingeLoss', nan_iteration=iteration, nan_target=target,
                margin_jitter=0.2)


def _runner(cfg):
    return Runner.from_cfg(cfg)


def test_nan_loss_stops_before_the_update_and_keeps_the_last_checkpoint(tmp_path, images):
    work = tmp_path / 'work'
    cfg = tiny_config(work, images, **{'default_hooks.checkpoint.interval': 1,
                                       'model.gan_loss': _nan_loss(2, 'real')})
    runner = _runner(cfg)
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    message = str(info.value)
    assert 'loss_disc_real=nan' in message and 'iteration 2 (discriminator step)' in message
    assert "model.nonfinite='skip'" in message
    # Nothing was written after iteration 1, and iteration 2's update was not applied.
    assert sorted(p.name for p in work.glob('*.pth')) == ['iter_1.pth']
    assert last_checkpoint(work) == 'iter_1.pth'
    saved = load_checkpoint(work / 'iter_1.pth')['state_dict']
    assert all(torch.isfinite(v).all() for v in saved.values() if v.is_floating_point())
    # (parameters only: the forward passes of iteration 2 moved BatchNorm statistics and
    # spectral-norm vectors)
    params = dict(runner.model.discriminator.named_parameters(prefix='discriminator'))
    assert params and all(torch.equal(p, saved[k]) for k, p in params.items())


@pytest.mark.parametrize('target, term, step, frozen, updated', [
    ('real', 'loss_disc_real', 'discriminator', 'discriminator', 'generator'),
    ('generator', 'loss_gen', 'generator', 'generator', 'discriminator'),
])
def test_skip_mode_leaves_that_update_out(tmp_path, images, target, term, step, frozen,
                                          updated):
    cfg = tiny_config(tmp_path / 'work', images, **{
        'train_cfg.max_iters': 3,
        'model.nonfinite': 'skip',
        'model.gan_loss': _nan_loss(2, target),
        'custom_hooks': [dict(type='ParamChangeRecorderHook')],
    })
    runner = _runner(cfg)
    runner.train()
    assert runner.iter == 3
    recorder = next(h for h in runner.hooks if type(h).__name__ == 'ParamChangeRecorderHook')
    assert recorder.changed[2] == {frozen: False, updated: True}
    assert recorder.changed[1] == recorder.changed[3] == {frozen: True, updated: True}
    log = (runner.log_dir + f'/{runner.timestamp}.log')
    with open(log, encoding='utf-8') as f:
        text = f.read()
    assert f'skipped the {step} update of iteration 2: {term}=nan' in text
    assert 'nan' not in text.split('Iter(train) [2/3]')[1].split('\n')[0]


def test_nonfinite_weights_are_not_checkpointed(tmp_path, images):
    work = tmp_path / 'work'
    cfg = tiny_config(work, images, **{
        'default_hooks.checkpoint.interval': 1,
        'custom_hooks': [dict(type='CorruptWeightHook', iteration=2, prefix='generator_ema.')],
    })
    runner = _runner(cfg)
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    corrupted = next(h for h in runner.hooks if type(h).__name__ == 'CorruptWeightHook').corrupted
    assert 'not writing iter_2.pth at iteration 2' in str(info.value)
    assert corrupted in str(info.value) and 'iter_1.pth' in str(info.value)
    assert sorted(p.name for p in work.glob('*.pth')) == ['iter_1.pth']
    assert last_checkpoint(work) == 'iter_1.pth'


def test_invalid_option_is_refused():
    cfg = tiny_config('unused', None).model
    cfg.nonfinite = 'ignore'
    with DefaultScope.overwrite_default_scope('mmagic'), pytest.raises(
            ValueError, match=r"nonfinite must be one of \('stop', 'skip'\)"):
        MODELS.build(cfg)
