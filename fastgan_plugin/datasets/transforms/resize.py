"""Resize an image to a square, by default without stretching it."""
from collections.abc import Sequence
from typing import Optional, Union

import numpy as np
from mmagic.registry import TRANSFORMS
from mmcv.transforms import BaseTransform
from PIL import Image

from fastgan_plugin.utils.channels import PIL_MODES
from fastgan_plugin.utils.validation import check_choice, check_int, check_number, check_str

from .loading import check_rgb_color

_INTERPOLATIONS = {
    'nearest': Image.Resampling.NEAREST,
    'bilinear': Image.Resampling.BILINEAR,
    'bicubic': Image.Resampling.BICUBIC,
    'area': Image.Resampling.BOX,
    'lanczos': Image.Resampling.LANCZOS,
}


@TRANSFORMS.register_module()
class ResizeToSquare(BaseTransform):
    """Resize ``results[key]``, an (H, W, C) ``uint8`` array (C: 3 RGB, 4 RGBA, 1 grey), to
    (size, size, C).

    ``mode='crop'`` scales the short side to ``size`` and keeps the centre square (resampling
    only that square), ``'pad'`` scales the long side and centres the image on ``pad_value``,
    ``'stretch'`` scales each side, as the official code (torchvision ``Resize``; pixel for
    pixel with ``interpolation='bilinear', reducing_gap=None``). An image already ``size``
    square is returned as it is.

    Args:
        size (int): Output side, the model's ``im_size``.
        key (str): Results key of the image. Defaults to ``'gt'``.
        mode (str): ``'crop'``, ``'pad'`` or ``'stretch'``. Defaults to ``'crop'`` (padding
            bars would be learnt as part of the images; stretching distorts).
        pad_value (int | Sequence[int]): Padding colour, one or three values in [0, 255]
            (grey: its luma; RGBA pads transparent). Defaults to 255 (white).
        interpolation (str): A key of :data:`_INTERPOLATIONS` (antialiased when shrinking).
            Defaults to ``'bicubic'`` (sharp when enlarging, where ``'area'`` is blocky).
        reducing_gap (float, optional): Pillow's: shrink by an integer factor with a box
            filter first (fast on large photos, not bit-identical); None: one pass.
            Defaults to 3.0.
    """

    def __init__(self, size: Optional[int] = None, *, key: str = 'gt', mode: str = 'crop',
                 pad_value: Union[int, Sequence[int]] = 255, interpolation: str = 'bicubic',
                 reducing_gap: Optional[float] = 3.0) -> None:
        if size is None:  # left out of a pipeline: name the fix, not a missing argument
            raise ValueError("ResizeToSquare: size must be a positive integer, got None; set it "
                             "to the model's im_size, as configs/_base_/datasets/"
                             'few_shot_imgs_<size>.py do')
        self.size = check_int(size, 'size', minimum=1, what='a positive integer')
        self.key = check_str(key, 'key')
        self.mode = check_choice(mode, 'mode', ('crop', 'pad', 'stretch'))
        self.interpolation = check_choice(interpolation, 'interpolation', _INTERPOLATIONS)
        self.reducing_gap = check_number(reducing_gap, 'reducing_gap', minimum=1, optional=True)
        if isinstance(pad_value, int) and not isinstance(pad_value, bool):
            pad_value = (pad_value, ) * 3
        self.pad_value = check_rgb_color(pad_value, 'pad_value')

    def transform(self, results: dict) -> dict:
        """Replace ``results[key]`` by the square image."""
        if self.key not in results:
            raise KeyError(f'ResizeToSquare: results have no {self.key!r} (keys: '
                           f'{sorted(results)}); put LoadRGBImage(key={self.key!r}) before it')
        img = results[self.key]
        if not (isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.ndim == 3
                and img.shape[2] in PIL_MODES):
            described = (f'{img.dtype} array of shape {img.shape}'
                         if isinstance(img, np.ndarray) else type(img).__name__)
            raise TypeError(f'ResizeToSquare: results[{self.key!r}] must be a uint8 array of '
                            f'shape (H, W, 1, 3 or 4) as LoadRGBImage gives, got a {described}')
        if img.shape[:2] == (self.size, self.size):
            return results
        height, width = img.shape[:2]
        size, box = (self.size, self.size), None
        if self.mode == 'crop':
            side = min(width, height)
            left, top = (width - side) / 2, (height - side) / 2
            box = (left, top, left + side, top + side)
        elif self.mode == 'pad':
            scale = self.size / max(width, height)
            size = tuple(min(self.size, max(1, round(side * scale))) for side in (width, height))
        pil_mode = PIL_MODES[img.shape[2]]
        out = Image.fromarray(img.squeeze(2) if pil_mode == 'L' else img, pil_mode).resize(
            size, _INTERPOLATIONS[self.interpolation], box=box, reducing_gap=self.reducing_gap)
        if self.mode == 'pad':
            opacity = 0 if pil_mode == 'RGBA' else 255  # RGBA: transparent bars
            canvas = Image.new('RGBA', (self.size, self.size),
                               (*self.pad_value, opacity)).convert(pil_mode)
            canvas.paste(out, ((self.size - size[0]) // 2, (self.size - size[1]) // 2))
            out = canvas
        array = np.array(out)
        results[self.key] = array[:, :, None] if array.ndim == 2 else array
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, key={self.key!r}, '
                f'mode={self.mode!r}, pad_value={self.pad_value}, '
                f'interpolation={self.interpolation!r}, reducing_gap={self.reducing_gap})')
