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
    """EMA of the generator: ``ema = (1 - m_t) * ema + m_t * param`` at every update t.

    The official code uses ``m_t = 0.001`` (decay 0.999, a half-life of 693 updates) from
    the first update on, starting from the initial weights, so for the first thousands of
    iterations the EMA generator is mostly the initial one: its samples are flat grey
    long after the raw generator has learned shapes. ``rampup`` (as StyleGAN2-ADA's
    ``ema_rampup``) caps the half-life at a fraction of the updates made so far::

        m_t = max(momentum, 1 - 0.5 ** (interval / (rampup * (t + 1))))

    With ``rampup=0.05`` the EMA averages the last 5% of training and reaches the
    official decay after 13,856 updates; ``rampup=None`` is the official constant decay.

    BatchNorm running statistics must fit the averaged weights. ``bn_stats`` chooses:

    - ``'average'`` (default): running means and variances are averaged with the same
      ``m_t`` as the weights, so statistics and weights cover the same window.
    - ``'raw'``: the official behaviour, statistics copied from the generator (what
      official ``g_ema`` checkpoints contain): a ~10-update window of other weights.

    Every other buffer (spectral-norm vectors, BN batch counters) is copied from the
    generator: the power-iteration vectors must stay unit vectors. Unlike MMEngine's EMA,
    the first update already averages (with the ramp, ``m_0`` is 1 - 2e-6): the copy
    made at construction is the starting point, as in the official ``copy_G_params``.
    ``steps`` (a buffer, saved in checkpoints) counts the updates, so a resumed run
    continues the ramp where it stopped; checkpoints from before the ramp load unchanged.

    Args:
        model (nn.Module): The generator to average.
        momentum (float): Weight of the new value once the ramp-up is over (and always
            with ``rampup=None``). Defaults to 0.001 (official).
        interval (int): Update every ``interval`` calls. Defaults to 1.
        device (torch.device, optional): Where to keep the average. Defaults to None.
        rampup (float, optional): Half-life of the average as a fraction of the updates
            so far, until it reaches the half-life of ``momentum``. None: no ramp-up
            (official). Defaults to 0.05.
        bn_stats (str): ``'average'`` or ``'raw'`` (official), see above.
            Defaults to 'average'.
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
        # update_buffers=True: buffers are handled here, so mmagic's BaseGAN must not
        # overwrite them with sync_buffers().
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
            params = dict(model.named_parameters())
            for name, averaged in self.module.named_parameters():
                self.avg_func(averaged.data, params[name].data.to(averaged.device), self.steps)
            buffers = dict(model.named_buffers())
            for name, averaged in self.module.named_buffers():
                value = buffers[name].data.to(averaged.device)
                if self.bn_stats == 'average' and name.endswith(BN_STATS_NAMES):
                    self.avg_func(averaged.data, value, self.steps)
                else:
                    averaged.data.copy_(value)
        self.steps += 1
