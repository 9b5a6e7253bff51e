from .loading import LoadRGBImage, pil_to_rgb
from .resize import ResizeToSquare

__all__ = ['LoadRGBImage', 'ResizeToSquare', 'pil_to_rgb']
