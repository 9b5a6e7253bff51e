"""Style mixing through the skip-layer excitation (SLE) gates (Liu et al., ICLR 2021).

An SLE block multiplies a high-resolution feature (64, 128, 256, 512 px) channel by channel
by a gate computed from a low-resolution one (4, 8, 16, 32 px). The gates carry the style
(colours, textures) while the high-resolution path carries the content (shape, layout), so
running the generator on a *content* latent with the gates computed from a *style* latent's
low-resolution features mixes the two, as in the paper's style-mixing figure.
"""
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import BaseAveragedModel
from torch import Tensor, nn
from tqdm import tqdm

from ..models.editors.fastgan.sle_generator import SLE_SOURCES, SLEGenerator
from .inference import seeded_injection_noise, seeded_noise, select_generator


def sle_gate_resolutions(generator: SLEGenerator) -> list:
    """Resolutions of ``generator``'s SLE blocks (the features that gates multiply)."""
    return [res for res in generator.resolutions if res in SLE_SOURCES]


def _features(generator: SLEGenerator, noise: Tensor, until: int,
              gate_features: Optional[Dict[int, Tensor]] = None,
              gates: Sequence[int] = ()) -> Dict[int, Tensor]:
    """The generator's feature maps by resolution, up to ``until``.

    The loop of ``SLEGenerator.forward`` (keep the two in step; the tests check that both
    give the same images), except that the SLE blocks at ``gates`` compute their gates from
    ``gate_features`` instead of the features of ``noise``.
    """
    feats = {4: generator.init(noise)}
    for res in generator.resolutions[1:]:
        if res > until:
            break
        feat = getattr(generator, f'feat_{res}')(feats[res // 2])
        if res in SLE_SOURCES:
            source = gate_features if res in gates else feats
            feat = getattr(generator, f'se_{res}')(source[SLE_SOURCES[res]], feat)
        feats[res] = feat
    return feats


def style_features(generator: SLEGenerator, style: Tensor) -> Dict[int, Tensor]:
    """The low-resolution features (4 to 32 px) that SLE gates are computed from.

    Args:
        generator (SLEGenerator): The generator (not an EMA wrapper; use its ``module``).
        style (Tensor): (N, nz) latents of the style.

    Returns:
        dict[int, Tensor]: Feature map by resolution.
    """
    return _features(generator, style, max(SLE_SOURCES.values()))


def generate_with_gates(generator: SLEGenerator, content: Tensor,
                        gate_features: Dict[int, Tensor],
                        gates: Optional[Sequence[int]] = None) -> Tensor:
    """Run ``generator`` on ``content`` with the SLE gates at ``gates`` from other features.

    With ``gate_features = style_features(generator, style)`` this mixes the content of
    ``content`` with the style of ``style``. With ``gates=()``, or features of ``content``
    itself (made with the same injection noise), the output is ``generator(content)``.

    Args:
        generator (SLEGenerator): The generator (not an EMA wrapper; use its ``module``).
        content (Tensor): (N, nz) latents of the content.
        gate_features (dict[int, Tensor]): Low-resolution features (:func:`style_features`)
            of N other latents.
        gates (Sequence[int], optional): Resolutions of the SLE blocks whose gates come from
            ``gate_features``, a subset of :func:`sle_gate_resolutions`; ``None`` means all.
            Lower ones (64) carry coarser style, higher ones (256, 512) finer.

    Returns:
        Tensor: (N, 3, im_size, im_size) RGB, in [-1, 1] with ``out_act='tanh'``.
    """
    available = sle_gate_resolutions(generator)
    gates = available if gates is None else list(gates)
    unknown = sorted(set(gates) - set(available))
    if unknown:
        raise ValueError(f'gates {unknown} are not SLE resolutions of this generator; '
                         f'choose from {available}')
    feats = _features(generator, content, generator.im_size, gate_features, gates)
    image = generator.to_big(feats[generator.im_size])
    return torch.tanh(image) if generator.out_act == 'tanh' else image


@torch.no_grad()
def style_mix(model: nn.Module,
              content_seeds: Sequence[int],
              style_seeds: Sequence[int],
              gates: Optional[Sequence[int]] = None,
              batch_size: int = 8,
              sample_model: str = 'ema',
              progress: bool = False) -> Tensor:
    """Every content seed mixed with every style seed (:func:`generate_with_gates`).

    The content pass takes its injection noise from the content seed and the style pass
    from the style seed, so that the image of (c, c) is
    :func:`~fastgan_plugin.apis.sample_images` of c.

    Args:
        model (nn.Module): A FastGAN model, e.g. from :func:`~fastgan_plugin.apis.init_model`.
        content_seeds (Sequence[int]): C seeds of the content latents.
        style_seeds (Sequence[int]): S seeds of the style latents.
        gates (Sequence[int], optional): SLE resolutions taking the style; None = all.
        batch_size (int): Images per generator call. Defaults to 8.
        sample_model (str): ``'ema'`` (default) or ``'orig'``.
        progress (bool): Show a progress bar over the batches. Defaults to False.

    Returns:
        Tensor: (C, S, 3, R, R) on the CPU: row c = content c, column s = style s.
    """
    if not content_seeds or not style_seeds:
        raise ValueError(f'style_mix needs content and style seeds, got {list(content_seeds)} '
                         f'and {list(style_seeds)}')
    generator = select_generator(model, sample_model)
    if isinstance(generator, BaseAveragedModel):
        generator = generator.module
    device = next(model.parameters()).device
    pairs = [(content, style) for content in content_seeds for style in style_seeds]
    images = []
    starts = range(0, len(pairs), batch_size)
    for start in tqdm(starts, desc='style mixing', unit='batch', disable=not progress):
        contents, styles = (list(seeds) for seeds in zip(*pairs[start:start + batch_size]))
        content_noise = seeded_noise(contents, generator.nz).to(device)
        style_noise = seeded_noise(styles, generator.nz).to(device)
        # One hook set per pass: each pass draws its injection noise from its own seeds.
        with seeded_injection_noise(generator, styles, generator.nz):
            style_feats = style_features(generator, style_noise)
        with seeded_injection_noise(generator, contents, generator.nz):
            images.append(generate_with_gates(generator, content_noise, style_feats, gates).cpu())
    size = generator.im_size
    return torch.cat(images).view(len(content_seeds), len(style_seeds), 3, size, size)
