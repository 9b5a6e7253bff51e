"""Spectral norm parametrization vs the legacy ``torch.nn.utils.spectral_norm`` hook."""
import copy

import pytest
import torch
from torch import nn

from fastgan_plugin.models.editors.fastgan.spectral_norm import (
    LegacyOrderSpectralNorm,
    spectral_norm,
)

LAYERS = [
    (lambda: nn.Conv2d(4, 6, 3, padding=1, bias=False), (2, 4, 8, 8)),
    (lambda: nn.ConvTranspose2d(5, 7, 4, 2, 1, bias=False), (2, 5, 4, 4)),
    (lambda: nn.Linear(9, 3), (2, 9)),
]


def _pair(make_layer):
    """A legacy-hook layer and ours with identical weight, u and v."""
    torch.manual_seed(0)
    legacy = torch.nn.utils.spectral_norm(make_layer())
    ours = spectral_norm(make_layer())
    param = ours.parametrizations.weight
    with torch.no_grad():
        param.original.copy_(legacy.weight_orig)
        param[0]._u.copy_(legacy.weight_u)
        param[0]._v.copy_(legacy.weight_v)
        if getattr(legacy, 'bias', None) is not None:
            ours.bias.copy_(legacy.bias)
    return legacy, ours


def _assert_same_state(legacy, ours):
    param = ours.parametrizations.weight
    torch.testing.assert_close(param[0]._u, legacy.weight_u, rtol=0, atol=0)
    torch.testing.assert_close(param[0]._v, legacy.weight_v, rtol=0, atol=0)


@pytest.mark.parametrize('make_layer,input_shape', LAYERS)
def test_training_mode_matches_legacy_hook(make_layer, input_shape):
    legacy, ours = _pair(make_layer)
    for _ in range(3):
        x = torch.randn(input_shape)
        torch.testing.assert_close(ours(x), legacy(x), rtol=0, atol=1e-7)
        _assert_same_state(legacy, ours)


@pytest.mark.parametrize('make_layer,input_shape', LAYERS)
def test_eval_mode_matches_legacy_hook_without_update(make_layer, input_shape):
    legacy, ours = _pair(make_layer)
    legacy.eval()
    ours.eval()
    u_before = ours.parametrizations.weight[0]._u.clone()
    x = torch.randn(input_shape)
    torch.testing.assert_close(ours(x), legacy(x), rtol=0, atol=1e-7)
    torch.testing.assert_close(ours.parametrizations.weight[0]._u, u_before, rtol=0, atol=0)
    _assert_same_state(legacy, ours)


@pytest.mark.parametrize('make_layer,input_shape', LAYERS)
def test_deepcopy_keeps_matching(make_layer, input_shape):
    legacy, ours = _pair(make_layer)
    x = torch.randn(input_shape)
    legacy(x)
    ours(x)
    ours_copy = copy.deepcopy(ours)
    u_copy = ours_copy.parametrizations.weight[0]._u.clone()
    ours(torch.randn(input_shape))  # updates the original's buffers, not the copy's
    torch.testing.assert_close(ours_copy.parametrizations.weight[0]._u, u_copy, rtol=0, atol=0)
    for mode in ('train', 'eval'):
        getattr(legacy, mode)()
        getattr(ours_copy, mode)()
        x = torch.randn(input_shape)
        torch.testing.assert_close(ours_copy(x), legacy(x), rtol=0, atol=1e-7)
        _assert_same_state(legacy, ours_copy)


def test_gradients_flow_over_several_steps():
    _, ours = _pair(LAYERS[0][0])
    optimizer = torch.optim.SGD(ours.parameters(), lr=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        ours(torch.randn(2, 4, 8, 8)).square().mean().backward()
        assert ours.parametrizations.weight.original.grad.abs().sum() > 0
        optimizer.step()


def test_state_dict_keys_and_transposed_dim():
    conv = spectral_norm(nn.ConvTranspose2d(3, 5, 4, bias=False))
    assert list(conv.state_dict()) == [
        'parametrizations.weight.original', 'parametrizations.weight.0._u',
        'parametrizations.weight.0._v'
    ]
    # Transposed conv: output channels (dim 1) index u, as in the legacy hook.
    assert conv.parametrizations.weight[0]._u.shape == (5, )
    assert conv.parametrizations.weight[0]._v.shape == (3 * 4 * 4, )
    torch.testing.assert_close(conv.parametrizations.weight[0]._u.norm(), torch.tensor(1.0))


def test_refuses_module_without_weight_and_bad_dim():
    with pytest.raises(TypeError, match='weight parameter'):
        spectral_norm(nn.ReLU())
    with pytest.raises(ValueError, match='dim'):
        LegacyOrderSpectralNorm(torch.zeros(3, 4), dim=2)


def test_sigma_is_computed_without_autocast(monkeypatch):
    """CUDA autocast runs torch.mv in float16 and torch.dot then refuses the float32 u; the
    CPU's autocast does not lower torch.mv, so here the test checks that autocast is off
    where sigma is computed, and that the layer still runs in bfloat16."""
    _, layer = _pair(LAYERS[0][0])
    layer.eval()  # no power iteration: the same weight twice
    expected = layer.weight
    states = []
    mv = torch.mv

    def recording(*args):  # eval mode: torch.mv runs once per weight, for sigma
        states.append(torch.is_autocast_enabled('cpu'))
        return mv(*args)

    monkeypatch.setattr(torch, 'mv', recording)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        weight = layer.weight
        out = layer(torch.randn(2, 4, 8, 8))
    assert states == [False, False]
    assert weight.dtype == torch.float32 and out.dtype == torch.bfloat16
    torch.testing.assert_close(weight, expected, rtol=0, atol=0)
