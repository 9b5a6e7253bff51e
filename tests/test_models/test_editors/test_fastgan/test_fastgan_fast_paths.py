"""FastGAN's fast paths give the float32 / default-layout results: channels_last within
float rounding, bfloat16 autocast within bfloat16 precision (float16 too, on a GPU)."""
import copy

import pytest
import torch
from mmagic.registry import MODELS
from mmagic.utils import register_all_modules
from mmengine import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict

import fastgan_plugin  # noqa: F401
from fastgan_plugin.engine import MixedPrecisionOptimWrapper
from helpers.tiny_fastgan import random_real_batch, tiny_fastgan_cfg

register_all_modules()

IM_SIZE = 256
BATCH = 2
LOSS_TERMS = ('loss_disc_real', 'loss_disc_fake', 'loss_rec_big', 'loss_rec_small',
              'loss_rec_part', 'loss_gen')
# Tolerances of the low-precision paths against float32 (stated in docs/benchmarks.md;
# bfloat16 on the CPU measured at most 1.1e-3 on the losses, 0.15 / 0.003 max / mean on the
# pixels, 0.06 on the logits): loss terms after one step within rtol 2% + atol 5e-3;
# generated pixels (in [-1, 1], training-mode BatchNorm) and discriminator logits within
# these max and mean absolute differences.
LOSS_RTOL, LOSS_ATOL = 0.02, 5e-3
IMAGE_MAX, IMAGE_MEAN = 0.3, 0.01
LOGIT_MAX, LOGIT_MEAN = 0.2, 0.02


def build(**overrides):
    torch.manual_seed(0)
    return MODELS.build(tiny_fastgan_cfg(
        IM_SIZE, rec_loss=dict(type='ReconstructionLoss', distance='lpips', pretrained=False),
        **overrides))


def batch():
    return random_real_batch(BATCH, IM_SIZE)


def wrappers(model, dtype=None, device='cpu'):
    def wrap(module):
        optimizer = torch.optim.Adam(module.parameters(), lr=2e-4, betas=(0.5, 0.999))
        if dtype is None:
            return OptimWrapper(optimizer)
        return MixedPrecisionOptimWrapper(optimizer=optimizer, dtype=dtype, device_type=device)
    return OptimWrapperDict(generator=wrap(model.generator),
                            discriminator=wrap(model.discriminator))


def train_step(model, optim_wrapper, seed=1):
    MessageHub.get_current_instance().update_info('iter', 0)
    torch.manual_seed(seed)  # same augmentation, noise and margins in every run
    return model.train_step(batch(), optim_wrapper)


def test_channels_last_converts_weights_and_discriminator_inputs():
    model = build(channels_last=True)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    convs += [m for m in model.rec_loss.lpips_net.modules() if isinstance(m, torch.nn.Conv2d)]
    for conv in convs:
        weight = conv.parametrizations.weight.original if hasattr(
            conv, 'parametrizations') else conv.weight
        assert weight.is_contiguous(memory_format=torch.channels_last)
    seen = []
    model.discriminator.register_forward_pre_hook(lambda module, args: seen.append(
        args[0].is_contiguous(memory_format=torch.channels_last)))
    train_step(model, wrappers(model))
    assert seen == [True, True, True]  # real, fake (D step), fake (G step)
    with pytest.raises(TypeError, match='channels_last must be a bool'):
        build(channels_last=1)


def test_channels_last_matches_the_default_layout():
    default, fast = build(), build(channels_last=True)
    torch.manual_seed(1)  # inputs independent of the tests that ran before
    noise, real = torch.randn(BATCH, 16), torch.rand(BATCH, 3, IM_SIZE, IM_SIZE) * 2 - 1
    outputs = []
    with torch.no_grad():
        for model in (default, fast):
            torch.manual_seed(2)  # same noise injection
            outputs.append((model.generator(noise), model.discriminator(real)))
    (image, logits), (fast_image, fast_logits) = outputs
    assert fast_image.is_contiguous(memory_format=torch.channels_last)
    # The layout changes the summation order: a few of 393,216 pixels near 0 differed by
    # up to 1.8e-5 (CI, 2026-12-02).
    torch.testing.assert_close(fast_image, image, rtol=1e-4, atol=5e-5)
    torch.testing.assert_close(fast_logits, logits, rtol=1e-4, atol=1e-5)

    # One training step: the same losses. (The weights after it are not compared: Adam's
    # first step is +-lr for any gradient, so rounding-level gradients near 0 may move a
    # weight either way.)
    logs = train_step(default, wrappers(default))
    fast_logs = train_step(fast, wrappers(fast))
    for key in LOSS_TERMS:  # one thread: a term differed by 2.5e-4 relative (rounding)
        torch.testing.assert_close(fast_logs[key], logs[key], rtol=1e-3, atol=1e-5)


def assert_within(low, reference, max_diff, mean_diff):
    diff = (low.float() - reference).abs()
    assert diff.max() <= max_diff and diff.mean() <= mean_diff, (diff.max(), diff.mean())


def assert_low_precision_close(dtype, device):
    reference = build().to(device)
    low = copy.deepcopy(reference)
    logs = train_step(reference, wrappers(reference))
    low_logs = train_step(low, wrappers(low, dtype, device))
    for key in LOSS_TERMS:
        assert torch.isfinite(low_logs[key]), key
        torch.testing.assert_close(low_logs[key], logs[key], rtol=LOSS_RTOL, atol=LOSS_ATOL,
                                   msg=key)

    noise = torch.randn(BATCH, 16, device=device)
    real = torch.rand(BATCH, 3, IM_SIZE, IM_SIZE, device=device) * 2 - 1
    outputs = {}
    with torch.no_grad():
        for name, precision in (('float32', None), (dtype, getattr(torch, dtype))):
            torch.manual_seed(2)  # same noise injection
            with torch.autocast(device, dtype=precision, enabled=precision is not None):
                outputs[name] = (reference.generator(noise), reference.discriminator(real))
    (image, logits), (low_image, low_logits) = outputs['float32'], outputs[dtype]
    assert low_image.dtype == low_logits.dtype == getattr(torch, dtype)
    assert_within(low_image, image, IMAGE_MAX, IMAGE_MEAN)
    assert_within(low_logits, logits, LOGIT_MAX, LOGIT_MEAN)


def test_bfloat16_autocast_matches_float32():
    assert_low_precision_close('bfloat16', 'cpu')


@pytest.mark.skipif(not torch.cuda.is_available(), reason='float16 autocast runs on CUDA only')
def test_float16_autocast_with_loss_scaling_matches_float32():
    assert_low_precision_close('float16', 'cuda')
