"""Every process-wide change that importing fastgan_plugin makes, in one place.

Each corrects MMEngine 0.10 (0.10.0 to 0.10.7, the range :mod:`.utils.version_check`
enforces; the patched code is the same in all of them) where it offers no extension point,
apart from one environment variable for albumentations.
``fastgan_plugin/__init__.py`` calls :func:`apply` once, after the version check; calling it
again changes nothing (each patch sets a name to a function of this module, or adds to a set
or a dict what is there already).

Where MMEngine does offer an extension point, it is used instead, and nothing here is
involved: the file backend ``fastgan_atomic_local`` (:mod:`.utils.atomic_io`), the hooks
(:mod:`.engine.hooks`), the registries (:mod:`.registry`).

Private MMEngine 0.10 code that this module reads or reuses without changing it:
:func:`runner_load_request` (the runner's ``_load_from`` / ``_resume`` / ``_has_loaded``,
for the checkpoint hooks) and :func:`amp_optim_wrapper_init` (``AmpOptimWrapper.__init__``
for ``MixedPrecisionOptimWrapper``). Outside this module, also without an extension point:

- ``AtomicCheckpointHook`` overrides ``CheckpointHook._save_checkpoint_with_step`` and
  ``_save_best_checkpoint`` (save before pruning, ``last_checkpoint`` written atomically);
- ``FastGAN.train_step`` advances the optimizer wrappers' ``_inner_count``, as mmagic's
  ``BaseGAN`` does.
"""
import functools
import os
import os.path as osp
import types
from typing import Callable, Optional, Tuple

import torch
from mmengine.config import config as mmengine_config
from mmengine.config import utils as mmengine_config_utils
from mmengine.logging import HistoryBuffer
from mmengine.optim import AmpOptimWrapper
from mmengine.optim.optimizer import amp_optimizer_wrapper
from mmengine.runner import checkpoint as mmengine_checkpoint

from .utils.checkpoint import load_from_http_weights_only, runner_checkpoint_types

PACKAGE = 'fastgan_plugin'
PACKAGE_DIR = osp.dirname(osp.abspath(__file__))

# MMEngine's functions, kept before :func:`apply` replaces them (this module is imported once).
_mmengine_get_package_and_cfg_path = mmengine_config._get_package_and_cfg_path
_mmengine_get_installed_path = mmengine_config.get_installed_path


# ----------------------------------------------------------- fastgan_plugin:: config paths
def get_package_and_cfg_path(cfg_path: str) -> Tuple[str, str]:
    """``mmengine.config.utils._get_package_and_cfg_path`` that also accepts our configs.

    MMEngine 0.10 accepts ``package::`` only for the OpenMMLab packages it lists in
    ``MODULE2PACKAGE`` and only with a sub-folder (``pkg::folder/file.py``, a regular
    expression). ``fastgan_plugin::<config>.py`` (a top-level config) is resolved here;
    every other path by MMEngine, unchanged.
    """
    package, sep, relative = cfg_path.partition('::')
    if sep and package == PACKAGE and relative:
        return PACKAGE, relative
    return _mmengine_get_package_and_cfg_path(cfg_path)


def get_installed_path(package: str) -> str:
    """``mmengine.utils.get_installed_path`` that finds fastgan_plugin where Python does.

    MMEngine 0.10 looks for the package beside its distribution metadata (site-packages),
    where an editable install (``pip install -e``, PEP 660) has no package folder, so
    ``fastgan_plugin/.mim/configs`` (filled by ``setup.py``) would not be found. Answers
    with the folder Python imports fastgan_plugin from; other packages go to MMEngine.
    """
    if package == PACKAGE:
        return PACKAGE_DIR
    return _mmengine_get_installed_path(package)


# ---------------------------------------------------------- checkpoints, weights_only=True
def history_buffer_state(buffer: HistoryBuffer) -> dict:
    """``HistoryBuffer.__getstate__`` without the statistics functions.

    MMEngine 0.10's ``__getstate__`` adds ``statistics_methods`` (references to
    ``HistoryBuffer.mean`` and so on), which pickle spells ``builtins.getattr``; allowing
    that under ``torch.load(weights_only=True)`` would let a checkpoint reach any attribute
    of any allowed object. ``HistoryBuffer.__setstate__`` registers the built-in statistics
    again on load, and custom ones are registered by the code that defines them. Unlike
    MMEngine's, it leaves the buffer's own ``__dict__`` unchanged.
    """
    state = dict(buffer.__dict__)
    state.pop('statistics_methods', None)
    return state


def apply() -> None:
    """Apply every patch of this module (idempotent; see the module docstring)."""
    # albumentations (imported by mmagic) asks PyPI for a newer release on import unless
    # told not to; set before mmagic is first imported.
    os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

    # fastgan_plugin::<config>.py paths (see get_package_and_cfg_path, get_installed_path).
    mmengine_config_utils.MODULE2PACKAGE.setdefault(PACKAGE, PACKAGE)
    mmengine_config._get_package_and_cfg_path = get_package_and_cfg_path
    mmengine_config.get_installed_path = get_installed_path

    # torch >= 2.6 loads with weights_only=True, and MMEngine 0.10 calls torch.load without
    # weights_only, so its runner checkpoints (the message hub's HistoryBuffer and numpy
    # arrays) did not load: allow-list exactly those types, process-wide as torch keeps
    # them (absent before torch 2.4, where MMEngine loads as it always did) ...
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:
        add_safe_globals(runner_checkpoint_types())
    # ... and write HistoryBuffers without function references (history_buffer_state).
    HistoryBuffer.__getstate__ = history_buffer_state

    # MMEngine 0.10 downloads http(s) checkpoints through torch.hub.load_state_dict_from_url
    # with weights_only=False, so a downloaded checkpoint could run code. The scheme
    # registry is the extension point, but the prefixes are MMEngine's own (force=True);
    # load_from_openmmlab / load_from_torchvision call the module's load_from_http directly.
    mmengine_checkpoint.CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'), loader=load_from_http_weights_only, force=True)
    mmengine_checkpoint.load_from_http = load_from_http_weights_only


# ------------------------------------------------- private MMEngine state read elsewhere
def runner_load_request(runner) -> Tuple[Optional[str], bool, bool]:
    """What ``Runner.load_or_resume`` will load: ``(load_from, resume, has_loaded)``.

    MMEngine 0.10's runner keeps its ``load_from`` / ``resume`` arguments, and whether a
    checkpoint was loaded already, in private attributes without a public accessor; the
    checkpoint hooks need them before the runner loads.
    """
    return (getattr(runner, '_load_from', None), bool(getattr(runner, '_resume', False)),
            bool(getattr(runner, '_has_loaded', False)))


@functools.cache
def amp_optim_wrapper_init(device_type: str) -> Callable:
    """MMEngine's ``AmpOptimWrapper.__init__``, building ``torch.amp.GradScaler(device_type)``.

    MMEngine 0.10's ``AmpOptimWrapper.__init__`` asserts a GPU, NPU, MLU or MUSA and builds
    the module-level ``GradScaler`` (``torch.cuda.amp``'s). This is the same code (its
    ``loss_scale`` choices: ``'dynamic'``, a float, a dict of ``GradScaler`` arguments) run
    with those two names bound for ``device_type``, so that the CPU gets a working scaler
    and the loss-scale logic exists once; MMEngine's module is not changed.

    Args:
        device_type (str): ``'cuda'`` or ``'cpu'``.

    Returns:
        callable: ``init(wrapper, loss_scale, dtype, use_fsdp=False, **optim_wrapper_kwargs)``.
    """
    init = AmpOptimWrapper.__init__
    names = dict(vars(amp_optimizer_wrapper),
                 GradScaler=functools.partial(torch.amp.GradScaler, device_type),
                 is_cuda_available=lambda: True)  # the device was checked by the caller
    return types.FunctionType(init.__code__, names, init.__name__, init.__defaults__,
                              init.__closure__)
