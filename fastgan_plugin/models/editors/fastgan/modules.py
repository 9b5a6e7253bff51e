"""Blocks of the FastGAN generator and discriminator, width tables, image helpers.

Blocks keep the official layer order in an ``nn.Sequential`` (state-dict keys read like the
official ones); every conv is spectrally normalised (legacy order) and has no bias.
"""
from typing import Dict, Iterable, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn
from torch.nn.utils import parametrize

from ....utils.validation import check_choice, check_int
from .spectral_norm import spectral_norm

# Width multiplier per feature resolution (official up to 1024; 2048 halves once more).
GENERATOR_WIDTH_MULTIPLIERS: Dict[int, float] = {
    4: 16, 8: 8, 16: 4, 32: 2, 64: 2, 128: 1, 256: 0.5, 512: 0.25, 1024: 0.125, 2048: 0.0625
}
DISCRIMINATOR_WIDTH_MULTIPLIERS: Dict[int, float] = {
    4: 16, 8: 16, 16: 8, 32: 4, 64: 2, 128: 1, 256: 0.5, 512: 0.25, 1024: 0.125, 2048: 0.0625
}
# Output widths of the decoders' up blocks per output resolution, whatever ndf is.
DECODER_WIDTHS: Dict[int, int] = {16: 128, 32: 64, 64: 64, 128: 32}
SUPPORTED_SIZES = (128, 256, 512, 1024, 2048)  # official: 256, 512, 1024
RESIZE_MODES = ('nearest', 'bilinear', 'bicubic', 'area')  # 'nearest' is official
LEAKY_SLOPE = 0.2
INDEX_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)


def layer_widths(name: str, base_width: int, multipliers: Dict[int, float],
                 resolutions: Iterable[int], im_size: int) -> Dict[int, int]:
    """``{r: int(multipliers[r] * base_width)}`` over ``resolutions``; ``ValueError`` unless
    ``base_width`` (named ``name``) is a positive multiple of ``max(1, 1 / min multiplier)``."""
    resolutions = list(resolutions)
    step = max(1, round(1 / min(multipliers[r] for r in resolutions)))
    if isinstance(base_width, bool) or not isinstance(base_width, int) or base_width <= 0 \
            or base_width % step:
        raise ValueError(f'{name} must be a positive multiple of {step} at im_size={im_size} '
                         f'(so that every layer width {name} * multiplier is an integer >= 1), '
                         f'got {name}={base_width!r}')
    return {r: int(multipliers[r] * base_width) for r in resolutions}


def sn_conv2d(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
              padding: int = 0) -> nn.Conv2d:
    """A spectrally normalised ``nn.Conv2d`` without bias."""
    return spectral_norm(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False))


class NoiseInjection(nn.Module):
    """(N, C, H, W) -> same plus ``weight * n`` (``weight`` starts at 0), ``n`` (N, 1, H, W)
    shared by the channels: drawn from N(0, 1) at every call in train and eval mode (official)
    unless passed (seeded sampling; any device and dtype)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, feat: torch.Tensor, noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        batch, _, height, width = feat.shape
        if noise is None:
            noise = torch.randn(batch, 1, height, width, device=feat.device, dtype=feat.dtype)
        elif noise.shape != (batch, 1, height, width):
            raise ValueError(f'injection noise must have shape ({batch}, 1, {height}, {width}) '
                             f'for a feature of shape {tuple(feat.shape)}, got '
                             f'{tuple(noise.shape)}')
        # In the feature's dtype: a mixed-precision feature stays in low precision.
        return feat + self.weight.to(feat.dtype) * noise.to(feat)


class InitLayer(nn.Module):
    """Noise (N, nz) or (N, nz, 1, 1) -> (N, channels, 4, 4): ConvTranspose 4x4 -> BN -> GLU."""

    def __init__(self, nz: int, channels: int) -> None:
        super().__init__()
        self.init = nn.Sequential(
            spectral_norm(nn.ConvTranspose2d(nz, channels * 2, 4, 1, 0, bias=False)),
            nn.BatchNorm2d(channels * 2), nn.GLU(1))

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        return self.init(noise.view(noise.size(0), -1, 1, 1))


class UpBlockSingle(nn.Sequential):
    """Official ``UpBlock``, (N, in, H, W) -> (N, out, 2H, 2W): nearest x2 -> conv3x3 -> BN ->
    GLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.Upsample(scale_factor=2, mode='nearest'),
                         sn_conv2d(in_channels, out_channels * 2, 3, 1, 1),
                         nn.BatchNorm2d(out_channels * 2), nn.GLU(1))


class UpBlockDouble(nn.Sequential):
    """Official ``UpBlockComp``, (N, in, H, W) -> (N, out, 2H, 2W): nearest x2 -> (conv3x3 ->
    noise -> BN -> GLU) twice."""

    NOISE_LAYERS = 2

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.Upsample(scale_factor=2, mode='nearest'),
                         sn_conv2d(in_channels, out_channels * 2, 3, 1, 1), NoiseInjection(),
                         nn.BatchNorm2d(out_channels * 2), nn.GLU(1),
                         sn_conv2d(out_channels, out_channels * 2, 3, 1, 1), NoiseInjection(),
                         nn.BatchNorm2d(out_channels * 2), nn.GLU(1))

    def forward(self, feat: torch.Tensor,
                noise: Optional[Sequence[torch.Tensor]] = None) -> torch.Tensor:
        """``noise``: the maps (N, 1, 2H, 2W) of its two noise layers; None draws them."""
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
    """Skip-layer excitation (official ``SEBlock``): ``feat_big * gate(feat_small)``, the gate
    ``sigmoid(conv1x1(swish(conv4x4(avgpool_4(feat_small)))))`` of shape (N, big, 1, 1)."""

    def __init__(self, small_channels: int, big_channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(nn.AdaptiveAvgPool2d(4),
                                  sn_conv2d(small_channels, big_channels, 4, 1, 0), nn.SiLU(),
                                  sn_conv2d(big_channels, big_channels, 1, 1, 0), nn.Sigmoid())

    def gate(self, feat_small: torch.Tensor) -> torch.Tensor:
        """(N, small, h, w), h and w >= 4 -> gate (N, big, 1, 1) in [0, 1]."""
        return self.main(feat_small)

    def forward(self, feat_small: torch.Tensor, feat_big: torch.Tensor) -> torch.Tensor:
        """(N, small, h, w) and (N, big, H, W) -> (N, big, H, W)."""
        return feat_big * self.gate(feat_small)


def conv_bn_lrelu(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                  padding: int = 0) -> List[nn.Module]:
    """Spectral-norm conv, BN, LeakyReLU(0.2): layers to splice into an ``nn.Sequential``
    (keeping the official flat layer indices)."""
    return [sn_conv2d(in_channels, out_channels, kernel_size, stride, padding),
            nn.BatchNorm2d(out_channels), nn.LeakyReLU(LEAKY_SLOPE)]


class DownBlockSingle(nn.Module):
    """Official ``DownBlock``, (N, in, H, W) -> (N, out, H/2, W/2): conv4x4 s2 -> BN -> LReLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(*conv_bn_lrelu(in_channels, out_channels, 4, 2, 1))

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        return self.main(feat)


class DownBlockDouble(nn.Module):
    """Official ``DownBlockComp``, (N, in, H, W) -> (N, out, H/2, W/2): the mean of ``main``
    (conv4x4 s2, conv3x3, each with BN and LReLU) and ``direct`` (avgpool 2, conv1x1)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(*conv_bn_lrelu(in_channels, out_channels, 4, 2, 1),
                                  *conv_bn_lrelu(out_channels, out_channels, 3, 1, 1))
        self.direct = nn.Sequential(nn.AvgPool2d(2, 2),
                                    *conv_bn_lrelu(in_channels, out_channels, 1, 1, 0))

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        return (self.main(feat) + self.direct(feat)) / 2


class SimpleDecoder(nn.Module):
    """D's decoder: feature (N, C, h, w) -> image (N, out_channels, 128, 128) in [-1, 1]:
    avgpool to 8, four up blocks of widths :data:`DECODER_WIDTHS` times ``width_mult``
    (at least 1), conv3x3, tanh."""

    def __init__(self, in_channels: int, out_channels: int = 3, width_mult: float = 1.0) -> None:
        super().__init__()
        widths = [in_channels] + [max(1, int(DECODER_WIDTHS[r] * width_mult))
                                  for r in (16, 32, 64, 128)]
        self.main = nn.Sequential(
            nn.AdaptiveAvgPool2d(8), *map(UpBlockSingle, widths[:-1], widths[1:]),
            sn_conv2d(widths[-1], out_channels, 3, 1, 1), nn.Tanh())

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        return self.main(feat)


def init_fastgan_weights(module: nn.Module) -> None:
    """Official initialisation, in place: conv weights (the unnormalised ``original`` under
    spectral norm) ~ N(0, 0.02), BN weight ~ N(1, 0.02) and bias 0; noise weights untouched."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            weight = (layer.parametrizations.weight.original
                      if parametrize.is_parametrized(layer, 'weight') else layer.weight)
            nn.init.normal_(weight, 0.0, 0.02)
        elif isinstance(layer, (nn.BatchNorm2d, nn.SyncBatchNorm)):
            nn.init.normal_(layer.weight, 1.0, 0.02)
            nn.init.zeros_(layer.bias)


class OfficialInitModule(BaseModule):
    """``BaseModule`` whose :meth:`init_weights` is :func:`init_fastgan_weights` where
    ``init_cfg`` is None (else MMEngine's, e.g. ``Pretrained``)."""

    def init_weights(self) -> None:
        if self.init_cfg is not None:
            super().init_weights()
        else:
            init_fastgan_weights(self)


def resize_images(img: torch.Tensor, size: int, mode: str = 'nearest') -> torch.Tensor:
    """Images (N, C, H, W) -> (N, C, size, size) with ``F.interpolate``.

    ``'nearest'`` is the official resize (D's 128 px input and the reconstruction targets);
    ``'bilinear'`` / ``'bicubic'`` antialias (bicubic may overshoot the range); ``'area'``
    averages.
    """
    check_choice(mode, 'resize mode', RESIZE_MODES)
    if mode in ('bilinear', 'bicubic'):
        return F.interpolate(img, size=(size, size), mode=mode, align_corners=False,
                             antialias=True)
    return F.interpolate(img, size=(size, size), mode=mode)


def crop_quadrant(img: torch.Tensor, part: Union[int, torch.Tensor]) -> torch.Tensor:
    """Crop a quadrant of each (N, C, H, W) image or feature, H and W even -> (N, C, H/2, W/2).

    ``part``: 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right (official order); an int
    for the whole batch (a view of ``img``), or an integer tensor (N,) per sample (its values
    are checked, which synchronises a GPU stream).
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
        quadrants = torch.stack([  # (N, 4, C, H/2, W/2)
            img[:, :, :half_h, :half_w], img[:, :, :half_h, half_w:],
            img[:, :, half_h:, :half_w], img[:, :, half_h:, half_w:]
        ], dim=1)
        return quadrants[torch.arange(img.size(0), device=img.device), part.to(img.device)]
    part = check_int(part, 'part', 0, 3, what='an int in 0..3 or an integer tensor of shape (N,)')
    rows = slice(None, half_h) if part < 2 else slice(half_h, None)
    cols = slice(None, half_w) if part % 2 == 0 else slice(half_w, None)
    return img[:, :, rows, cols]
