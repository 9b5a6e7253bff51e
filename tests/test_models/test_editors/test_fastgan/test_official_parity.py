"""Converted official checkpoints reproduce the official models' outputs (fixtures/official).

The fixtures were made by the official FastGAN-pytorch models under torch 2.14.1 (float32,
CPU) with every NoiseInjection weight at 0, ``g_ema``'s included, so every eval-mode output
is deterministic. Our modules, loaded through the converter, differ from them only by float32
rounding (other operation orders, e.g. Swish and GLU); the tolerances below are the measured
largest differences (CPU, 1 and 2 threads alike) times 3 to 4, the margin for other CPUs'
kernels.

* ``G_EVAL_ATOL`` 2e-8: generator and EMA generator in eval mode, measured <= 5.6e-9
  (outputs up to 1.3e-2 in size: a few float32 ulps).
* ``D_EVAL_ATOL`` 3e-7: discriminator in eval mode, measured <= 1.04e-7 on logits up to
  0.25 in size (4e-7 relative), <= 1.1e-8 on the reconstructions.
* ``G_TRAIN_ATOL`` 5e-5 at 256, 2e-4 at 1024: generator in training mode, measured 1.3e-5
  and 5.9e-5; training-mode BatchNorm amplifies the rounding, most at 1024 where the batch is
  one image. The other spectral-norm order (u then v, ``torch.nn.utils.parametrizations``)
  moves this output by 0.38 (256) and 0.11 (1024), so the test separates the orders.
* ``D_TRAIN_ATOL`` 2e-5: discriminator in training mode, measured <= 5.3e-6; the other
  spectral-norm order moves its outputs by 5.7e-4 or more.
"""
import pytest
import torch

from fastgan_plugin.models.editors.fastgan import (
    SLEGenerator,
    SSDiscriminator,
    load_official_checkpoint,
)

G_EVAL_ATOL = 2e-8
D_EVAL_ATOL = 3e-7
G_TRAIN_ATOL = {256: 5e-5, 1024: 2e-4}
D_TRAIN_ATOL = 2e-5
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


def _assert_outputs(actual, expected, atol):
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
    _assert_outputs(_generate(_generator(converted, im_size).eval(), io['z']), io['g_eval_out'],
                    G_EVAL_ATOL)


def test_generator_ema_eval(official):
    converted, io, im_size = official
    generator = _generator(converted, im_size, 'generator_ema').eval()
    _assert_outputs(_generate(generator, io['z']), io['g_ema_eval_out'], G_EVAL_ATOL)


def test_generator_train(official):
    converted, io, im_size = official
    generator = _generator(converted, im_size).train()
    _assert_outputs(_generate(generator, io['z']), io['g_train_out'],
                    G_TRAIN_ATOL[im_size])


def test_discriminator_fake_eval(official):
    converted, io, im_size = official
    discriminator = _discriminator(converted, im_size).eval()
    with torch.no_grad():
        logits = discriminator(*io['g_eval_out'])
    _assert_outputs([logits], [io['d_fake_eval_pred']], D_EVAL_ATOL)


@pytest.mark.parametrize('part', [0, 1, 2, 3])
def test_discriminator_real_eval(official, part):
    converted, io, im_size = official
    discriminator = _discriminator(converted, im_size).eval()
    _assert_outputs(_discriminate_real(discriminator, io['real'].float(), part),
                    io[f'd_real_eval_part{part}'], D_EVAL_ATOL)


def test_discriminator_real_per_sample_parts_eval(official):
    converted, io, im_size = official
    discriminator = _discriminator(converted, im_size).eval()
    real = io['real'].float()
    parts = torch.arange(real.size(0)) % 4 + 1  # 1, 2, ...: a different quadrant per sample
    outputs = _discriminate_real(discriminator, real, parts)
    for index, part in enumerate(parts.tolist()):
        expected = io[f'd_real_eval_part{part}'][3][index]
        _assert_outputs([outputs[3][index]], [expected], D_EVAL_ATOL)


def test_discriminator_real_train(official):
    converted, io, im_size = official
    discriminator = _discriminator(converted, im_size).train()
    _assert_outputs(_discriminate_real(discriminator, io['real'].float(), 2),
                    io['d_real_train_part2'], D_TRAIN_ATOL)
