"""A grid of what the self-supervised discriminator reconstructs, for a person to look at."""
from typing import Optional

import torch
from mmagic.registry import HOOKS
from mmengine.dist import master_only
from mmengine.hooks import Hook
from torchvision.utils import make_grid

from ...utils.channels import checkerboard, to_rgb
from ...utils.model import unwrap_model


@HOOKS.register_module()
class ReconstructionGridHook(Hook):
    """Every ``interval`` iterations, send the visualizer an image ``'reconstruction'``: one
    row for each of the first ``n_samples`` real images of the batch, columns real | decoded
    big | decoded small | quadrant | decoded quadrant, each 128x128 (RGBA over a checkerboard,
    grey as RGB). The discriminator runs
    in eval mode under ``no_grad``: its BatchNorm statistics and spectral-norm vectors stay."""
    priority = 'LOW'

    def __init__(self, interval: int = 1000, n_samples: int = 8) -> None:
        if interval < 1 or n_samples < 1:
            raise ValueError(f'interval and n_samples must be >= 1, got {interval}, {n_samples}')
        self.interval = interval
        self.n_samples = n_samples

    @master_only
    def after_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if data_batch is None or not self.every_n_train_iters(runner, self.interval):
            return
        model = unwrap_model(runner.model)
        discriminator = unwrap_model(model.discriminator)
        was_training = discriminator.training
        discriminator.eval()
        try:
            with torch.no_grad():
                # training=True: RGB in [-1, 1] as the discriminator sees it
                samples = model.data_preprocessor(data_batch, True)['data_samples']
                real = samples.gt_img[:self.n_samples]
                labels = model.real_labels(samples)  # None: unconditional
                part = torch.arange(real.shape[0], device=real.device) % 4
                _, recs = discriminator(real, part=part,
                                        labels=None if labels is None else labels[:len(real)])
                targets = model.reconstruction_targets(real, part)
        finally:
            discriminator.train(was_training)
        columns = [targets['rec_big'], recs['rec_big'], recs['rec_small'],
                   targets['rec_part'], recs['rec_part']]
        rows = torch.stack(columns, dim=1).flatten(0, 1).float().clamp(-1, 1)  # one per image
        rows = to_rgb(rows, background=checkerboard(*rows.shape[-2:], device=rows.device))
        grid = make_grid(rows, nrow=len(columns), normalize=True, value_range=(-1, 1))
        image = grid.mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
        runner.visualizer.add_image('reconstruction', image, step=runner.iter + 1)
