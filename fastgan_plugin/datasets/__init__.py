"""Datasets and transforms, registered into mmagic's ``DATASETS`` and ``TRANSFORMS``.

See :mod:`fastgan_plugin.datasets.few_shot_image_dataset` for the recommended training
pipeline and for what is checked at build time and at load time.
"""
from .few_shot_image_dataset import (
    IMAGE_EXTENSIONS,
    FewShotImageDataset,
    check_image,
    find_image_files,
)
from .transforms import LoadRGBImage, ResizeToSquare, pil_to_rgb

__all__ = [
    'FewShotImageDataset', 'IMAGE_EXTENSIONS', 'LoadRGBImage', 'ResizeToSquare', 'check_image',
    'find_image_files', 'pil_to_rgb'
]
