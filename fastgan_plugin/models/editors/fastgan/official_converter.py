"""Convert checkpoints of the official FastGAN-pytorch code to this plugin's modules.

An official checkpoint is a dict written by the official ``train.py``: ``all_N.pth`` holds
``g`` (``Generator.state_dict()``), ``d`` (``Discriminator.state_dict()``), ``g_ema`` (a
list of tensors in ``Generator.parameters()`` order), ``opt_g`` and ``opt_d``; ``N.pth`` holds
``g`` (already the EMA weights) and ``d``. Keys carry a ``module.`` prefix when the model was
trained with DataParallel (the official default), and every conv uses the legacy spectral
norm hook (``<conv>.weight_orig``, ``<conv>.weight_u``, ``<conv>.weight_v``).

The conversion works like StyleGAN2-ADA's ``legacy.py``: an explicit key table from the
official names to ours (identical except for spectral norm, :data:`SPECTRAL_NORM_KEYS`),
built from our modules at the configuration that the tensor shapes imply; source keys the
table does not know and target keys it leaves unfilled are refused by name, as are tensors
of the wrong shape. Optimizer states are not converted (they index the official parameters).

RGB: the official code trains on RGB images, so converted generators produce RGB and
converted discriminators expect RGB.

:func:`convert_official_checkpoint` goes one step further, to what
``tools/convert_official_checkpoint.py`` writes: an mmagic checkpoint of the whole
:class:`~fastgan_plugin.models.editors.fastgan.FastGAN` model (``generator.*``,
``discriminator.*``, ``generator_ema.*``), loadable by MMEngine's ``load_checkpoint``,
``load_from`` and ``init_cfg``, and the text of the matching config.
"""
import os
import pickle
import re
from collections import OrderedDict
from typing import Dict, List, Mapping, Optional, Tuple

import torch

from .sle_generator import SLEGenerator
from .ss_discriminator import SSDiscriminator

__all__ = [
    'SPECTRAL_NORM_KEYS', 'convert_official_state_dict', 'load_official_checkpoint',
    'to_mmagic_checkpoint', 'official_model_config', 'convert_official_checkpoint'
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


def _official_key(target_key: str) -> str:
    """Our state-dict key -> the official one (the table's only renaming rule)."""
    for official_suffix, our_suffix in SPECTRAL_NORM_KEYS.items():
        if target_key.endswith('.' + our_suffix):
            return target_key[:-len(our_suffix)] + official_suffix
    return target_key


def _strip_prefix(state_dict: Mapping[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    return OrderedDict(
        (key[len(DATA_PARALLEL_PREFIX):] if key.startswith(DATA_PARALLEL_PREFIX) else key, value)
        for key, value in state_dict.items())


def _names(keys: List[str]) -> str:
    return ', '.join(sorted(keys))


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
    table = OrderedDict((_official_key(key), key) for key in target)
    unknown = [key for key in source if key not in table]
    unfilled = [table_key for table_key, key in table.items() if table_key not in source]
    if unknown or unfilled:
        raise ValueError(f'{what}: cannot convert the official state dict. Unknown source keys: '
                         f'[{_names(unknown)}]; target keys left unfilled (official names): '
                         f'[{_names(unfilled)}]')
    converted = OrderedDict()
    misshapen = []
    for official_key, key in table.items():
        tensor = source[official_key]
        if tensor.shape != target[key].shape:
            misshapen.append(f'{official_key} {tuple(tensor.shape)} != {key} '
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
    positions = [source_position[_official_key(name)] for name in parameter_names]
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
                         f'[{_names(unknown)}] (expected {CHECKPOINT_KEYS})')
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


# Keys of the EMA generator in the FastGAN state dict: the wrapper (mmengine's
# BaseAveragedModel) holds a ``steps`` buffer (EMA updates so far) and the generator as ``module``.
EMA_PREFIX = 'generator_ema.'
EMA_MODULE_PREFIX = EMA_PREFIX + 'module.'


# Iterations of the official training schedule (train.py's --iter default).
OFFICIAL_ITERATIONS = 50000


def official_iteration(source: Optional[str]) -> int:
    """The iteration an official checkpoint was saved at, read from its name.

    Args:
        source (str, optional): ``all_N.pth`` or ``N.pth`` (any folder), or None.

    Returns:
        int: ``N``; :data:`OFFICIAL_ITERATIONS` when the name does not say.
    """
    found = re.fullmatch(r'(?:all_)?(\d+)\.pth', os.path.basename(source or ''))
    return int(found.group(1)) if found else OFFICIAL_ITERATIONS


def to_mmagic_checkpoint(converted: Mapping, source: Optional[str] = None) -> dict:
    """Turn the output of :func:`convert_official_state_dict` into an mmagic checkpoint.

    The result has the layout of the state dict of the ``FastGAN`` model (mmagic's
    ``BaseGAN`` with an EMA generator): ``generator.*``, ``discriminator.*``,
    ``generator_ema.steps`` and ``generator_ema.module.*``, so MMEngine's
    ``load_checkpoint(model, path, strict=True)``, a config's ``load_from`` and
    ``init_cfg=dict(type='Pretrained', prefix='generator.')`` all read it.

    Which weights go where:

    - ``all_N.pth`` (with ``g_ema``): ``generator`` = ``g`` (the raw, last trained weights),
      ``generator_ema`` = ``g`` with its parameters replaced by ``g_ema`` (BatchNorm
      statistics and spectral-norm vectors from ``g``, as the official code samples).
    - ``N.pth`` (no ``g_ema``): its ``g`` already holds the EMA weights, and the raw
      weights are not in the file; both ``generator`` and ``generator_ema`` get ``g``, so
      sampling with either (``sample_model='ema'`` or ``'orig'``) gives the official
      samples and fine-tuning starts from the EMA weights.

    ``generator_ema.steps`` (the number of EMA updates, which the official code does not
    record) is the iteration ``N`` of an ``all_N.pth`` / ``N.pth`` name (the official loop
    updates its EMA every iteration), else the official schedule's 50,000 iterations. It
    matters when training continues with an EMA ramp-up (``FastGANEMA.rampup``): the ramp
    reads it as the age of the average, so 0 would make the first update replace the
    converted EMA weights by the raw ones.

    Args:
        converted (Mapping): What :func:`convert_official_state_dict` returned.
        source (str, optional): Where the official file came from, recorded in the meta.

    Returns:
        dict: ``state_dict`` (the tensors of ``converted``, not copied) and ``meta`` with
        ``official_fastgan`` = dict(source, im_size, ngf, ndf, nz, generator_ema) where
        ``generator_ema`` names where the EMA weights came from (``'g_ema'`` or ``'g'``).
    """
    has_ema = 'generator_ema' in converted
    ema_state = converted['generator_ema'] if has_ema else converted['generator']
    state_dict = OrderedDict()
    for name, prefix in (('generator', 'generator.'), ('discriminator', 'discriminator.')):
        state_dict.update((prefix + key, value) for key, value in converted[name].items())
    state_dict[EMA_PREFIX + 'steps'] = torch.tensor(official_iteration(source),
                                                    dtype=torch.long)
    state_dict.update((EMA_MODULE_PREFIX + key, value) for key, value in ema_state.items())
    meta = dict(
        official_fastgan=dict(
            source=source, **converted['meta'], generator_ema='g_ema' if has_ema else 'g'))
    return dict(state_dict=state_dict, meta=meta)


OFFICIAL_CONFIG_TEMPLATE = """\
# FastGAN converted from an official FastGAN-pytorch checkpoint by
# tools/convert_official_checkpoint.py (see docs/model_zoo.md).
{header}# The generator works in RGB, as the official weights were trained.
_base_ = 'fastgan_plugin::_base_/models/fastgan_{im_size}.py'

model = dict(
    generator=dict(
        im_size={im_size},
        ngf={ngf},
        nz={nz},
        {out_act}),
    discriminator=dict(im_size={im_size}, ndf={ndf}))
"""
# The output activation line of the config: the official generator applies tanh only at 1024.
TANH_OUT_ACT = "# The official generator applies tanh at 1024.\n        out_act='tanh'"
RAW_OUT_ACT = ('# The official generator returns raw (unbounded) images at {im_size}: None\n'
               '        # reproduces its outputs; tanh would change them.\n'
               '        out_act=None')


def official_model_config(meta: Mapping, checkpoint: Optional[str] = None,
                          source: Optional[str] = None) -> str:
    """The text of a model config that fits a converted official checkpoint.

    It inherits ``fastgan_plugin::_base_/models/fastgan_<im_size>.py`` and sets im_size,
    ngf, ndf, nz and the output activation: ``out_act=None`` at 256 and 512, where the
    official generator returns raw values, and ``'tanh'`` at 1024, where it applies tanh.
    It holds only ``model``, so it serves :func:`~fastgan_plugin.apis.init_model` and the
    tools as it is, and is the model base of an experiment config (with a dataset and the
    runtime base beside it, and ``load_from`` set to the checkpoint).

    Args:
        meta (Mapping): ``im_size``, ``ngf``, ``ndf``, ``nz`` (the ``meta`` of
            :func:`convert_official_state_dict`).
        checkpoint (str, optional): The converted checkpoint, named in a comment.
        source (str, optional): The official file, named in a comment.

    Returns:
        str: Python config text.
    """
    im_size = meta['im_size']
    header = [f'# Official file: {source}'] if source is not None else []
    header += [f'# Checkpoint: {checkpoint}'] if checkpoint is not None else []
    return OFFICIAL_CONFIG_TEMPLATE.format(
        header=''.join(line + '\n' for line in header),
        im_size=im_size,
        ngf=meta['ngf'],
        ndf=meta['ndf'],
        nz=meta['nz'],
        out_act=(TANH_OUT_ACT if im_size == 1024 else RAW_OUT_ACT).format(im_size=im_size))


def convert_official_checkpoint(path: str,
                                checkpoint_out: Optional[str] = None,
                                **overrides) -> Tuple[dict, str]:
    """Load an official FastGAN checkpoint; return the mmagic checkpoint and its config.

    Args:
        path (str): ``all_N.pth`` or ``N.pth`` of the official code (``module.`` prefixes
            allowed), read with ``weights_only=True``.
        checkpoint_out (str, optional): Where the caller saves the checkpoint, named in the
            config's comments.
        **overrides: ``im_size``, ``ngf``, ``ndf``, ``nz`` instead of the values read off the
            tensor shapes.

    Returns:
        tuple[dict, str]: The checkpoint (:func:`to_mmagic_checkpoint`) and the config text
        (:func:`official_model_config`).

    Raises:
        ValueError: If the file is not an official FastGAN checkpoint, holds objects other
            than tensors and containers, or its shapes fit no configuration.
    """
    source = os.path.basename(os.fspath(path))
    converted = load_official_checkpoint(path, **overrides)
    config = official_model_config(converted['meta'], checkpoint_out, source)
    return to_mmagic_checkpoint(converted, source), config
