"""Mixed-precision optimizer wrapper that trains on CUDA and on CPU."""
from contextlib import contextmanager
from typing import Optional, Union

import torch
from mmagic.registry import OPTIM_WRAPPERS
from mmengine.device import get_device
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from torch import nn

AUTOCAST_DEVICES = ('cuda', 'cpu')


@OPTIM_WRAPPERS.register_module()
class MixedPrecisionOptimWrapper(AmpOptimWrapper):
    """``AmpOptimWrapper`` for CUDA and CPU, on ``torch.amp``'s device-generic API.

    MMEngine's ``AmpOptimWrapper`` asserts that a GPU (or NPU, MLU, MUSA) is present and
    builds ``torch.cuda.amp.GradScaler``, so mixed precision cannot run on a CPU. This
    wrapper keeps its interface and behaviour (``update_params``, gradient clipping on
    unscaled gradients, the loss scaler saved in the optimizer state dict) and differs in:

    - autocast: :meth:`optim_context` enters ``torch.autocast(device_type, dtype)``, so
      every forward pass run inside it (FastGAN runs the generator, the discriminator and
      the LPIPS network there) computes convolutions and matrix products in ``dtype``;
    - loss scaling: ``torch.amp.GradScaler(device_type)``, or none with
      ``loss_scale=None`` (bfloat16 has float32's exponent range and needs none);
    - float16 on a CPU is refused: torch autocasts it, but without native float16 kernels
      a FastGAN step ran about 20x slower than float32 on an AVX-512-BF16 CPU (see
      ``docs/benchmarks.md``); use bfloat16 there.

    Args:
        loss_scale (str | float | dict | None): ``'dynamic'`` (a ``GradScaler`` with its
            defaults), a float (static scale), a dict of ``GradScaler`` arguments, or None
            for no loss scaling. Defaults to ``'dynamic'``, as ``AmpOptimWrapper``.
        dtype (str | torch.dtype): Autocast dtype, ``'float16'`` or ``'bfloat16'``.
            Defaults to ``'float16'``.
        device_type (str, optional): ``'cuda'`` or ``'cpu'``: where the model trains. None
            takes MMEngine's ``get_device()``, the device the runner moves the model to.
        **kwargs: Arguments of ``OptimWrapper`` (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).
    """

    valid_dtypes = ('float16', 'bfloat16')

    def __init__(self,
                 loss_scale: Union[str, float, dict, None] = 'dynamic',
                 dtype: Union[str, torch.dtype] = 'float16',
                 device_type: Optional[str] = None,
                 **kwargs) -> None:
        # AmpOptimWrapper.__init__ asserts an accelerator; only OptimWrapper's is wanted.
        OptimWrapper.__init__(self, **kwargs)
        device_type = get_device() if device_type is None else device_type
        if device_type not in AUTOCAST_DEVICES:
            raise ValueError(f'device_type must be one of {AUTOCAST_DEVICES} (or None for the '
                             f"runner's device), got {device_type!r}")
        if isinstance(dtype, torch.dtype):
            dtype = str(dtype).replace('torch.', '')
        if dtype not in self.valid_dtypes:
            raise ValueError(f'dtype must be one of {self.valid_dtypes}, got {dtype!r}')
        if device_type == 'cpu' and dtype == 'float16':
            raise ValueError('float16 autocast on the CPU is refused: without native float16 '
                             'kernels it is many times slower than float32. Use '
                             "dtype='bfloat16' (tools/train.py --amp --amp-dtype bfloat16)")
        self.device_type = device_type
        self.cast_dtype = getattr(torch, dtype)
        self._scale_update_param = None
        if loss_scale is None:
            self.loss_scaler = torch.amp.GradScaler(device_type, enabled=False)
        elif loss_scale == 'dynamic':
            self.loss_scaler = torch.amp.GradScaler(device_type)
        elif isinstance(loss_scale, float):
            self._scale_update_param = loss_scale
            self.loss_scaler = torch.amp.GradScaler(device_type, init_scale=loss_scale)
        elif isinstance(loss_scale, dict):
            self.loss_scaler = torch.amp.GradScaler(device_type, **loss_scale)
        else:
            raise TypeError("loss_scale must be 'dynamic', a float, a dict of GradScaler "
                            f'arguments or None, got {loss_scale!r}')

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Autocast to :attr:`cast_dtype` on :attr:`device_type`, inside
        ``OptimWrapper.optim_context`` (gradient-accumulation handling).

        Args:
            model (nn.Module): The model (or network) being trained.
        """
        with OptimWrapper.optim_context(self, model), \
                torch.autocast(self.device_type, dtype=self.cast_dtype):
            yield
