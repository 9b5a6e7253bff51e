"""Image channel layouts (1 grey, 3 RGB, 4 RGBA with alpha last) and their flattening to RGB.

:func:`to_rgb` is the one place where a grey image becomes RGB (repeated) and an RGBA image
is composited over a background (white for metrics and LPIPS, a checkerboard for grids a
person looks at). Channel order does not matter to it: BGR(A) works the same (white and the
checkerboard are grey).
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from .validation import check_choice

IMG_CHANNELS = (1, 3, 4)  # grey, RGB, RGBA
PIL_MODES = {1: 'L', 3: 'RGB', 4: 'RGBA'}  # by channel count
CHECKER_CELL = 8  # checkerboard square side in pixels
CHECKER_SHADES = (0.8, 0.6)  # light and dark square, as fractions of the range


def check_img_channels(value, name: str = 'img_channels') -> int:
    """``value`` if it is 1 (grey), 3 (RGB) or 4 (RGBA), else ``ValueError`` naming ``name``."""
    return check_choice(value, f'{name} (1 grey, 3 RGB, 4 RGBA)', IMG_CHANNELS)


def checkerboard(height: int, width: int, value_range: Tuple[float, float] = (-1.0, 1.0),
                 device: Optional[torch.device] = None) -> Tensor:
    """A light and dark grey checkerboard of :data:`CHECKER_CELL` px squares, (1, 3, H, W),
    in ``value_range``: the usual backdrop that shows transparency."""
    low, high = value_range
    rows = torch.arange(height, device=device).view(-1, 1) // CHECKER_CELL
    cols = torch.arange(width, device=device).view(1, -1) // CHECKER_CELL
    light, dark = (low + shade * (high - low) for shade in CHECKER_SHADES)
    board = torch.where((rows + cols) % 2 == 0, light, dark).float()
    return board.expand(1, 3, height, width)


def to_rgb(images: Tensor, value_range: Tuple[float, float] = (-1.0, 1.0),
           background: Optional[Tensor] = None) -> Tensor:
    """Images (N, C, H, W), C in (1, 3, 4), in ``value_range`` -> (N, 3, H, W): RGB as is,
    grey repeated to 3 channels, RGBA composited ``rgb * a + background * (1 - a)`` with the
    alpha mapped to ``a`` in [0, 1] (clamped) over ``background`` ((1 or N, 3, H, W), in
    ``value_range``; None: white, ``value_range[1]``). Differentiable."""
    if images.dim() != 4 or images.size(1) not in IMG_CHANNELS:
        raise ValueError('images must be (N, C, H, W) with C = 1 (grey), 3 (RGB) or 4 (RGBA), '
                         f'got shape {tuple(images.shape)}')
    if images.size(1) == 1:
        return images.expand(-1, 3, -1, -1)
    if images.size(1) == 3:
        return images
    low, high = value_range
    alpha = ((images[:, 3:] - low) / (high - low)).clamp(0, 1)
    if background is None:
        background = torch.full_like(images[:, :3], high)
    return images[:, :3] * alpha + background.to(images) * (1 - alpha)


def swap_red_blue(images: Tensor) -> Tensor:
    """RGB(A) <-> BGR(A) along dim -3 of (..., C, H, W) images; alpha and grey stay."""
    if images.size(-3) == 1:
        return images
    order = torch.tensor([2, 1, 0, *range(3, images.size(-3))], device=images.device)
    return images.index_select(-3, order)
