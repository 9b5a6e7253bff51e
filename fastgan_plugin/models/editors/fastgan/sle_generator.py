"""FastGAN generator with skip-layer excitation (Liu et al., ICLR 2021)."""
from typing import Dict, Optional, Union

import torch
from mmagic.registry import MODELS
from mmengine.model import BaseModule

from .modules import (
    GENERATOR_WIDTH_MULTIPLIERS,
    InitLayer,
    SLEBlock,
    UpBlockDouble,
    UpBlockSingle,
    channel_widths,
    check_base_width,
    init_fastgan_weights,
    sn_conv2d,
)

__all__ = ['SLEGenerator']

SUPPORTED_SIZES = (128, 256, 512, 1024, 2048)
OUTPUT_ACTIVATIONS = ('tanh', None)
# Up block per output resolution: True = UpBlockDouble (two convs, noise), False = single.
# The official code alternates from 8 (double) to 1024 (single); 2048 continues the pattern.
DOUBLE_UP_BLOCKS = {
    8: True, 16: False, 32: True, 64: False, 128: True, 256: False, 512: True, 1024: False,
    2048: True
}
# Skip-layer excitation: gated (big) resolution -> gating (small) resolution.
SLE_SOURCES = {64: 4, 128: 8, 256: 16, 512: 32}
# The official Generator registers (so orders its parameters and the g_ema list) the blocks up
# to 256 and their SLE blocks, then to_128 and to_big, then the blocks above 256.
LAST_EARLY_RESOLUTION = 256


@MODELS.register_module()
class SLEGenerator(BaseModule):
    """FastGAN generator: noise (N, nz) -> RGB image (N, 3, im_size, im_size).

    Layer by layer as the official FastGAN-pytorch ``Generator`` at 256, 512 and 1024 (same
    widths, layer order, submodule names and parameter order), so converted official weights
    load (see ``official_converter``). The resolution path: ``init`` (4x4), then up blocks
    ``feat_8`` ... ``feat_<im_size>`` alternating double (8, 32, 128, 512, 2048) and single
    (16, 64, 256, 1024) blocks; skip-layer excitation ``se_64``, ``se_128``, ``se_256``,
    ``se_512`` gates the 64/128/256/512 features by the 4/8/16/32 ones; ``to_128`` (conv1x1)
    reads the 128 feature, ``to_big`` (conv3x3) the last one.

    Extensions beyond the official code: ``im_size=128`` stops at ``feat_128`` (both heads
    read it, so both outputs are 128x128); ``im_size=2048`` adds a double up block
    ``feat_2048`` with width multiplier 0.0625 (``ngf / 16`` channels) and, like 1024, no
    SLE into the last two resolutions.

    Widths: ``int(m * ngf)`` with m = {4: 16, 8: 8, 16: 4, 32: 2, 64: 2, 128: 1, 256: 0.5,
    512: 0.25, 1024: 0.125, 2048: 0.0625} over the resolutions up to im_size.

    Args:
        im_size (int): Output resolution, one of 128, 256, 512, 1024, 2048.
        ngf (int): Base width. Must be a positive multiple of 1 / (smallest multiplier used):
            any positive int at 128, a multiple of 2 at 256, 4 at 512, 8 at 1024, 16 at 2048.
        nz (int): Noise dimension (the official default is 256).
        out_act (str | None): ``'tanh'`` maps both outputs to [-1, 1]; ``None`` returns the
            raw conv outputs, which reproduces the official code at 256 and 512 (the official
            code applies tanh only at 1024).
        init_cfg (dict | None): mmengine initialisation config; ``None`` uses the official
            initialisation (see :meth:`init_weights`).
    """

    def __init__(self,
                 im_size: int = 1024,
                 ngf: int = 64,
                 nz: int = 256,
                 out_act: Optional[str] = 'tanh',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if im_size not in SUPPORTED_SIZES:
            raise ValueError(f'im_size must be one of {SUPPORTED_SIZES}, got {im_size!r}')
        resolutions = [r for r in GENERATOR_WIDTH_MULTIPLIERS if r <= im_size]
        check_base_width('ngf', ngf, GENERATOR_WIDTH_MULTIPLIERS, resolutions, im_size)
        if isinstance(nz, bool) or not isinstance(nz, int) or nz <= 0:
            raise ValueError(f'nz must be a positive int, got {nz!r}')
        if out_act not in OUTPUT_ACTIVATIONS:
            raise ValueError(f'out_act must be one of {OUTPUT_ACTIVATIONS}, got {out_act!r}')
        self.im_size = im_size
        self.ngf = ngf
        self.nz = nz
        self.out_act = out_act
        self.resolutions = resolutions
        widths = channel_widths(ngf, GENERATOR_WIDTH_MULTIPLIERS, resolutions)

        # Registration order = official parameter order (the order of the g_ema list).
        self.init = InitLayer(nz, widths[4])
        late_resolutions = []
        for res in resolutions[1:]:
            if res <= LAST_EARLY_RESOLUTION:
                self._add_up_block(res, widths)
            else:
                late_resolutions.append(res)
        for res in resolutions[1:]:
            if res in SLE_SOURCES and res <= LAST_EARLY_RESOLUTION:
                self._add_sle_block(res, widths)
        self.to_128 = sn_conv2d(widths[128], 3, 1, 1, 0)
        self.to_big = sn_conv2d(widths[im_size], 3, 3, 1, 1)
        for res in late_resolutions:
            self._add_up_block(res, widths)
            if res in SLE_SOURCES:
                self._add_sle_block(res, widths)
        init_fastgan_weights(self)

    def _add_up_block(self, res: int, widths: Dict[int, int]) -> None:
        block = UpBlockDouble if DOUBLE_UP_BLOCKS[res] else UpBlockSingle
        self.add_module(f'feat_{res}', block(widths[res // 2], widths[res]))

    def _add_sle_block(self, res: int, widths: Dict[int, int]) -> None:
        self.add_module(f'se_{res}', SLEBlock(widths[SLE_SOURCES[res]], widths[res]))

    @property
    def noise_size(self) -> int:
        """Noise dimension (``nz``), under the name mmagic's ``BaseGAN`` reads."""
        return self.nz

    def init_weights(self) -> None:
        """Initialise the weights.

        With ``init_cfg=None``, the official FastGAN initialisation (also applied at
        construction): conv weights ~ N(0, 0.02), BatchNorm weight ~ N(1, 0.02) and bias 0,
        noise-injection weights untouched. Otherwise mmengine's ``init_cfg`` handling.
        """
        if self.init_cfg is not None:
            super().init_weights()
            return
        init_fastgan_weights(self)

    def forward(self,
                noise: torch.Tensor,
                return_noise: bool = False,
                return_small: bool = False) -> Union[torch.Tensor, Dict[str, torch.Tensor]]:
        """Generate images.

        Args:
            noise (Tensor): (N, nz) or (N, nz, 1, 1), usually N(0, 1).
            return_noise (bool): Return a dict that also holds the input ``noise``.
            return_small (bool): Return a dict that also holds the 128x128 image.

        Returns:
            Tensor | dict: If both flags are False, ``fake_img`` alone: (N, 3, im_size,
            im_size), RGB, in [-1, 1] with ``out_act='tanh'`` (unbounded with ``None``).
            Otherwise a dict with ``fake_img``, ``fake_img_128`` (N, 3, 128, 128, same range)
            and, if ``return_noise``, ``noise``.
        """
        valid_4d = noise.dim() == 4 and noise.shape[2:] == (1, 1)
        if not (noise.dim() == 2 or valid_4d) or noise.size(1) != self.nz:
            raise ValueError(f'noise must have shape (N, {self.nz}) or (N, {self.nz}, 1, 1) '
                             f'(nz={self.nz}), got {tuple(noise.shape)}')
        feats = {4: self.init(noise)}
        for res in self.resolutions[1:]:
            feat = getattr(self, f'feat_{res}')(feats[res // 2])
            if res in SLE_SOURCES:
                feat = getattr(self, f'se_{res}')(feats[SLE_SOURCES[res]], feat)
            feats[res] = feat
        fake_img = self.to_big(feats[self.im_size])
        fake_img_128 = self.to_128(feats[128])
        if self.out_act == 'tanh':
            fake_img, fake_img_128 = torch.tanh(fake_img), torch.tanh(fake_img_128)

        if not (return_noise or return_small):
            return fake_img
        outputs = dict(fake_img=fake_img, fake_img_128=fake_img_128)
        if return_noise:
            outputs['noise'] = noise
        return outputs
