"""Spectral normalisation with the power-iteration order of the legacy PyTorch hook.

The official FastGAN code wraps every convolution in the legacy
``torch.nn.utils.spectral_norm`` hook. That hook breaks ``copy.deepcopy`` (used by EMA),
DDP and ``torch.compile``, and its replacement ``torch.nn.utils.parametrizations.spectral_norm``
updates the singular vectors in the other order (u, then v), so in training mode it gives
different outputs from the same checkpoint. :class:`LegacyOrderSpectralNorm` is a
``torch.nn.utils.parametrize`` parametrization that computes exactly what the legacy hook
computes:

* training mode, once per forward: ``v = normalize(W^T u)``, then ``u = normalize(W v)``
  (``W`` the weight reshaped to a matrix, ``eps = 1e-12``), both written into the buffers;
* eval mode: no update;
* ``sigma = u . (W v)`` and the weight used by the layer is ``W / sigma``.

All of it runs in the weight's dtype (float32) under mixed precision too: autocast is
turned off inside the parametrization, and the layer then casts the normalised weight.

State-dict keys of a normalised layer ``<layer>`` (the official legacy key in brackets):
``<layer>.parametrizations.weight.original`` (``<layer>.weight_orig``),
``<layer>.parametrizations.weight.0._u`` (``<layer>.weight_u``) and
``<layer>.parametrizations.weight.0._v`` (``<layer>.weight_v``).
"""
from contextlib import nullcontext
from typing import ContextManager

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

__all__ = ['LegacyOrderSpectralNorm', 'spectral_norm']


class LegacyOrderSpectralNorm(nn.Module):
    """Parametrization ``W -> W / sigma(W)`` with one legacy-order power iteration per call.

    Args:
        weight (Tensor): The weight to normalise; only its shape, dtype and device are used.
        dim (int): The dimension holding the output channels: 0 for ``nn.Conv2d`` and
            ``nn.Linear``, 1 for ``nn.ConvTranspose2d`` (as the legacy hook chooses).
        eps (float): Lower bound of the norm when normalising the singular vectors.
    """

    def __init__(self, weight: torch.Tensor, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        if not 0 <= dim < weight.dim():
            raise ValueError(f'dim must index a dimension of the weight (shape '
                             f'{tuple(weight.shape)}), got dim={dim}')
        self.dim = dim
        self.eps = eps
        height = weight.size(dim)
        width = weight.numel() // height
        # Random unit vectors, drawn as the legacy hook draws them.
        self.register_buffer('_u', F.normalize(weight.new_empty(height).normal_(0, 1), dim=0,
                                               eps=eps))
        self.register_buffer('_v', F.normalize(weight.new_empty(width).normal_(0, 1), dim=0,
                                               eps=eps))

    def _weight_matrix(self, weight: torch.Tensor) -> torch.Tensor:
        """Reshape the weight to (out_channels, everything else), output channels first."""
        if self.dim != 0:
            order = [self.dim] + [d for d in range(weight.dim()) if d != self.dim]
            weight = weight.permute(*order)
        return weight.reshape(weight.size(0), -1)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        """Return ``weight / sigma``; in training mode update ``_v`` then ``_u`` first.

        Args:
            weight (Tensor): The unnormalised weight, any shape.

        Returns:
            Tensor: The normalised weight, same shape and dtype.
        """
        # sigma in the weight's precision: CUDA autocast would run torch.mv in float16 and
        # torch.dot would then refuse the float32 u with the float16 product.
        with _autocast_off(weight.device.type):
            return self._normalise(weight)

    def _normalise(self, weight: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` without the autocast guard."""
        weight_mat = self._weight_matrix(weight)
        if self.training:
            with torch.no_grad():
                self._v.copy_(F.normalize(torch.mv(weight_mat.t(), self._u), dim=0, eps=self.eps))
                self._u.copy_(F.normalize(torch.mv(weight_mat, self._v), dim=0, eps=self.eps))
            # Copies, so that autograd does not see the next in-place update of the buffers.
            u = self._u.clone(memory_format=torch.contiguous_format)
            v = self._v.clone(memory_format=torch.contiguous_format)
        else:
            u, v = self._u, self._v
        sigma = torch.dot(u, torch.mv(weight_mat, v))
        return weight / sigma


def _autocast_off(device_type: str) -> ContextManager:
    """A context that disables autocast on ``device_type`` if it is enabled there."""
    if torch.is_autocast_enabled(device_type):
        return torch.autocast(device_type, enabled=False)
    return nullcontext()


def spectral_norm(module: nn.Module, eps: float = 1e-12) -> nn.Module:
    """Spectrally normalise ``module.weight`` in place, legacy order; return the module.

    Args:
        module (nn.Module): A layer with a ``weight`` parameter (conv, transposed conv,
            linear). Transposed convolutions are normalised over dim 1 (their output
            channels), everything else over dim 0, like ``torch.nn.utils.spectral_norm``.
        eps (float): Lower bound of the norm when normalising the singular vectors.

    Returns:
        nn.Module: ``module``, with ``module.weight`` computed by
        :class:`LegacyOrderSpectralNorm` from ``module.parametrizations.weight.original``.
    """
    if not isinstance(getattr(module, 'weight', None), nn.Parameter):
        raise TypeError(f'spectral_norm needs a module with a weight parameter, got '
                        f'{type(module).__name__}')
    transposed = isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d))
    normaliser = LegacyOrderSpectralNorm(module.weight.detach(), dim=1 if transposed else 0,
                                         eps=eps)
    # unsafe=True skips the consistency check, which would call the parametrization once and
    # so run a power iteration at registration; the legacy hook runs none there.
    parametrize.register_parametrization(module, 'weight', normaliser, unsafe=True)
    return module
