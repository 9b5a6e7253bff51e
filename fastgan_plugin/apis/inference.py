"""Python API: build a FastGAN model from a config and checkpoint, and sample images.

Seeds make samples reproducible. The random stream of a seed
(``torch.Generator().manual_seed(seed)`` on the CPU) gives first the latent vector
(:func:`seeded_noise`), then the noise that the generator's noise-injection layers add
(:func:`seeded_injection_noise`, passed as the generator's ``injection_noise``), layer after
layer in forward order. So an image depends only on its seed: not on the batch size, the
other images of the batch or the device. (The official code draws injection noise at random
in eval mode too; with trained, non-zero injection weights its samples change from call to
call.)
"""
import copy
import os
import pickle
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from PIL import Image
from torch import Tensor, nn
from tqdm import tqdm

from ..models.editors.fastgan.sle_generator import SLEGenerator
from ..utils.model import unwrap_model
from ..utils.validation import check_choice
from .config import load_config

SAMPLE_MODELS = ('ema', 'orig')
# The discriminator's reconstruction loss is used in training only and is not part of
# checkpoints; an inference model gets L1 so that no LPIPS-VGG weights are needed.
INFERENCE_REC_LOSS = dict(type='ReconstructionLoss', distance='l1')


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the model of ``config`` for inference and load ``checkpoint`` into it.

    The model is meant for sampling: its reconstruction loss (training only, not in
    checkpoints) is built as L1 whatever the config says, so that building needs no
    LPIPS-VGG weights. Train through ``tools/train.py`` instead.

    Args:
        config (str | Config): Config file, ``fastgan_plugin::<name>.py``, or a Config.
        checkpoint (str, optional): Local path or http(s) URL of an mmagic checkpoint
            (for example one written by ``tools/train.py``, ``tools/publish_model.py`` or
            ``tools/model_converters/convert_official_checkpoint.py``), loaded strictly
            (every key must fit) with ``weights_only=True``.
        device (str | torch.device): Where the model goes. Defaults to 'cpu'.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        nn.Module: The FastGAN model in eval mode, with the config as ``model.cfg``.

    Raises:
        ValueError: If ``checkpoint`` holds objects that ``torch.load(weights_only=True)``
            refuses (nothing in it is run).
    """
    from mmagic.registry import MODELS
    from mmagic.utils import register_all_modules

    register_all_modules()
    cfg = config if isinstance(config, Config) else load_config(config, cfg_options)
    if isinstance(config, Config) and cfg_options:
        cfg.merge_from_dict(cfg_options)
    model_cfg = copy.deepcopy(cfg.model)
    if 'rec_loss' in model_cfg:
        model_cfg.rec_loss = INFERENCE_REC_LOSS
    model = MODELS.build(model_cfg)
    if checkpoint is not None:
        try:
            load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
        except pickle.UnpicklingError as error:
            raise ValueError(
                f'{checkpoint} was refused by torch.load(weights_only=True): it holds objects '
                'other than tensors and the types MMEngine checkpoints need, and could run code '
                'when loaded (nothing in it was run). Use a checkpoint written by the tools of '
                f'fastgan_plugin or MMEngine, or re-save the tensors of one you trust. ({error})'
            ) from error
    model.cfg = cfg
    return model.to(device).eval()


def _seed_streams(seeds: Sequence[int], noise_size: int) -> Tuple[Tensor, List[torch.Generator]]:
    """The latent of every seed, and its random stream positioned after the latent."""
    streams = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
    latents = [torch.randn(noise_size, generator=stream) for stream in streams]
    return (torch.stack(latents) if latents else torch.empty(0, noise_size)), streams


def seeded_noise(seeds: Sequence[int], noise_size: int) -> Tensor:
    """One latent vector per seed, (len(seeds), noise_size), the same on every device."""
    return _seed_streams(seeds, noise_size)[0]


def seeded_injection_noise(generator: SLEGenerator, seeds: Sequence[int]) -> List[Tensor]:
    """The injection noise of the seeds, for ``generator(..., injection_noise=...)``.

    Sample ``i`` gets its noise from the random stream of ``seeds[i]`` (after the ``nz``
    latent values that :func:`seeded_noise` draws from it), layer after layer in forward
    order. The noise is drawn on the CPU (the generator moves it to the features' device),
    so it is the same on every device.

    Args:
        generator (SLEGenerator): The generator that will take the noise.
        seeds (Sequence[int]): One seed per sample of the batch.

    Returns:
        list[Tensor]: One (len(seeds), 1, H, W) tensor per noise-injection layer, in the
        order and sizes of ``generator.injection_noise_shapes``.
    """
    shapes = generator.injection_noise_shapes
    per_sample = [[torch.randn(shape, generator=stream) for shape in shapes]
                  for stream in _seed_streams(seeds, generator.nz)[1]]
    return [torch.stack(layer) for layer in zip(*per_sample)]


def select_generator(model: nn.Module, sample_model: str = 'ema') -> SLEGenerator:
    """The generator of ``model`` to sample with: ``'ema'`` (the averaged copy) or ``'orig'``.

    Returns the generator network itself (the EMA wrapper's ``module``; also through a
    model wrapper such as DDP), whose methods (``sle_gates``, ``injection_noise_shapes``)
    the sampling functions use.
    """
    check_choice(sample_model, 'sample_model', SAMPLE_MODELS)
    model = unwrap_model(model)
    if sample_model == 'ema' and not model.with_ema_gen:
        raise ValueError('this model has no EMA generator: use sample_model="orig"')
    return model.generator_ema.module if sample_model == 'ema' else unwrap_model(model.generator)


@torch.no_grad()
def generate(model: nn.Module,
             latents: Tensor,
             noise_seeds: Sequence[int],
             batch_size: int = 8,
             sample_model: str = 'ema',
             progress: bool = False) -> Tensor:
    """Generate one image per latent vector.

    Image ``i`` takes its injection noise from ``noise_seeds[i]``
    (:func:`seeded_injection_noise`); :func:`sample_images` passes the latents' own seeds.

    Args:
        model (nn.Module): A FastGAN model, e.g. from :func:`init_model`.
        latents (Tensor): (N, nz) latent vectors.
        noise_seeds (Sequence[int]): N seeds for the noise-injection layers.
        batch_size (int): Images per generator call. Defaults to 8.
        sample_model (str): ``'ema'`` (the averaged generator, default) or ``'orig'``.
        progress (bool): Show a progress bar over the batches. Defaults to False.

    Returns:
        Tensor: (N, 3, R, R) RGB on the CPU, in [-1, 1] (unbounded for a generator with
        ``out_act=None``, such as the official ones at 256 and 512).
    """
    if len(noise_seeds) != len(latents):
        raise ValueError(f'{len(latents)} latents but {len(noise_seeds)} noise seeds')
    generator = select_generator(model, sample_model)
    device = next(model.parameters()).device
    images = []
    starts = range(0, len(latents), batch_size)
    for start in tqdm(starts, desc='generating', unit='batch', disable=not progress):
        injection_noise = seeded_injection_noise(generator, noise_seeds[start:start + batch_size])
        batch = latents[start:start + batch_size].to(device)
        images.append(generator(batch, injection_noise=injection_noise).cpu())
    return torch.cat(images) if images else torch.empty(0)


def sample_images(model: nn.Module,
                  seeds: Sequence[int],
                  batch_size: int = 8,
                  sample_model: str = 'ema',
                  as_pil: bool = False,
                  progress: bool = False) -> Union[Tensor, List[Image.Image]]:
    """Generate one image per seed; the same seed gives the same image.

    Args:
        model (nn.Module): A FastGAN model, e.g. from :func:`init_model`.
        seeds (Sequence[int]): Seeds of the latent vectors and of the injection noise.
        batch_size (int): Images per generator call. Defaults to 8.
        sample_model (str): ``'ema'`` (the averaged generator, default) or ``'orig'``.
        as_pil (bool): Return PIL images instead of a tensor. Defaults to False.
        progress (bool): Show a progress bar over the batches. Defaults to False.

    Returns:
        Tensor | list[PIL.Image.Image]: (N, 3, R, R) RGB (see :func:`generate`), or N RGB
        images.
    """
    seeds = list(seeds)
    images = generate(model, seeded_noise(seeds, model.noise_size), seeds, batch_size,
                      sample_model, progress)
    return to_pil(images) if as_pil else images


def to_pil(images: Tensor) -> List[Image.Image]:
    """(N, 3, H, W) RGB in [-1, 1] (clamped) -> list of PIL RGB images."""
    pixels = images.float().clamp(-1, 1).add(1).mul(127.5).round().byte()
    return [Image.fromarray(p.permute(1, 2, 0).numpy(), 'RGB') for p in pixels]


def to_grid(images: Tensor, num_columns: int, padding: int = 2) -> Image.Image:
    """(N, 3, H, W) RGB in [-1, 1] -> one PIL image, row by row, white between cells."""
    from torchvision.utils import make_grid

    grid = make_grid(images.float().clamp(-1, 1), nrow=num_columns, padding=padding,
                     pad_value=1.0)
    return to_pil(grid[None])[0]


def generate_to_folder(model: nn.Module,
                       out_dir: str,
                       seeds: Sequence[int],
                       batch_size: int = 8,
                       sample_model: str = 'ema',
                       progress: bool = False) -> List[str]:
    """Write one PNG per seed (``seed_000042.png``) into ``out_dir``; returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    seeds = list(seeds)
    paths = []
    chunks = [seeds[i:i + batch_size] for i in range(0, len(seeds), batch_size)]
    for chunk in tqdm(chunks, desc='generating', unit='batch', disable=not progress):
        for seed, image in zip(chunk, sample_images(model, chunk, batch_size, sample_model,
                                                    as_pil=True)):
            path = os.path.join(out_dir, f'seed_{seed:06d}.png')
            image.save(path)
            paths.append(path)
    return paths
