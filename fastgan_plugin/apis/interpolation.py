"""Latent-space interpolation between seeds."""
from typing import Sequence

import torch
from torch import Tensor, nn

from ..utils.validation import check_choice, check_int
from .classes import class_labels
from .inference import generate, seeded_noise

INTERPOLATION_METHODS = ('slerp', 'lerp')
# Below this angle (radians) slerp divides by sin(omega) ~ 0, so it lerps instead.
SLERP_MIN_ANGLE = 1e-4


def interpolate_latents(start: Tensor, end: Tensor, num_steps: int,
                        method: str = 'slerp') -> Tensor:
    """``num_steps`` points from ``start`` to ``end`` (both (nz,), both included): (num_steps, nz).

    ``'slerp'`` follows the great circle through the two vectors, which keeps the norm of
    Gaussian latents about constant (a lerp's midpoint is ~1/sqrt(2) shorter); nearly
    parallel vectors are lerped. ``'lerp'``: ``(1 - t) * start + t * end``.
    """
    check_choice(method, 'method', INTERPOLATION_METHODS)
    check_int(num_steps, 'num_steps', minimum=2)
    if start.dim() != 1 or start.shape != end.shape:
        raise ValueError(f'start and end must be (nz,) vectors of the same size, got '
                         f'{tuple(start.shape)} and {tuple(end.shape)}')
    t = torch.linspace(0, 1, num_steps, dtype=start.dtype).unsqueeze(1)
    omega = torch.arccos((torch.dot(start, end) / (start.norm() * end.norm())).clamp(-1, 1))
    if method == 'lerp' or omega < SLERP_MIN_ANGLE:
        return (1 - t) * start + t * end
    return (torch.sin((1 - t) * omega) * start + torch.sin(t * omega) * end) / torch.sin(omega)


def interpolation_latents(seeds: Sequence[int], noise_size: int, num_steps: int,
                          method: str = 'slerp', loop: bool = False) -> Tensor:
    """Latents (F, noise_size) of a path through the latents of two or more seeds (back to the
    first with ``loop``), ``num_steps`` per segment, shared ends once: F = segments *
    (num_steps - 1) + 1, or segments * (num_steps - 1) with ``loop`` (no repeated frame)."""
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError(f'interpolation needs at least 2 seeds, got {seeds}')
    anchors = seeded_noise(seeds + seeds[:1] if loop else seeds, noise_size)
    segments = [interpolate_latents(anchors[i], anchors[i + 1], num_steps, method)[:-1]
                for i in range(len(anchors) - 1)]
    return torch.cat(segments if loop else segments + [anchors[-1:]])


def interpolate(model: nn.Module, seeds: Sequence[int], num_steps: int = 16,
                method: str = 'slerp', loop: bool = False, batch_size: int = 8,
                sample_model: str = 'ema', progress: bool = False,
                truncation: float = 1.0, classes=None) -> Tensor:
    """Frames (F, 3, R, R) along :func:`interpolation_latents`, as
    :func:`~fastgan_plugin.apis.generate` (``truncation`` too), all with the first seed's
    injection noise: only the latent moves (a smooth video), and the first frame is the
    sample of ``seeds[0]``. ``classes``: the class (name or index) of every frame of a
    class-conditional model, as :func:`~fastgan_plugin.apis.sample_images`."""
    seeds = list(seeds)
    latents = interpolation_latents(seeds, model.noise_size, num_steps, method, loop)
    return generate(model, latents, [seeds[0]] * len(latents), batch_size, sample_model,
                    progress, truncation, class_labels(model, classes, len(latents)))
