"""Load an image file as RGB, RGBA or grey ``uint8`` with PIL, whatever its pixel mode.

By default EXIF orientation is applied; 16-bit grey (``I;16*``, ``I``) is scaled from
0-65535 to 0-255; for RGB and grey, ``LA``, ``PA``, ``RGBA`` and modes with a
``transparency`` entry are composited onto ``background``; RGBA keeps the alpha (opaque for
a file without one); the other :data:`SUPPORTED_MODES` by ``convert`` to ``RGB``, ``RGBA``
or ``L`` (ICC profiles not applied; grey is ITU-R 601 luma); float (``F``) and other modes
are refused. The official
``Image.open(path).convert('RGB')`` (``exif_orientation=False, pil_convert=True``) drops
transparency, clips 16-bit grey to white and ignores EXIF orientation.
"""
from collections.abc import Sequence
from logging import WARNING
from typing import Optional, Tuple

import numpy as np
from mmagic.registry import TRANSFORMS
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from PIL import Image, ImageOps

from fastgan_plugin.utils.channels import PIL_MODES, check_img_channels
from fastgan_plugin.utils.validation import check_bool, check_str

SUPPORTED_MODES = frozenset({
    '1', 'L', 'LA', 'P', 'PA', 'RGB', 'RGBA', 'RGBX', 'CMYK', 'YCbCr', 'LAB', 'HSV', 'I',
    'I;16', 'I;16L', 'I;16B', 'I;16N'
})
_16BIT_MODES = frozenset({'I', 'I;16', 'I;16L', 'I;16B', 'I;16N'})


def printable(text: str) -> str:
    """``text`` fit for a UTF-8 log: the bytes of a non-UTF-8 file name (which
    ``os.fsdecode`` keeps as lone surrogates, refused by the log's encoder) as ``\\xff``."""
    return text.encode('utf-8', 'surrogateescape').decode('utf-8', 'backslashreplace')


def check_rgb_color(value: Sequence[int], name: str) -> Tuple[int, int, int]:
    """Return ``value`` as a tuple of three ints in [0, 255], else raise a ValueError."""
    if (isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 3
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                       and 0 <= v <= 255 for v in value)):
        raise ValueError(f'{name} must be three integers in [0, 255] (R, G, B), got {value!r}')
    return tuple(int(v) for v in value)


def pil_to_rgb(img: Image.Image, background: Tuple[int, int, int] = (255, 255, 255), *,
               img_channels: int = 3, exif_orientation: bool = True,
               pil_convert: bool = False) -> np.ndarray:
    """Convert an image as ``PIL.Image.open`` returns it to an (H, W, img_channels)
    ``uint8`` array (RGB, RGBA or grey), C-contiguous and writable (mmcv flips in place);
    arguments as :class:`LoadRGBImage`'s, modes as the module docstring says.

    Raises:
        ValueError: If ``img.mode`` is not in :data:`SUPPORTED_MODES`.
    """
    if img.mode not in SUPPORTED_MODES:
        raise ValueError(f'unsupported pixel mode {img.mode!r} (supported: '
                         f'{", ".join(sorted(SUPPORTED_MODES))}); convert the file to 8-bit '
                         'RGB, e.g. PNG or JPEG')
    if exif_orientation:
        img = ImageOps.exif_transpose(img)
    if not pil_convert and img.mode in _16BIT_MODES:
        grey = np.rint(np.asarray(img).astype(np.float64) * (255 / 65535))
        img = Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), 'L')
    mode = PIL_MODES[img_channels]
    if not pil_convert and mode != 'RGBA' and (img.mode in ('LA', 'PA', 'RGBA')
                                               or 'transparency' in img.info):
        canvas = Image.new('RGBA', img.size, (*background, 255))
        img = Image.alpha_composite(canvas, img.convert('RGBA'))
    array = np.array(img if img.mode == mode else img.convert(mode))  # one copy, not two
    return array[:, :, None] if array.ndim == 2 else array


@TRANSFORMS.register_module()
class LoadRGBImage(BaseTransform):
    """Load ``results[f'{key}_path']`` with PIL as RGB (or RGBA, grey), in place of mmagic's
    BGR ``LoadImageFromFile``, recording the channel order as it does (so mmagic's
    ``DataPreprocessor`` keeps training images RGB(A) and gives its metrics BGR(A); grey it
    leaves as it is, announcing that once in the log).

    Added keys: ``{key}`` ((H, W, C) ``uint8``, C = ``img_channels``), ``ori_{key}_shape``,
    ``{key}_channel_order`` (``'rgb'``, alpha last), ``{key}_color_type`` (``'color'``;
    ``'grayscale'`` for grey). An unreadable
    file gives None and a warning naming it (once per file and process): MMEngine's
    ``BaseDataset`` then serves another sample and training goes on without that image.

    Args:
        key (str): Results key of the image. Defaults to ``'gt'`` (mmagic GANs' real images).
        background (Sequence[int]): RGB in [0, 255] under transparent pixels (RGB and grey;
            RGBA keeps the alpha). Defaults to white.
        img_channels (int): 3 RGB, 4 RGBA (alpha kept; opaque for files without alpha) or
            1 grey, as the model's ``img_channels``. Defaults to 3.
        exif_orientation (bool): Apply the EXIF orientation (official: no). Defaults to True.
        pil_convert (bool): Convert as the official code. Defaults to False.
        skip_unreadable (bool): None for an unreadable file; False raises an OSError naming
            it. Defaults to True.
    """

    def __init__(self, key: str = 'gt', background: Sequence[int] = (255, 255, 255), *,
                 img_channels: int = 3, exif_orientation: bool = True,
                 pil_convert: bool = False, skip_unreadable: bool = True) -> None:
        self.key = check_str(key, 'key')
        self.background = check_rgb_color(background, 'background')
        self.img_channels = check_img_channels(img_channels, 'LoadRGBImage: img_channels')
        for name, value in (('exif_orientation', exif_orientation),
                            ('pil_convert', pil_convert), ('skip_unreadable', skip_unreadable)):
            setattr(self, name, check_bool(value, f'LoadRGBImage: {name}', what='True or False'))
        self.warned_paths = set()

    def transform(self, results: dict) -> Optional[dict]:
        """Add the image (see the class docstring), or return None if it is skipped."""
        path_key = f'{self.key}_path'
        if path_key not in results:
            raise KeyError(f'LoadRGBImage: results have no {path_key!r} (keys: '
                           f'{sorted(results)}); the dataset must give each sample a '
                           f'{path_key!r} entry, or set LoadRGBImage(key=...) to match it')
        path = str(results[path_key])
        try:
            with Image.open(path) as img:
                array = pil_to_rgb(img, self.background, img_channels=self.img_channels,
                                   exif_orientation=self.exif_orientation,
                                   pil_convert=self.pil_convert)
        except Exception as err:  # PIL raises many types (OSError, SyntaxError, ValueError...)
            message = f'LoadRGBImage: cannot read {path!r}: {type(err).__name__}: {err}'
            if not self.skip_unreadable:
                raise OSError(f'{message}. Remove or re-save the file.') from err
            if path not in self.warned_paths:
                self.warned_paths.add(path)
                print_log(printable(f'{message}; skipped, another image is used in its place. '
                                    'Remove or re-save the file.'), 'current', WARNING)
            return None
        results[self.key] = array
        results[f'ori_{self.key}_shape'] = array.shape
        results[f'{self.key}_channel_order'] = 'rgb'
        results[f'{self.key}_color_type'] = 'color' if self.img_channels > 1 else 'grayscale'
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(key={self.key!r}, background={self.background}, '
                f'img_channels={self.img_channels}, exif_orientation={self.exif_orientation}, '
                f'pil_convert={self.pil_convert}, skip_unreadable={self.skip_unreadable})')
