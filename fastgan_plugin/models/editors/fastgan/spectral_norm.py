"""Spectral normalisation with the power-iteration order of the legacy PyTorch hook.

The official legacy hook breaks ``copy.deepcopy`` (EMA), DDP and ``torch.compile``; its
replacement ``parametrizations.spectral_norm`` updates u before v, so it trains differently
from the same checkpoint. Here, as a parametrization: in training mode, per forward,
``v = normalize(W^T u)``, ``u = normalize(W v)`` (``W`` as a matrix, into the buffers); the
layer uses ``W / (u . W v)``, in the weight's dtype also under autocast.

Keys of a normalised ``<layer>`` (official legacy key in brackets):
``parametrizations.weight.original`` (``weight_orig``), ``parametrizations.weight.0._u``
(``weight_u``), ``parametrizations.weight.0._v`` (``weight_v``).
"""
from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize


class LegacyOrderSpectralNorm(nn.Module):
    """Parametrization ``W -> W / sigma(W)``, one legacy-order power iteration per training call.

    Args:
        weight (Tensor): The weight to normalise (only its shape, dtype and device are used).
        dim (int): The output-channel dimension: 0 for conv and linear, 1 for transposed conv.
        eps (float): Lower bound of the norm when normalising the vectors.
    """

    def __init__(self, weight: torch.Tensor, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        if not 0 <= dim < weight.dim():
            raise ValueError(f'dim must index a dimension of the weight (shape '
                             f'{tuple(weight.shape)}), got dim={dim}')
        self.dim = dim
        self.eps = eps
        height = weight.size(dim)
        # Random unit vectors, drawn as the legacy hook draws them.
        self.register_buffer('_u', F.normalize(weight.new_empty(height).normal_(0, 1), dim=0,
                                               eps=eps))
        self.register_buffer('_v', F.normalize(
            weight.new_empty(weight.numel() // height).normal_(0, 1), dim=0, eps=eps))

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        """The normalised weight (same shape and dtype); training mode updates ``_v``, ``_u``."""
        # In the weight's precision: under CUDA autocast torch.mv would run in float16 and
        # torch.dot would refuse the float32 u with the float16 product.
        device = weight.device.type
        with (torch.autocast(device, enabled=False) if torch.is_autocast_enabled(device)
              else nullcontext()):
            weight_mat = weight.movedim(self.dim, 0).reshape(weight.size(self.dim), -1)
            if self.training:
                with torch.no_grad():
                    self._v.copy_(F.normalize(torch.mv(weight_mat.t(), self._u), dim=0,
                                              eps=self.eps))
                    self._u.copy_(F.normalize(torch.mv(weight_mat, self._v), dim=0,
                                              eps=self.eps))
                # Copies: autograd must not see the next in-place update of the buffers.
                u = self._u.clone(memory_format=torch.contiguous_format)
                v = self._v.clone(memory_format=torch.contiguous_format)
            else:
                u, v = self._u, self._v
            return weight / torch.dot(u, torch.mv(weight_mat, v))


def spectral_norm(module: nn.Module, eps: float = 1e-12) -> nn.Module:
    """Spectrally normalise ``module.weight`` in place (legacy order) and return ``module``.

    Transposed convolutions are normalised over dim 1 (their output channels), other layers
    over dim 0, as ``torch.nn.utils.spectral_norm`` does.
    """
    if not isinstance(getattr(module, 'weight', None), nn.Parameter):
        raise TypeError(f'spectral_norm needs a module with a weight parameter, got '
                        f'{type(module).__name__}')
    transposed = isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d))
    normaliser = LegacyOrderSpectralNorm(module.weight.detach(), dim=1 if transposed else 0,
                                         eps=eps)
    # unsafe=True skips the check that would call the parametrization (a power iteration)
    # at registration; the legacy hook runs none there.
    parametrize.register_parametrization(module, 'weight', normaliser, unsafe=True)
    return module
