"""``FastGAN.train_step`` follows the official training loop, step by step, in float64.

``fastgan_official_256_ngf8_trajectory.pt`` records 5 iterations of the official
``train.py`` from ``fastgan_official_256_ngf8.pth`` (batch 2, DiffAugment
'color,translation', random hinge margin, LPIPS summed over the batch), with every random
draw pinned by re-seeding; its README gives the protocol step by step. Here the model is
the shipped official recipe (``configs/_base_/official_recipe_256.py``, whose options must
be :data:`OFFICIAL_OPTIONS`) at the fixture's widths, loaded through
:func:`convert_official_checkpoint` (``tools/model_converters``), cast to float64, and the
three reseed points of the protocol are put in place (:class:`OfficialReseeds`). Nothing else
is changed: the real mmagic data preprocessor, ``train_step`` with its D step, G step and EMA
update, Adam.

Tolerances (the fixture's README measured the project at 4.7e-14 on the losses, 4.5e-12 on
the G, D and EMA checksums and 3.6e-11 on the Adam moments; the official loop against itself
with 1 instead of 2 threads: 5e-14, 5e-12, 5e-11):

* ``LOSS_RTOL`` 1e-10, relative: every recorded loss term after every step.
* ``CHECKSUM_RTOL`` 1e-8: the checksums of every G and D state-dict tensor (BatchNorm
  statistics and spectral-norm vectors included), of every EMA parameter and of both Adam
  moments of every parameter.

A slip in the step fails them by orders of magnitude: rounding the real batch to float32
(a 6e-8 relative input change) moves the losses by 9e-7 at step 2 and D by 2e-4.
"""
import math
import time
from pathlib import Path

import pytest
import torch
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmagic.utils import register_all_modules
from mmengine import Config, MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from model_converters.convert_official_checkpoint import convert_official_checkpoint
from torch import nn

from fastgan_plugin.models.editors.fastgan.official_converter import official_key

register_all_modules()

TRAJECTORY = 'fastgan_official_256_ngf8_trajectory.pt'
CHECKPOINT = 'fastgan_official_256_ngf8.pth'
LOSS_RTOL = 1e-10
CHECKSUM_RTOL = 1e-8
LPIPS_SEED = 5000
LOSS_NAMES = ('loss_disc_real', 'loss_rec_big', 'loss_rec_small', 'loss_rec_part',
              'loss_disc_fake', 'loss_gen')

# The official code's behaviour, option by option, as the protocol describes it; the
# shipped official recipe must say exactly this (the trajectory runs that config).
OFFICIAL_OPTIONS = {
    'data_preprocessor': dict(type='DataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3,
                              output_channel_order='RGB'),
    'generator.out_act': None,  # raw output at 256
    'discriminator.resize_mode': 'nearest',
    'augment': dict(type='DiffAugment', policy='color,translation'),
    'gan_loss': dict(type='HingeLoss', margin_jitter=0.2),  # margin 0.8 + 0.2 u
    'rec_loss': dict(type='ReconstructionLoss', distance='lpips', reduction='sum',
                     loss_weight=1.0),
    'quadrant': 'batch',
    'ema_config': dict(type='FastGANEMA', momentum=0.001, rampup=None, bn_stats='raw'),
}
OFFICIAL_RECIPE_CONFIG = (Path(__file__).resolve().parents[4] / 'configs' / '_base_' /
                          'official_recipe_256.py')


def official_recipe(meta: dict) -> dict:
    """The model of the shipped official recipe at 256, at the fixture's widths, with the
    random-backbone LPIPS of the fixture (``pretrained=False``)."""
    model = Config.fromfile(str(OFFICIAL_RECIPE_CONFIG)).model.to_dict()
    model['generator'].update(im_size=meta['im_size'], ngf=meta['ngf'], nz=meta['nz'])
    model['discriminator'].update(im_size=meta['im_size'], ndf=meta['ndf'])
    model['rec_loss']['pretrained'] = False
    return model


def checksum(tensor: torch.Tensor) -> list:
    """[sum, sum of squares, sum of |x|] in float64, as the fixture records them."""
    values = tensor.detach().double()
    return [values.sum().item(), values.square().sum().item(), values.abs().sum().item()]


def checksum_error(actual: list, expected: list) -> float:
    """Largest relative difference of two checksums: the sum relative to the sum of |x|
    (signed sums cancel), the other two relative to themselves."""
    scales = (expected[2], expected[1], expected[2])
    return max(abs(a - e) / s if s else abs(a - e)
               for a, e, s in zip(actual, expected, scales))


def assert_checksums(actual: dict, expected: dict, what: str) -> float:
    """Every tensor's checksum within :data:`CHECKSUM_RTOL`; returns the largest error."""
    assert set(actual) == set(expected), (
        f'{what}: tensors differ from the fixture: only here {sorted(set(actual) - set(expected))}'
        f', only in the fixture {sorted(set(expected) - set(actual))}')
    errors = {name: checksum_error(actual[name], expected[name]) for name in expected}
    worst = max(errors, key=errors.get)
    assert errors[worst] <= CHECKSUM_RTOL, (
        f'{what}: {worst} checksum {actual[worst]} != {expected[worst]} '
        f'(relative error {errors[worst]:.3g} > {CHECKSUM_RTOL})')
    return errors[worst]


def official_state_checksums(module: nn.Module) -> dict:
    """Checksums of the whole state dict under the official (legacy spectral-norm) names."""
    return {official_key(name): checksum(value) for name, value in module.state_dict().items()}


def adam_checksums(module: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """{official parameter name: {exp_avg, exp_avg_sq: checksum}} of Adam's moments."""
    return {
        official_key(name): {key: checksum(optimizer.state[param][key])
                              for key in ('exp_avg', 'exp_avg_sq')}
        for name, param in module.named_parameters() if param in optimizer.state
    }


def training_state(model, wrappers) -> dict:
    """The model's training state in the fixture's layout (checksums, official names)."""
    ema = model.generator_ema.module
    steps = {int(state['step']) for wrapper in wrappers.values()
             for state in wrapper.optimizer.state.values()}
    return dict(
        G=official_state_checksums(model.generator),
        D=official_state_checksums(model.discriminator),
        EMA={official_key(name): checksum(value) for name, value in ema.named_parameters()},
        adam_G=adam_checksums(model.generator, wrappers['generator'].optimizer),
        adam_D=adam_checksums(model.discriminator, wrappers['discriminator'].optimizer),
        adam_step=steps)


class SeededAugment(nn.Module):
    """``model.augment`` re-seeded before every call: ``4000 + 10 k + i`` with i = 0 for the
    real batch, 1 for G's full-size image, 2 for its 128 px image (told apart by size and by
    whether they carry G's graph, so the order of the calls does not matter)."""

    def __init__(self, augment: nn.Module, reseeds: 'OfficialReseeds') -> None:
        super().__init__()
        self.augment = augment
        object.__setattr__(self, 'reseeds', reseeds)  # not a submodule

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        call = 2 if img.shape[-1] == 128 else int(img.requires_grad)
        torch.manual_seed(4000 + 10 * self.reseeds.step + call)
        return self.augment(img)


class OfficialReseeds:
    """The three reseed points of the fixture's protocol, installed on ``model``.

    In step ``step`` (0-based): ``noise_fn`` seeds ``1000 + step`` (``generate_fakes``
    calls G right after; G's only draws are its injection noise) and returns the recorded
    latents; ``draw_quadrants`` seeds ``3000 + step`` (D's real forward follows; the only
    draws to the end of the step are the hinge margins) and returns the recorded quadrant
    for the whole batch; ``model.augment`` is wrapped in :class:`SeededAugment`.
    """

    def __init__(self, model, inputs: dict) -> None:
        self.step = 0
        latents = inputs['z'].to(model.device)
        parts = inputs['parts'].to(model.device)

        def noise_fn(noise=None, num_batches: int = 1) -> torch.Tensor:
            assert noise is None and num_batches == latents.shape[1]
            torch.manual_seed(1000 + self.step)
            return latents[self.step]

        def draw_quadrants(num_batches: int) -> torch.Tensor:
            torch.manual_seed(3000 + self.step)
            return parts[self.step].expand(num_batches)

        model.noise_fn = noise_fn
        model.draw_quadrants = draw_quadrants
        model.augment = SeededAugment(model.augment, self)


def seeded_lpips_loss(recipe: dict, lpips_meta: dict):
    """The fixture's LPIPS: built right after ``torch.manual_seed(5000)`` with the default
    dtype float32 (float32 and float64 draw other numbers), its weights checked against the
    fixture's checksums (they depend on the torch / torchvision versions)."""
    assert lpips_meta['seed'] == LPIPS_SEED
    assert torch.get_default_dtype() == torch.float32
    torch.manual_seed(LPIPS_SEED)
    loss = MODELS.build(recipe)
    net = loss.lpips_net.double()
    param_sum = math.fsum(p.double().sum().item() for p in net.parameters())
    assert param_sum == pytest.approx(lpips_meta['param_sum'], rel=1e-12, abs=0), (
        "the random LPIPS network differs from the fixture's (other torch / torchvision "
        'versions draw other weights): the trajectory cannot be compared')
    assert_checksums({name: checksum(value) for name, value in net.state_dict().items()},
                     lpips_meta['tensors'], 'LPIPS')
    return loss


def real_batch(real_u8: torch.Tensor) -> dict:
    """What LoadRGBImage + PackInputs give for the fixture's images: uint8 RGB."""
    return dict(inputs=dict(), data_samples=[
        DataSample(gt_img=image, metainfo=dict(gt_channel_order='rgb', gt_color_type='color'))
        for image in real_u8])


@pytest.fixture(scope='module')
def trajectory(official_fixture_dir):
    return torch.load(official_fixture_dir / TRAJECTORY, map_location='cpu', weights_only=True)


def test_the_official_recipe_config_follows_the_protocol(trajectory):
    model = official_recipe(trajectory['meta'])
    for key, expected in OFFICIAL_OPTIONS.items():
        value = model
        for part in key.split('.'):
            value = value[part]
        if isinstance(expected, dict):
            value = {name: value.get(name) for name in expected}
        assert value == expected, f'{OFFICIAL_RECIPE_CONFIG.name}: model.{key}'


@pytest.fixture
def official_start(official_fixture_dir, trajectory):
    """(model, optimizers, reseeds): the official-recipe model at the fixture's starting
    state in float64 with the reseed points in place, and fresh Adam optimizers, as in the
    protocol."""
    meta = trajectory['meta']
    assert (meta['dtype'], meta['im_size'], meta['ngf'], meta['ndf'], meta['nz'], meta['B'],
            meta['policy'], meta['lr'], tuple(meta['betas']), meta['eps'], meta['ema_decay']) == (
                'float64', 256, 8, 8, 256, 2, 'color,translation', 2e-4, (0.5, 0.999), 1e-8, 0.999)
    recipe = official_recipe(meta)
    # The LPIPS loss is built on its own, from the fixture's seed (building the random VGG16
    # a first time inside the model would only cost seconds).
    model = MODELS.build(dict(recipe, rec_loss=dict(type='ReconstructionLoss', distance='l1')))
    model.rec_loss = seeded_lpips_loss(recipe['rec_loss'], meta['lpips'])
    checkpoint, _ = convert_official_checkpoint(str(official_fixture_dir / CHECKPOINT))
    model.load_state_dict(checkpoint['state_dict'])
    model.double().train()
    reseeds = OfficialReseeds(model, trajectory['inputs'])

    def adam(module):
        return OptimWrapper(torch.optim.Adam(module.parameters(), lr=meta['lr'],
                                             betas=tuple(meta['betas']), eps=meta['eps']))

    wrappers = OptimWrapperDict(generator=adam(model.generator),
                                discriminator=adam(model.discriminator))
    return model, wrappers, reseeds


@pytest.mark.slow  # five float64 training steps with LPIPS-VGG: about a minute on 2 cores
def test_train_step_follows_the_official_trajectory(official_start, trajectory):
    model, wrappers, reseeds = official_start
    start = trajectory['states'][0]
    state = training_state(model, wrappers)
    for group in ('G', 'D', 'EMA'):
        assert_checksums(state[group], start[group], f'start, {group}')
    assert state['adam_G'] == start['adam_G'] == {} and state['adam_D'] == start['adam_D'] == {}
    data = real_batch(trajectory['inputs']['real_u8'])
    # The real batch the model trains on, computed in float64 as the official loop does.
    real = model.data_preprocessor(data, True)['data_samples'].gt_img
    assert torch.equal(real, (trajectory['inputs']['real_u8'].double() - 127.5) / 127.5)

    hub = MessageHub.get_current_instance()
    worst = dict(loss=0.0, G=0.0, D=0.0, EMA=0.0, adam=0.0)
    started = time.perf_counter()
    for step in range(trajectory['meta']['K']):
        reseeds.step = step
        hub.update_info('iter', step)
        logs = model.train_step(data, wrappers)
        for name in LOSS_NAMES:
            expected = trajectory['losses'][name][step].item()
            error = abs(logs[name].item() - expected) / abs(expected)
            assert error <= LOSS_RTOL, (
                f'step {step + 1}: {name} = {logs[name].item()!r}, official {expected!r} '
                f'(relative error {error:.3g} > {LOSS_RTOL})')
            worst['loss'] = max(worst['loss'], error)
        recorded = trajectory['states'][step + 1]
        state = training_state(model, wrappers)
        for group in ('G', 'D', 'EMA'):
            worst[group] = max(worst[group], assert_checksums(
                state[group], recorded[group], f'after step {step + 1}, {group}'))
        for group in ('adam_G', 'adam_D'):
            for moment in ('exp_avg', 'exp_avg_sq'):
                worst['adam'] = max(worst['adam'], assert_checksums(
                    {name: value[moment] for name, value in state[group].items()},
                    {name: value[moment] for name, value in recorded[group].items()},
                    f'after step {step + 1}, {group} {moment}'))
        assert state['adam_step'] == {recorded['adam_step']}
    print(f'trajectory: 5 steps in {time.perf_counter() - started:.1f} s; largest relative '
          'errors ' + ', '.join(f'{key} {value:.2g}' for key, value in worst.items()))
