"""FastGAN generator with skip-layer excitation (Liu et al., ICLR 2021)."""
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch
from mmagic.registry import MODELS
from torch import nn

from ....utils.channels import check_img_channels
from ....utils.validation import check_choice, check_int
from .class_conditioning import check_labels, check_num_classes
from .modules import (
    GENERATOR_WIDTH_MULTIPLIERS,
    SUPPORTED_SIZES,
    InitLayer,
    OfficialInitModule,
    SLEBlock,
    UpBlockDouble,
    UpBlockSingle,
    init_fastgan_weights,
    layer_widths,
    sn_conv2d,
)

OUTPUT_ACTIVATIONS = ('tanh', None)
# Up block per output resolution: True = UpBlockDouble (two convs, noise); official to 1024.
DOUBLE_UP_BLOCKS = {
    8: True, 16: False, 32: True, 64: False, 128: True, 256: False, 512: True, 1024: False,
    2048: True
}
# Skip-layer excitation: gated resolution -> gating resolution.
SLE_SOURCES = {64: 4, 128: 8, 256: 16, 512: 32}
# The official Generator registers the blocks up to 256 and their SLE blocks, then to_128 and
# to_big, then the blocks above 256: that order is its parameter order (the g_ema list).
LAST_EARLY_RESOLUTION = 256
# Init std of the class feature: below the std of init's noise feature (about 0.5), else
# the first up block keeps the class and drops the noise (one image per class; measured in
# docs/conditional.md: 1.0 collapses, 0.5 and 0 lose a class, 0.3 keeps both).
CLASS_FEATURE_STD = 0.3


@MODELS.register_module()
class SLEGenerator(OfficialInitModule):
    """FastGAN generator: noise (N, nz) -> image (N, img_channels, im_size, im_size).

    The official ``Generator`` at 256, 512 and 1024, layer for layer (widths, order, names,
    parameter order), so converted official weights load: ``init`` (4 px), up blocks
    ``feat_8`` ... ``feat_<im_size>`` (double at 8, 32, 128, 512, 2048), SLE blocks ``se_64``
    ... ``se_512`` gating the 64-512 px features by the 4-32 px ones, heads ``to_128``
    (conv1x1 on the 128 px feature) and ``to_big`` (conv3x3 on the last). Extensions:
    ``im_size=128`` (both heads read ``feat_128``) and 2048 (``feat_2048``, no SLE into the
    last two resolutions, like 1024). Widths: ``int(m * ngf)``, m from
    :data:`GENERATOR_WIDTH_MULTIPLIERS`.

    Args:
        im_size (int): Output resolution: 128, 256, 512, 1024 or 2048.
        ngf (int): Base width, a positive multiple of 1, 2, 4, 8, 16 at 128 ... 2048.
        nz (int): Noise length (official 256).
        out_act (str | None): ``'tanh'`` maps both outputs to [-1, 1]; None keeps the raw
            conv outputs (official at 256 and 512; the official code uses tanh at 1024).
        init_cfg (dict | None): MMEngine init config; None: the official initialisation.
        img_channels (int): Output channels: 3 RGB (official), 4 RGBA (alpha last), 1 grey.
        num_classes (int | None): Classes of a conditional G: a learned class embedding,
            one (C, 4, 4) feature per class (normal, std ``CLASS_FEATURE_STD`` at init), is
            added to ``init``'s 4 px feature of the noise (docs/conditional.md). None
            (default): unconditional, the official G.
    """

    def __init__(self,
                 im_size: int = 1024,
                 ngf: int = 64,
                 nz: int = 256,
                 out_act: Optional[str] = 'tanh',
                 init_cfg: Optional[dict] = None,
                 *,
                 img_channels: int = 3,
                 num_classes: Optional[int] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_choice(im_size, 'im_size', SUPPORTED_SIZES)
        self.resolutions = [r for r in GENERATOR_WIDTH_MULTIPLIERS if r <= im_size]
        widths = layer_widths('ngf', ngf, GENERATOR_WIDTH_MULTIPLIERS, self.resolutions, im_size)
        self.nz = check_int(nz, 'nz', minimum=1)
        self.out_act = check_choice(out_act, 'out_act', OUTPUT_ACTIVATIONS)
        self.im_size, self.ngf = im_size, ngf
        self.img_channels = check_img_channels(img_channels)
        self.num_classes = check_num_classes(num_classes)
        self.sle_resolutions = [r for r in self.resolutions if r in SLE_SOURCES]
        # Resolutions of the up blocks with noise layers (the double ones).
        self.noisy_resolutions = [r for r in self.resolutions[1:] if DOUBLE_UP_BLOCKS[r]]

        def add_blocks(resolutions):
            for res in resolutions:
                block = UpBlockDouble if DOUBLE_UP_BLOCKS[res] else UpBlockSingle
                self.add_module(f'feat_{res}', block(widths[res // 2], widths[res]))
                if res > LAST_EARLY_RESOLUTION and res in SLE_SOURCES:
                    self.add_module(f'se_{res}', SLEBlock(widths[SLE_SOURCES[res]], widths[res]))

        # Registration order = official parameter order.
        self.init = InitLayer(nz, widths[4])
        add_blocks(r for r in self.resolutions[1:] if r <= LAST_EARLY_RESOLUTION)
        for res in self.sle_resolutions:
            if res <= LAST_EARLY_RESOLUTION:
                self.add_module(f'se_{res}', SLEBlock(widths[SLE_SOURCES[res]], widths[res]))
        self.to_128 = sn_conv2d(widths[128], img_channels, 1, 1, 0)
        self.to_big = sn_conv2d(widths[im_size], img_channels, 3, 1, 1)
        add_blocks(r for r in self.resolutions if r > LAST_EARLY_RESOLUTION)
        if self.num_classes:  # added to init's output, so init stays the official layer
            self.class_embedding = nn.Embedding(self.num_classes, widths[4] * 4 * 4)
            with torch.no_grad():  # N(0, 1) -> N(0, CLASS_FEATURE_STD)
                self.class_embedding.weight.mul_(CLASS_FEATURE_STD)
        init_fastgan_weights(self)

    @property
    def noise_size(self) -> int:
        """``nz``, under the name mmagic's ``BaseGAN`` reads."""
        return self.nz

    @property
    def injection_noise_shapes(self) -> List[Tuple[int, int, int]]:
        """Per-sample shape (1, H, W) of every noise layer's noise, in forward order."""
        return [(1, res, res) for res in self.noisy_resolutions
                for _ in range(UpBlockDouble.NOISE_LAYERS)]

    def forward(self,
                noise: torch.Tensor,
                return_noise: bool = False,
                return_small: bool = False,
                *,
                labels: Optional[torch.Tensor] = None,
                injection_noise: Optional[Sequence[torch.Tensor]] = None,
                gates: Optional[Dict[int, torch.Tensor]] = None
                ) -> Union[torch.Tensor, Dict[str, torch.Tensor]]:
        """Noise (N, nz) or (N, nz, 1, 1), usually N(0, 1) -> ``fake_img`` (N, C, im_size,
        im_size), C = :attr:`img_channels` (RGB, RGBA or grey), in [-1, 1] with tanh; with
        ``return_small`` / ``return_noise`` a dict that also holds ``fake_img_128``
        (N, C, 128, 128) / ``noise``.

        ``injection_noise``: one (N, 1, H, W) tensor per noise layer
        (:attr:`injection_noise_shapes`), any device; None: drawn fresh. ``gates``: resolution
        (of :attr:`sle_resolutions`) -> gate (N, C, 1, 1) in [0, 1] replacing G's own.
        ``labels`` (N,): class indices in [0, num_classes), required by a conditional G,
        refused by an unconditional one. ``ValueError`` for wrong shapes, labels or gates
        without an SLE block.
        """
        labels = self._check_inputs(noise, gates or (), labels)
        feats = self._features(noise, self.im_size, injection_noise, gates, labels)
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

    def sle_gates(self,
                  noise: torch.Tensor,
                  injection_noise: Optional[Sequence[torch.Tensor]] = None,
                  resolutions: Optional[Sequence[int]] = None,
                  *,
                  labels: Optional[torch.Tensor] = None) -> Dict[int, torch.Tensor]:
        """The SLE gates of ``noise`` (as in :meth:`forward`): resolution -> (N, C, 1, 1) in
        [0, 1], for ``resolutions`` (default: all :attr:`sle_resolutions`); only the layers up
        to 32 px run. They carry the style: ``forward(content, gates=sle_gates(style))``."""
        resolutions = self.sle_resolutions if resolutions is None else list(resolutions)
        labels = self._check_inputs(noise, resolutions, labels)
        if not resolutions:
            return {}
        feats = self._features(noise, max(SLE_SOURCES[r] for r in resolutions), injection_noise,
                               labels=labels)
        return {res: getattr(self, f'se_{res}').gate(feats[SLE_SOURCES[res]])
                for res in resolutions}

    def _check_inputs(self, noise: torch.Tensor, gate_resolutions: Iterable[int],
                      labels: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        """``ValueError`` for a wrong noise shape, gate or label; the labels as int64."""
        if not (noise.dim() == 2 or (noise.dim() == 4 and noise.shape[2:] == (1, 1))) \
                or noise.size(1) != self.nz:
            raise ValueError(f'noise must have shape (N, {self.nz}) or (N, {self.nz}, 1, 1) '
                             f'(nz={self.nz}), got {tuple(noise.shape)}')
        unknown = sorted(set(gate_resolutions) - set(self.sle_resolutions))
        if unknown:
            raise ValueError(f'gates {unknown} are not SLE resolutions of this generator; '
                             f'choose from {self.sle_resolutions}')
        return check_labels(labels, self.num_classes, noise.size(0))

    def _features(self,
                  noise: torch.Tensor,
                  until: int,
                  injection_noise: Optional[Sequence[torch.Tensor]] = None,
                  gates: Optional[Dict[int, torch.Tensor]] = None,
                  labels: Optional[torch.Tensor] = None) -> Dict[int, torch.Tensor]:
        """Feature maps by resolution, 4 to ``until`` px (see :meth:`forward`)."""
        block_noise = {}
        if injection_noise is not None:
            expected, per_block = len(self.injection_noise_shapes), UpBlockDouble.NOISE_LAYERS
            if len(injection_noise) != expected:
                raise ValueError(f'injection_noise must hold {expected} tensors, one per '
                                 f'noise-injection layer, got {len(injection_noise)}')
            block_noise = {res: injection_noise[i * per_block:(i + 1) * per_block]
                           for i, res in enumerate(self.noisy_resolutions)}
        feats = {4: self.init(noise)}
        if labels is not None:
            feats[4] = feats[4] + self.class_embedding(labels).view_as(feats[4]).to(feats[4])
        for res in (r for r in self.resolutions[1:] if r <= until):
            block = getattr(self, f'feat_{res}')
            feat = (block(feats[res // 2], block_noise[res]) if res in block_noise
                    else block(feats[res // 2]))
            if gates and res in gates:
                feat = feat * gates[res]
            elif res in SLE_SOURCES:
                feat = getattr(self, f'se_{res}')(feats[SLE_SOURCES[res]], feat)
            feats[res] = feat
        return feats
