"""Style mixing through the skip-layer excitation (SLE) gates (Liu et al., ICLR 2021): the
gates, from low-resolution features, carry the style (colours, textures), the high-resolution
path the content (shape, layout)."""
from typing import Optional, Sequence

import torch
from PIL import Image
from torch import Tensor, nn

from ..utils.validation import check_number
from .classes import class_labels
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
              sample_model: str = 'ema', progress: bool = False, classes=None,
              truncation: float = 1.0) -> Tensor:
    """Images (C, S, 3, R, R) of the C content seeds with the SLE gates at ``gates`` (SLE
    resolutions, lower = coarser style; None: all) of the S style seeds.

    Each pass takes the injection noise of its own seed, so (c, c) is the sample of c.
    ``classes``: the class (name or index) of every content and style of a class-conditional
    model. ``truncation``, other arguments and the output range as
    :func:`~fastgan_plugin.apis.generate`: content and style inputs are scaled by psi.
    """
    if not content_seeds or not style_seeds:
        raise ValueError(f'style_mix needs content and style seeds, got {list(content_seeds)} '
                         f'and {list(style_seeds)}')
    generator = select_generator(model, sample_model)
    device = next(model.parameters()).device
    contents, styles = zip(*[(c, s) for c in content_seeds for s in style_seeds])
    labels = class_labels(model, classes, len(contents))
    psi = check_number(truncation, 'truncation', 0.0, 1.0)

    def inputs(seeds):  # latents and injection noise of the seeds, truncated as generate's
        return (psi * seeded_noise(seeds, generator.nz).to(device),
                [psi * noise for noise in seeded_injection_noise(generator, seeds)])

    images = []
    for part in batches(len(contents), batch_size, 'style mixing', progress):
        part_labels = None if labels is None else labels[part].to(device)
        style_gates = generator.sle_gates(*inputs(styles[part]), gates, labels=part_labels)
        content_latents, content_noise = inputs(contents[part])
        images.append(generator(content_latents, injection_noise=content_noise,
                                gates=style_gates, labels=part_labels).cpu())
    size = generator.im_size
    return torch.cat(images).view(len(content_seeds), len(style_seeds), -1, size, size)


def style_mix_grid(model: nn.Module, content_seeds: Sequence[int], style_seeds: Sequence[int],
                   gates: Optional[Sequence[int]] = None, batch_size: int = 8,
                   sample_model: str = 'ema', progress: bool = False,
                   classes=None, truncation: float = 1.0) -> Image.Image:
    """The paper's figure of :func:`style_mix`: a white corner, the style samples along the
    top, the content samples down the left, and cell (c, s) the mix (all with
    ``truncation``)."""
    mixed = style_mix(model, content_seeds, style_seeds, gates, batch_size, sample_model,
                      progress, classes, truncation)
    contents = sample_images(model, content_seeds, batch_size, sample_model, classes=classes,
                             truncation=truncation)
    styles = sample_images(model, style_seeds, batch_size, sample_model, classes=classes,
                           truncation=truncation)
    rows = [torch.cat([torch.ones_like(styles[:1]), styles])]
    rows += [torch.cat([content[None], row]) for content, row in zip(contents, mixed)]
    return to_grid(torch.cat(rows), num_columns=len(style_seeds) + 1)
