"""The image-folder dataset and its transforms, registered into mmagic's registries."""
from .few_shot_image_dataset import FewShotImageDataset, check_image, find_image_files
from .transforms import LoadRGBImage, ResizeToSquare, pil_to_rgb

__all__ = [
    'FewShotImageDataset', 'LoadRGBImage', 'ResizeToSquare', 'check_image', 'find_image_files',
    'pil_to_rgb'
]
