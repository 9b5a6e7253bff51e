"""Resize an image to a square, by default without stretching it.

The official FastGAN resizes every image to (im_size, im_size) with torchvision's
``Resize`` (Pillow, bilinear), which stretches non-square images. :class:`ResizeToSquare`
keeps the aspect ratio and either crops or pads; ``mode='stretch'`` with
``interpolation='bilinear', reducing_gap=None`` is the official resize, pixel for pixel.
"""
from collections.abc import Sequence
from typing import Optional, Tuple, Union

import numpy as np
from mmagic.registry import TRANSFORMS
from mmcv.transforms import BaseTransform
from PIL import Image

from fastgan_plugin.utils.validation import check_choice, check_int, check_number, check_str

from .loading import check_rgb_color

_INTERPOLATIONS = {
    'nearest': Image.Resampling.NEAREST,
    'bilinear': Image.Resampling.BILINEAR,
    'bicubic': Image.Resampling.BICUBIC,
    'area': Image.Resampling.BOX,
    'lanczos': Image.Resampling.LANCZOS,
}
_MODES = ('crop', 'pad', 'stretch')


@TRANSFORMS.register_module()
class ResizeToSquare(BaseTransform):
    """Resize ``results[key]`` to ``size`` x ``size``, by default keeping its aspect ratio.

    - ``mode='crop'``: scale so the short side is ``size``, keep the centre square.
      Resampling reads only the kept square (PIL ``resize(box=...)``), so it is exact
      and does not resample pixels that are then thrown away.
    - ``mode='pad'``: scale so the long side is ``size``, centre the image on a
      ``pad_value`` canvas.
    - ``mode='stretch'``: scale width and height independently to ``size``, as the
      official code does (non-square images are distorted).

    Images smaller than ``size`` are upscaled; an image already ``size`` x ``size`` is
    returned unchanged. With ``reducing_gap`` set, very large images are first shrunk by an
    integer factor with a box filter (Pillow's ``reducing_gap``), which is fast and
    visually identical but not bit-identical to a plain resize.

    Interpolation defaults to ``'bicubic'``: Pillow's filters are antialiased when
    shrinking (the kernel widens with the scale factor, so no aliasing from large
    photos) and bicubic stays sharp when enlarging small images, where ``'area'`` (a box
    filter) turns into blocky nearest-neighbour. The official code used bilinear (also
    antialiased by Pillow when shrinking).

    Required keys: ``{key}`` (np.ndarray (H, W, 3) uint8, as :class:`LoadRGBImage` gives).

    Modified keys: ``{key}`` (np.ndarray (size, size, 3) uint8, same channel order).

    Args:
        size (int): Output side length in pixels, e.g. the model's ``im_size``.
        key (str): Results key of the image. Defaults to ``'gt'``.
        mode (str): ``'crop'``, ``'pad'`` or ``'stretch'``. Defaults to ``'crop'``:
            padding bars would be learnt by the generator as part of the images, and
            stretching distorts non-square images (official: ``'stretch'``).
        pad_value (int | Sequence[int]): Padding colour for ``mode='pad'``, one integer
            for all channels or three, in [0, 255], in the image's channel order.
            Defaults to 255 (white, as :class:`LoadRGBImage` composites transparency).
        interpolation (str): One of ``'bicubic'``, ``'area'``, ``'bilinear'``,
            ``'lanczos'``, ``'nearest'``. Defaults to ``'bicubic'``.
        reducing_gap (float, optional): Pillow's ``reducing_gap``: shrink by an integer
            factor with a box filter while the remaining scale stays >= this gap, then
            resample. Defaults to 3.0 (much faster on very large photos); None resamples
            in one pass, as torchvision's ``Resize`` (the official code) does.
    """

    def __init__(self,
                 size: int,
                 *,
                 key: str = 'gt',
                 mode: str = 'crop',
                 pad_value: Union[int, Sequence[int]] = 255,
                 interpolation: str = 'bicubic',
                 reducing_gap: Optional[float] = 3.0) -> None:
        if size is None:  # the FastGAN dataset base leaves it to load_config
            raise ValueError(
                'ResizeToSquare: size must be a positive integer, got None; FastGAN configs '
                'leave it out and fastgan_plugin.apis.load_config (used by the tools and '
                'init_model) sets it to model.generator.im_size: load the config with it, '
                'or set the size in the pipeline')
        self.size = check_int(size, 'size', minimum=1, what='a positive integer')
        self.key = check_str(key, 'key')
        self.mode = check_choice(mode, 'mode', _MODES)
        self.interpolation = check_choice(interpolation, 'interpolation', _INTERPOLATIONS)
        self.reducing_gap = check_number(reducing_gap, 'reducing_gap', minimum=1, optional=True)
        if isinstance(pad_value, int) and not isinstance(pad_value, bool):
            pad_value = (pad_value, ) * 3
        self.pad_value: Tuple[int, int, int] = check_rgb_color(pad_value, 'pad_value')

    def transform(self, results: dict) -> dict:
        """Resize the image.

        Args:
            results (dict): Holds ``results[key]``.

        Returns:
            dict: ``results`` with ``results[key]`` of shape (size, size, 3).

        Raises:
            KeyError: If ``key`` is missing.
            TypeError: If the image is not a (H, W, 3) ``uint8`` array.
        """
        if self.key not in results:
            raise KeyError(f'ResizeToSquare: results have no {self.key!r} (keys: '
                           f'{sorted(results)}); put LoadRGBImage(key={self.key!r}) before it')
        img = results[self.key]
        if not (isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.ndim == 3
                and img.shape[2] == 3):
            described = (f'{img.dtype} array of shape {img.shape}'
                         if isinstance(img, np.ndarray) else type(img).__name__)
            raise TypeError(f'ResizeToSquare: results[{self.key!r}] must be a uint8 array of '
                            f'shape (H, W, 3) as LoadRGBImage gives, got a {described}')
        if img.shape[:2] != (self.size, self.size):  # else unchanged, without a copy
            results[self.key] = self._resize(Image.fromarray(img))
        return results

    def _resize(self, img: Image.Image) -> np.ndarray:
        """Crop, pad or stretch ``img`` to a ``size`` x ``size`` array."""
        width, height = img.size
        resample = _INTERPOLATIONS[self.interpolation]
        if self.mode == 'stretch':
            return np.array(img.resize((self.size, self.size), resample,
                                       reducing_gap=self.reducing_gap))
        if self.mode == 'crop':
            side = min(width, height)
            left, top = (width - side) / 2, (height - side) / 2
            out = img.resize((self.size, self.size), resample,
                             box=(left, top, left + side, top + side),
                             reducing_gap=self.reducing_gap)
            return np.array(out)
        scale = self.size / max(width, height)
        new_w = min(self.size, max(1, round(width * scale)))
        new_h = min(self.size, max(1, round(height * scale)))
        resized = img.resize((new_w, new_h), resample, reducing_gap=self.reducing_gap)
        canvas = Image.new('RGB', (self.size, self.size), self.pad_value)
        canvas.paste(resized, ((self.size - new_w) // 2, (self.size - new_h) // 2))
        return np.array(canvas)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, key={self.key!r}, '
                f'mode={self.mode!r}, pad_value={self.pad_value}, '
                f'interpolation={self.interpolation!r}, reducing_gap={self.reducing_gap})')
