"""Exponential moving average of the FastGAN generator."""
from typing import Optional

import torch
from mmagic.models.base_models import ExponentialMovingAverage
from mmagic.registry import MODELS
from torch import nn

BN_STATS_MODES = ('average', 'raw')


@MODELS.register_module()
class FastGANEMA(ExponentialMovingAverage):
    """EMA of the generator: ``ema = (1 - momentum) * ema + momentum * param``.

    The official code averages parameters only (decay 0.999, i.e. ``momentum=0.001``)
    and samples the EMA weights with the raw generator's BatchNorm statistics, which
    belong to weights from the last ~10 iterations (BN momentum 0.1) while the EMA
    weights average the last ~1000. ``bn_stats`` chooses:

    - ``'average'`` (default): BatchNorm running means and variances are averaged with
      the same momentum as the weights, so statistics and weights cover the same window.
    - ``'raw'``: the official behaviour, BatchNorm statistics copied from the generator
      (this is what official ``g_ema`` checkpoints contain).

    Every other buffer (spectral-norm vectors, BN batch counters) is copied from the
    generator: the power-iteration vectors must stay unit vectors. Unlike MMEngine's EMA,
    the first update already averages: the copy made at construction is the starting
    point, as in the official ``copy_G_params``.

    Args:
        model (nn.Module): The generator to average.
        momentum (float): Weight of the new value in each update. Defaults to 0.001.
        interval (int): Update every ``interval`` calls. Defaults to 1.
        device (torch.device, optional): Where to keep the average. Defaults to None.
        bn_stats (str): ``'average'`` or ``'raw'``, see above. Defaults to 'average'.
    """

    def __init__(self,
                 model: nn.Module,
                 momentum: float = 0.001,
                 interval: int = 1,
                 device: Optional[torch.device] = None,
                 bn_stats: str = 'average') -> None:
        if bn_stats not in BN_STATS_MODES:
            raise ValueError(f'bn_stats must be one of {BN_STATS_MODES}, got {bn_stats!r}')
        # update_buffers=True: buffers are handled here, so mmagic's BaseGAN must not
        # overwrite them with sync_buffers().
        super().__init__(model, momentum, interval, device, update_buffers=True)
        self.bn_stats = bn_stats

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        """Average ``model``'s parameters (and BN statistics) into this EMA copy."""
        if self.steps % self.interval == 0:
            params = dict(model.named_parameters())
            for name, averaged in self.module.named_parameters():
                self.avg_func(averaged.data, params[name].data.to(averaged.device), self.steps)
            buffers = dict(model.named_buffers())
            for name, averaged in self.module.named_buffers():
                value = buffers[name].data.to(averaged.device)
                if self.bn_stats == 'average' and name.endswith(('running_mean', 'running_var')):
                    self.avg_func(averaged.data, value, self.steps)
                else:
                    averaged.data.copy_(value)
        self.steps += 1
