"""Mixed-precision optimizer wrapper that trains on CUDA and on CPU."""
import warnings
from contextlib import contextmanager
from typing import Optional, Union

import torch
from mmagic.registry import OPTIM_WRAPPERS
from mmengine.device import get_device
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from torch import nn

from fastgan_plugin.compat import amp_optim_wrapper_init
from fastgan_plugin.utils.validation import check_choice

AUTOCAST_DEVICES = ('cuda', 'cpu')
#: ``dtype`` choices: ``'auto'`` picks the fastest the hardware computes natively.
AMP_DTYPES = ('auto', 'float16', 'bfloat16')
# Measured on an AVX-512F CPU without AVX512-BF16 / AMX (docs/benchmarks.md).
EMULATED_BF16_SLOWDOWN = '2.5-2.8x'


def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bfloat16 instructions (x86 AVX512-BF16 or AMX), which oneDNN
    needs to make bfloat16 convolutions faster than float32 ones; elsewhere torch emulates
    them, slower than float32. Asks torch's own CPU feature query (``torch.cpu``)."""
    queries = ('_is_avx512_bf16_supported', '_is_amx_tile_supported')
    return any(getattr(torch.cpu, name, lambda: False)() for name in queries)


def cuda_has_native_bf16() -> bool:
    """Whether the current GPU computes bfloat16 natively (compute capability >= 8.0)."""
    return torch.cuda.is_bf16_supported(including_emulation=False)


def resolve_amp_dtype(dtype: str, device_type: str) -> Optional[torch.dtype]:
    """The autocast dtype to train with on ``device_type``, or None for float32.

    - ``'auto'`` on CUDA: bfloat16 where the GPU has it natively, else float16 (with
      dynamic loss scaling, see ``loss_scale='auto'``);
    - ``'auto'`` on a CPU: bfloat16 where the CPU has it natively
      (:func:`cpu_has_native_bf16`); else float32, with a warning: emulated bfloat16 made a
      FastGAN step 2.5-2.8x slower than float32 (docs/benchmarks.md);
    - ``'bfloat16'``: bfloat16 as asked, with a warning where it is emulated;
    - ``'float16'``: float16 on CUDA; refused on a CPU, where it is many times slower.

    Raises:
        ValueError: An unknown dtype, or float16 on a CPU.
    """
    check_choice(dtype, 'dtype', AMP_DTYPES)
    if device_type == 'cpu' and dtype == 'float16':
        raise ValueError('float16 autocast on the CPU is refused: without native float16 '
                         'kernels it is many times slower than float32. Use '
                         "dtype='auto' (tools/train.py --amp): bfloat16 where the CPU has "
                         'it natively, else float32')
    if device_type == 'cpu':
        native_bf16 = cpu_has_native_bf16()
        why = ('this CPU has neither AVX512-BF16 nor AMX, so bfloat16 is emulated: a FastGAN '
               f'step measured {EMULATED_BF16_SLOWDOWN} slower than float32 on such a CPU '
               '(docs/benchmarks.md)')
    else:
        native_bf16 = cuda_has_native_bf16()
        why = ('this GPU has no native bfloat16 (compute capability < 8.0), so it is '
               'emulated, slower than float16')
    if dtype == 'auto':
        if native_bf16:
            return torch.bfloat16
        if device_type == 'cuda':
            return torch.float16
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
class MixedPrecisionOptimWrapper(AmpOptimWrapper):
    """``AmpOptimWrapper`` for CUDA and CPU, on ``torch.amp``'s device-generic API, with the
    autocast dtype chosen by what the hardware computes natively.

    MMEngine's ``AmpOptimWrapper`` asserts that a GPU (or NPU, MLU, MUSA) is present and
    builds ``torch.cuda.amp.GradScaler``, so mixed precision cannot run on a CPU. This
    wrapper keeps its interface and behaviour (``update_params``, gradient clipping on
    unscaled gradients, the loss scaler saved in the optimizer state dict) and differs in:

    - autocast: :meth:`optim_context` enters ``torch.autocast(device_type, cast_dtype)``,
      so every forward pass run inside it (FastGAN runs the generator, the discriminator and
      the LPIPS network there) computes convolutions and matrix products in that dtype;
    - the dtype: ``'auto'`` (default) is bfloat16 where the GPU or CPU has it natively,
      float16 on other GPUs, and float32 (autocast off, with a warning) on CPUs without
      AVX512-BF16 or AMX, where emulated bfloat16 is slower than float32; see
      :func:`resolve_amp_dtype`. float16 on a CPU is refused: without native float16
      kernels a FastGAN step ran about 20x slower than float32 (docs/benchmarks.md);
    - loss scaling: ``torch.amp.GradScaler(device_type)``; ``'auto'`` scales float16 only
      (bfloat16 has float32's exponent range and needs none).

    Args:
        loss_scale (str | float | dict | None): ``'auto'`` (dynamic scaling for float16,
            none otherwise), ``'dynamic'`` (a ``GradScaler`` with its defaults), a float
            (static scale), a dict of ``GradScaler`` arguments, or None for no loss
            scaling. Defaults to ``'auto'``.
        dtype (str | torch.dtype): ``'auto'``, ``'float16'`` or ``'bfloat16'``. Defaults
            to ``'auto'``.
        device_type (str, optional): ``'cuda'`` or ``'cpu'``: where the model trains. None
            takes MMEngine's ``get_device()``, the device the runner moves the model to.
        **kwargs: Arguments of ``OptimWrapper`` (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).

    Attributes:
        cast_dtype (torch.dtype | None): The autocast dtype; None trains in float32.
    """

    def __init__(self,
                 loss_scale: Union[str, float, dict, None] = 'auto',
                 dtype: Union[str, torch.dtype] = 'auto',
                 device_type: Optional[str] = None,
                 **kwargs) -> None:
        device_type = check_choice(get_device() if device_type is None else device_type,
                                   'device_type', AUTOCAST_DEVICES)
        if isinstance(dtype, torch.dtype):
            dtype = str(dtype).replace('torch.', '')
        cast_dtype = resolve_amp_dtype(dtype, device_type)
        if loss_scale == 'auto':
            loss_scale = 'dynamic' if cast_dtype == torch.float16 else None
        if loss_scale is None:
            loss_scale = dict(enabled=False)  # a GradScaler that passes gradients through
        # AmpOptimWrapper.__init__ (its loss_scale choices), with torch.amp's scaler for
        # device_type instead of its assertion of an accelerator (see compat).
        amp_optim_wrapper_init(device_type)(self, loss_scale=loss_scale, dtype=cast_dtype,
                                            **kwargs)
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Autocast to :attr:`cast_dtype` on :attr:`device_type` (nothing where it is
        None), inside ``OptimWrapper.optim_context`` (gradient-accumulation handling).

        Args:
            model (nn.Module): The model (or network) being trained.
        """
        with OptimWrapper.optim_context(self, model), \
                torch.autocast(self.device_type, dtype=self.cast_dtype,
                               enabled=self.cast_dtype is not None):
            yield
