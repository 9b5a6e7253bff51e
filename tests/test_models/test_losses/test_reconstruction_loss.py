"""Tests of ReconstructionLoss.

LPIPS runs through the real ``lpips`` code path, with one substitution: the ImageNet VGG16
backbone, which would be downloaded, is randomly initialised (``pretrained=False``, i.e.
``lpips.LPIPS(pnet_rand=True)``). The linear heads are the ones shipped in the package.
"""
import os

import lpips
import pytest
import torch
from mmagic.registry import MODELS
from torch import nn

from fastgan_plugin.models.losses import ReconstructionLoss


def _build_lpips_loss(**kwargs):
    torch.manual_seed(0)  # the same random backbone for every instance
    return ReconstructionLoss(pretrained=False, **kwargs)


@pytest.fixture(scope='module')
def lpips_loss():
    return _build_lpips_loss()


def _images(seed=0, n=3, size=16):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=gen) * 2 - 1


def test_registered():
    loss = MODELS.build(dict(type='ReconstructionLoss', distance='l1'))
    assert isinstance(loss, ReconstructionLoss)


# lpips 0.1.4 passes torchvision's deprecated ``pretrained`` argument.
@pytest.mark.filterwarnings('ignore:.*pretrained:UserWarning',
                            'ignore:Arguments other than a weight enum:UserWarning')
def test_lpips_equals_lpips_package(lpips_loss):
    pred, target = _images(0), _images(1)
    reference = lpips.LPIPS(net='vgg', version='0.1', pnet_rand=True, verbose=False)
    reference.load_state_dict(lpips_loss.lpips_net.state_dict())
    expected = reference(pred, target, normalize=False).sum()
    torch.testing.assert_close(lpips_loss(pred, target), expected)


def test_lpips_heads_are_the_packaged_weights(lpips_loss):
    path = os.path.join(os.path.dirname(lpips.__file__), 'weights', 'v0.1', 'vgg.pth')
    heads = torch.load(path, map_location='cpu')
    state = lpips_loss.lpips_net.state_dict()
    assert heads.keys() <= state.keys()
    for key, value in heads.items():
        assert torch.equal(state[key], value), key


def test_lpips_sum_and_mean_relate_by_batch_size(lpips_loss):
    pred, target = _images(0, n=4), _images(1, n=4)
    mean_loss = _build_lpips_loss(reduction='mean', loss_weight=3.0)
    torch.testing.assert_close(mean_loss(pred, target), 3.0 * lpips_loss(pred, target) / 4)


def test_lpips_is_frozen_in_eval_mode_and_out_of_checkpoints(lpips_loss):
    parent = nn.Module()
    parent.decoder = nn.Conv2d(3, 3, 1)
    parent.rec_loss = lpips_loss
    parent.train()
    assert not lpips_loss.lpips_net.training  # its heads' dropout stays off
    assert all(not p.requires_grad for p in lpips_loss.parameters())
    assert lpips_loss.state_dict() == {}
    state = parent.state_dict()
    assert set(state) == {'decoder.weight', 'decoder.bias'}
    weights = {k: v.clone() for k, v in lpips_loss.lpips_net.state_dict().items()}
    assert len(weights) > 30  # the LPIPS network's own state dict is whole
    parent.load_state_dict(state, strict=True)  # a checkpoint without LPIPS loads strictly
    assert all(torch.equal(v, lpips_loss.lpips_net.state_dict()[k]) for k, v in weights.items())

    pred = parent.decoder(_images(0, n=2))
    lpips_loss(pred, _images(1, n=2)).backward()
    grad = parent.decoder.weight.grad
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert all(p.grad is None for p in lpips_loss.lpips_net.parameters())


def test_lpips_follows_dtype_moves(lpips_loss):
    parent = nn.Sequential()
    parent.add_module('rec_loss', lpips_loss)
    try:
        parent.double()
        assert all(p.dtype == torch.float64 for p in lpips_loss.lpips_net.parameters())
        assert lpips_loss(_images(0).double(), _images(1).double()).dtype == torch.float64
    finally:
        parent.float()
    assert all(p.dtype == torch.float32 for p in lpips_loss.lpips_net.parameters())


@pytest.mark.parametrize('distance', ['l1', 'mse'])
def test_pixel_distances(distance):
    pred, target = _images(0, n=4, size=8), _images(1, n=4, size=8)
    diff = pred - target
    per_sample = diff.abs() if distance == 'l1' else diff**2
    per_sample = per_sample.mean(dim=(1, 2, 3))
    loss_sum = ReconstructionLoss(distance, loss_weight=0.5)
    loss_mean = ReconstructionLoss(distance, reduction='mean')
    assert loss_sum.lpips_net is None
    torch.testing.assert_close(loss_sum(pred, target), 0.5 * per_sample.sum())
    torch.testing.assert_close(loss_mean(pred, target), per_sample.mean())


def test_pretrained_weights_missing_gives_instructions(tmp_path, monkeypatch):
    """A corrupt cached VGG16 file makes loading fail without any network access."""
    checkpoints = tmp_path / 'hub' / 'checkpoints'
    checkpoints.mkdir(parents=True)
    (checkpoints / 'vgg16-397923af.pth').write_bytes(b'not a checkpoint')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    with pytest.raises(RuntimeError, match='vgg16-397923af.pth.*pretrained=False'):
        ReconstructionLoss()


def test_invalid_arguments(lpips_loss):
    with pytest.raises(ValueError, match="distance must be one of .*'lpips'"):
        ReconstructionLoss('l2')
    with pytest.raises(ValueError, match="reduction must be one of .*'sum'"):
        ReconstructionLoss('l1', reduction='none')
    with pytest.raises(ValueError, match='loss_weight'):
        ReconstructionLoss('l1', loss_weight=float('nan'))
    with pytest.raises(TypeError, match='pretrained'):
        ReconstructionLoss('l1', pretrained='no')
    with pytest.raises(ValueError, match='same shape'):
        lpips_loss(_images(0, size=16), _images(1, size=8))
    with pytest.raises(ValueError, match=r'C = 1 \(grey\), 3 \(RGB\) or 4 \(RGBA\)'):
        lpips_loss(torch.zeros(1, 2, 16, 16), torch.zeros(1, 2, 16, 16))


def test_lpips_under_autocast_runs_in_bfloat16_and_returns_float32(lpips_loss):
    seen = []
    conv = next(m for m in lpips_loss.lpips_net.modules() if isinstance(m, nn.Conv2d))
    handle = conv.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    try:
        with torch.autocast('cpu', dtype=torch.bfloat16):
            loss = lpips_loss(_images(0), _images(1))
    finally:
        handle.remove()
    assert set(seen) == {torch.bfloat16}
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    torch.testing.assert_close(loss, lpips_loss(_images(0), _images(1)), rtol=0.05, atol=0)


def _todays_loss(loss, pred, target):
    """The loss as ReconstructionLoss computed it before targets could be prepared: the
    ``lpips`` package's LPIPS.forward on (pred, target), or the pixel distance."""
    if loss.distance == 'lpips':
        per_sample = loss.lpips_net(pred, target, normalize=False).flatten()
    elif loss.distance == 'l1':
        per_sample = (pred - target).abs().flatten(1).mean(dim=1)
    else:
        per_sample = (pred - target).square().flatten(1).mean(dim=1)
    return loss.loss_weight * (per_sample.sum() if loss.reduction == 'sum' else per_sample.mean())


@pytest.mark.parametrize('reduction', ['sum', 'mean'])
@pytest.mark.parametrize('distance', ['lpips', 'l1', 'mse'])
def test_prepared_targets_give_todays_losses_and_gradients(distance, reduction):
    """FastGAN's three reconstruction terms (two predictions share one target) with the
    targets prepared once equal the per-term computation, losses and gradients (w.r.t. the
    predictions and the parameters that produce them, standing in for D's decoders), in
    float64 to 1e-10."""
    loss = (_build_lpips_loss(reduction=reduction, loss_weight=0.7) if distance == 'lpips' else
            ReconstructionLoss(distance, reduction=reduction, loss_weight=0.7)).double()
    torch.manual_seed(1)
    decoder = nn.Conv2d(3, 9, 3, padding=1).double()
    features, whole = _images(2, size=32).double(), _images(3, size=32).double()
    targets = dict(rec_big=whole, rec_small=whole, rec_part=_images(4, size=32).double())

    results = []
    for prepare in (False, True):
        decoder.zero_grad()
        preds = dict(zip(targets, torch.tanh(decoder(features)).split(3, dim=1)))
        for pred in preds.values():
            pred.retain_grad()
        if prepare:
            prepared = loss.prepare_targets(targets)
            terms = [loss(preds[name], prepared[name]) for name in targets]
        else:
            terms = [_todays_loss(loss, preds[name], targets[name]) for name in targets]
        sum(terms).backward()
        results.append((torch.stack(terms), [preds[name].grad for name in targets],
                        [p.grad.clone() for p in decoder.parameters()]))
    (today, today_pred_grads, today_param_grads), (new, new_pred_grads, new_param_grads) = results
    assert today.abs().min() > 0 and all(g.abs().sum() > 0 for g in today_param_grads)
    torch.testing.assert_close(new, today, rtol=0, atol=1e-10)
    for new_grad, today_grad in zip(new_pred_grads + new_param_grads,
                                    today_pred_grads + today_param_grads):
        torch.testing.assert_close(new_grad, today_grad, rtol=0, atol=1e-10)


def test_a_shared_target_is_prepared_once_without_autograd(lpips_loss):
    calls = []
    handle = lpips_loss.lpips_net.net.register_forward_hook(
        lambda module, args, out: calls.append(args[0].shape))
    whole = _images(0).requires_grad_()
    try:
        prepared = lpips_loss.prepare_targets(dict(big=whole, small=whole, part=_images(1)))
    finally:
        handle.remove()
    assert len(calls) == 2  # the whole image once, the quadrant once
    assert prepared['big'] is prepared['small'] and prepared['part'] is not prepared['big']
    assert not prepared['big'].image.requires_grad
    assert all(f.grad_fn is None and not f.requires_grad for f in prepared['big'].features)
    assert len(prepared['big'].features) == lpips_loss.lpips_net.L
    assert ReconstructionLoss('l1').prepare_target(whole).features is None
    with pytest.raises(ValueError, match='same shape'):
        lpips_loss(_images(0, size=8), prepared['part'])
    with pytest.raises(ValueError, match='target must be an'):
        lpips_loss.prepare_target(torch.zeros(3, 16, 16))


def test_lpips_of_grey_is_lpips_of_the_grey_repeated_to_rgb(lpips_loss):
    pred, target = _images(0)[:, :1], _images(1)[:, :1]
    expected = lpips_loss(pred.repeat(1, 3, 1, 1), target.repeat(1, 3, 1, 1))
    torch.testing.assert_close(lpips_loss(pred, target), expected)


def test_lpips_of_rgba_is_lpips_on_white_plus_the_alpha_l1(lpips_loss):
    """RGB under a transparent pixel does not count; the alpha's L1 does."""
    pred, target = _images(0, n=2), _images(1, n=2)
    opaque, clear = torch.ones(2, 1, 16, 16), -torch.ones(2, 1, 16, 16)
    # Fully transparent: both are white whatever their RGB, and the alphas agree.
    assert lpips_loss(torch.cat([pred, clear], 1), torch.cat([target, clear], 1)) == 0
    # Fully opaque: plain LPIPS of the RGB.
    torch.testing.assert_close(lpips_loss(torch.cat([pred, opaque], 1),
                                          torch.cat([target, opaque], 1)),
                               lpips_loss(pred, target))
    # Same RGB, opaque against transparent: white against the image, plus |1 - (-1)| = 2.
    white = torch.ones(2, 3, 16, 16)
    torch.testing.assert_close(lpips_loss(torch.cat([pred, opaque], 1),
                                          torch.cat([pred, clear], 1)),
                               lpips_loss(pred, white) + 2 * 2)
