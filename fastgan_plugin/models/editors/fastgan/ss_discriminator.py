"""FastGAN self-supervised discriminator (Liu et al., ICLR 2021)."""
from typing import Dict, Optional, Tuple, Union

import torch
from mmagic.registry import MODELS
from torch import nn

from ....utils.channels import check_img_channels
from ....utils.validation import check_choice, check_number
from .class_conditioning import ProjectionHead, check_labels, check_num_classes
from .modules import (
    DISCRIMINATOR_WIDTH_MULTIPLIERS,
    LEAKY_SLOPE,
    RESIZE_MODES,
    SUPPORTED_SIZES,
    DownBlockDouble,
    DownBlockSingle,
    OfficialInitModule,
    SimpleDecoder,
    SLEBlock,
    conv_bn_lrelu,
    crop_quadrant,
    init_fastgan_weights,
    layer_widths,
    resize_images,
    sn_conv2d,
)

SMALL_SIZE = 128


def build_big_stem(im_size: int, widths: Dict[int, int], img_channels: int = 3) -> nn.Sequential:
    """Big-path stem: (N, img_channels, im_size, im_size) -> (N, widths[512], 256, 256).

    Official at 256 (conv3x3 s1, LReLU), 512 (conv4x4 s2, LReLU) and 1024 (conv4x4 s2, LReLU,
    conv4x4 s2, BN, LReLU). Extensions: 128 upsamples x2 (nearest) before the 256 stem; 2048
    adds one more strided conv (3 -> widths[2048] -> widths[1024] -> widths[512]).
    """
    if im_size in (128, 256):
        layers = [sn_conv2d(img_channels, widths[512], 3, 1, 1), nn.LeakyReLU(LEAKY_SLOPE)]
        if im_size == 128:
            layers.insert(0, nn.Upsample(scale_factor=2, mode='nearest'))
        return nn.Sequential(*layers)
    resolutions = [r for r in (2048, 1024, 512) if r <= im_size]
    layers = [sn_conv2d(img_channels, widths[resolutions[0]], 4, 2, 1),
              nn.LeakyReLU(LEAKY_SLOPE)]
    for in_res, out_res in zip(resolutions[:-1], resolutions[1:]):
        layers += conv_bn_lrelu(widths[in_res], widths[out_res], 4, 2, 1)
    return nn.Sequential(*layers)


@MODELS.register_module()
class SSDiscriminator(OfficialInitModule):
    """FastGAN discriminator with self-supervised reconstruction decoders.

    The official ``Discriminator`` at 256, 512 and 1024, layer for layer (its unused texture
    discriminator left out). Big path: stem ``down_from_big`` (:func:`build_big_stem`) to
    256 px, down blocks ``down_4`` ... ``down_64`` to 128, 64, 32, 16, 8 px, SLE ``se_2_16``,
    ``se_4_32``, ``se_8_64`` gating the 32/16/8 px features by the 256/128/64 px ones, head
    ``rf_big``. Small path on the 128 px image: ``down_from_small`` to 8 px, head
    ``rf_small``. Decoders ``decoder_big`` (8 px big feature), ``decoder_small`` (8 px small
    feature), ``decoder_part`` (a quadrant of the 16 px big feature) give 128 px images.
    Widths: ``int(m * ndf)``, m from :data:`DISCRIMINATOR_WIDTH_MULTIPLIERS`.

    Args:
        im_size (int): Input resolution: 128, 256, 512, 1024 or 2048.
        ndf (int): Base width, a positive multiple of 4 up to 512, 8 at 1024, 16 at 2048.
        resize_mode (str): How the 128 px input is made from ``img`` alone: ``'nearest'``
            (official), ``'bilinear'`` or ``'bicubic'`` (antialiased), ``'area'``.
        init_cfg (dict | None): MMEngine init config; None: the official initialisation.
        img_channels (int): Image channels of the input and the decoders' output: 3 RGB
            (official), 4 RGBA (alpha last), 1 grey.
        num_classes (int | None): Classes of a conditional D: a projection head (Miyato and
            Koyama, 2018) on the features of each logit head adds ``<embed(y), pooled>`` to
            the image's logits. None (default): unconditional, the official D.
        decoder_width (float): Multiplier in (0, 1] of the decoders' widths (official 1:
            128, 64, 64, 32 whatever ``ndf`` is). At 128 px the official decoders take half of
            a CPU training step; 0.25 halves the step (docs/benchmarks.md).
    """

    def __init__(self,
                 im_size: int = 1024,
                 ndf: int = 64,
                 resize_mode: str = 'nearest',
                 init_cfg: Optional[dict] = None,
                 *,
                 img_channels: int = 3,
                 num_classes: Optional[int] = None,
                 decoder_width: float = 1.0) -> None:
        super().__init__(init_cfg=init_cfg)
        check_choice(im_size, 'im_size', SUPPORTED_SIZES)
        # Widths of 8..512 px (widths[512]: the stem's output), and up to im_size for its stem.
        nfc = layer_widths('ndf', ndf, DISCRIMINATOR_WIDTH_MULTIPLIERS, [
            r for r in DISCRIMINATOR_WIDTH_MULTIPLIERS if 8 <= r <= max(512, im_size)], im_size)
        self.resize_mode = check_choice(resize_mode, 'resize_mode', RESIZE_MODES)
        self.im_size, self.ndf = im_size, ndf
        self.img_channels = check_img_channels(img_channels)
        self.num_classes = check_num_classes(num_classes)

        self.down_from_big = build_big_stem(im_size, nfc, img_channels)
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
            sn_conv2d(img_channels, nfc[256], 4, 2, 1), nn.LeakyReLU(LEAKY_SLOPE),
            DownBlockSingle(nfc[256], nfc[128]), DownBlockSingle(nfc[128], nfc[64]),
            DownBlockSingle(nfc[64], nfc[32]))
        self.rf_small = sn_conv2d(nfc[32], 1, 4, 1, 0)

        self.decoder_width = check_number(decoder_width, 'decoder_width', 0.0, 1.0,
                                          exclusive_minimum=True)
        self.decoder_big = SimpleDecoder(nfc[16], img_channels, decoder_width)
        self.decoder_part = SimpleDecoder(nfc[32], img_channels, decoder_width)
        self.decoder_small = SimpleDecoder(nfc[32], img_channels, decoder_width)
        if self.num_classes:  # on the features the 5x5 heads rf_big and rf_small read
            self.projection_big = ProjectionHead(self.num_classes, nfc[16])
            self.projection_small = ProjectionHead(self.num_classes, nfc[32])
        init_fastgan_weights(self)

    def _check_images(self, name: str, img: torch.Tensor, size: int,
                      batch: Optional[int] = None) -> None:
        expected_batch = 'N' if batch is None else batch
        channels = self.img_channels
        if (img.dim() != 4 or img.size(1) != channels or img.shape[2:] != (size, size)
                or (batch is not None and img.size(0) != batch)):
            raise ValueError(f'{name} must have shape ({expected_batch}, {channels}, {size}, '
                             f'{size}) (im_size={self.im_size}), got {tuple(img.shape)} '
                             f'(img_channels={channels}: 1 grey, 3 RGB, 4 RGBA)')

    def forward(
        self,
        img: torch.Tensor,
        img_small: Optional[torch.Tensor] = None,
        *,
        part: Optional[Union[int, torch.Tensor]] = None,
        labels: Optional[torch.Tensor] = None
    ) -> Union[torch.Tensor, Tuple[torch.Tensor, Dict[str, torch.Tensor]]]:
        """Images ``img`` (N, C, im_size, im_size), C = :attr:`img_channels`, in [-1, 1], and
        their 128 px version
        ``img_small`` (G's ``fake_img_128``; None: resized from ``img``, official for real
        images) -> ``logits`` (2 * N * 25,): the big path's 5x5 logits of every image, then
        the small path's; higher means more real. With ``part`` (quadrant for ``decoder_part``,
        see :func:`crop_quadrant`), ``(logits, dict(rec_big, rec_small, rec_part))``, each
        (N, C, 128, 128) in [-1, 1]: the image from both paths, and the quadrant. ``labels``
        (N,): class indices, required by a conditional D, refused by an unconditional one."""
        self._check_images('img', img, self.im_size)
        labels = check_labels(labels, self.num_classes, img.size(0))
        if img_small is None:
            img_small = resize_images(img, SMALL_SIZE, self.resize_mode)
        else:
            self._check_images('img_small', img_small, SMALL_SIZE, batch=img.size(0))

        # Local names give the spatial size (official: feat_2 ... feat_last).
        feat_256 = self.down_from_big(img)
        feat_128 = self.down_4(feat_256)
        feat_64 = self.down_8(feat_128)
        feat_32 = self.se_2_16(feat_256, self.down_16(feat_64))
        feat_16 = self.se_4_32(feat_128, self.down_32(feat_32))
        feat_8 = self.se_8_64(feat_64, self.down_64(feat_16))
        logits_big = self.rf_big(feat_8)
        feat_small = self.down_from_small(img_small)
        logits_small = self.rf_small(feat_small)
        if labels is not None:  # each image's class term, added to its 5x5 logits
            logits_big = logits_big + self.projection_big(feat_8, labels)[:, :, None, None]
            logits_small = logits_small + self.projection_small(feat_small,
                                                                labels)[:, :, None, None]
        logits = torch.cat([logits_big.view(-1), logits_small.view(-1)])
        if part is None:
            return logits

        reconstructions = dict(
            rec_big=self.decoder_big(feat_8),
            rec_small=self.decoder_small(feat_small),
            rec_part=self.decoder_part(crop_quadrant(feat_16, part)))
        return logits, reconstructions
