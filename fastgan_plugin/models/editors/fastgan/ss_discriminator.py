"""FastGAN self-supervised discriminator (Liu et al., ICLR 2021)."""
from typing import Dict, Optional, Tuple, Union

import torch
from mmagic.registry import MODELS
from torch import nn

from ....utils.validation import check_choice
from .modules import (
    DISCRIMINATOR_WIDTH_MULTIPLIERS,
    LEAKY_SLOPE,
    RESIZE_MODES,
    DownBlockDouble,
    DownBlockSingle,
    OfficialInitModule,
    SimpleDecoder,
    SLEBlock,
    channel_widths,
    check_base_width,
    check_im_size,
    conv_bn_lrelu,
    crop_quadrant,
    init_fastgan_weights,
    resize_images,
    sn_conv2d,
)

__all__ = ['SSDiscriminator']

SMALL_SIZE = 128
# The body, heads and small path use the widths of resolutions 8..512 (widths[512] is the
# stem's output width); a stem above 512 also uses the widths up to im_size.
BODY_RESOLUTIONS = (8, 512)


def build_big_stem(im_size: int, widths: Dict[int, int]) -> nn.Sequential:
    """Big-path stem: image (N, 3, im_size, im_size) -> (N, widths[512], 256, 256).

    Official at 256 (conv3x3 s1 -> LReLU), 512 (conv4x4 s2 -> LReLU) and 1024 (conv4x4 s2 ->
    LReLU -> conv4x4 s2 -> BN -> LReLU, via widths[1024]). Extensions: 128 upsamples the
    image (nearest x2) and then applies the 256 stem, so the rest of D is the 256 one; 2048
    continues the 1024 pattern with one more strided conv (3 -> widths[2048] -> widths[1024]
    -> widths[512], BN after every conv but the first).
    """
    if im_size in (128, 256):
        layers = [sn_conv2d(3, widths[512], 3, 1, 1), nn.LeakyReLU(LEAKY_SLOPE)]
        if im_size == 128:
            layers.insert(0, nn.Upsample(scale_factor=2, mode='nearest'))
        return nn.Sequential(*layers)
    # Strided 4x4 convs halving the resolution down to 256, widths following the resolution.
    resolutions = [r for r in (2048, 1024, 512) if r <= im_size]
    layers = [sn_conv2d(3, widths[resolutions[0]], 4, 2, 1), nn.LeakyReLU(LEAKY_SLOPE)]
    for in_res, out_res in zip(resolutions[:-1], resolutions[1:]):
        layers += conv_bn_lrelu(widths[in_res], widths[out_res], 4, 2, 1)
    return nn.Sequential(*layers)


@MODELS.register_module()
class SSDiscriminator(OfficialInitModule):
    """FastGAN discriminator with self-supervised reconstruction decoders.

    Layer by layer as the official FastGAN-pytorch ``Discriminator`` at 256, 512 and 1024
    (same widths, layer order and submodule names; the official code's unused texture
    discriminator is left out). Two paths produce 5x5 logit maps:

    * big path: ``down_from_big`` (stem, see :func:`build_big_stem`) -> 256x256, then the
      two-branch down blocks ``down_4`` ... ``down_64`` -> 128, 64, 32, 16, 8; SLE
      ``se_2_16`` gates the 32x32 feature by the 256x256 one, ``se_4_32`` the 16x16 by the
      128x128, ``se_8_64`` the 8x8 by the 64x64; head ``rf_big`` (conv1x1, BN, LReLU,
      conv4x4 without padding);
    * small path on the 128x128 image: ``down_from_small`` -> 8x8, head ``rf_small``.

    Decoders ``decoder_big`` (last 8x8 big feature), ``decoder_small`` (8x8 small feature)
    and ``decoder_part`` (one quadrant of the 16x16 big feature) reconstruct 128x128 images.

    Widths: ``int(m * ndf)`` with m = {8: 16, 16: 8, 32: 4, 64: 2, 128: 1, 256: 0.5,
    512: 0.25, 1024: 0.125, 2048: 0.0625}; the decoders' widths are fixed.

    Args:
        im_size (int): Input resolution, one of 128, 256, 512, 1024, 2048.
        ndf (int): Base width. Must be a positive multiple of 1 / (smallest multiplier used):
            4 at 128, 256 and 512, 8 at 1024, 16 at 2048.
        resize_mode (str): Interpolation used to make the 128x128 input from a single image
            tensor: ``'nearest'`` (official), ``'bilinear'``, ``'bicubic'`` (both
            antialiased) or ``'area'``.
        init_cfg (dict | None): mmengine initialisation config; ``None`` uses the official
            initialisation (see :meth:`OfficialInitModule.init_weights`).
    """

    def __init__(self,
                 im_size: int = 1024,
                 ndf: int = 64,
                 resize_mode: str = 'nearest',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_im_size(im_size)
        lowest, highest = BODY_RESOLUTIONS
        resolutions = [r for r in DISCRIMINATOR_WIDTH_MULTIPLIERS
                       if lowest <= r <= max(highest, im_size)]
        check_base_width('ndf', ndf, DISCRIMINATOR_WIDTH_MULTIPLIERS, resolutions, im_size)
        check_choice(resize_mode, 'resize_mode', RESIZE_MODES)
        self.im_size = im_size
        self.ndf = ndf
        self.resize_mode = resize_mode
        nfc = channel_widths(ndf, DISCRIMINATOR_WIDTH_MULTIPLIERS, resolutions)

        self.down_from_big = build_big_stem(im_size, nfc)
        self.down_4 = DownBlockDouble(nfc[512], nfc[256])
        self.down_8 = DownBlockDouble(nfc[256], nfc[128])
        self.down_16 = DownBlockDouble(nfc[128], nfc[64])
        self.down_32 = DownBlockDouble(nfc[64], nfc[32])
        self.down_64 = DownBlockDouble(nfc[32], nfc[16])
        self.rf_big = nn.Sequential(*conv_bn_lrelu(nfc[16], nfc[8], 1, 1, 0),
                                    sn_conv2d(nfc[8], 1, 4, 1, 0))
        self.se_2_16 = SLEBlock(nfc[512], nfc[64])
        self.se_4_32 = SLEBlock(nfc[256], nfc[32])
        self.se_8_64 = SLEBlock(nfc[128], nfc[16])

        self.down_from_small = nn.Sequential(
            sn_conv2d(3, nfc[256], 4, 2, 1),
            nn.LeakyReLU(LEAKY_SLOPE),
            DownBlockSingle(nfc[256], nfc[128]),
            DownBlockSingle(nfc[128], nfc[64]),
            DownBlockSingle(nfc[64], nfc[32]),
        )
        self.rf_small = sn_conv2d(nfc[32], 1, 4, 1, 0)

        self.decoder_big = SimpleDecoder(nfc[16])
        self.decoder_part = SimpleDecoder(nfc[32])
        self.decoder_small = SimpleDecoder(nfc[32])
        init_fastgan_weights(self)

    def _check_images(self, name: str, img: torch.Tensor, size: int,
                      batch: Optional[int] = None) -> None:
        expected_batch = 'N' if batch is None else batch
        if (img.dim() != 4 or img.size(1) != 3 or img.shape[2:] != (size, size)
                or (batch is not None and img.size(0) != batch)):
            raise ValueError(f'{name} must have shape ({expected_batch}, 3, {size}, {size}) '
                             f'(im_size={self.im_size}), got {tuple(img.shape)}')

    def forward(
        self,
        img: torch.Tensor,
        img_small: Optional[torch.Tensor] = None,
        *,
        part: Optional[Union[int, torch.Tensor]] = None
    ) -> Union[torch.Tensor, Tuple[torch.Tensor, Dict[str, torch.Tensor]]]:
        """Score images; with ``part``, also reconstruct them.

        Args:
            img (Tensor): Images (N, 3, im_size, im_size), RGB, in [-1, 1].
            img_small (Tensor | None): The 128x128 version (N, 3, 128, 128), e.g. the
                generator's ``fake_img_128``. ``None`` (real images, as the official code)
                makes it from ``img`` with ``resize_mode``; ``img`` itself is then used as
                the big input (the official code interpolates it to im_size, an identity at
                this size).
            part (int | Tensor | None): Quadrant for ``decoder_part``: an int 0..3 for the
                whole batch (official) or an integer tensor (N,) per sample; 0 top-left,
                1 top-right, 2 bottom-left, 3 bottom-right (see :func:`crop_quadrant`).
                ``None`` skips the decoders (fake images).

        Returns:
            Tensor | tuple: ``logits`` of shape (2 * N * 25,): the big path's 5x5 logits of
            every image flattened (N * 25 values, image-major), then the small path's.
            Higher means more real (the hinge loss pushes real logits up, fake ones down). With
            ``part``, ``(logits, dict(rec_big, rec_small, rec_part))``, each reconstruction
            (N, 3, 128, 128) in [-1, 1]: of the whole image from the big and the small path,
            and of the chosen quadrant.
        """
        self._check_images('img', img, self.im_size)
        if img_small is None:
            img_small = resize_images(img, SMALL_SIZE, self.resize_mode)
        else:
            self._check_images('img_small', img_small, SMALL_SIZE, batch=img.size(0))

        # Big path; local names give the spatial size (official: feat_2 ... feat_last).
        feat_256 = self.down_from_big(img)
        feat_128 = self.down_4(feat_256)
        feat_64 = self.down_8(feat_128)
        feat_32 = self.se_2_16(feat_256, self.down_16(feat_64))
        feat_16 = self.se_4_32(feat_128, self.down_32(feat_32))
        feat_8 = self.se_8_64(feat_64, self.down_64(feat_16))
        logits_big = self.rf_big(feat_8).view(-1)

        feat_small = self.down_from_small(img_small)
        logits_small = self.rf_small(feat_small).view(-1)
        logits = torch.cat([logits_big, logits_small])
        if part is None:
            return logits

        reconstructions = dict(
            rec_big=self.decoder_big(feat_8),
            rec_small=self.decoder_small(feat_small),
            rec_part=self.decoder_part(crop_quadrant(feat_16, part)))
        return logits, reconstructions
