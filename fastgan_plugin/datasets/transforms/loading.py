"""Load an image file as RGB ``uint8`` with PIL, whatever its pixel mode.

The official FastGAN code reads images with ``PIL.Image.open(path).convert('RGB')``. That
drops transparency (the colour stored under transparent pixels shows, usually black), clips
16-bit grey to white and ignores EXIF orientation. :func:`pil_to_rgb` keeps the RGB order
and the PIL reader but applies EXIF orientation and converts every mode a training folder
is likely to hold (listed in :data:`SUPPORTED_MODES`):

- ``1``, ``L``, ``P`` (without transparency), ``RGB``, ``RGBX``, ``CMYK``, ``YCbCr``,
  ``LAB``, ``HSV``: Pillow's ``convert('RGB')``. Embedded ICC profiles are not applied.
- ``LA``, ``PA``, ``RGBA`` and any mode with a ``transparency`` entry (palette or tRNS
  colour key): alpha-composited onto ``background``.
- ``I;16``, ``I;16L``, ``I;16B``, ``I;16N`` and ``I`` (how Pillow opens 16-bit grey PNG and
  TIFF): taken as 0-65535, scaled to 0-255 with rounding (``convert('RGB')`` would clip
  every value above 255 to white), then repeated to three channels.

Floating-point (``F``) and other modes are refused with the file named; the dataset
check of :class:`~fastgan_plugin.datasets.FewShotImageDataset` refuses them at build time.

``exif_orientation=False, pil_convert=True`` reproduce the official reading exactly.
"""
from collections.abc import Sequence
from typing import Tuple

import numpy as np
from mmagic.registry import TRANSFORMS
from mmcv.transforms import BaseTransform
from PIL import Image, ImageOps

from fastgan_plugin.utils.validation import check_bool, check_str

SUPPORTED_MODES = frozenset({
    '1', 'L', 'LA', 'P', 'PA', 'RGB', 'RGBA', 'RGBX', 'CMYK', 'YCbCr', 'LAB', 'HSV', 'I',
    'I;16', 'I;16L', 'I;16B', 'I;16N'
})
_ALPHA_MODES = frozenset({'LA', 'PA', 'RGBA'})
_16BIT_MODES = frozenset({'I', 'I;16', 'I;16L', 'I;16B', 'I;16N'})


def check_rgb_color(value: Sequence[int], name: str) -> Tuple[int, int, int]:
    """Validate an RGB colour given as three integers in [0, 255].

    Args:
        value (Sequence[int]): The colour, e.g. ``(255, 255, 255)``.
        name (str): The argument name, used in the error message.

    Returns:
        tuple[int, int, int]: The colour as a tuple.

    Raises:
        ValueError: If ``value`` is not three integers in [0, 255].
    """
    if (isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 3
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                       and 0 <= v <= 255 for v in value)):
        raise ValueError(f'{name} must be three integers in [0, 255] (R, G, B), '
                         f'got {value!r}')
    return tuple(int(v) for v in value)


def pil_to_rgb(img: Image.Image,
               background: Tuple[int, int, int] = (255, 255, 255),
               *,
               exif_orientation: bool = True,
               pil_convert: bool = False) -> np.ndarray:
    """Convert a PIL image of any supported mode to an RGB ``uint8`` array.

    Args:
        img (PIL.Image.Image): The image, as returned by ``PIL.Image.open``.
        background (tuple[int, int, int]): RGB colour that transparent pixels are
            composited onto. Defaults to white.
        exif_orientation (bool): Rotate / mirror the image as its EXIF orientation tag
            says first, so the array is upright as image viewers show it. Defaults to
            True; the official code uses the pixels as stored (False).
        pil_convert (bool): Convert every mode with Pillow's ``convert('RGB')`` as the
            official code does: transparency dropped (``background`` unused), 16-bit grey
            clipped to 255. Defaults to False.

    Returns:
        np.ndarray: Array of shape (H, W, 3), dtype ``uint8``, channels in RGB order,
        C-contiguous and writable (mmcv's in-place flips need both).

    Raises:
        ValueError: If ``img.mode`` is not in :data:`SUPPORTED_MODES`.
    """
    if img.mode not in SUPPORTED_MODES:
        raise ValueError(f'unsupported pixel mode {img.mode!r} (supported: '
                         f'{", ".join(sorted(SUPPORTED_MODES))}); convert the file to 8-bit '
                         'RGB, e.g. PNG or JPEG')
    if exif_orientation:
        img = ImageOps.exif_transpose(img)
    if pil_convert:
        return np.array(img if img.mode == 'RGB' else img.convert('RGB'))
    if img.mode in _16BIT_MODES:
        grey = np.asarray(img).astype(np.float64) * (255 / 65535)
        grey = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if img.mode in _ALPHA_MODES or 'transparency' in img.info:
        rgba = img.convert('RGBA')
        canvas = Image.new('RGBA', rgba.size, (*background, 255))
        img = Image.alpha_composite(canvas, rgba)
    return np.array(img if img.mode == 'RGB' else img.convert('RGB'))  # one copy, not two


@TRANSFORMS.register_module()
class LoadRGBImage(BaseTransform):
    """Load ``results[f'{key}_path']`` with PIL as an RGB ``uint8`` (H, W, 3) array.

    Use it in place of mmagic's ``LoadImageFromFile`` (which reads BGR through OpenCV)
    to train on RGB as the official FastGAN does. The channel order is recorded the way
    ``LoadImageFromFile`` records it, so that mmagic's ``DataPreprocessor`` knows the
    data is RGB: with ``output_channel_order='RGB'`` (or ``None``) it leaves training
    images in RGB, and in evaluation mode it converts them to the BGR that mmagic's
    metrics expect. See :func:`pil_to_rgb` for how each pixel mode is converted.

    Required keys: ``{key}_path``.

    Added keys: ``{key}`` (np.ndarray (H, W, 3) uint8, RGB), ``ori_{key}_shape``
    ((H, W, 3)), ``{key}_channel_order`` (``'rgb'``), ``{key}_color_type`` (``'color'``).

    Args:
        key (str): Results key of the image; the path is read from ``f'{key}_path'``.
            Defaults to ``'gt'``, where mmagic's GANs read real images
            (``data_samples.gt_img``).
        background (Sequence[int]): RGB colour, three integers in [0, 255], that
            transparent pixels are composited onto. Defaults to white (255, 255, 255).
        exif_orientation (bool): Apply the EXIF orientation tag. Defaults to True
            (official: False).
        pil_convert (bool): Convert with Pillow's ``convert('RGB')`` alone, as the
            official code (transparency dropped, 16-bit grey clipped). Defaults to False.
    """

    def __init__(self, key: str = 'gt',
                 background: Sequence[int] = (255, 255, 255),
                 *,
                 exif_orientation: bool = True,
                 pil_convert: bool = False) -> None:
        self.key = check_str(key, 'key')
        self.background = check_rgb_color(background, 'background')
        self.exif_orientation = check_bool(exif_orientation, 'LoadRGBImage: exif_orientation',
                                           what='True or False')
        self.pil_convert = check_bool(pil_convert, 'LoadRGBImage: pil_convert',
                                      what='True or False')

    def transform(self, results: dict) -> dict:
        """Load the image and record its shape and channel order.

        Args:
            results (dict): Holds ``f'{key}_path'``.

        Returns:
            dict: ``results`` with the keys listed in the class docstring added.

        Raises:
            KeyError: If ``f'{key}_path'`` is missing.
            OSError: If the file cannot be read or converted; names the file.
        """
        path_key = f'{self.key}_path'
        if path_key not in results:
            raise KeyError(f'LoadRGBImage: results have no {path_key!r} (keys: '
                           f'{sorted(results)}); the dataset must give each sample a '
                           f'{path_key!r} entry, or set LoadRGBImage(key=...) to match it')
        path = str(results[path_key])
        try:
            with Image.open(path) as img:
                array = pil_to_rgb(img, self.background,
                                   exif_orientation=self.exif_orientation,
                                   pil_convert=self.pil_convert)
        except Exception as err:
            raise OSError(f'LoadRGBImage: cannot read {path!r}: {type(err).__name__}: '
                          f'{err}. Remove or re-save the file.') from err
        results[self.key] = array
        results[f'ori_{self.key}_shape'] = array.shape
        results[f'{self.key}_channel_order'] = 'rgb'
        results[f'{self.key}_color_type'] = 'color'
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(key={self.key!r}, background={self.background}, '
                f'exif_orientation={self.exif_orientation}, pil_convert={self.pil_convert})')
