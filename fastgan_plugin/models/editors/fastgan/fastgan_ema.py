"""Exponential moving average of the FastGAN generator."""
import math
from typing import Optional

import torch
from mmagic.models.base_models import ExponentialMovingAverage
from mmagic.registry import MODELS
from torch import nn

from ....utils.validation import check_choice, check_number

BN_STATS_MODES = ('average', 'raw')
BN_STATS_NAMES = ('running_mean', 'running_var')


@MODELS.register_module()
class FastGANEMA(ExponentialMovingAverage):
    """EMA of the generator: ``ema = (1 - m_t) * ema + m_t * param`` at update t, from the
    copy made at construction (official ``copy_G_params``; the first update averages).

    The official constant ``m_t = 0.001`` keeps the EMA mostly initial (grey samples) for
    thousands of iterations; ``rampup`` (StyleGAN2-ADA's) caps the half-life at a fraction of
    the updates so far: ``m_t = max(momentum, 1 - 0.5 ** (interval / (rampup * (t + 1))))``
    (0.05: the last 5%, the official decay after 13,856 updates). ``steps`` (saved) counts
    updates, so a resumed run continues the ramp. BatchNorm running statistics are averaged
    with ``m_t`` (``bn_stats='average'``) or copied (``'raw'``, official); other buffers
    (spectral-norm vectors, counters) are copied.

    Args:
        model (nn.Module): The generator.
        momentum (float): ``m_t`` after the ramp, and without one. Official 0.001.
        interval (int): Update every ``interval`` calls.
        device (torch.device, optional): Where to keep the average.
        rampup (float, optional): See above; None: the official constant. Defaults to 0.05.
        bn_stats (str): ``'average'`` (default) or ``'raw'``.
    """

    def __init__(self,
                 model: nn.Module,
                 momentum: float = 0.001,
                 interval: int = 1,
                 device: Optional[torch.device] = None,
                 *,
                 rampup: Optional[float] = 0.05,
                 bn_stats: str = 'average') -> None:
        check_choice(bn_stats, 'bn_stats', BN_STATS_MODES)
        if rampup is not None:
            check_number(rampup, 'rampup', minimum=0, exclusive_minimum=True,
                         what='a positive number or None')
        # update_buffers=True: update_parameters handles the buffers, and BaseGAN's
        # train_step then calls no sync_buffers() after it.
        super().__init__(model, momentum, interval, device, update_buffers=True)
        self.rampup = rampup
        self.bn_stats = bn_stats

    def current_momentum(self) -> float:
        """``m_t`` of the next update (t = ``self.steps``), see the class docstring."""
        if self.rampup is None:
            return self.momentum
        half_life = self.rampup * (int(self.steps) + 1)
        return max(self.momentum, 1.0 - math.pow(0.5, self.interval / half_life))

    def avg_func(self, averaged_param: torch.Tensor, source_param: torch.Tensor,
                 steps: int) -> None:
        """``averaged = (1 - m_t) * averaged + m_t * source``, in place."""
        momentum = self.current_momentum()
        averaged_param.mul_(1 - momentum).add_(source_param, alpha=momentum)

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        """Average ``model``'s parameters (and BN statistics) into this EMA copy."""
        if self.steps % self.interval == 0:
            source = model.state_dict()
            params = dict(self.module.named_parameters())
            for name, averaged in self.module.state_dict().items():
                value = source[name].to(averaged.device)
                if name in params or (self.bn_stats == 'average'
                                      and name.endswith(BN_STATS_NAMES)):
                    self.avg_func(averaged, value, self.steps)
                else:
                    averaged.copy_(value)
        self.steps += 1
