"""Differentiable augmentation (DiffAugment) as FastGAN uses it.

Zhao, Liu, Lin, Zhu and Han, "Differentiable Augmentation for Data-Efficient GAN Training"
(NeurIPS 2020). Every op maps an image batch (N, C, H, W) to a batch of the same shape,
draws its randomness per sample, and is differentiable with respect to its input, so the
generator receives gradients through the augmentation of its outputs.

Every op is ``op(x, [ratio,] generator=None) -> Tensor``, its docstring giving the rest:
``x`` images (N, C, H, W), ``generator`` the random source on ``x``'s device (None: torch's
global generator), the output images (N, C, H, W). Each op draws the same random numbers,
in the same order and with the same calls, as the authors' code; under the same seed the
output equals theirs.
"""
from functools import partial
from typing import Callable, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from torch import Tensor, nn

from ....utils.validation import check_number


def rand_brightness(x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
    """Add ``b ~ U[-0.5, 0.5)`` per sample: ``x + b``."""
    return x + (_rand_per_sample(x, generator) - 0.5)


def rand_saturation(x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
    """Scale each pixel's deviation from its channel mean by ``s ~ U[0, 2)`` per sample.

    ``(x - mean_C(x)) * s + mean_C(x)``, the mean taken over channels at every pixel.
    """
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_rand_per_sample(x, generator) * 2) + mean


def rand_contrast(x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
    """Scale each image's deviation from its mean by ``c ~ U[0.5, 1.5)`` per sample.

    ``(x - mean_CHW(x)) * c + mean_CHW(x)``, the mean taken over the whole image.
    """
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (_rand_per_sample(x, generator) + 0.5) + mean


def rand_translation(x: Tensor,
                     ratio: float = 0.125,
                     generator: Optional[torch.Generator] = None) -> Tensor:
    """Shift each image by a random integer offset, filling uncovered pixels with zeros.

    The offsets are uniform integers in ``[-round(ratio * H), round(ratio * H)]`` (rows) and
    ``[-round(ratio * W), round(ratio * W)]`` (columns), per sample;
    ``out[n, :, i, j] = x[n, :, i + dy_n, j + dx_n]``, zero outside the image. Implemented
    by indexing a zero-padded copy, so gradients flow to ``x``.

    Args:
        ratio (float): Largest shift as a fraction of the image size.
    """
    n, _, h, w = x.shape
    shift_h, shift_w = _rounded_fraction(h, ratio), _rounded_fraction(w, ratio)
    dy = _randint_per_sample(x, -shift_h, shift_h + 1, generator)
    dx = _randint_per_sample(x, -shift_w, shift_w + 1, generator)
    # Indices into the copy padded by one zero pixel per side; any source position outside
    # the image is clamped onto that zero border.
    rows = (torch.arange(h, device=x.device).view(1, h, 1) + dy + 1).clamp(0, h + 1)
    cols = (torch.arange(w, device=x.device).view(1, 1, w) + dx + 1).clamp(0, w + 1)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    x_pad = F.pad(x, [1, 1, 1, 1])
    return x_pad.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def rand_cutout(x: Tensor,
                ratio: float = 0.5,
                generator: Optional[torch.Generator] = None) -> Tensor:
    """Zero a rectangle of ``round(ratio * H) x round(ratio * W)`` pixels per sample.

    Per sample, the rectangle's centre row is uniform in ``[0, H - 1]`` (odd side) or
    ``[0, H]`` (even side), likewise for columns; the part outside the image is dropped.

    Args:
        ratio (float): Side of the rectangle as a fraction of the image size.
    """
    _, _, h, w = x.shape
    cut_h, cut_w = _rounded_fraction(h, ratio), _rounded_fraction(w, ratio)
    centre_y = _randint_per_sample(x, 0, h + (1 - cut_h % 2), generator)
    centre_x = _randint_per_sample(x, 0, w + (1 - cut_w % 2), generator)
    top, left = centre_y - cut_h // 2, centre_x - cut_w // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (rows >= top) & (rows < top + cut_h) & (cols >= left) & (cols < left + cut_w)
    return x * (~inside).to(x.dtype).unsqueeze(1)


def _rand_per_sample(x: Tensor, generator: Optional[torch.Generator]) -> Tensor:
    """Draw one ``U[0, 1)`` number per sample, shaped (N, 1, 1, 1) like ``x``'s dtype."""
    return torch.rand(x.size(0), 1, 1, 1, dtype=x.dtype, device=x.device, generator=generator)


def _randint_per_sample(x: Tensor, low: int, high: int,
                        generator: Optional[torch.Generator]) -> Tensor:
    """Draw one integer in ``[low, high)`` per sample, shaped (N, 1, 1), on ``x``'s device."""
    return torch.randint(low, high, size=(x.size(0), 1, 1), device=x.device, generator=generator)


def _rounded_fraction(size: int, ratio: float) -> int:
    """``round(ratio * size)``, halves rounded up (as the authors' ``int(x + 0.5)``)."""
    return int(size * ratio + 0.5)


#: Ops applied, in order, for each policy name.
POLICY_OPS: Dict[str, Tuple[Callable[..., Tensor], ...]] = {
    'color': (rand_brightness, rand_saturation, rand_contrast),
    'translation': (rand_translation, ),
    'cutout': (rand_cutout, ),
}


@MODELS.register_module()
class DiffAugment(nn.Module):
    """Apply a DiffAugment policy to a batch of images.

    FastGAN applies ``DiffAugment('color,translation')`` to every image D sees, real and
    fake, in the D and the G steps, separately to the full-size image and to the 128 image.
    The module has no parameters or buffers and behaves the same in train and eval mode.

    Args:
        policy (str): Comma-separated policy names applied in order, each of
            ``'color'`` (brightness, saturation, contrast), ``'translation'`` and
            ``'cutout'``; ``''`` is the identity. Defaults to ``'color,translation'``
            (FastGAN).
        translation_ratio (float): Largest shift as a fraction of the image size, in
            [0, 1]. Defaults to 0.125.
        cutout_ratio (float): Cutout side as a fraction of the image size, in [0, 1].
            Defaults to 0.5.
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
        self.translation_ratio = check_number(translation_ratio, 'translation_ratio', 0, 1,
                                              what='a number in [0, 1]')
        self.cutout_ratio = check_number(cutout_ratio, 'cutout_ratio', 0, 1,
                                         what='a number in [0, 1]')
        ratios = {rand_translation: self.translation_ratio, rand_cutout: self.cutout_ratio}
        self._ops: List[Callable[..., Tensor]] = [
            partial(op, ratio=ratios[op]) if op in ratios else op
            for name in names for op in POLICY_OPS[name]
        ]

    def forward(self, x: Tensor, generator: Optional[torch.Generator] = None) -> Tensor:
        """Augment a batch.

        Args:
            x (Tensor): Images (N, C, H, W) of any size, usually RGB in [-1, 1]; the output
                may leave that range (brightness, saturation and contrast are not clipped).
            generator (torch.Generator, optional): Random source on ``x``'s device; None
                uses torch's global generator.

        Returns:
            Tensor: Augmented images (N, C, H, W), contiguous; ``x`` itself for policy ''.
        """
        if x.dim() != 4:
            raise ValueError(f'DiffAugment expects images (N, C, H, W), got shape {tuple(x.shape)}')
        if not self._ops:
            return x
        for op in self._ops:
            x = op(x, generator=generator)
        return x.contiguous()

    def extra_repr(self) -> str:
        return (f'policy={self.policy!r}, translation_ratio={self.translation_ratio}, '
                f'cutout_ratio={self.cutout_ratio}')
