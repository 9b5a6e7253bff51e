"""Map checkpoints of the official FastGAN-pytorch code onto this plugin's modules.

The official ``train.py`` writes ``all_N.pth`` (``g``, ``d``: state dicts; ``g_ema``: tensors
in ``Generator.parameters()`` order; ``opt_g``, ``opt_d``) and ``N.pth`` (``g``: already the
EMA weights, ``d``); keys may carry DataParallel's ``module.``. As StyleGAN2-ADA's
``legacy.py``: an explicit key table, official -> ours (equal but for spectral norm), built
from our modules at the configuration the shapes imply; unknown, unfilled and misshapen keys
are refused by name. Optimizer states are not converted; networks stay RGB.
"""
import pickle
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional

import torch

from fastgan_plugin.utils.validation import format_names

from .sle_generator import SLEGenerator
from .ss_discriminator import SSDiscriminator

# Legacy spectral-norm key suffix (official) -> parametrization key suffix (ours).
SPECTRAL_NORM_KEYS = {'weight_orig': 'parametrizations.weight.original',
                      'weight_u': 'parametrizations.weight.0._u',
                      'weight_v': 'parametrizations.weight.0._v'}
CHECKPOINT_KEYS = ('g', 'd', 'g_ema', 'opt_g', 'opt_d')
REQUIRED_KEYS = ('g', 'd')
OFFICIAL_SIZES = (256, 512, 1024)


def official_key(key: str) -> str:
    """Our state-dict key -> the official one (``'x.parametrizations.weight.original'`` ->
    ``'x.weight_orig'``)."""
    for official_suffix, our_suffix in SPECTRAL_NORM_KEYS.items():
        if key.endswith('.' + our_suffix):
            return key[:-len(our_suffix)] + official_suffix
    return key


def _shape_of(state_dict: Mapping[str, torch.Tensor], key: str, what: str) -> torch.Size:
    if key not in state_dict:
        raise ValueError(f'not an official FastGAN checkpoint: {what} has no {key!r}')
    return state_dict[key].shape


def _divide(value: int, divisor: int, what: str) -> int:
    if value % divisor:
        raise ValueError(f'the checkpoint fits no FastGAN configuration: {what} ({value}) is '
                         f'not a multiple of {divisor}')
    return value // divisor


def _infer_meta(g_state: Mapping, d_state: Mapping) -> Dict[str, int]:
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
    d_im_size = (1024 if 'down_from_big.2.weight_orig' in d_state else
                 512 if stem_shape[-1] == 4 else 256)
    if d_im_size != g_im_size:
        raise ValueError(f'the checkpoint fits no FastGAN configuration: its generator is '
                         f'{g_im_size}x{g_im_size} but its discriminator {d_im_size}x{d_im_size}')
    head_shape = _shape_of(d_state, 'rf_big.0.weight_orig', "'d'")  # (16 * ndf, 8 * ndf, 1, 1)
    return dict(im_size=g_im_size,
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
    converted = OrderedDict((key, source[source_key]) for source_key, key in table.items())
    _check_shapes(converted, target, f'{what}: tensor shapes do not fit the configuration',
                  names={key: f'{source_key} ' for source_key, key in table.items()})
    return converted


def _check_shapes(tensors: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor],
                  message: str, names: Optional[Mapping[str, str]] = None) -> None:
    """Refuse ``tensors`` whose shapes differ from those of ``expected`` (same keys), listing
    them after ``message`` (each led by ``names[key]`` where given)."""
    misshapen = [f'{(names or {}).get(key, "")}{tuple(tensor.shape)} != {key} '
                 f'{tuple(expected[key].shape)}'
                 for key, tensor in tensors.items() if tensor.shape != expected[key].shape]
    if misshapen:
        raise ValueError(f'{message}: [{"; ".join(misshapen)}]')


def _apply_ema(generator_state: 'OrderedDict[str, torch.Tensor]', g_ema: List[torch.Tensor],
               parameter_names: List[str], g_source: Mapping[str, torch.Tensor]) -> OrderedDict:
    """The generator's parameters replaced, in official order, by the ``g_ema`` list; buffers
    stay those of ``g`` (the official code loads ``g``, then copies ``g_ema`` in)."""
    if not isinstance(g_ema, (list, tuple)) or not all(torch.is_tensor(t) for t in g_ema):
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
    ema = OrderedDict(zip(parameter_names, g_ema))
    _check_shapes(ema, generator_state, "'g_ema' tensors do not fit the generator")
    return OrderedDict(generator_state, **ema)


def convert_official_state_dict(ckpt: Mapping, *, im_size: Optional[int] = None,
                                ngf: Optional[int] = None, ndf: Optional[int] = None,
                                nz: Optional[int] = None) -> dict:
    """Convert a loaded official checkpoint (``ckpt``) to state dicts of our modules;
    ``im_size``, ``ngf``, ``ndf``, ``nz`` override what the shapes imply.

    Returns:
        dict: ``generator``, ``discriminator`` (state dicts of :class:`SLEGenerator` and
        :class:`SSDiscriminator`, sharing ``ckpt``'s tensors), ``generator_ema`` when there is
        ``g_ema``, ``meta`` = dict(im_size, ngf, ndf, nz). The official outputs are raw at
        256/512 and tanh at 1024 (``out_act``).

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
        if not isinstance(ckpt[key], Mapping) or not all(map(torch.is_tensor, ckpt[key].values())):
            raise ValueError(f'not an official FastGAN checkpoint: {key!r} must be a state dict')
    g_source, d_source = (OrderedDict((key.removeprefix('module.'), value)
                                      for key, value in ckpt[net].items()) for net in ('g', 'd'))
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
        converted['generator_ema'] = _apply_ema(converted['generator'], ckpt['g_ema'],
                                                [name for name, _ in generator.named_parameters()],
                                                g_source)
    return dict(converted, meta=meta)


def load_official_checkpoint(path: str, **overrides) -> dict:
    """:func:`convert_official_state_dict` of the file ``path`` (``all_N.pth`` or ``N.pth``),
    read with ``torch.load(weights_only=True)``; ``ValueError`` if it is not a torch checkpoint
    or holds objects that ``weights_only=True`` refuses."""
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as error:
        raise ValueError(f'{path} is refused by torch.load(weights_only=True), nothing in it '
                         f'was run; official FastGAN checkpoints hold only tensors, dicts and '
                         f'lists. ({error})') from error
    except (RuntimeError, EOFError) as error:  # not a torch.save file, or a truncated one
        raise ValueError(f'{path} is not a readable torch checkpoint: {error}') from error
    return convert_official_state_dict(ckpt, **overrides)
