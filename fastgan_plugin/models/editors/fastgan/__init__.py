"""FastGAN: SLE generator, self-supervised discriminator, DiffAugment, training model."""
from .diff_augment import DiffAugment
from .fastgan import FastGAN
from .fastgan_ema import FastGANEMA
from .modules import crop_quadrant, resize_images
from .official_converter import convert_official_state_dict, load_official_checkpoint
from .sle_generator import SLEGenerator
from .spectral_norm import spectral_norm
from .ss_discriminator import SSDiscriminator

__all__ = [
    'DiffAugment', 'FastGAN', 'FastGANEMA', 'SLEGenerator', 'SSDiscriminator', 'spectral_norm',
    'crop_quadrant', 'resize_images', 'convert_official_state_dict', 'load_official_checkpoint'
]
