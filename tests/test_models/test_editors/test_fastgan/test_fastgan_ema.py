"""FastGANEMA: the ramp-up of the averaging horizon, BatchNorm statistics, the official
options, and checkpoints written before the ramp-up existed."""
import math

import pytest
import torch
from mmagic.models.base_models import ExponentialMovingAverage
from mmagic.registry import MODELS
from mmagic.utils import register_all_modules
from mmengine.config import Config
from torch import nn

import fastgan_plugin  # noqa: F401
from fastgan_plugin.models.editors.fastgan import FastGANEMA, SLEGenerator

register_all_modules()

REPO = __import__('pathlib').Path(__file__).resolve().parents[4]


def tiny_generator(seed=0):
    torch.manual_seed(seed)
    return SLEGenerator(im_size=128, ngf=8, nz=16)


def shifted(generator, amount):
    """A copy of ``generator`` with every float parameter and buffer moved by ``amount``
    (as if it had trained), spectral-norm vectors left unit."""
    other = tiny_generator(1)
    other.load_state_dict(generator.state_dict())
    with torch.no_grad():
        for parameter in other.parameters():
            parameter.add_(amount)
        for name, buffer in other.named_buffers():
            if name.endswith(('running_mean', 'running_var')):
                buffer.add_(amount)
    return other


def test_official_options_are_the_constant_decay_with_raw_statistics():
    generator = tiny_generator()
    ema = FastGANEMA(generator, momentum=0.001, rampup=None, bn_stats='raw')
    start = {k: v.clone() for k, v in ema.module.state_dict().items()}
    trained = shifted(generator, 1.0)
    for _ in range(3):
        ema.update_parameters(trained)
    kept = 0.999 ** 3
    source = trained.state_dict()
    for name, _ in trained.named_parameters():
        torch.testing.assert_close(ema.module.state_dict()[name],
                                   kept * start[name] + (1 - kept) * source[name])
    for name, _ in trained.named_buffers():  # BN statistics, SN vectors, counters: copied
        torch.testing.assert_close(ema.module.state_dict()[name], source[name])
    assert int(ema.steps) == 3


def test_rampup_momentum_follows_the_half_life_formula():
    ema = FastGANEMA(tiny_generator(), momentum=0.001, rampup=0.05)
    momenta = []
    for steps in (0, 9, 99, 13854, 13856, 50000):
        ema.steps.fill_(steps)
        momenta.append(ema.current_momentum())
    half_lives = [0.05 * (t + 1) for t in (0, 9, 99)]
    for momentum, half_life in zip(momenta, half_lives):
        assert momentum == pytest.approx(1 - 0.5 ** (1 / half_life))
    # The ramp ends where its half-life reaches the official one (693 updates).
    assert momenta[3] > 0.001
    assert momenta[4] == momenta[5] == 0.001
    assert math.log(0.5) / math.log(0.999) == pytest.approx(0.05 * 13857, abs=1)


def test_interval_counts_calls_in_the_half_life():
    ema = FastGANEMA(tiny_generator(), interval=4, rampup=0.05)
    ema.steps.fill_(99)
    assert ema.current_momentum() == pytest.approx(1 - 0.5 ** (4 / 5.0))


@pytest.mark.parametrize('rampup', [0.05, None])
def test_initial_weights_are_forgotten_only_with_the_rampup(rampup):
    """300 updates towards a generator that moved away from the initial weights: with the
    ramp the average is the recent weights; with the official decay it is still 74%
    initial (0.999 ** 300), the grey samples of issue 10."""
    generator = tiny_generator()
    ema = FastGANEMA(generator, rampup=rampup)
    start = {k: v.clone() for k, v in ema.module.named_parameters()}
    trained = shifted(generator, 1.0)
    for _ in range(300):
        ema.update_parameters(trained)
    target = dict(trained.named_parameters())
    for name, weight in ema.module.named_parameters():
        initial_share = (target[name] - weight) / (target[name] - start[name])  # moved by 1
        if rampup is None:
            torch.testing.assert_close(initial_share, torch.full_like(weight, 0.999 ** 300),
                                       rtol=1e-4, atol=1e-4)  # float32 rounding
        else:
            assert initial_share.abs().max() < 1e-5


def test_average_mode_averages_batchnorm_statistics_with_the_ramped_momentum():
    generator = tiny_generator()
    ema = FastGANEMA(generator, rampup=0.05, bn_stats='average')
    ema.steps.fill_(99)  # m = 1 - 0.5 ** (1 / 5)
    momentum = ema.current_momentum()
    start = {k: v.clone() for k, v in ema.module.state_dict().items()}
    trained = shifted(generator, 1.0)
    ema.update_parameters(trained)
    source = trained.state_dict()
    averaged = [name for name, _ in trained.named_buffers()
                if name.endswith(('running_mean', 'running_var'))]
    assert averaged
    for name, _ in trained.named_buffers():
        expected = ((1 - momentum) * start[name] + momentum * source[name]
                    if name in averaged else source[name])
        torch.testing.assert_close(ema.module.state_dict()[name], expected)


def test_options_are_checked():
    with pytest.raises(ValueError, match='bn_stats'):
        FastGANEMA(tiny_generator(), bn_stats='mean')
    for rampup in (0, -0.1, 'fast'):
        with pytest.raises(ValueError, match='rampup'):
            FastGANEMA(tiny_generator(), rampup=rampup)


def test_checkpoints_from_before_the_rampup_load_and_continue():
    """An EMA state dict as the old code wrote it (mmagic's EMA layout: ``steps`` and the
    generator under ``module.``, or without the prefix as in OpenMMLab 1.0 files) loads
    strictly, and the ramp continues from the saved number of updates."""
    old = ExponentialMovingAverage(tiny_generator(3), momentum=0.001, update_buffers=True)
    old.steps.fill_(20000)
    for state in (old.state_dict(),
                  {k.replace('module.', '', 1): v for k, v in old.state_dict().items()}):
        ema = FastGANEMA(tiny_generator())
        ema.load_state_dict(dict(state), strict=True)
        for name, value in old.module.state_dict().items():
            torch.testing.assert_close(ema.module.state_dict()[name], value)
        assert int(ema.steps) == 20000
        assert ema.current_momentum() == 0.001  # past the ramp: the official decay


def test_base_config_builds_the_default_ema():
    cfg = Config.fromfile(str(REPO / 'configs' / '_base_' / 'models' / 'fastgan_256.py'))
    model = cfg.model
    model.generator.update(ngf=8, nz=16)
    model.discriminator.update(ndf=8)
    model.rec_loss.update(distance='l1')
    built = MODELS.build(model)
    assert isinstance(built.generator_ema, FastGANEMA)
    assert built.generator_ema.rampup == 0.05
    assert built.generator_ema.bn_stats == 'average'
    assert isinstance(built.generator_ema.module, nn.Module)
