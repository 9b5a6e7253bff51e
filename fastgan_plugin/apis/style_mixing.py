"""Style mixing through the skip-layer excitation (SLE) gates (Liu et al., ICLR 2021): the
gates, from low-resolution features, carry the style (colours, textures), the high-resolution
path the content (shape, layout)."""
from typing import Optional, Sequence

import torch
from PIL import Image
from torch import Tensor, nn

from .inference import (
    batches,
    sample_images,
    seeded_injection_noise,
    seeded_noise,
    select_generator,
    to_grid,
)


@torch.no_grad()
def style_mix(model: nn.Module, content_seeds: Sequence[int], style_seeds: Sequence[int],
              gates: Optional[Sequence[int]] = None, batch_size: int = 8,
              sample_model: str = 'ema', progress: bool = False) -> Tensor:
    """Images (C, S, 3, R, R) of the C content seeds with the SLE gates at ``gates`` (SLE
    resolutions, lower = coarser style; None: all) of the S style seeds.

    Each pass takes the injection noise of its own seed, so (c, c) is the sample of c.
    Other arguments and the output range as :func:`~fastgan_plugin.apis.generate`.
    """
    if not content_seeds or not style_seeds:
        raise ValueError(f'style_mix needs content and style seeds, got {list(content_seeds)} '
                         f'and {list(style_seeds)}')
    generator = select_generator(model, sample_model)
    device = next(model.parameters()).device
    contents, styles = zip(*[(c, s) for c in content_seeds for s in style_seeds])
    images = []
    for part in batches(len(contents), batch_size, 'style mixing', progress):
        style_gates = generator.sle_gates(seeded_noise(styles[part], generator.nz).to(device),
                                          seeded_injection_noise(generator, styles[part]), gates)
        images.append(generator(seeded_noise(contents[part], generator.nz).to(device),
                                injection_noise=seeded_injection_noise(generator, contents[part]),
                                gates=style_gates).cpu())
    size = generator.im_size
    return torch.cat(images).view(len(content_seeds), len(style_seeds), 3, size, size)


def style_mix_grid(model: nn.Module, content_seeds: Sequence[int], style_seeds: Sequence[int],
                   gates: Optional[Sequence[int]] = None, batch_size: int = 8,
                   sample_model: str = 'ema', progress: bool = False) -> Image.Image:
    """The paper's figure of :func:`style_mix`: a white corner, the style samples along the
    top, the content samples down the left, and cell (c, s) the mix."""
    mixed = style_mix(model, content_seeds, style_seeds, gates, batch_size, sample_model,
                      progress)
    contents = sample_images(model, content_seeds, batch_size, sample_model)
    styles = sample_images(model, style_seeds, batch_size, sample_model)
    rows = [torch.cat([torch.ones_like(styles[:1]), styles])]
    rows += [torch.cat([content[None], row]) for content, row in zip(contents, mixed)]
    return to_grid(torch.cat(rows), num_columns=len(style_seeds) + 1)
