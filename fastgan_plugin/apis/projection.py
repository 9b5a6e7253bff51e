"""Projection (GAN inversion): the latent (or an early feature map), and optionally the
injection noise, with which the generator reproduces a given image, as the authors'
``train_backtracking_one.py`` and StyleGAN2-ADA's ``projector.py`` do. Start from the best of
a few seeded samples, then Adam (StyleGAN2-ADA's learning-rate ramps) on a multi-scale pixel
distance plus LPIPS where its VGG16 weights are available."""
import math
import os
from contextlib import contextmanager
from typing import Callable, Iterator, List, NamedTuple, Sequence, Tuple

import torch
from torch import Tensor, nn
from torchvision.models import VGG16_Weights

from ..datasets.transforms import LoadRGBImage, ResizeToSquare
from ..models.editors.fastgan.modules import resize_images
from ..models.losses import ReconstructionLoss
from ..utils.channels import to_rgb
from ..utils.validation import check_choice, check_int, check_number
from .inference import generate, seeded_injection_noise, seeded_noise, select_generator
from .interpolation import interpolate_latents

# 'auto': LPIPS if torchvision's VGG16 weights are in the torch hub cache (no download);
# 'on': LPIPS, downloading them if needed; 'off': pixel term only; 'random': LPIPS on a
# random VGG16, for tests only (not a perceptual distance).
LPIPS_MODES = ('auto', 'on', 'off', 'random')
MIN_SCALE = 16  # coarsest level of the multi-scale pixel term
LPIPS_SIZE = 256  # LPIPS compares at most this many pixels a side, as StyleGAN2's projector
# StyleGAN2-ADA's projector: the learning rate rises linearly over the first 5 % of the steps
# and falls as a half cosine to 0 over the last 25 % (docs/projection.md: measured)
LR_RAMPUP, LR_RAMPDOWN = 0.05, 0.25
# project()'s defaults, also the tools' (docs/projection.md: measured)
DEFAULT_STEPS, DEFAULT_LR, DEFAULT_CANDIDATES = 200, 0.3, 16
# Search spaces of project(): the generator modules whose outputs it optimises in place of the
# latent. 'z': the latent itself; 'feat4': the 4 px feature ``init`` makes of it; 'feat8': also
# the 8 px one of ``feat_8`` (with the 4 px one, all that later blocks and SLE gates read).
# Richer spaces fit closer, but can leave the generator's range (docs/projection.md: measured).
PROJECTION_SPACES = {'z': (), 'feat4': ('init', ), 'feat8': ('init', 'feat_8')}


class Projection(NamedTuple):
    """What :func:`project` found for one image of R x R pixels."""
    latent: Tensor  # (nz,) optimised in space 'z'; else the start's (its features replaced)
    injection_noise: List[Tensor]  # one (1, 1, H, W) per noise layer, as the generator takes
    noise_seed: int  # the seed whose injection noise it started from (kept without optimising)
    image: Tensor  # (C, R, R) the projection in [-1, 1], C channels as the generator's
    frames: Tensor  # (K, C, R, R) the reconstruction at ``frame_steps``
    frame_steps: List[int]
    losses: List[float]  # the objective at steps 0 .. num_steps
    distance: str  # what the objective measured, in words
    space: str  # of PROJECTION_SPACES
    features: List[Tensor]  # (C, H, W) per module of PROJECTION_SPACES[space] (none for 'z')


def load_image(path: str, size: int, mode: str = 'crop', img_channels: int = 3) -> Tensor:
    """The image file ``path`` as in training: made square at ``size`` (``mode``: ``'crop'``
    or ``'pad'``), (1, img_channels, size, size) in [-1, 1] (RGB, RGBA or grey)."""
    loaded = LoadRGBImage(img_channels=img_channels, skip_unreadable=False)(dict(gt_path=path))
    square = ResizeToSquare(size, mode=mode)(loaded)['gt']
    return torch.from_numpy(square).permute(2, 0, 1)[None].float() / 127.5 - 1


def multiscale_pixel_distance(pred: Tensor, target: Tensor) -> Tensor:
    """Per image (N,): mean squared difference of (N, C, R, R) images, averaged over the
    scales R, R/2, ... down to 16 px (area-resized), so colours and layout count as much as
    fine detail."""
    scales, size = [], pred.size(-1)
    while size >= MIN_SCALE:
        scales.append((resize_images(pred, size, 'area') - resize_images(target, size, 'area'))
                      .square().flatten(1).mean(1))
        size //= 2
    return torch.stack(scales).mean(0)


def projection_objective(lpips: str = 'auto', lpips_weight: float = 1.0,
                         device='cpu') -> Tuple[Callable[[Tensor, Tensor], Tensor], str]:
    """(objective, description): ``objective(pred, target)`` of (N, C, R, R) images is the
    per-image (N,) :func:`multiscale_pixel_distance` plus ``lpips_weight`` x LPIPS-VGG (of
    :func:`~fastgan_plugin.utils.channels.to_rgb`: RGBA on white, grey repeated) as
    ``lpips`` (:data:`LPIPS_MODES`) chooses; ``description`` says which, and why."""
    check_choice(lpips, 'lpips', LPIPS_MODES)
    lpips_weight = check_number(lpips_weight, 'lpips_weight', 0, finite=True)
    weights = os.path.join(torch.hub.get_dir(), 'checkpoints',
                           os.path.basename(VGG16_Weights.IMAGENET1K_V1.url))
    pixel = f'multi-scale pixel MSE ({MIN_SCALE} px and up)'
    if lpips == 'off' or lpips_weight == 0:
        return multiscale_pixel_distance, f'{pixel} only (LPIPS off)'
    if lpips == 'auto' and not os.path.isfile(weights):
        return multiscale_pixel_distance, (f'{pixel} only: LPIPS needs the VGG16 weights at '
                                           f'{weights} (not found; --lpips on downloads them)')
    net = ReconstructionLoss('lpips', pretrained=lpips != 'random').lpips_net.to(device)

    def objective(pred: Tensor, target: Tensor) -> Tensor:
        size = min(pred.size(-1), LPIPS_SIZE)
        perceptual = net(*(to_rgb(resize_images(images, size, 'area'))
                           for images in (pred, target)))
        return multiscale_pixel_distance(pred, target) + lpips_weight * perceptual.flatten()

    kind = 'a RANDOM VGG16 (tests only, not LPIPS)' if lpips == 'random' else 'VGG16, v0.1'
    return objective, f'{pixel} + {lpips_weight:g} x LPIPS ({kind})'


def learning_rate_ramp(step: int, num_steps: int) -> float:
    """The factor in [0, 1] on the learning rate at ``step`` of ``num_steps``: linear from 0
    over the first :data:`LR_RAMPUP` of the steps, 1, then a half cosine down to 0 over the
    last :data:`LR_RAMPDOWN`, as StyleGAN2-ADA's projector."""
    progress = step / max(num_steps, 1)
    down = 0.5 - 0.5 * math.cos(min(1.0, (1 - progress) / LR_RAMPDOWN) * math.pi)
    return down * min(1.0, progress / LR_RAMPUP)


@contextmanager
def _forward_hooks(generator: nn.Module, names: Sequence[str],
                   hooks: Sequence[Callable]) -> Iterator[None]:
    """Within: ``hooks[i]`` is a forward hook of ``generator``'s module ``names[i]``."""
    handles = [getattr(generator, name).register_forward_hook(hook)
               for name, hook in zip(names, hooks)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def replaced_features(generator: nn.Module, space: str,
                      features: Sequence[Tensor]) -> Iterator[None]:
    """A context in which ``generator``'s modules of ``space`` (:data:`PROJECTION_SPACES`)
    output ``features``, one (N, C, H, W) per module, N the batch of the call, instead of
    their own: the generator runs from them (its latent no longer matters there)."""
    names = PROJECTION_SPACES[check_choice(space, 'space', PROJECTION_SPACES)]
    if len(features) != len(names):
        raise ValueError(f'space {space!r} takes {len(names)} feature maps (the outputs of '
                         f'{names}), got {len(features)}')
    return _forward_hooks(generator, names,
                          [lambda module, inputs, output, feature=feature: feature
                           for feature in features])


def space_features(generator: nn.Module, space: str, latent: Tensor,
                   injection_noise: Sequence[Tensor]) -> List[Tensor]:
    """The features of ``space`` that ``generator`` makes of ``latent`` (N, nz) and
    ``injection_noise``: one (N, C, H, W) per module of ``PROJECTION_SPACES[space]``."""
    captured = []
    names = PROJECTION_SPACES[check_choice(space, 'space', PROJECTION_SPACES)]
    if not names:  # 'z': no features, no pass
        return captured
    with _forward_hooks(generator, names, [lambda module, inputs, output:
                                           captured.append(output)] * len(names)):
        generator(latent, injection_noise=injection_noise)
    return captured


def project(model: nn.Module, image: Tensor, num_steps: int = DEFAULT_STEPS,
            lr: float = DEFAULT_LR, *,
            space: str = 'z', optimize_noise: bool = True, lpips: str = 'auto',
            lpips_weight: float = 1.0,
            num_candidates: int = DEFAULT_CANDIDATES, seed: int = 0, frame_every: int = 20,
            sample_model: str = 'ema', batch_size: int = 8) -> Projection:
    """Find the latent or early features (``space``; and with ``optimize_noise`` the
    injection noise) with which the generator reproduces ``image``, (C, R, R) or
    (1, C, R, R) in [-1, 1] at its size R and channels C (:func:`load_image` reads a file so).

    ``space`` (:data:`PROJECTION_SPACES`): what is optimised, the latent (``'z'``) or, from
    the start's values, the early feature maps that :func:`replaced_features` puts in.

    Starts from the best of the seeded samples ``seed .. seed + num_candidates - 1`` under
    the objective (:func:`projection_objective` of ``lpips``, ``lpips_weight``), then takes
    ``num_steps`` Adam steps of peak learning rate ``lr`` (0: the best seeded sample), ramped
    by :func:`learning_rate_ramp`. Optimised noise maps (``optimize_noise``; False: the
    noise of ``noise_seed`` stays) are renormalised to mean 0, variance 1 after each step
    (as StyleGAN2's projector), so they stay noise. ``frame_every``: the reconstruction is
    kept every that many steps (and the last). ``sample_model``, ``batch_size``: as
    :func:`~fastgan_plugin.apis.generate`.
    """
    generator = select_generator(model, sample_model)
    device = next(model.parameters()).device
    shape = (generator.img_channels, generator.im_size, generator.im_size)
    target = image.reshape(-1, *image.shape[-3:]).to(device)
    if target.shape != (1, *shape):
        raise ValueError(f'image must be {shape} or (1, *{shape}), the channels and size of '
                         f'this generator, got {tuple(image.shape)}')
    check_int(num_steps, 'num_steps', minimum=0)
    lr = check_number(lr, 'lr', 0, finite=True)
    check_int(frame_every, 'frame_every', minimum=1)
    check_choice(space, 'space', PROJECTION_SPACES)
    objective, described = projection_objective(lpips, lpips_weight, device)
    seeds = list(range(seed, seed + check_int(num_candidates, 'num_candidates', minimum=1)))
    with torch.no_grad():
        candidates = generate(model, seeded_noise(seeds, generator.nz), seeds, batch_size,
                              sample_model).to(device)
        scores = torch.cat([objective(part, target.expand_as(part))
                            for part in candidates.split(batch_size)])
    noise_seed = seeds[int(scores.argmin())]
    latent = seeded_noise([noise_seed], generator.nz).to(device).requires_grad_(space == 'z')
    noise = [n.to(device).requires_grad_(optimize_noise)
             for n in seeded_injection_noise(generator, [noise_seed])]
    with torch.no_grad():
        features = [f.requires_grad_() for f in space_features(generator, space, latent, noise)]
    variables = ([latent] if space == 'z' else features) + (noise if optimize_noise else [])
    optimizer = torch.optim.Adam(variables, lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: learning_rate_ramp(step, num_steps))
    frames, frame_steps, losses = [], [], []
    with replaced_features(generator, space, features):
        for step in range(num_steps + 1):
            reconstruction = generator(latent, injection_noise=noise)
            loss = objective(reconstruction, target).sum()
            losses.append(loss.item())
            if step % frame_every == 0 or step == num_steps:
                frames.append(reconstruction.detach().cpu())
                frame_steps.append(step)
            if step == num_steps:
                break
            # autograd.grad: no gradient for the generator's weights is computed or stored;
            # None (Adam skips it) for noise a replaced feature cuts off ('feat8': 8 px)
            grads = torch.autograd.grad(loss, variables, allow_unused=True)
            for variable, grad in zip(variables, grads):
                variable.grad = grad
            optimizer.step()
            schedule.step()
            if optimize_noise:
                with torch.no_grad():
                    for layer in noise:
                        layer.sub_(layer.mean()).div_(layer.std())
    return Projection(latent.detach().cpu()[0], [n.detach().cpu() for n in noise], noise_seed,
                      frames[-1][0], torch.cat(frames), frame_steps, losses, described, space,
                      [f.detach().cpu()[0] for f in features])


def save_projection(projection: Projection, path: str) -> None:
    """Write ``latent``, ``injection_noise``, ``noise_seed``, ``losses``, ``distance``,
    ``space`` and ``features`` of ``projection`` (tensors, lists, numbers, strings:
    ``torch.load(path, weights_only=True)`` reads it)."""
    torch.save({key: getattr(projection, key) for key in
                ('latent', 'injection_noise', 'noise_seed', 'losses', 'distance', 'space',
                 'features')}, path)


@torch.no_grad()
def projection_interpolation(model: nn.Module, latent: Tensor, injection_noise: List[Tensor],
                             seed: int, num_steps: int = 8, sample_model: str = 'ema', *,
                             space: str = 'z', features: Sequence[Tensor] = ()) -> Tensor:
    """Frames (num_steps, C, R, R) from the image of ``latent`` (nz,), ``injection_noise``
    and, in a feature ``space``, ``features`` (those of a :class:`Projection`, or of the file
    :func:`save_projection` wrote) to the sample of ``seed``, both included: the latent and
    each noise map slerped (:func:`~fastgan_plugin.apis.interpolate_latents`), each feature
    map linearly to the sample's."""
    generator = select_generator(model, sample_model)
    device = next(model.parameters()).device
    ends = [seeded_noise([seed], generator.nz)] + seeded_injection_noise(generator, [seed])
    paths = [interpolate_latents(start.flatten().float(), end.flatten(), num_steps)
             .view(num_steps, *start.shape[1:]).to(device)
             for start, end in zip([latent[None]] + list(injection_noise), ends)]
    end_features = space_features(generator, space, ends[0].to(device),
                                  [end.to(device) for end in ends[1:]])
    weights = torch.linspace(0, 1, num_steps, device=device).view(-1, 1, 1, 1)
    feature_paths = [torch.lerp(start[None].float().to(device), end, weights)
                     for start, end in zip(features, end_features)]
    with replaced_features(generator, space, feature_paths):
        return generator(paths[0], injection_noise=paths[1:]).cpu()
