"""Tests of HingeLoss against the official FastGAN formulas, recomputed independently."""
import pytest
import torch
import torch.nn.functional as F
from mmagic.registry import MODELS

from fastgan_plugin.models.losses import HingeLoss


def _logits():
    """Fixed logits (4, 25) around the hinge, drawn from a private generator."""
    return torch.randn(4, 25, generator=torch.Generator().manual_seed(0)) * 1.5


def test_registered():
    assert isinstance(MODELS.build(dict(type='HingeLoss')), HingeLoss)


@pytest.mark.parametrize('target, sign', [('real', -1), ('fake', 1)])
def test_discriminator_terms_match_official(target, sign):
    pred = _logits()
    torch.manual_seed(123)
    loss = HingeLoss()(pred, target)
    torch.manual_seed(123)
    margin = torch.rand(pred.shape) * 0.2 + 0.8
    expected = F.relu(margin + sign * pred).mean()
    torch.testing.assert_close(loss, expected, rtol=0, atol=0)


def test_generator_term():
    pred = _logits()
    state = torch.get_rng_state()
    loss = HingeLoss(loss_weight=0.5)(pred, 'generator')
    torch.testing.assert_close(loss, -0.5 * pred.mean())
    assert torch.equal(torch.get_rng_state(), state)


def test_zero_jitter_is_plain_hinge_and_draws_nothing():
    pred = _logits()
    loss_fn = HingeLoss(margin_jitter=0)
    state = torch.get_rng_state()
    torch.testing.assert_close(loss_fn(pred, 'real'), F.relu(1 - pred).mean())
    torch.testing.assert_close(loss_fn(pred, 'fake'), F.relu(1 + pred).mean())
    assert torch.equal(torch.get_rng_state(), state)


def test_margin_range_and_seed():
    """With zero logits the real term averages the margins, which lie in [1 - j, 1)."""
    pred = torch.zeros(1000)
    loss_fn = HingeLoss(margin_jitter=0.5)
    torch.manual_seed(0)
    first = loss_fn(pred, 'real')
    torch.manual_seed(0)
    assert torch.equal(loss_fn(pred, 'real'), first)
    assert 0.7 < first.item() < 0.8  # mean of U[0.5, 1) over 1000 draws


def test_loss_weight_and_gradient():
    pred = _logits().requires_grad_()
    torch.manual_seed(5)
    loss = HingeLoss(loss_weight=2.0)(pred, 'real')
    loss.backward()
    torch.manual_seed(5)
    margin = torch.rand(pred.shape) * 0.2 + 0.8
    active = (margin - pred.detach()) > 0
    torch.testing.assert_close(pred.grad, -2.0 * active.float() / pred.numel())


def test_invalid_arguments():
    with pytest.raises(ValueError, match="target must be one of .*'generator'"):
        HingeLoss()(_logits(), 'Real')
    with pytest.raises(ValueError, match='margin_jitter'):
        HingeLoss(margin_jitter=1.5)
    with pytest.raises(ValueError, match='loss_weight'):
        HingeLoss(loss_weight=-1)
    with pytest.raises(ValueError, match='loss_weight'):
        HingeLoss(loss_weight=True)


@pytest.mark.parametrize('target', ['real', 'fake', 'generator'])
def test_low_precision_logits_give_the_float32_loss(target):
    pred = _logits().bfloat16()
    torch.manual_seed(123)
    loss = HingeLoss()(pred, target)
    torch.manual_seed(123)
    expected = HingeLoss()(pred.float(), target)
    assert loss.dtype == torch.float32
    torch.testing.assert_close(loss, expected, rtol=0, atol=0)
