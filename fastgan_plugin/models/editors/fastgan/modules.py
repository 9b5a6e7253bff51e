"""Building blocks of the FastGAN generator and discriminator, width tables and image helpers.

Every block keeps the official FastGAN-pytorch layer order inside an ``nn.Sequential`` so that
state-dict keys read like the official ones (``feat_8.1`` is the first conv of the 8x8 up
block, ``down_4.main.0`` the strided conv of the first down block, ...). All convolutions are
spectrally normalised (:func:`spectral_norm`, legacy power-iteration order) and have no bias.

Widths: a network with base width ``ngf`` (or ``ndf``) has ``int(multiplier[r] * base)``
channels at resolution ``r``; see :data:`GENERATOR_WIDTH_MULTIPLIERS` and
:data:`DISCRIMINATOR_WIDTH_MULTIPLIERS`. The 2048 entries (0.0625) extend the official tables
by the same halving.

Image helpers (:func:`resize_images`, :func:`crop_quadrant`) are public because the training
model builds the discriminator's reconstruction targets with them.
"""
from typing import Dict, Iterable, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn
from torch.nn.utils import parametrize

from ....utils.validation import check_choice, check_int
from .spectral_norm import spectral_norm

__all__ = [
    'GENERATOR_WIDTH_MULTIPLIERS', 'DISCRIMINATOR_WIDTH_MULTIPLIERS', 'DECODER_WIDTHS',
    'RESIZE_MODES', 'SUPPORTED_SIZES', 'channel_widths', 'check_im_size', 'check_base_width',
    'sn_conv2d', 'sn_conv_transpose2d', 'conv_bn_lrelu', 'GLU', 'NoiseInjection', 'InitLayer',
    'UpBlockSingle', 'UpBlockDouble', 'SLEBlock', 'DownBlockSingle', 'DownBlockDouble',
    'SimpleDecoder', 'init_fastgan_weights', 'OfficialInitModule', 'resize_images',
    'crop_quadrant'
]

# Channel multiplier of the generator per feature resolution (official up to 1024).
GENERATOR_WIDTH_MULTIPLIERS: Dict[int, float] = {
    4: 16, 8: 8, 16: 4, 32: 2, 64: 2, 128: 1, 256: 0.5, 512: 0.25, 1024: 0.125, 2048: 0.0625
}
# Channel multiplier of the discriminator per feature resolution (official up to 1024; the
# 4 entry is official but unused).
DISCRIMINATOR_WIDTH_MULTIPLIERS: Dict[int, float] = {
    4: 16, 8: 16, 16: 8, 32: 4, 64: 2, 128: 1, 256: 0.5, 512: 0.25, 1024: 0.125, 2048: 0.0625
}
# Output channels of the decoders' up blocks per output resolution; fixed, whatever ndf is.
DECODER_WIDTHS: Dict[int, int] = {16: 128, 32: 64, 64: 64, 128: 32}

# Image sizes the generator and the discriminator are built for (official: 256, 512, 1024).
SUPPORTED_SIZES = (128, 256, 512, 1024, 2048)
# Interpolation modes accepted by resize_images ('nearest' is the official one).
RESIZE_MODES = ('nearest', 'bilinear', 'bicubic', 'area')

LEAKY_SLOPE = 0.2
# Tensor dtypes accepted as per-sample quadrant indices.
INDEX_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)


def channel_widths(base_width: int, multipliers: Dict[int, float],
                   resolutions: Iterable[int]) -> Dict[int, int]:
    """Return ``{r: int(multipliers[r] * base_width)}`` for the given resolutions."""
    return {r: int(multipliers[r] * base_width) for r in resolutions}


def check_im_size(im_size: int) -> None:
    """Refuse an ``im_size`` that is not one of :data:`SUPPORTED_SIZES` (``ValueError``)."""
    check_choice(im_size, 'im_size', SUPPORTED_SIZES)


def check_base_width(name: str, value: int, multipliers: Dict[int, float],
                     resolutions: Iterable[int], im_size: int) -> None:
    """Refuse a base width that would give a fractional or zero channel count.

    Rule: ``value`` must be a positive multiple of ``max(1, 1 / min(multipliers[r]))`` over
    the resolutions the network uses, so that every ``multipliers[r] * value`` is an integer
    >= 1.

    Args:
        name (str): Argument name for the message (``'ngf'`` or ``'ndf'``).
        value (int): The base width to check.
        multipliers (dict): Width multiplier per resolution.
        resolutions (Iterable[int]): Resolutions whose widths the network uses.
        im_size (int): Output/input resolution, for the message.

    Raises:
        ValueError: If ``value`` breaks the rule.
    """
    step = max(1, round(1 / min(multipliers[r] for r in resolutions)))
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value % step:
        raise ValueError(f'{name} must be a positive multiple of {step} at im_size={im_size} '
                         f'(so that every layer width {name} * multiplier is an integer >= 1), '
                         f'got {name}={value!r}')


def sn_conv2d(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
              padding: int = 0) -> nn.Conv2d:
    """A spectrally normalised ``nn.Conv2d`` without bias."""
    return spectral_norm(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False))


def sn_conv_transpose2d(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                        padding: int = 0) -> nn.ConvTranspose2d:
    """A spectrally normalised ``nn.ConvTranspose2d`` without bias."""
    return spectral_norm(
        nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride, padding, bias=False))


class GLU(nn.Module):
    """Gated linear unit over channels: (N, 2C, H, W) -> (N, C, H, W), ``a * sigmoid(b)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x[:, :C] * sigmoid(x[:, C:])`` with ``C = x.size(1) // 2``."""
        return F.glu(x, dim=1)


class NoiseInjection(nn.Module):
    """Add ``weight * n`` with ``n`` of shape (N, 1, H, W), one map per sample shared by the
    channels; ``weight`` starts at 0.

    ``n`` is drawn fresh from N(0, 1) (torch's global generator, on the feature's device) at
    every call, in training and eval mode alike, as in the official code, unless the caller
    passes it (seeded sampling, see :func:`fastgan_plugin.apis.seeded_injection_noise`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, feat: torch.Tensor, noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(N, C, H, W) -> (N, C, H, W).

        Args:
            feat (Tensor): (N, C, H, W).
            noise (Tensor, optional): (N, 1, H, W), any device and dtype (moved to the
                feature's). None draws fresh noise; no random number is drawn otherwise.
        """
        batch, _, height, width = feat.shape
        if noise is None:
            noise = torch.randn(batch, 1, height, width, device=feat.device, dtype=feat.dtype)
        elif noise.shape != (batch, 1, height, width):
            raise ValueError(f'injection noise must have shape ({batch}, 1, {height}, {width}) '
                             f'for a feature of shape {tuple(feat.shape)}, got '
                             f'{tuple(noise.shape)}')
        else:
            noise = noise.to(feat)
        # The weight in the feature's dtype keeps a mixed-precision feature in low precision.
        return feat + self.weight.to(feat.dtype) * noise


class InitLayer(nn.Module):
    """Generator input: noise (N, nz) or (N, nz, 1, 1) -> 4x4 feature (N, channels, 4, 4).

    ConvTranspose 4x4 (nz -> 2 * channels) -> BatchNorm -> GLU.
    """

    def __init__(self, nz: int, channels: int) -> None:
        super().__init__()
        self.init = nn.Sequential(
            sn_conv_transpose2d(nz, channels * 2, 4, 1, 0),
            nn.BatchNorm2d(channels * 2),
            GLU(),
        )

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        """(N, nz[, 1, 1]) -> (N, channels, 4, 4)."""
        return self.init(noise.view(noise.size(0), -1, 1, 1))


class UpBlockSingle(nn.Sequential):
    """Up block (official ``UpBlock``): (N, in, H, W) -> (N, out, 2H, 2W).

    Nearest x2 upsample -> conv3x3 (in -> 2 * out) -> BatchNorm -> GLU.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Upsample(scale_factor=2, mode='nearest'),
            sn_conv2d(in_channels, out_channels * 2, 3, 1, 1),
            nn.BatchNorm2d(out_channels * 2),
            GLU(),
        )


class UpBlockDouble(nn.Sequential):
    """Up block with two convs and noise (official ``UpBlockComp``).

    (N, in, H, W) -> (N, out, 2H, 2W).

    Nearest x2 -> conv3x3 (in -> 2 * out) -> noise -> BatchNorm -> GLU -> conv3x3
    (out -> 2 * out) -> noise -> BatchNorm -> GLU.
    """

    #: Number of its :class:`NoiseInjection` layers (both at the output resolution).
    NOISE_LAYERS = 2

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Upsample(scale_factor=2, mode='nearest'),
            sn_conv2d(in_channels, out_channels * 2, 3, 1, 1),
            NoiseInjection(),
            nn.BatchNorm2d(out_channels * 2),
            GLU(),
            sn_conv2d(out_channels, out_channels * 2, 3, 1, 1),
            NoiseInjection(),
            nn.BatchNorm2d(out_channels * 2),
            GLU(),
        )

    def forward(self,
                feat: torch.Tensor,
                noise: Optional[Sequence[torch.Tensor]] = None) -> torch.Tensor:
        """(N, in, H, W) -> (N, out, 2H, 2W).

        Args:
            feat (Tensor): (N, in, H, W).
            noise (Sequence[Tensor], optional): The two noise maps (N, 1, 2H, 2W) of its
                noise layers, in order; None draws them fresh (see :class:`NoiseInjection`).
        """
        if noise is None:
            return super().forward(feat)
        if len(noise) != self.NOISE_LAYERS:
            raise ValueError(f'UpBlockDouble takes {self.NOISE_LAYERS} noise maps, got '
                             f'{len(noise)}')
        noises = iter(noise)
        for layer in self:
            feat = layer(feat, next(noises)) if isinstance(layer, NoiseInjection) else layer(feat)
        return feat


class SLEBlock(nn.Module):
    """Skip-layer excitation (official ``SEBlock``): gate a big feature by a small one.

    ``feat_big * sigmoid(conv1x1(swish(conv4x4(adaptive_avgpool4(feat_small)))))``; the 4x4
    conv has no padding, so the gate is (N, big_channels, 1, 1).

    Args:
        small_channels (int): Channels of the small (low-resolution) feature.
        big_channels (int): Channels of the big feature that is gated.
    """

    def __init__(self, small_channels: int, big_channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            sn_conv2d(small_channels, big_channels, 4, 1, 0),
            nn.SiLU(),  # swish
            sn_conv2d(big_channels, big_channels, 1, 1, 0),
            nn.Sigmoid(),
        )

    def gate(self, feat_small: torch.Tensor) -> torch.Tensor:
        """The gate of ``feat_small`` (N, small_channels, h, w), h and w >= 4:
        (N, big_channels, 1, 1) in [0, 1] (a sigmoid)."""
        return self.main(feat_small)

    def forward(self, feat_small: torch.Tensor, feat_big: torch.Tensor) -> torch.Tensor:
        """Gate ``feat_big``.

        Args:
            feat_small (Tensor): (N, small_channels, h, w), h and w >= 4.
            feat_big (Tensor): (N, big_channels, H, W).

        Returns:
            Tensor: (N, big_channels, H, W).
        """
        return feat_big * self.gate(feat_small)


def conv_bn_lrelu(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                  padding: int = 0) -> List[nn.Module]:
    """The layers spectral-norm conv -> BatchNorm -> LeakyReLU(0.2), to be spliced into an
    ``nn.Sequential`` (so that they keep the official flat layer indices)."""
    return [
        sn_conv2d(in_channels, out_channels, kernel_size, stride, padding),
        nn.BatchNorm2d(out_channels),
        nn.LeakyReLU(LEAKY_SLOPE),
    ]


class DownBlockSingle(nn.Module):
    """Down block of the small path (official ``DownBlock``): (N, in, H, W) -> (N, out, H/2, W/2).

    conv4x4 stride 2 -> BatchNorm -> LeakyReLU(0.2).
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(*conv_bn_lrelu(in_channels, out_channels, 4, 2, 1))

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        """(N, in, H, W) -> (N, out, H/2, W/2)."""
        return self.main(feat)


class DownBlockDouble(nn.Module):
    """Two-branch down block (official ``DownBlockComp``): (N, in, H, W) -> (N, out, H/2, W/2).

    The mean of ``main`` (conv4x4 s2 -> BN -> LReLU -> conv3x3 -> BN -> LReLU) and ``direct``
    (avgpool 2 -> conv1x1 -> BN -> LReLU); LeakyReLU slope 0.2.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(*conv_bn_lrelu(in_channels, out_channels, 4, 2, 1),
                                  *conv_bn_lrelu(out_channels, out_channels, 3, 1, 1))
        self.direct = nn.Sequential(nn.AvgPool2d(2, 2),
                                    *conv_bn_lrelu(in_channels, out_channels, 1, 1, 0))

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        """(N, in, H, W) -> (N, out, H/2, W/2)."""
        return (self.main(feat) + self.direct(feat)) / 2


class SimpleDecoder(nn.Module):
    """Reconstruction decoder of the discriminator: feature (N, C, h, w) -> image (N, 3, 128, 128).

    Adaptive avgpool to 8x8, four up blocks (nearest x2, conv3x3, BN, GLU) with output widths
    :data:`DECODER_WIDTHS` (128, 64, 64, 32, whatever ``ndf`` is), conv3x3 -> 3, tanh: output
    in [-1, 1].

    Args:
        in_channels (int): Channels of the input feature.
        out_channels (int): Image channels.
    """

    def __init__(self, in_channels: int, out_channels: int = 3) -> None:
        super().__init__()
        blocks = []
        width = in_channels
        for resolution in (16, 32, 64, 128):
            blocks.append(UpBlockSingle(width, DECODER_WIDTHS[resolution]))
            width = DECODER_WIDTHS[resolution]
        self.main = nn.Sequential(
            nn.AdaptiveAvgPool2d(8),
            *blocks,
            sn_conv2d(width, out_channels, 3, 1, 1),
            nn.Tanh(),
        )

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        """(N, in_channels, h, w) -> (N, out_channels, 128, 128) in [-1, 1]."""
        return self.main(feat)


def init_fastgan_weights(module: nn.Module) -> None:
    """Official FastGAN initialisation of every layer inside ``module``, in place.

    Conv and transposed-conv weights (the unnormalised ``original`` under spectral norm)
    ~ N(0, 0.02); BatchNorm weight ~ N(1, 0.02), bias 0. Noise-injection weights are left as
    they are (0 at construction).
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            if parametrize.is_parametrized(layer, 'weight'):
                weight = layer.parametrizations.weight.original
            else:
                weight = layer.weight
            nn.init.normal_(weight, 0.0, 0.02)
        elif isinstance(layer, nn.modules.batchnorm._BatchNorm):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


class OfficialInitModule(BaseModule):
    """An MMEngine ``BaseModule`` whose :meth:`init_weights` defaults to the official FastGAN
    initialisation: the base of the generator and the discriminator, which also apply it at
    construction."""

    def init_weights(self) -> None:
        """Initialise the weights.

        With ``init_cfg=None``, :func:`init_fastgan_weights` (conv weights ~ N(0, 0.02),
        BatchNorm weight ~ N(1, 0.02) and bias 0, noise-injection weights untouched).
        Otherwise mmengine's ``init_cfg`` handling (e.g. ``Pretrained``).
        """
        if self.init_cfg is not None:
            super().init_weights()
            return
        init_fastgan_weights(self)


def resize_images(img: torch.Tensor, size: int, mode: str = 'nearest') -> torch.Tensor:
    """Resize images to ``size`` x ``size`` with ``F.interpolate``.

    ``'nearest'`` reproduces the official code (``F.interpolate(x, size)``), used both for the
    discriminator inputs and for the reconstruction targets. ``'bilinear'`` and ``'bicubic'``
    use ``align_corners=False`` with antialiasing (so downsampling does not alias);
    ``'area'`` averages. Bicubic may overshoot the input range slightly.

    Args:
        img (Tensor): Images (N, C, H, W), any range (FastGAN uses [-1, 1]).
        size (int): Output height and width.
        mode (str): One of :data:`RESIZE_MODES`.

    Returns:
        Tensor: (N, C, size, size).
    """
    check_choice(mode, 'resize mode', RESIZE_MODES)
    if mode in ('bilinear', 'bicubic'):
        return F.interpolate(img, size=(size, size), mode=mode, align_corners=False,
                             antialias=True)
    return F.interpolate(img, size=(size, size), mode=mode)


def crop_quadrant(img: torch.Tensor, part: Union[int, torch.Tensor]) -> torch.Tensor:
    """Crop one quadrant of each image or feature map, in the official quadrant order.

    ``part`` 0 = top-left ``[:, :, :H/2, :W/2]``, 1 = top-right ``[:, :, :H/2, W/2:]``,
    2 = bottom-left ``[:, :, H/2:, :W/2]``, 3 = bottom-right ``[:, :, H/2:, W/2:]``.
    The discriminator crops its 16x16 feature with it for ``decoder_part``, and the training
    model crops the real image the same way for the reconstruction target.

    Args:
        img (Tensor): (N, C, H, W) with even H and W.
        part (int | Tensor): One quadrant for the whole batch (int 0..3, as the official
            code), or one per sample (integer tensor of shape (N,), values 0..3; checking
            the values reads them, which synchronises a GPU stream).

    Returns:
        Tensor: (N, C, H/2, W/2); a view of ``img`` when ``part`` is an int.
    """
    if img.dim() != 4 or img.size(2) % 2 or img.size(3) % 2:
        raise ValueError(f'crop_quadrant expects (N, C, H, W) with even H and W, got shape '
                         f'{tuple(img.shape)}')
    half_h, half_w = img.size(2) // 2, img.size(3) // 2
    if isinstance(part, torch.Tensor):
        if part.shape != (img.size(0), ) or part.dtype not in INDEX_DTYPES:
            raise ValueError(f'part as a tensor must be integer with shape ({img.size(0)},), '
                             f'got dtype {part.dtype} and shape {tuple(part.shape)}')
        if part.numel() and (part.min() < 0 or part.max() > 3):
            raise ValueError(f'part values must be in 0..3, got {part.tolist()}')
        # (N, 4, C, H/2, W/2): quadrants in the order 0..3, then one picked per sample.
        quadrants = torch.stack([
            img[:, :, :half_h, :half_w], img[:, :, :half_h, half_w:],
            img[:, :, half_h:, :half_w], img[:, :, half_h:, half_w:]
        ], dim=1)
        return quadrants[torch.arange(img.size(0), device=img.device), part.to(img.device)]
    part = check_int(part, 'part', 0, 3, what='an int in 0..3 or an integer tensor of shape (N,)')
    rows = slice(None, half_h) if part < 2 else slice(half_h, None)
    cols = slice(None, half_w) if part % 2 == 0 else slice(half_w, None)
    return img[:, :, rows, cols]
