"""FastGAN's training schedule: gradient accumulation of both networks
(``optim_wrapper.<net>.accumulative_counts``) and the cadence of mmagic's ``BaseGAN``.

- Accumulation is exact: one step on a batch of 8 equals two accumulated micro-batches
  of 4 (losses, updated weights and EMA). Exactness needs the per-sample randomness to
  be the same in both runs, so the comparison fixes it: the networks are in eval mode
  (BatchNorm normalises with its running statistics, not per micro-batch, and spectral
  norm does no power iteration per forward), no DiffAugment, hinge without random margin,
  no injection noise, and the latents and quadrants are given.
- The schedule matches ``BaseGAN.train_step`` run on the same model: which iterations
  step each optimizer, how many generator micro-batches run, when the EMA starts, and the
  wrappers' accumulation counters, for ``discriminator_steps`` and both accumulation
  counts in {1, 2}.
- D's accumulation counter is set before BaseGAN enters its ``optim_context`` on a resumed
  run, and ``nonfinite='skip'`` keeps the accumulation cycles aligned with the iterations.
"""
import itertools

import pytest
import torch
from mmagic.models.base_models import BaseGAN
from mmagic.registry import MODELS
from mmagic.utils import register_all_modules
from mmengine import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict

import fastgan_plugin  # noqa: F401
from fastgan_plugin.models.editors.fastgan.modules import NoiseInjection
from helpers.tiny_fastgan import random_real_batch, tiny_fastgan_cfg

register_all_modules()

IM_SIZE = 256
NZ = 16
_hubs = itertools.count()


def build_model(**overrides):
    torch.manual_seed(0)
    return MODELS.build(tiny_fastgan_cfg(IM_SIZE, nz=NZ, **overrides))


def wrappers(model, optimizer, disc_accu=1, gen_accu=1):
    return OptimWrapperDict(
        generator=OptimWrapper(optimizer(model.generator.parameters()),
                               accumulative_counts=gen_accu),
        discriminator=OptimWrapper(optimizer(model.discriminator.parameters()),
                                   accumulative_counts=disc_accu))


def real_batch(count, seed=0):
    return random_real_batch(count, IM_SIZE, seed)


@pytest.fixture
def message_hub():
    """A message hub of its own (the runner's role: ``iter`` and ``max_iters``), and an
    empty one for the tests that come after."""
    yield MessageHub.get_instance(f'fastgan_schedule_{next(_hubs)}')
    MessageHub.get_instance(f'fastgan_schedule_{next(_hubs)}')


# ------------------------------------------------------------------ batch 8 == 4 x 2
def deterministic(model, latents, quadrants):
    """Fix the randomness of ``model`` (see the module docstring); ``latents`` and
    ``quadrants`` are handed out in order, one entry per call.

    First a few training-mode passes give BatchNorm the statistics of a batch and let
    spectral norm's power iteration converge (a fresh network in eval mode has neither,
    and its discriminator outputs ~1e13).
    """
    torch.manual_seed(0)
    with torch.no_grad():
        for _ in range(3):
            fake = model.generator(torch.randn(8, NZ))
            model.discriminator(fake, part=torch.zeros(8, dtype=torch.long))
    model.eval()
    for layer in model.modules():
        if isinstance(layer, NoiseInjection):
            layer.forward = lambda feat: feat
    latents, quadrants = iter(latents), iter(quadrants)
    model.noise_fn = lambda num_batches: next(latents)
    model.draw_quadrants = lambda num_batches: next(quadrants)
    return model


def params(module):
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def test_batch_of_8_equals_4_accumulated_twice(message_hub):
    # SGD: the updates are the gradients, compared within float tolerance. (Adam's first
    # step, lr * g / |g|, turns the rounding of near-zero gradients into whole steps.)
    def optimizer(parameters):
        return torch.optim.SGD(parameters, lr=0.01)

    options = dict(augment=None, gan_loss=dict(type='HingeLoss', margin_jitter=0.0))
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(8, NZ, generator=gen)
    part = torch.randint(0, 4, (8, ), generator=gen)
    real = real_batch(8)
    first, second = (dict(inputs=dict(), data_samples=real['data_samples'][s])
                     for s in (slice(0, 4), slice(4, 8)))
    message_hub.update_info('max_iters', 2)

    whole = deterministic(build_model(**options), [z], [part])
    start = params(whole)
    message_hub.update_info('iter', 0)
    logs = whole.train_step(real, wrappers(whole, optimizer))

    # D sees z[:4], then z[4:]; the G step reuses z[4:] and draws z[:4] again for its
    # second micro-batch, so both networks see the same 8 latents as above.
    accumulated = deterministic(build_model(**options), [z[:4], z[4:], z[:4]],
                                [part[:4], part[4:]])
    micro = wrappers(accumulated, optimizer, disc_accu=2, gen_accu=2)
    message_hub.update_info('iter', 0)
    logs_1 = accumulated.train_step(first, micro)
    assert 'loss_gen' not in logs_1
    assert all(torch.equal(v, start[k]) for k, v in params(accumulated).items())  # no step
    message_hub.update_info('iter', 1)
    logs_2 = accumulated.train_step(second, micro)

    for name in ('loss', 'loss_disc_real', 'loss_disc_fake', 'loss_rec_big', 'loss_rec_part'):
        torch.testing.assert_close((logs_1[name] + logs_2[name]) / 2, logs[name])
    torch.testing.assert_close(logs_2['loss_gen'], logs['loss_gen'])
    for net in ('generator', 'discriminator', 'generator_ema'):
        expected, actual = params(getattr(whole, net)), params(getattr(accumulated, net))
        for name, value in expected.items():
            torch.testing.assert_close(actual[name], value, atol=1e-6, rtol=1e-5,
                                       msg=f'{net}.{name}')
        moved = [name for name, value in expected.items()
                 if not torch.equal(value, start[f'{net}.{name}'])]
        assert len(moved) > len(expected) / 2, net  # the comparison is not of unchanged weights


# ------------------------------------------------------------------ BaseGAN's cadence
class Recorder:
    """Per iteration: generator micro-batches, optimizer steps, EMA updates and syncs,
    and the wrappers' accumulation counters after the iteration."""

    def __init__(self, model, optim_wrapper):
        self.model, self.optim_wrapper = model, optim_wrapper
        self.events = []
        self._patch(model, 'train_generator', 'generator_micro_batches')
        self._patch(model.generator_ema, 'update_parameters', 'ema_updates')
        self._patch(model.generator_ema, 'sync_parameters', 'ema_syncs')
        for net in ('generator', 'discriminator'):
            self._patch(optim_wrapper[net].optimizer, 'step', f'{net}_steps')

    def _patch(self, owner, method, event):
        original = getattr(owner, method)

        def recorded(*args, **kwargs):
            self.events[-1][event] += 1
            return original(*args, **kwargs)

        setattr(owner, method, recorded)

    def run(self, train_step, iterations, hub):
        for iteration in range(iterations):
            hub.update_info('iter', iteration)
            self.events.append(dict(generator_micro_batches=0, generator_steps=0,
                                    discriminator_steps=0, ema_updates=0, ema_syncs=0))
            logs = train_step(real_batch(2, seed=iteration), self.optim_wrapper)
            self.events[-1].update(
                has_loss_gen='loss_gen' in logs,
                counters=tuple(self.optim_wrapper[n]._inner_count
                               for n in ('generator', 'discriminator')))
        return self.events


@pytest.mark.parametrize('discriminator_steps,disc_accu,gen_accu', [
    (1, 1, 1), (1, 2, 2), (2, 1, 1), (2, 2, 2),  # discriminator_steps x accumulation
    (1, 2, 1), (1, 1, 2),  # one network accumulating
])
def test_schedule_matches_basegan(message_hub, discriminator_steps, disc_accu, gen_accu):
    cycle = discriminator_steps * disc_accu  # iterations per generator update
    iterations = 2 * cycle
    message_hub.update_info('max_iters', iterations)

    def run(train_step):
        model = build_model(discriminator_steps=discriminator_steps,
                            ema_config=dict(type='FastGANEMA', momentum=0.001, start_iter=2))
        optim = wrappers(model, lambda p: torch.optim.Adam(p, lr=2e-4, betas=(0.5, 0.999)),
                         disc_accu, gen_accu)
        return Recorder(model, optim).run(lambda data, o: train_step(model, data, o),
                                          iterations, message_hub)

    ours = run(lambda model, data, optim: model.train_step(data, optim))
    mmagic = run(lambda model, data, optim: BaseGAN.train_step(model, data, optim))
    assert ours == mmagic

    # and what that schedule is: D steps every disc_accu iterations; G (gen_accu
    # micro-batches, one step) after every discriminator_steps D steps; EMA from
    # iteration start_iter * cycle on (the first G phase syncs instead).
    for iteration, event in enumerate(ours, 1):
        g_phase = iteration % cycle == 0
        assert event['discriminator_steps'] == int(iteration % disc_accu == 0)
        assert event['generator_micro_batches'] == gen_accu * g_phase
        assert event['generator_steps'] == int(g_phase) == int(event['has_loss_gen'])
        assert event['ema_updates'] == int(g_phase and iteration >= 2 * cycle)
        assert event['ema_syncs'] == int(g_phase and iteration < 2 * cycle)


def test_generator_steps_times_accumulation(message_hub):
    """``generator_steps=2`` with ``gen_accu=2``: 4 micro-batches, 2 generator updates,
    the first micro-batch on the discriminator step's fakes, the others on new ones."""
    message_hub.update_info('max_iters', 1)
    message_hub.update_info('iter', 0)
    model = build_model(generator_steps=2)
    optim = wrappers(model, lambda p: torch.optim.Adam(p, lr=2e-4), gen_accu=2)
    recorder = Recorder(model, optim)
    forwards = []
    model.generator.register_forward_hook(lambda *args: forwards.append(1))
    recorder.run(lambda data, o: model.train_step(data, o), 1, message_hub)
    event = recorder.events[0]
    assert event['generator_micro_batches'] == 4 and event['generator_steps'] == 2
    assert len(forwards) == 1 + 3  # the D step's fakes, then 3 new batches


# ------------------------------------------------------------------ counts and skips
def test_a_resumed_run_counts_d_micro_batches_before_optim_context(message_hub):
    """Resumed at iteration 3 with D accumulating 2: this micro-batch ends a cycle, so D's
    wrapper must count 3 when BaseGAN enters its ``optim_context`` (DDP's ``no_sync`` is
    decided there), update at it, and keep counting from there."""
    message_hub.update_info('max_iters', 8)
    model = build_model()
    optim = wrappers(model, lambda p: torch.optim.SGD(p, lr=0.01), disc_accu=2)
    disc = optim['discriminator']
    entered = []
    optim_context = disc.optim_context

    def recording(network):
        entered.append((disc.inner_count, disc.should_sync()))
        return optim_context(network)

    disc.optim_context = recording
    recorder = Recorder(model, optim)
    for iteration in (3, 4):
        message_hub.update_info('iter', iteration)
        recorder.events.append(dict(generator_micro_batches=0, generator_steps=0,
                                    discriminator_steps=0, ema_updates=0, ema_syncs=0))
        model.train_step(real_batch(2, seed=iteration), optim)
    assert entered == [(3, True), (4, False)]
    assert [e['discriminator_steps'] for e in recorder.events] == [1, 0]
    assert [e['generator_steps'] for e in recorder.events] == [1, 0]


class NaNAt(torch.nn.Module):
    """A hinge loss whose ``target`` term is NaN at the given iterations (0-based)."""

    def __init__(self, loss, target, iterations):
        super().__init__()
        self.loss, self.target, self.iterations = loss, target, iterations

    def forward(self, pred, target):
        value = self.loss(pred, target)
        if target == self.target and MessageHub.get_current_instance().get_info(
                'iter') in self.iterations:
            value = value * float('nan')
        return value


def test_skip_keeps_the_accumulation_cycles(message_hub):
    """``nonfinite='skip'`` with D accumulating 2: a skipped first micro-batch counts and adds
    exactly zero gradient, the cycle still steps at its end; a skipped last micro-batch drops
    its cycle's update (and the gradient accumulated before it)."""
    message_hub.update_info('max_iters', 4)
    model = build_model(nonfinite='skip')
    model.gan_loss = NaNAt(model.gan_loss, 'real', iterations=(0, 3))
    optim = wrappers(model, lambda p: torch.optim.SGD(p, lr=0.01), disc_accu=2)
    disc = optim['discriminator']
    recorder = Recorder(model, optim)
    states, grads = [], []
    for iteration in range(4):
        message_hub.update_info('iter', iteration)
        recorder.events.append(dict(generator_micro_batches=0, generator_steps=0,
                                    discriminator_steps=0, ema_updates=0, ema_syncs=0))
        logs = model.train_step(real_batch(2, seed=iteration), optim)
        assert all(torch.isfinite(value) for value in logs.values())
        assert ('loss_disc_real' in logs) == (iteration not in (0, 3))
        states.append(params(model.discriminator))
        grads.append([None if p.grad is None else p.grad.clone()
                      for p in model.discriminator.parameters()])
    assert disc.inner_count == 4
    assert [e['discriminator_steps'] for e in recorder.events] == [0, 1, 0, 0]
    assert [e['generator_steps'] for e in recorder.events] == [0, 1, 0, 1]  # G unaffected
    assert all(g is not None and not g.any() for g in grads[0])  # counted, zero gradient
    assert any(g is not None and g.any() for g in grads[2])  # accumulating
    assert all(g is None for g in grads[3])  # dropped with the cycle's update
    assert all(torch.equal(states[3][k], v) for k, v in states[2].items())
