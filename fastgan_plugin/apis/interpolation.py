"""Latent-space interpolation between seeds."""
from typing import Sequence

import torch
from torch import Tensor, nn

from ..utils.validation import check_choice, check_int
from .inference import generate, seeded_noise

INTERPOLATION_METHODS = ('slerp', 'lerp')
# Below this angle (radians) between two latents, slerp falls back to lerp (sin(omega) ~ 0).
SLERP_MIN_ANGLE = 1e-4


def interpolate_latents(start: Tensor, end: Tensor, num_steps: int,
                        method: str = 'slerp') -> Tensor:
    """Points from ``start`` to ``end``, both included.

    ``'lerp'``: ``(1 - t) * start + t * end``. ``'slerp'`` (spherical): moves along the great
    circle through the two vectors, ``sin((1 - t) w) / sin(w) * start + sin(t w) / sin(w) *
    end`` with ``w`` the angle between them, which keeps the norm of Gaussian latents about
    constant (the midpoint of a lerp is about ``1 / sqrt(2)`` times shorter); nearly parallel
    vectors are lerped.

    Args:
        start (Tensor): (nz,) latent.
        end (Tensor): (nz,) latent.
        num_steps (int): Number of points, >= 2; ``t = linspace(0, 1, num_steps)``.
        method (str): ``'slerp'`` (default) or ``'lerp'``.

    Returns:
        Tensor: (num_steps, nz).
    """
    check_choice(method, 'method', INTERPOLATION_METHODS)
    check_int(num_steps, 'num_steps', minimum=2)
    if start.dim() != 1 or start.shape != end.shape:
        raise ValueError(f'start and end must be (nz,) vectors of the same size, got '
                         f'{tuple(start.shape)} and {tuple(end.shape)}')
    t = torch.linspace(0, 1, num_steps, dtype=start.dtype).unsqueeze(1)
    cosine = torch.dot(start, end) / (start.norm() * end.norm())
    omega = torch.arccos(cosine.clamp(-1, 1))
    if method == 'lerp' or omega < SLERP_MIN_ANGLE:
        return (1 - t) * start + t * end
    return (torch.sin((1 - t) * omega) * start + torch.sin(t * omega) * end) / torch.sin(omega)


def interpolation_latents(seeds: Sequence[int], noise_size: int, num_steps: int,
                          method: str = 'slerp', loop: bool = False) -> Tensor:
    """Latents of a path through the seeds' latents, ``num_steps`` per segment.

    Each segment runs from one seed's latent to the next; a segment's last point is the
    next segment's first and appears once. With ``loop`` the path returns to the first
    seed (whose latent then is not repeated at the end, so the frames loop seamlessly).

    Args:
        seeds (Sequence[int]): Two or more seeds (:func:`~fastgan_plugin.apis.seeded_noise`).
        noise_size (int): Latent dimension.
        num_steps (int): Points per segment, both ends included (>= 2).
        method (str): ``'slerp'`` or ``'lerp'``, see :func:`interpolate_latents`.
        loop (bool): Return to the first seed. Defaults to False.

    Returns:
        Tensor: (F, noise_size) with F = segments * (num_steps - 1) + 1 (without ``loop``,
        segments = len(seeds) - 1) or segments * (num_steps - 1) (with ``loop``, segments =
        len(seeds)).
    """
    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError(f'interpolation needs at least 2 seeds, got {seeds}')
    anchors = seeded_noise(seeds + seeds[:1] if loop else seeds, noise_size)
    segments = [
        interpolate_latents(anchors[i], anchors[i + 1], num_steps, method)[:-1]
        for i in range(len(anchors) - 1)
    ]
    if not loop:
        segments.append(anchors[-1:])
    return torch.cat(segments)


def interpolate(model: nn.Module,
                seeds: Sequence[int],
                num_steps: int = 16,
                method: str = 'slerp',
                loop: bool = False,
                batch_size: int = 8,
                sample_model: str = 'ema',
                progress: bool = False) -> Tensor:
    """Images along a latent path through the seeds (:func:`interpolation_latents`).

    Every frame takes its injection noise from the first seed, so that only the latent
    changes from frame to frame (a smooth video) and the frames at the seeds equal
    :func:`~fastgan_plugin.apis.sample_images` of ``seeds[0]`` exactly, and of the other
    seeds up to their injection noise.

    Args:
        model (nn.Module): A FastGAN model, e.g. from :func:`~fastgan_plugin.apis.init_model`.
        seeds (Sequence[int]): Two or more seeds.
        num_steps (int): Frames per segment, both ends included. Defaults to 16.
        method (str): ``'slerp'`` (default) or ``'lerp'``.
        loop (bool): Return to the first seed. Defaults to False.
        batch_size (int): Images per generator call. Defaults to 8.
        sample_model (str): ``'ema'`` (default) or ``'orig'``.
        progress (bool): Show a progress bar over the batches. Defaults to False.

    Returns:
        Tensor: (F, 3, R, R) RGB frames, see :func:`~fastgan_plugin.apis.generate`.
    """
    seeds = list(seeds)
    latents = interpolation_latents(seeds, model.noise_size, num_steps, method, loop)
    return generate(model, latents, [seeds[0]] * len(latents), batch_size, sample_model,
                    progress)
