"""Style mixing through the skip-layer excitation (SLE) gates (Liu et al., ICLR 2021).

An SLE block multiplies a high-resolution feature (64, 128, 256, 512 px) channel by channel
by a gate computed from a low-resolution one (4, 8, 16, 32 px). The gates carry the style
(colours, textures) while the high-resolution path carries the content (shape, layout), so
running the generator on a *content* latent with the gates of a *style* latent
(``generator(content, gates=generator.sle_gates(style))``) mixes the two, as in the paper's
style-mixing figure.
"""
from typing import Optional, Sequence

import torch
from torch import Tensor, nn
from tqdm import tqdm

from .inference import seeded_injection_noise, seeded_noise, select_generator


@torch.no_grad()
def style_mix(model: nn.Module,
              content_seeds: Sequence[int],
              style_seeds: Sequence[int],
              gates: Optional[Sequence[int]] = None,
              batch_size: int = 8,
              sample_model: str = 'ema',
              progress: bool = False) -> Tensor:
    """Every content seed mixed with every style seed.

    The content latent runs through the generator with the SLE gates at ``gates`` taken
    from the style latent (``SLEGenerator.sle_gates``). The content pass takes its injection
    noise from the content seed and the style pass from the style seed, so that the image
    of (c, c) is :func:`~fastgan_plugin.apis.sample_images` of c.

    Args:
        model (nn.Module): A FastGAN model, e.g. from :func:`~fastgan_plugin.apis.init_model`.
        content_seeds (Sequence[int]): C seeds of the content latents.
        style_seeds (Sequence[int]): S seeds of the style latents.
        gates (Sequence[int], optional): Resolutions of the SLE blocks whose gates come from
            the style, a subset of the generator's ``sle_resolutions``; None means all.
            Lower ones (64) carry coarser style, higher ones (256, 512) finer.
        batch_size (int): Images per generator call. Defaults to 8.
        sample_model (str): ``'ema'`` (default) or ``'orig'``.
        progress (bool): Show a progress bar over the batches. Defaults to False.

    Returns:
        Tensor: (C, S, 3, R, R) on the CPU, RGB as :func:`~fastgan_plugin.apis.generate`:
        row c = content c, column s = style s.

    Raises:
        ValueError: Without content or style seeds, or for ``gates`` that are not SLE
            resolutions of the generator.
    """
    if not content_seeds or not style_seeds:
        raise ValueError(f'style_mix needs content and style seeds, got {list(content_seeds)} '
                         f'and {list(style_seeds)}')
    generator = select_generator(model, sample_model)
    device = next(model.parameters()).device
    pairs = [(content, style) for content in content_seeds for style in style_seeds]
    images = []
    starts = range(0, len(pairs), batch_size)
    for start in tqdm(starts, desc='style mixing', unit='batch', disable=not progress):
        contents, styles = (list(seeds) for seeds in zip(*pairs[start:start + batch_size]))
        style_gates = generator.sle_gates(seeded_noise(styles, generator.nz).to(device),
                                          seeded_injection_noise(generator, styles), gates)
        mixed = generator(seeded_noise(contents, generator.nz).to(device),
                          injection_noise=seeded_injection_noise(generator, contents),
                          gates=style_gates)
        images.append(mixed.cpu())
    size = generator.im_size
    return torch.cat(images).view(len(content_seeds), len(style_seeds), 3, size, size)
