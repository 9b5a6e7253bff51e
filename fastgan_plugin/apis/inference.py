"""Build a FastGAN for inference and sample it by seed: a seed's CPU random stream gives the
latent, then the injection noise layer by layer, so an image depends on its seed (and the
truncation) only."""
import copy
import os
from typing import Iterator, List, Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from PIL import Image
from torch import Tensor, nn
from torchvision.utils import make_grid
from tqdm import tqdm

from ..models.editors.fastgan.sle_generator import SLEGenerator
from ..utils.channels import PIL_MODES, check_img_channels, checkerboard, to_rgb
from ..utils.model import unwrap_model
from ..utils.validation import check_choice, check_number
from .classes import class_labels, class_names
from .config import load_config

SAMPLE_MODELS = ('ema', 'orig')
# The reconstruction loss is for training only and not in checkpoints; L1 needs no VGG weights.
INFERENCE_REC_LOSS = dict(type='ReconstructionLoss', distance='l1')


def init_model(config: Union[str, Config], checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """The model of ``config`` (a file, ``fastgan_plugin::<name>.py`` or a Config, with
    ``cfg_options`` merged) on ``device`` in eval mode, its reconstruction loss L1, with the
    config as ``cfg``, the checkpoint's meta ({} without one) as ``checkpoint_meta`` and its
    ``dataset_meta`` ({} without; ``classes``: the class names) as ``dataset_meta``.

    ``checkpoint`` (path or URL) is loaded strictly with ``weights_only=True``
    (:mod:`fastgan_plugin.utils.checkpoint`): other objects raise ``pickle.UnpicklingError``.
    """
    from mmagic.registry import MODELS
    from mmagic.utils import register_all_modules

    register_all_modules()
    cfg = config if isinstance(config, Config) else load_config(config, cfg_options)
    if isinstance(config, Config):
        cfg.merge_from_dict(cfg_options or {})
    model_cfg = copy.deepcopy(cfg.model)
    if 'rec_loss' in model_cfg:
        model_cfg.rec_loss = INFERENCE_REC_LOSS
    model = MODELS.build(model_cfg)
    model.cfg, model.checkpoint_meta = cfg, {}
    if checkpoint is not None:
        loaded = load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
        model.checkpoint_meta = loaded.get('meta') or {}
    model.dataset_meta = model.checkpoint_meta.get('dataset_meta') or {}
    return model.to(device).eval()


def batches(count: int, batch_size: int, desc: str, progress: bool) -> Iterator[slice]:
    """Slices of ``range(count)`` of ``batch_size`` items, with an optional progress bar."""
    for start in tqdm(range(0, count, batch_size), desc=desc, unit='batch', disable=not progress):
        yield slice(start, start + batch_size)


def seeded_noise(seeds: Sequence[int], noise_size: int) -> Tensor:
    """One latent per seed, (len(seeds), noise_size), the same on every device."""
    latents = [torch.randn(noise_size, generator=torch.Generator().manual_seed(int(seed)))
               for seed in seeds]
    return torch.stack(latents) if latents else torch.empty(0, noise_size)


def seeded_injection_noise(generator: SLEGenerator, seeds: Sequence[int]) -> List[Tensor]:
    """``injection_noise`` for ``generator``, drawn on the CPU: one (len(seeds), 1, H, W)
    tensor per layer, sample ``i`` continuing the stream of ``seeds[i]`` after its latent."""
    per_sample = []
    for seed in seeds:
        stream = torch.Generator().manual_seed(int(seed))
        torch.randn(generator.nz, generator=stream)  # the latent comes first
        per_sample.append([torch.randn(shape, generator=stream)
                           for shape in generator.injection_noise_shapes])
    return [torch.stack(layer) for layer in zip(*per_sample)]


def select_generator(model: nn.Module, sample_model: str = 'ema') -> SLEGenerator:
    """The generator network of ``model`` (also through DDP): ``'ema'`` or ``'orig'``."""
    check_choice(sample_model, 'sample_model', SAMPLE_MODELS)
    model = unwrap_model(model)
    if sample_model == 'ema' and not model.with_ema_gen:
        raise ValueError('this model has no EMA generator: use sample_model="orig"')
    return model.generator_ema.module if sample_model == 'ema' else unwrap_model(model.generator)


@torch.no_grad()
def generate(model: nn.Module, latents: Tensor, noise_seeds: Sequence[int], batch_size: int = 8,
             sample_model: str = 'ema', progress: bool = False,
             truncation: float = 1.0, labels: Optional[Tensor] = None) -> Tensor:
    """Images (N, C, R, R) on the CPU of ``latents`` (N, nz), image ``i`` with the injection
    noise of ``noise_seeds[i]``: RGB, RGBA or grey (C = G's ``img_channels``) in [-1, 1]
    (unbounded with ``out_act=None``).
    ``batch_size``: images per generator call; ``progress``: show a progress bar.
    ``labels``: int64 (N,) class indices for a class-conditional model (see
    :func:`~fastgan_plugin.apis.classes.class_labels`), None for an unconditional one.

    ``truncation`` psi in [0, 1]: FastGAN has no mapping network, so the truncation trick acts
    on its random inputs, the latent and the injection noise, both N(0, I): they are scaled
    toward their mean 0, ``z' = psi * z``. Lower psi trades diversity for quality (typical
    samples); 1 (default) is off, 0 gives the same image for every seed.
    """
    if len(noise_seeds) != len(latents) or (labels is not None and len(labels) != len(latents)):
        raise ValueError(f'{len(latents)} latents but {len(noise_seeds)} noise seeds'
                         + ('' if labels is None else f' and {len(labels)} labels'))
    truncation = check_number(truncation, 'truncation', 0.0, 1.0)
    generator = select_generator(model, sample_model)
    device = next(model.parameters()).device
    images = []
    for part in batches(len(latents), batch_size, 'generating', progress):
        noise = [truncation * layer for layer in seeded_injection_noise(generator,
                                                                        noise_seeds[part])]
        images.append(generator(truncation * latents[part].to(device), injection_noise=noise,
                                labels=None if labels is None else labels[part].to(device)).cpu())
    return torch.cat(images) if images else torch.empty(0)


def sample_images(model: nn.Module, seeds: Sequence[int], batch_size: int = 8,
                  sample_model: str = 'ema', as_pil: bool = False, progress: bool = False,
                  truncation: float = 1.0, classes=None) -> Union[Tensor, List[Image.Image]]:
    """One image per seed (its latent and injection noise), as :func:`generate` (which also
    explains ``truncation``); a list of PIL images with ``as_pil``. ``classes`` (required by a
    class-conditional model, refused by an unconditional one): a class name or index for
    every seed, or one per seed (:func:`~fastgan_plugin.apis.classes.class_labels`)."""
    seeds = list(seeds)
    images = generate(model, seeded_noise(seeds, model.noise_size), seeds, batch_size,
                      sample_model, progress, truncation, class_labels(model, classes, len(seeds)))
    return to_pil(images) if as_pil else images


def to_pil(images: Tensor) -> List[Image.Image]:
    """(N, C, H, W) RGB, RGBA or grey (C = 3, 4, 1) in [-1, 1] (clamped) -> list of PIL
    images of mode ``RGB``, ``RGBA`` (alpha kept: PNGs are transparent) or ``L``."""
    mode = PIL_MODES[check_img_channels(images.size(1), 'image channels')]
    pixels = images.float().clamp(-1, 1).add(1).mul(127.5).round().byte()
    return [Image.fromarray(p.permute(1, 2, 0).squeeze(2).numpy(), mode) for p in pixels]


def to_grid(images: Tensor, num_columns: int, padding: int = 2) -> Image.Image:
    """(N, C, H, W) RGB, RGBA or grey in [-1, 1] -> one RGB PIL image to look at, row by
    row, white between cells: RGBA over a grey checkerboard (transparency shows), grey as
    RGB."""
    images = images.float().clamp(-1, 1)
    images = to_rgb(images, background=checkerboard(*images.shape[-2:]))
    grid = make_grid(images, nrow=num_columns, padding=padding, pad_value=1.0)
    return to_pil(grid[None])[0]


def generate_to_folder(model: nn.Module, out_dir: str, seeds: Sequence[int],
                       batch_size: int = 8, sample_model: str = 'ema',
                       progress: bool = False, truncation: float = 1.0,
                       classes=None) -> List[str]:
    """Write one PNG per seed (``seed_000042.png``, of :func:`sample_images`) into
    ``out_dir``, one batch in memory at a time; returns the paths. With ``classes`` (as
    :func:`sample_images`) each image goes to ``out_dir/<class name>/``."""
    seeds, paths = list(seeds), []
    labels = class_labels(model, classes, len(seeds))
    folders = [out_dir] * len(seeds) if labels is None else [
        os.path.join(out_dir, class_names(model)[label]) for label in labels.tolist()]
    for folder in set(folders) or [out_dir]:
        os.makedirs(folder, exist_ok=True)
    for part in batches(len(seeds), batch_size, 'generating', progress):
        for seed, folder, image in zip(seeds[part], folders[part], sample_images(
                model, seeds[part], batch_size, sample_model, as_pil=True,
                truncation=truncation, classes=None if labels is None else labels[part])):
            paths.append(os.path.join(folder, f'seed_{seed:06d}.png'))
            image.save(paths[-1])
    return paths
