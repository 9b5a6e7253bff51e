"""A tiny FastGAN model config and a batch of real images, for the model-level tests."""
from typing import Optional

import torch
from mmagic.structures import DataSample


def tiny_fastgan_cfg(im_size: int = 256, ngf: int = 8, ndf: int = 8, nz: int = 16,
                     policy: str = 'color,translation', rec_loss: Optional[dict] = None,
                     **overrides) -> dict:
    """The config of a ``FastGAN`` with narrow networks (the official layout at ``im_size``).

    Args:
        im_size (int): Resolution of the generator and the discriminator.
        ngf (int): Generator base width.
        ndf (int): Discriminator base width.
        nz (int): Latent length.
        policy (str): DiffAugment policy.
        rec_loss (dict, optional): Reconstruction loss; default L1 (LPIPS needs weights).
        **overrides: Top-level ``FastGAN`` arguments to replace.
    """
    cfg = dict(
        type='FastGAN',
        data_preprocessor=dict(type='DataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3,
                               output_channel_order='RGB'),
        generator=dict(type='SLEGenerator', im_size=im_size, ngf=ngf, nz=nz),
        discriminator=dict(type='SSDiscriminator', im_size=im_size, ndf=ndf),
        augment=dict(type='DiffAugment', policy=policy),
        rec_loss=rec_loss or dict(type='ReconstructionLoss', distance='l1'),
        ema_config=dict(type='FastGANEMA', momentum=0.001))
    cfg.update(overrides)
    return cfg


def random_real_batch(count: int, im_size: int = 256, seed: int = 0) -> dict:
    """What ``LoadRGBImage`` + ``PackInputs`` give the model: ``count`` uint8 RGB images
    ``(3, im_size, im_size)`` of seeded random pixels in ``data_samples.gt_img``."""
    gen = torch.Generator().manual_seed(seed)
    return dict(inputs=dict(), data_samples=[
        DataSample(gt_img=torch.randint(0, 256, (3, im_size, im_size), generator=gen,
                                        dtype=torch.uint8),
                   metainfo=dict(gt_channel_order='rgb', gt_color_type='color'))
        for _ in range(count)])
