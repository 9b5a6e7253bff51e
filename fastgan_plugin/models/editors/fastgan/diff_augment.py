"""Differentiable augmentation (DiffAugment) as FastGAN uses it.

Zhao et al., NeurIPS 2020. Every op maps images ``x`` (N, C, H, W) to (N, C, H, W),
differentiably, drawing per sample from ``generator`` (None: torch's global one) the same
numbers, in the same order, as the authors' code (one seed, the same output).

Channels: RGB as the authors. RGBA: the colour ops act on RGB only (alpha is shape, not
colour), translation and cutout move and cut all four channels alike (the zero fill is
mid-grey and half-transparent, the same for real and fake images). Grey: every op on the one
channel; saturation is then the identity (its random number is still drawn).
"""
from functools import partial
from typing import Callable, Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from torch import Tensor, nn

from ....utils.validation import check_number


def _uniform(x: Tensor, generator: Optional[torch.Generator]) -> Tensor:
    """One ``U[0, 1)`` draw per sample, (N, 1, 1, 1), in ``x``'s dtype."""
    return torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device, generator=generator)


def _randint(x: Tensor, low: int, high: int, generator: Optional[torch.Generator]) -> Tensor:
    """One integer in ``[low, high)`` per sample, (N, 1, 1)."""
    return torch.randint(low, high, size=(x.size(0), 1, 1), device=x.device, generator=generator)


def _fraction(size: int, ratio: float) -> int:
    """``round(ratio * size)``, halves up (the authors' ``int(x + 0.5)``)."""
    return int(size * ratio + 0.5)


def rand_brightness(x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
    """``x + b``, ``b ~ U[-0.5, 0.5)``."""
    return x + (_uniform(x, generator) - 0.5)


def rand_saturation(x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
    """Deviation from the channel mean of every pixel scaled by ``s ~ U[0, 2)``."""
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_uniform(x, generator) * 2) + mean


def rand_contrast(x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
    """Deviation from the image mean scaled by ``c ~ U[0.5, 1.5)``."""
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (_uniform(x, generator) + 0.5) + mean


def rand_translation(x: Tensor, ratio: float = 0.125,
                     generator: Optional[torch.Generator] = None) -> Tensor:
    """Shift by integer offsets uniform in ``[-round(ratio * H), round(ratio * H)]`` (rows) and
    likewise for columns, zero-filled: ``out[n, :, i, j] = x[n, :, i + dy_n, j + dx_n]``."""
    n, _, h, w = x.shape
    shift_h, shift_w = _fraction(h, ratio), _fraction(w, ratio)
    dy = _randint(x, -shift_h, shift_h + 1, generator)
    dx = _randint(x, -shift_w, shift_w + 1, generator)
    # Indices into a copy padded by one zero pixel; sources outside land on that border.
    rows = (torch.arange(h, device=x.device).view(1, h, 1) + dy + 1).clamp(0, h + 1)
    cols = (torch.arange(w, device=x.device).view(1, 1, w) + dx + 1).clamp(0, w + 1)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    return F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def rand_cutout(x: Tensor, ratio: float = 0.5,
                generator: Optional[torch.Generator] = None) -> Tensor:
    """Zero a ``round(ratio * H) x round(ratio * W)`` rectangle whose centre row is uniform in
    ``[0, H - 1]`` (odd side) or ``[0, H]`` (even side), likewise for columns; clipped."""
    _, _, h, w = x.shape
    cut_h, cut_w = _fraction(h, ratio), _fraction(w, ratio)
    top = _randint(x, 0, h + (1 - cut_h % 2), generator) - cut_h // 2
    left = _randint(x, 0, w + (1 - cut_w % 2), generator) - cut_w // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (rows >= top) & (rows < top + cut_h) & (cols >= left) & (cols < left + cut_w)
    return x * (~inside).to(x.dtype).unsqueeze(1)


#: Ops applied, in order, for each policy name; the colour ops skip an alpha channel.
#: ``'color'`` is the authors' three colour ops; each is also available alone.
POLICY_OPS: Dict[str, Tuple[Callable[..., Tensor], ...]] = {
    'color': (rand_brightness, rand_saturation, rand_contrast),
    'brightness': (rand_brightness, ),
    'saturation': (rand_saturation, ),
    'contrast': (rand_contrast, ),
    'translation': (rand_translation, ),
    'cutout': (rand_cutout, ),
}


@MODELS.register_module()
class DiffAugment(nn.Module):
    """A DiffAugment policy; FastGAN applies ``'color,translation'`` to every image D sees.

    No parameters or buffers; the same in train and eval mode.

    Args:
        policy (str): Comma-separated names from :data:`POLICY_OPS`, applied in order; ``''``
            is the identity. Defaults to ``'color,translation'``.
        translation_ratio (float): Largest shift as a fraction of the size, in [0, 1].
        cutout_ratio (float): Cutout side as a fraction of the size, in [0, 1].
    """

    def __init__(self,
                 policy: str = 'color,translation',
                 *,
                 translation_ratio: float = 0.125,
                 cutout_ratio: float = 0.5) -> None:
        super().__init__()
        if not isinstance(policy, str):
            raise TypeError(f'policy must be a str, got {policy!r}')
        names = policy.split(',') if policy else []
        for name in names:
            if name not in POLICY_OPS:
                raise ValueError(f'unknown DiffAugment policy {name!r} in {policy!r}; '
                                 f'valid policies: {", ".join(POLICY_OPS)}')
        self.policy = policy
        self.translation_ratio = check_number(translation_ratio, 'translation_ratio', 0, 1)
        self.cutout_ratio = check_number(cutout_ratio, 'cutout_ratio', 0, 1)
        ratios = {rand_translation: self.translation_ratio, rand_cutout: self.cutout_ratio}
        self.ops = [partial(op, ratio=ratios[op]) if op in ratios else op
                    for name in names for op in POLICY_OPS[name]]

    def forward(self, x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
        """Images (N, C, H, W), C = 3 (RGB), 4 (RGBA) or 1 (grey; see the module docstring),
        usually in [-1, 1] -> augmented, contiguous (not clipped: colour
        ops may leave the range); ``x`` itself for policy ''."""
        if x.dim() != 4:
            raise ValueError(f'DiffAugment expects images (N, C, H, W), got shape {tuple(x.shape)}')
        if not self.ops:
            return x
        for op in self.ops:
            if op in POLICY_OPS['color'] and x.size(1) == 4:  # RGBA: alpha untouched
                x = torch.cat([op(x[:, :3], generator=generator), x[:, 3:]], dim=1)
            else:
                x = op(x, generator=generator)
        return x.contiguous()

    def extra_repr(self) -> str:
        return (f'policy={self.policy!r}, translation_ratio={self.translation_ratio}, '
                f'cutout_ratio={self.cutout_ratio}')
