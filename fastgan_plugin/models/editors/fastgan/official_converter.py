"""Map checkpoints of the official FastGAN-pytorch code onto this plugin's modules.

An official checkpoint is a dict written by the official ``train.py``: ``all_N.pth`` holds
``g`` (``Generator.state_dict()``), ``d`` (``Discriminator.state_dict()``), ``g_ema`` (a
list of tensors in ``Generator.parameters()`` order), ``opt_g`` and ``opt_d``; ``N.pth`` holds
``g`` (already the EMA weights) and ``d``. Keys carry a ``module.`` prefix when the model was
trained with DataParallel (the official default), and every conv uses the legacy spectral
norm hook (``<conv>.weight_orig``, ``<conv>.weight_u``, ``<conv>.weight_v``).

The mapping works like StyleGAN2-ADA's ``legacy.py``: an explicit key table from the
official names to ours (identical except for spectral norm, :data:`SPECTRAL_NORM_KEYS`),
built from our modules at the configuration that the tensor shapes imply; source keys the
table does not know and target keys it leaves unfilled are refused by name, as are tensors
of the wrong shape. Optimizer states are not converted (they index the official parameters).

RGB: the official code trains on RGB images, so converted generators produce RGB and
converted discriminators expect RGB.

This module gives the state dicts of our modules; the mmagic checkpoint of the whole
``FastGAN`` model and its config text are assembled by
``tools/model_converters/convert_official_checkpoint.py``.
"""
import pickle
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional

import torch

from fastgan_plugin.utils.validation import format_names

from .sle_generator import SLEGenerator
from .ss_discriminator import SSDiscriminator

__all__ = [
    'SPECTRAL_NORM_KEYS', 'OFFICIAL_SIZES', 'official_key', 'convert_official_state_dict',
    'load_official_checkpoint'
]

# Legacy spectral-norm key suffix (official) -> parametrization key suffix (ours).
SPECTRAL_NORM_KEYS = OrderedDict([
    ('weight_orig', 'parametrizations.weight.original'),
    ('weight_u', 'parametrizations.weight.0._u'),
    ('weight_v', 'parametrizations.weight.0._v'),
])
CHECKPOINT_KEYS = ('g', 'd', 'g_ema', 'opt_g', 'opt_d')
REQUIRED_KEYS = ('g', 'd')
OFFICIAL_SIZES = (256, 512, 1024)
DATA_PARALLEL_PREFIX = 'module.'


def official_key(key: str) -> str:
    """Our state-dict key -> the official one (the key table's only renaming rule).

    Args:
        key (str): A key of our ``state_dict()``, e.g.
            ``'feat_8.1.parametrizations.weight.original'``.

    Returns:
        str: The key of the official state dict (without ``module.``), e.g.
        ``'feat_8.1.weight_orig'``.
    """
    for official_suffix, our_suffix in SPECTRAL_NORM_KEYS.items():
        if key.endswith('.' + our_suffix):
            return key[:-len(our_suffix)] + official_suffix
    return key


def _strip_prefix(state_dict: Mapping[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    return OrderedDict(
        (key[len(DATA_PARALLEL_PREFIX):] if key.startswith(DATA_PARALLEL_PREFIX) else key, value)
        for key, value in state_dict.items())


def _shape_of(state_dict: Mapping[str, torch.Tensor], key: str, what: str) -> torch.Size:
    if key not in state_dict:
        raise ValueError(f'not an official FastGAN checkpoint: {what} has no {key!r}')
    return state_dict[key].shape


def _divide(value: int, divisor: int, what: str) -> int:
    if value % divisor:
        raise ValueError(f'the checkpoint fits no FastGAN configuration: {what} ({value}) is '
                         f'not a multiple of {divisor}')
    return value // divisor


def _infer_meta(g_state: Mapping[str, torch.Tensor],
                d_state: Mapping[str, torch.Tensor]) -> Dict[str, int]:
    """Read im_size, ngf, ndf and nz off the tensor shapes of an official checkpoint."""
    init_shape = _shape_of(g_state, 'init.init.0.weight_orig', "'g'")  # (nz, 32 * ngf, 4, 4)
    if len(init_shape) != 4:
        raise ValueError(f'the checkpoint fits no FastGAN configuration: '
                         f'init.init.0.weight_orig has shape {tuple(init_shape)}')
    sizes = [r for r in OFFICIAL_SIZES if f'feat_{r}.1.weight_orig' in g_state]
    if not sizes:
        raise ValueError("not an official FastGAN checkpoint: 'g' has no feat_256 block")
    g_im_size = max(sizes)

    stem_shape = _shape_of(d_state, 'down_from_big.0.weight_orig', "'d'")
    if 'down_from_big.2.weight_orig' in d_state:
        d_im_size = 1024
    else:
        d_im_size = 512 if stem_shape[-1] == 4 else 256
    if d_im_size != g_im_size:
        raise ValueError(f'the checkpoint fits no FastGAN configuration: its generator is '
                         f'{g_im_size}x{g_im_size} but its discriminator {d_im_size}x{d_im_size}')
    head_shape = _shape_of(d_state, 'rf_big.0.weight_orig', "'d'")  # (16 * ndf, 8 * ndf, 1, 1)
    return dict(
        im_size=g_im_size,
        ngf=_divide(init_shape[1], 32, 'init.init.0.weight_orig.shape[1] = 32 * ngf'),
        ndf=_divide(head_shape[1], 8, 'rf_big.0.weight_orig.shape[1] = 8 * ndf'),
        nz=init_shape[0])


def _map_state_dict(source: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor],
                    what: str) -> 'OrderedDict[str, torch.Tensor]':
    """Map an official state dict onto our keys; refuse unknown, unfilled and misshapen keys."""
    table = OrderedDict((official_key(key), key) for key in target)  # official -> ours
    unknown = [key for key in source if key not in table]
    unfilled = [table_key for table_key in table if table_key not in source]
    if unknown or unfilled:
        raise ValueError(f'{what}: cannot convert the official state dict. Unknown source keys: '
                         f'[{format_names(sorted(unknown))}]; target keys left unfilled '
                         f'(official names): [{format_names(sorted(unfilled))}]')
    converted = OrderedDict()
    misshapen = []
    for source_key, key in table.items():
        tensor = source[source_key]
        if tensor.shape != target[key].shape:
            misshapen.append(f'{source_key} {tuple(tensor.shape)} != {key} '
                             f'{tuple(target[key].shape)}')
        converted[key] = tensor
    if misshapen:
        raise ValueError(f'{what}: tensor shapes do not fit the configuration: '
                         f'[{"; ".join(misshapen)}]')
    return converted


def _apply_ema(generator_state: 'OrderedDict[str, torch.Tensor]', g_ema: List[torch.Tensor],
               parameter_names: List[str],
               g_source: Mapping[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """Replace the generator's parameters, in official parameter order, by the ``g_ema`` list.

    Buffers (BatchNorm statistics, spectral-norm vectors) stay those of ``g``, as in the
    official code, which loads ``g`` and then copies ``g_ema`` into the parameters.
    """
    if not isinstance(g_ema, (list, tuple)) or not all(
            isinstance(t, torch.Tensor) for t in g_ema):
        raise ValueError("not an official FastGAN checkpoint: 'g_ema' must be a list of tensors")
    if len(g_ema) != len(parameter_names):
        raise ValueError(f"'g_ema' holds {len(g_ema)} tensors but the generator has "
                         f'{len(parameter_names)} parameters')
    # g_ema follows G.parameters(); our order equals the official one exactly when the
    # parameters appear in the same order in the official state dict.
    source_position = {key: index for index, key in enumerate(g_source)}
    positions = [source_position[official_key(name)] for name in parameter_names]
    if positions != sorted(positions):
        raise ValueError("cannot place 'g_ema': the generator's parameter order differs from "
                         'the order of the official state dict')
    ema_state = OrderedDict(generator_state)
    misshapen = []
    for name, tensor in zip(parameter_names, g_ema):
        if tensor.shape != ema_state[name].shape:
            misshapen.append(f'{name} {tuple(tensor.shape)} != {tuple(ema_state[name].shape)}')
        ema_state[name] = tensor
    if misshapen:
        raise ValueError(f"'g_ema' tensors do not fit the generator: [{'; '.join(misshapen)}]")
    return ema_state


def convert_official_state_dict(ckpt: Mapping,
                                *,
                                im_size: Optional[int] = None,
                                ngf: Optional[int] = None,
                                ndf: Optional[int] = None,
                                nz: Optional[int] = None) -> dict:
    """Convert a loaded official FastGAN checkpoint to state dicts of our modules.

    Args:
        ckpt (Mapping): The dict the official ``train.py`` saved (``g``, ``d``, optionally
            ``g_ema``, ``opt_g``, ``opt_d``), ``module.`` prefixes allowed.
        im_size (int | None): Resolution (256, 512 or 1024); ``None`` reads it off the keys.
        ngf (int | None): Generator base width; ``None`` reads it off the shapes.
        ndf (int | None): Discriminator base width; ``None`` reads it off the shapes.
        nz (int | None): Noise dimension; ``None`` reads it off the shapes.

    Returns:
        dict: ``generator`` and ``discriminator`` (state dicts for :class:`SLEGenerator` and
        :class:`SSDiscriminator`), ``generator_ema`` when the checkpoint has ``g_ema`` (the
        ``g`` state with its parameters replaced by ``g_ema``; buffers from ``g``), and
        ``meta`` = dict(im_size, ngf, ndf, nz). The tensors are those of ``ckpt`` (not
        copied). Build the modules as ``SLEGenerator(im_size, ngf, nz, out_act=...)`` (the
        official outputs are raw at 256/512, tanh at 1024) and ``SSDiscriminator(im_size,
        ndf)``.

    Raises:
        ValueError: If ``ckpt`` is not an official FastGAN checkpoint, its shapes fit no
            configuration (or not the given overrides), or keys are unknown or missing.
    """
    if not isinstance(ckpt, Mapping) or not all(key in ckpt for key in REQUIRED_KEYS):
        found = list(ckpt.keys())[:10] if isinstance(ckpt, Mapping) else type(ckpt).__name__
        raise ValueError(f"not an official FastGAN checkpoint: expected a dict with 'g' and 'd' "
                         f'(and optionally g_ema, opt_g, opt_d), got {found}')
    unknown = [str(key) for key in ckpt if key not in CHECKPOINT_KEYS]
    if unknown:
        raise ValueError(f'not an official FastGAN checkpoint: unknown top-level keys '
                         f'[{format_names(sorted(unknown))}] (expected {CHECKPOINT_KEYS})')
    for key in REQUIRED_KEYS:
        if not isinstance(ckpt[key], Mapping) or not all(
                isinstance(v, torch.Tensor) for v in ckpt[key].values()):
            raise ValueError(f'not an official FastGAN checkpoint: {key!r} must be a state dict')
    g_source = _strip_prefix(ckpt['g'])
    d_source = _strip_prefix(ckpt['d'])

    meta = _infer_meta(g_source, d_source)
    overrides = dict(im_size=im_size, ngf=ngf, ndf=ndf, nz=nz)
    meta.update({name: value for name, value in overrides.items() if value is not None})
    if meta['im_size'] not in OFFICIAL_SIZES:
        raise ValueError(f'im_size must be one of the official sizes {OFFICIAL_SIZES}, got '
                         f'{meta["im_size"]!r}')

    # Modules on the meta device: keys, shapes and parameter order, no memory.
    with torch.device('meta'):
        generator = SLEGenerator(im_size=meta['im_size'], ngf=meta['ngf'], nz=meta['nz'])
        discriminator = SSDiscriminator(im_size=meta['im_size'], ndf=meta['ndf'])

    converted = dict(
        generator=_map_state_dict(g_source, generator.state_dict(), "generator ('g')"),
        discriminator=_map_state_dict(d_source, discriminator.state_dict(),
                                      "discriminator ('d')"))
    if ckpt.get('g_ema') is not None:
        parameter_names = [name for name, _ in generator.named_parameters()]
        converted['generator_ema'] = _apply_ema(converted['generator'], ckpt['g_ema'],
                                                parameter_names, g_source)
    converted['meta'] = meta
    return converted


def load_official_checkpoint(path: str, **overrides) -> dict:
    """Load an official FastGAN checkpoint file and convert it.

    The file is read with ``torch.load(path, map_location='cpu', weights_only=True)``.

    Args:
        path (str): Path of ``all_N.pth`` or ``N.pth``.
        **overrides: ``im_size``, ``ngf``, ``ndf``, ``nz`` for
            :func:`convert_official_state_dict`.

    Returns:
        dict: See :func:`convert_official_state_dict`.

    Raises:
        ValueError: If the file is not a torch checkpoint, holds objects that
            ``weights_only=True`` refuses, or is refused by
            :func:`convert_official_state_dict`.
    """
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as error:
        raise ValueError(f'{path} is refused by torch.load(weights_only=True), nothing in it '
                         f'was run; official FastGAN checkpoints hold only tensors, dicts and '
                         f'lists. ({error})') from error
    except (RuntimeError, EOFError) as error:  # not a torch.save file, or a truncated one
        raise ValueError(f'{path} is not a readable torch checkpoint: {error}') from error
    return convert_official_state_dict(ckpt, **overrides)
