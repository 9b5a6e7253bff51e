"""Mixed-precision optimizer wrapper that trains on CUDA and on CPU."""
import warnings
from contextlib import contextmanager
from typing import Optional, Union

import torch
from mmagic.registry import OPTIM_WRAPPERS
from mmengine.device import get_device
from mmengine.optim import OptimWrapper
from torch import nn

from fastgan_plugin.utils.validation import check_choice

AUTOCAST_DEVICES = ('cuda', 'cpu')
AMP_DTYPES = ('auto', 'float16', 'bfloat16')  # 'auto': the fastest the hardware has


def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bfloat16 instructions (x86 AVX512-BF16 or AMX), without which
    oneDNN emulates bfloat16 convolutions, slower than float32 (torch's CPU feature query)."""
    queries = ('_is_avx512_bf16_supported', '_is_amx_tile_supported')
    return any(getattr(torch.cpu, name, lambda: False)() for name in queries)


def cuda_has_native_bf16() -> bool:
    """Whether the current GPU computes bfloat16 natively (compute capability >= 8.0)."""
    return torch.cuda.is_bf16_supported(including_emulation=False)


def resolve_amp_dtype(dtype: str, device_type: str) -> Optional[torch.dtype]:
    """The autocast dtype for ``dtype`` (:data:`AMP_DTYPES`) on ``device_type``; None: float32.
    ``'auto'``: bfloat16 where native, else float16 on CUDA, float32 on a CPU (warned);
    ``'bfloat16'``: as asked (warned where emulated); ``'float16'``: CUDA only (ValueError)."""
    check_choice(dtype, 'dtype', AMP_DTYPES)
    if device_type == 'cpu' and dtype == 'float16':
        raise ValueError('float16 autocast on the CPU is refused: without native float16 '
                         'kernels it is many times slower than float32. Use '
                         "dtype='auto' (tools/train.py --amp): bfloat16 where the CPU has "
                         'it natively, else float32')
    if device_type == 'cpu':
        native_bf16 = cpu_has_native_bf16()
        why = ('this CPU has neither AVX512-BF16 nor AMX, so bfloat16 is emulated: a FastGAN '
               'step measured 2.5-2.8x slower than float32 on such a CPU (docs/benchmarks.md)')
    else:
        native_bf16 = cuda_has_native_bf16()
        why = ('this GPU has no native bfloat16 (compute capability < 8.0), so it is '
               'emulated, slower than float16')
    if dtype == 'auto':
        if native_bf16 or device_type == 'cuda':
            return torch.bfloat16 if native_bf16 else torch.float16
        warnings.warn(f'Mixed precision off, training in float32: {why}. '
                      "dtype='bfloat16' (--amp-dtype bfloat16) forces bfloat16.", UserWarning,
                      stacklevel=2)
        return None
    if dtype == 'bfloat16' and not native_bf16:
        warnings.warn(f'bfloat16 autocast as asked, but {why}. '
                      "dtype='auto' (--amp without --amp-dtype) picks the fastest.",
                      UserWarning, stacklevel=2)
    return getattr(torch, dtype)


@OPTIM_WRAPPERS.register_module()
class MixedPrecisionOptimWrapper(OptimWrapper):
    """Mixed precision on CUDA and CPU: ``torch.autocast`` plus ``torch.amp.GradScaler``.

    MMEngine's ``AmpOptimWrapper`` behaviour (clipping of the unscaled gradients, a step
    skipped on overflow, the scaler's state under ``loss_scaler`` in the state dict) also on a
    CPU, in the dtype :func:`resolve_amp_dtype` picks; forwards in :meth:`optim_context` autocast.

    Args:
        loss_scale (str | float | dict | None): ``'auto'``: dynamic scaling for float16, none
            otherwise (bfloat16 has float32's exponent range); ``'dynamic'``: a ``GradScaler``
            with its defaults; a float: a static scale; a dict: ``GradScaler`` arguments;
            None: no scaling. Defaults to ``'auto'``.
        dtype (str | torch.dtype): ``'auto'``, ``'float16'`` or ``'bfloat16'``.
        device_type (str, optional): ``'cuda'`` or ``'cpu'``; None: MMEngine's ``get_device()``.
        **kwargs: ``OptimWrapper``'s (``optimizer``, ``clip_grad``, ``accumulative_counts``).

    Attributes:
        cast_dtype (torch.dtype | None): The autocast dtype; None trains in float32.
        loss_scaler (torch.amp.GradScaler): Disabled (a pass-through) without loss scaling.
        static_loss_scale (float | None): The scale a static ``loss_scale`` keeps.
    """

    def __init__(self, loss_scale: Union[str, float, dict, None] = 'auto',
                 dtype: Union[str, torch.dtype] = 'auto', device_type: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.device_type = check_choice(get_device() if device_type is None else device_type,
                                        'device_type', AUTOCAST_DEVICES)
        if isinstance(dtype, torch.dtype):
            dtype = str(dtype).replace('torch.', '')
        self.cast_dtype = resolve_amp_dtype(dtype, self.device_type)
        if loss_scale == 'auto':
            loss_scale = 'dynamic' if self.cast_dtype == torch.float16 else None
        self.static_loss_scale = loss_scale if isinstance(loss_scale, float) else None
        if loss_scale is not None and loss_scale != 'dynamic' \
                and not isinstance(loss_scale, (float, dict)):
            raise TypeError("loss_scale must be 'auto', 'dynamic', a float, a dict of "
                            f'GradScaler arguments or None, got {loss_scale!r}')
        scaler_args = (dict(enabled=False) if loss_scale is None else
                       loss_scale if isinstance(loss_scale, dict) else
                       dict(init_scale=loss_scale) if self.static_loss_scale is not None else {})
        self.loss_scaler = torch.amp.GradScaler(self.device_type, **scaler_args)

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        """Backpropagate the scaled ``loss`` (and count the micro-batch)."""
        super().backward(self.loss_scaler.scale(loss), **kwargs)

    def step(self, **kwargs) -> None:
        """Unscale and clip the gradients, then step unless they overflowed; update the scale."""
        self.loss_scaler.unscale_(self.optimizer)
        if self.clip_grad_kwargs:
            # OptimWrapper's clipping (its step would step the optimizer past the scaler).
            params = [p for group in self.optimizer.param_groups for p in group['params']
                      if p.requires_grad and p.grad is not None]
            norm = self.clip_func(params, **self.clip_grad_kwargs) if params else None
            if norm is not None:
                self.message_hub.update_scalar(f'train/{self.grad_name}', float(norm))
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update(self.static_loss_scale)

    def state_dict(self) -> dict:
        """The optimizer's state dict with the scaler's under ``loss_scaler``."""
        return dict(super().state_dict(), loss_scaler=self.loss_scaler.state_dict())

    def load_state_dict(self, state_dict: dict) -> None:
        """Load the scaler's state (where saved), then the optimizer's."""
        state_dict = dict(state_dict)
        if scaler_state := state_dict.pop('loss_scaler', None):
            self.loss_scaler.load_state_dict(scaler_state)
        super().load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """``OptimWrapper.optim_context`` (DDP's ``no_sync`` under accumulation) inside
        ``torch.autocast(device_type, cast_dtype)`` (nothing where ``cast_dtype`` is None)."""
        with super().optim_context(model), torch.autocast(
                self.device_type, dtype=self.cast_dtype, enabled=self.cast_dtype is not None):
            yield
