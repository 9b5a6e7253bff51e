"""FastGAN generator with skip-layer excitation (Liu et al., ICLR 2021)."""
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch
from mmagic.registry import MODELS

from ....utils.validation import check_choice, check_int
from .modules import (
    GENERATOR_WIDTH_MULTIPLIERS,
    InitLayer,
    OfficialInitModule,
    SLEBlock,
    UpBlockDouble,
    UpBlockSingle,
    channel_widths,
    check_base_width,
    check_im_size,
    init_fastgan_weights,
    sn_conv2d,
)

__all__ = ['SLEGenerator']

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
class SLEGenerator(OfficialInitModule):
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

    Two hooks serve sampling tools: ``forward``'s ``injection_noise`` replaces the noise the
    noise-injection layers draw (seeded sampling; :attr:`injection_noise_shapes` says what
    to pass), and ``gates`` replaces the SLE gates by others, e.g. :meth:`sle_gates` of
    another latent (style mixing).

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
            initialisation (see :meth:`OfficialInitModule.init_weights`).
    """

    def __init__(self,
                 im_size: int = 1024,
                 ngf: int = 64,
                 nz: int = 256,
                 out_act: Optional[str] = 'tanh',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_im_size(im_size)
        resolutions = [r for r in GENERATOR_WIDTH_MULTIPLIERS if r <= im_size]
        check_base_width('ngf', ngf, GENERATOR_WIDTH_MULTIPLIERS, resolutions, im_size)
        check_int(nz, 'nz', minimum=1)
        check_choice(out_act, 'out_act', OUTPUT_ACTIVATIONS)
        self.im_size = im_size
        self.ngf = ngf
        self.nz = nz
        self.out_act = out_act
        self.resolutions = resolutions
        # Resolutions of the SLE blocks, i.e. of the features their gates multiply.
        self.sle_resolutions = [r for r in resolutions if r in SLE_SOURCES]
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

    @property
    def injection_noise_shapes(self) -> List[Tuple[int, int, int]]:
        """Per-sample shape (1, H, W) of the noise of every noise-injection layer, in forward
        order: ``injection_noise`` of :meth:`forward` takes one (N, 1, H, W) tensor each."""
        return [(1, res, res) for res in self._noisy_resolutions()
                for _ in range(UpBlockDouble.NOISE_LAYERS)]

    def _noisy_resolutions(self) -> List[int]:
        """Resolutions of the up blocks with noise-injection layers (the double ones)."""
        return [res for res in self.resolutions[1:] if DOUBLE_UP_BLOCKS[res]]

    def forward(self,
                noise: torch.Tensor,
                return_noise: bool = False,
                return_small: bool = False,
                *,
                injection_noise: Optional[Sequence[torch.Tensor]] = None,
                gates: Optional[Dict[int, torch.Tensor]] = None
                ) -> Union[torch.Tensor, Dict[str, torch.Tensor]]:
        """Generate images.

        Args:
            noise (Tensor): (N, nz) or (N, nz, 1, 1), usually N(0, 1).
            return_noise (bool): Return a dict that also holds the input ``noise``.
            return_small (bool): Return a dict that also holds the 128x128 image.
            injection_noise (Sequence[Tensor], optional): The noise of every noise-injection
                layer, one (N, 1, H, W) tensor each in the order and sizes of
                :attr:`injection_noise_shapes`, on any device. None (default) lets the
                layers draw fresh N(0, 1) noise from torch's global generator.
            gates (dict[int, Tensor], optional): SLE gates that replace those the
                generator computes from its own low-resolution features: resolution (of
                :attr:`sle_resolutions`) -> gate (N, C, 1, 1) in [0, 1], e.g. from
                :meth:`sle_gates` of other latents. Resolutions left out keep their own.

        Returns:
            Tensor | dict: If both flags are False, ``fake_img`` alone: (N, 3, im_size,
            im_size), RGB, in [-1, 1] with ``out_act='tanh'`` (unbounded with ``None``).
            Otherwise a dict with ``fake_img``, ``fake_img_128`` (N, 3, 128, 128, same range)
            and, if ``return_noise``, ``noise``.

        Raises:
            ValueError: For a ``noise`` of another shape, ``injection_noise`` of another
                length or shapes, or ``gates`` at resolutions without an SLE block.
        """
        self._check_noise(noise)
        self._check_gate_resolutions(gates or ())
        feats = self._features(noise, self.im_size, injection_noise, gates)
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
                  resolutions: Optional[Sequence[int]] = None) -> Dict[int, torch.Tensor]:
        """The SLE gates of ``noise``: what ``forward(noise)`` multiplies its 64 to 512 px
        features by, computed from the 4 to 32 px ones (only those layers run).

        The gates carry the style (colours, textures) of an image, so ``forward(content,
        gates=sle_gates(style))`` mixes two latents (:func:`fastgan_plugin.apis.style_mix`).

        Args:
            noise (Tensor): (N, nz) or (N, nz, 1, 1).
            injection_noise (Sequence[Tensor], optional): As in :meth:`forward` (the whole
                list; the layers up to 32 px use theirs). None draws fresh noise.
            resolutions (Sequence[int], optional): The gates to compute, a subset of
                :attr:`sle_resolutions`; None means all.

        Returns:
            dict[int, Tensor]: Resolution -> gate (N, C, 1, 1) in [0, 1], C the channels of
            that resolution's feature.

        Raises:
            ValueError: For a wrong ``noise`` or ``injection_noise`` (see :meth:`forward`)
                or ``resolutions`` without an SLE block.
        """
        self._check_noise(noise)
        resolutions = self.sle_resolutions if resolutions is None else list(resolutions)
        self._check_gate_resolutions(resolutions)
        if not resolutions:
            return {}
        feats = self._features(noise, max(SLE_SOURCES[r] for r in resolutions), injection_noise)
        return {res: getattr(self, f'se_{res}').gate(feats[SLE_SOURCES[res]])
                for res in resolutions}

    def _check_noise(self, noise: torch.Tensor) -> None:
        valid_4d = noise.dim() == 4 and noise.shape[2:] == (1, 1)
        if not (noise.dim() == 2 or valid_4d) or noise.size(1) != self.nz:
            raise ValueError(f'noise must have shape (N, {self.nz}) or (N, {self.nz}, 1, 1) '
                             f'(nz={self.nz}), got {tuple(noise.shape)}')

    def _check_gate_resolutions(self, resolutions: Iterable[int]) -> None:
        unknown = sorted(set(resolutions) - set(self.sle_resolutions))
        if unknown:
            raise ValueError(f'gates {unknown} are not SLE resolutions of this generator; '
                             f'choose from {self.sle_resolutions}')

    def _features(self,
                  noise: torch.Tensor,
                  until: int,
                  injection_noise: Optional[Sequence[torch.Tensor]] = None,
                  gates: Optional[Dict[int, torch.Tensor]] = None) -> Dict[int, torch.Tensor]:
        """Feature maps by resolution, from 4 up to ``until`` px (see :meth:`forward`)."""
        block_noise = self._split_injection_noise(injection_noise)
        feats = {4: self.init(noise)}
        for res in self.resolutions[1:]:
            if res > until:
                break
            block = getattr(self, f'feat_{res}')
            if res in block_noise:
                feat = block(feats[res // 2], block_noise[res])
            else:
                feat = block(feats[res // 2])
            if gates and res in gates:
                feat = feat * gates[res]
            elif res in SLE_SOURCES:
                feat = getattr(self, f'se_{res}')(feats[SLE_SOURCES[res]], feat)
            feats[res] = feat
        return feats

    def _split_injection_noise(
            self, injection_noise: Optional[Sequence[torch.Tensor]]
    ) -> Dict[int, Sequence[torch.Tensor]]:
        """``injection_noise`` (see :meth:`forward`) by up-block resolution; {} for None."""
        if injection_noise is None:
            return {}
        expected = len(self.injection_noise_shapes)
        if len(injection_noise) != expected:
            raise ValueError(f'injection_noise must hold {expected} tensors, one per '
                             f'noise-injection layer, got {len(injection_noise)}')
        per_block = UpBlockDouble.NOISE_LAYERS
        return {res: injection_noise[index * per_block:(index + 1) * per_block]
                for index, res in enumerate(self._noisy_resolutions())}
