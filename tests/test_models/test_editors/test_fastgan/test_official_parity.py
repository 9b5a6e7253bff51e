"""Converted official checkpoints reproduce the official models' outputs (fixtures/official).

Tolerances: 1e-5 (max abs) everywhere except two documented cases.

* ``g_train_out``: the fixtures were made with torch 2.13; the official code itself, run
  under torch 2.14 on the same state, differs from them by 2.2e-5 (256) and 4.8e-5 (1024)
  through float32 rounding amplified by training-mode BatchNorm, and our generator agrees
  with that run to <= 3e-6. We therefore allow 1e-4; the spectral-norm order this output
  checks moves it by 6e-2 (1024) to 0.65 (256), so the check still separates the orders.
* ``g_ema_eval_out``: the fixture's ``g_ema`` has non-zero NoiseInjection weights, so that
  output depends on noise drawn from an unrecorded random state and cannot be reproduced;
  the test is a strict xfail (it will report XPASS once the fixture records deterministic
  outputs). The EMA conversion itself is checked exactly in test_official_converter.py.
"""
import pytest
import torch

from fastgan_plugin.models.editors.fastgan import (
    SLEGenerator,
    SSDiscriminator,
    load_official_checkpoint,
)

ATOL = 1e-5
G_TRAIN_ATOL = 1e-4
SIZES = [256, 1024]


@pytest.fixture(scope='module', params=SIZES)
def official(request, official_fixture_dir):
    """(converted checkpoint, io dict, im_size) for one fixture."""
    im_size = request.param
    converted = load_official_checkpoint(
        official_fixture_dir / f'fastgan_official_{im_size}_ngf8.pth')
    io = torch.load(official_fixture_dir / f'fastgan_official_{im_size}_ngf8_io.pt',
                    map_location='cpu', weights_only=True)
    assert converted['meta'] == {key: io['meta'][key] for key in ('im_size', 'ngf', 'ndf', 'nz')}
    return converted, io, im_size


def _generator(converted, im_size, key='generator'):
    meta = converted['meta']
    # The official code applies tanh only at 1024.
    generator = SLEGenerator(im_size=im_size, ngf=meta['ngf'], nz=meta['nz'],
                             out_act='tanh' if im_size == 1024 else None)
    generator.load_state_dict(converted[key])
    return generator


def _discriminator(converted, im_size):
    discriminator = SSDiscriminator(im_size=im_size, ndf=converted['meta']['ndf'])
    discriminator.load_state_dict(converted['discriminator'])
    return discriminator


def _assert_outputs(actual, expected, atol=ATOL):
    assert len(actual) == len(expected)
    for index, (out, ref) in enumerate(zip(actual, expected)):
        assert out.shape == ref.shape, index
        difference = (out - ref).abs().max().item()
        assert difference <= atol, f'output {index}: max abs diff {difference:.3g} > {atol}'


def _generate(generator, z):
    with torch.no_grad():
        outputs = generator(z, return_small=True)
    return [outputs['fake_img'], outputs['fake_img_128']]


def _discriminate_real(discriminator, real, part):
    with torch.no_grad():
        logits, rec = discriminator(real, part=part)
    return [logits, rec['rec_big'], rec['rec_small'], rec['rec_part']]


def test_generator_eval(official):
    converted, io, im_size = official
    _assert_outputs(_generate(_generator(converted, im_size).eval(), io['z']), io['g_eval_out'])


@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason='fixture g_ema has non-zero NoiseInjection weights: its output depends '
                   'on unrecorded random noise (see module docstring)')
def test_generator_ema_eval(official):
    converted, io, im_size = official
    generator = _generator(converted, im_size, 'generator_ema').eval()
    _assert_outputs(_generate(generator, io['z']), io['g_ema_eval_out'])


def test_generator_train(official):
    converted, io, im_size = official
    generator = _generator(converted, im_size).train()
    _assert_outputs(_generate(generator, io['z']), io['g_train_out'], atol=G_TRAIN_ATOL)


def test_discriminator_fake_eval(official):
    converted, io, im_size = official
    discriminator = _discriminator(converted, im_size).eval()
    with torch.no_grad():
        logits = discriminator(*io['g_eval_out'])
    _assert_outputs([logits], [io['d_fake_eval_pred']])


@pytest.mark.parametrize('part', [0, 1, 2, 3])
def test_discriminator_real_eval(official, part):
    converted, io, im_size = official
    discriminator = _discriminator(converted, im_size).eval()
    _assert_outputs(_discriminate_real(discriminator, io['real'].float(), part),
                    io[f'd_real_eval_part{part}'])


def test_discriminator_real_per_sample_parts_eval(official):
    converted, io, im_size = official
    discriminator = _discriminator(converted, im_size).eval()
    real = io['real'].float()
    parts = torch.arange(real.size(0)) % 4 + 1  # 1, 2, ...: a different quadrant per sample
    outputs = _discriminate_real(discriminator, real, parts)
    for index, part in enumerate(parts.tolist()):
        expected = io[f'd_real_eval_part{part}'][3][index]
        _assert_outputs([outputs[3][index]], [expected])


def test_discriminator_real_train(official):
    converted, io, im_size = official
    discriminator = _discriminator(converted, im_size).train()
    _assert_outputs(_discriminate_real(discriminator, io['real'].float(), 2),
                    io['d_real_train_part2'])
