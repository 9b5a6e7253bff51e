"""Python API: build a FastGAN model from a config and checkpoint, and sample images."""
from typing import List, Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from PIL import Image
from torch import Tensor, nn

from ..utils.config import load_config

SAMPLE_MODELS = ('ema', 'orig')


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the model of ``config`` and load ``checkpoint`` into it.

    Args:
        config (str | Config): Config file, ``fastgan_plugin::<name>.py``, or a Config.
        checkpoint (str, optional): Local path or http(s) URL of an mmagic checkpoint
            (for example one written by ``tools/train.py`` or
            ``tools/convert_official_checkpoint.py``). Loaded with ``weights_only=True``.
        device (str | torch.device): Where the model goes. Defaults to 'cpu'.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        nn.Module: The FastGAN model in eval mode, with the config as ``model.cfg``.
    """
    from mmagic.registry import MODELS
    from mmagic.utils import register_all_modules

    register_all_modules()
    cfg = config if isinstance(config, Config) else load_config(config, cfg_options)
    if isinstance(config, Config) and cfg_options:
        cfg.merge_from_dict(cfg_options)
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.cfg = cfg
    return model.to(device).eval()


def seeded_noise(seeds: Sequence[int], noise_size: int) -> Tensor:
    """One latent vector per seed, (len(seeds), noise_size), the same on every device."""
    return torch.stack(
        [torch.randn(noise_size, generator=torch.Generator().manual_seed(int(s))) for s in seeds])


@torch.no_grad()
def sample_images(model: nn.Module,
                  seeds: Sequence[int],
                  batch_size: int = 8,
                  sample_model: str = 'ema',
                  as_pil: bool = False) -> Union[Tensor, List[Image.Image]]:
    """Generate one image per seed.

    Args:
        model (nn.Module): A FastGAN model, e.g. from :func:`init_model`.
        seeds (Sequence[int]): Seeds of the latent vectors; the same seed gives the same
            image.
        batch_size (int): Images per generator call. Defaults to 8.
        sample_model (str): ``'ema'`` (the averaged generator, default) or ``'orig'``.
        as_pil (bool): Return PIL images instead of a tensor. Defaults to False.

    Returns:
        Tensor | list[PIL.Image.Image]: (N, 3, R, R) RGB in [-1, 1], or N RGB images.
    """
    if sample_model not in SAMPLE_MODELS:
        raise ValueError(f'sample_model must be one of {SAMPLE_MODELS}, got {sample_model!r}')
    if sample_model == 'ema' and not model.with_ema_gen:
        raise ValueError('this model has no EMA generator: use sample_model="orig"')
    generator = model.generator_ema if sample_model == 'ema' else model.generator
    noise = seeded_noise(seeds, model.noise_size)
    device = next(model.parameters()).device
    images = torch.cat([
        generator(chunk.to(device)).cpu() for chunk in noise.split(batch_size)
    ]) if len(seeds) else torch.empty(0)
    return to_pil(images) if as_pil else images


def to_pil(images: Tensor) -> List[Image.Image]:
    """(N, 3, H, W) RGB in [-1, 1] -> list of PIL RGB images."""
    pixels = images.float().clamp(-1, 1).add(1).mul(127.5).round().byte()
    return [Image.fromarray(p.permute(1, 2, 0).numpy(), 'RGB') for p in pixels]


def generate_to_folder(model: nn.Module,
                       out_dir: str,
                       seeds: Sequence[int],
                       batch_size: int = 8,
                       sample_model: str = 'ema',
                       progress: bool = False) -> List[str]:
    """Write one PNG per seed (``seed_000042.png``) into ``out_dir``; returns the paths."""
    import os

    from tqdm import tqdm

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
