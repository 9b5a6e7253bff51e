"""Convert an official FastGAN-pytorch checkpoint to an mmagic checkpoint and its config.

    python tools/model_converters/convert_official_checkpoint.py IN OUT [--config-out PATH]
        [--im-size S --ngf N --ndf N --nz N]

Examples:
    python tools/model_converters/convert_official_checkpoint.py \\
        train_results/art/models/all_50000.pth checkpoints/fastgan_official_art.pth \\
        --config-out checkpoints/fastgan_official_art.py
    python tools/model_converters/convert_official_checkpoint.py 50000.pth \\
        checkpoints/art_ema.pth > art.py

IN is ``all_N.pth`` (g, d, g_ema, opt_g, opt_d) or ``N.pth`` (g = EMA weights, d), with or
without DataParallel's ``module.`` prefixes, read with ``torch.load(weights_only=True)``.
im_size, ngf, ndf and nz are read off the tensor shapes unless given. OUT is an mmagic
checkpoint of the FastGAN model (generator, discriminator, generator_ema; no optimizer
state) for ``load_from``, ``init_cfg`` or ``fastgan_plugin.apis.init_model``. The matching
config is printed, or written to ``--config-out``. A file that is not an official FastGAN
checkpoint is refused with a message and exit status 1. See docs/model_zoo.md.

The key table and the state-dict mapping are
:mod:`fastgan_plugin.models.editors.fastgan.official_converter`; this tool assembles their
output into the checkpoint of the whole ``FastGAN`` model (:func:`to_mmagic_checkpoint`)
and writes the config text (:func:`official_model_config`).
"""
import argparse
import os
import re
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Mapping, Optional, Tuple

import torch

from fastgan_plugin.models.editors.fastgan.official_converter import (
    OFFICIAL_SIZES,
    load_official_checkpoint,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/, for tool_utils
from tool_utils.cli import positive_int, run  # noqa: E402

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
    """Turn converted official state dicts into an mmagic checkpoint of the FastGAN model.

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
        converted (Mapping): What ``load_official_checkpoint`` or
            ``convert_official_state_dict`` returned: ``generator``, ``discriminator``,
            optionally ``generator_ema`` (state dicts) and ``meta``.
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
# tools/model_converters/convert_official_checkpoint.py (see docs/model_zoo.md).
{header}# The generator works in RGB, as the official weights were trained.
_base_ = {base!r}

model = dict(
    generator=dict(
        im_size={im_size!r},
        ngf={ngf!r},
        nz={nz!r},
        {out_act}),
    discriminator=dict(im_size={im_size!r}, ndf={ndf!r}))
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
    runtime base beside it, and ``load_from`` set to the checkpoint). Numbers are written as
    ``int``, names with ``repr()``: a file name with a newline or quotes stays one comment
    line and is never code.

    Args:
        meta (Mapping): ``im_size``, ``ngf``, ``ndf``, ``nz`` (the ``meta`` of
            ``convert_official_state_dict``).
        checkpoint (str, optional): The converted checkpoint, named in a comment.
        source (str, optional): The official file, named in a comment.

    Returns:
        str: Python config text.
    """
    im_size, ngf, ndf, nz = (int(meta[key]) for key in ('im_size', 'ngf', 'ndf', 'nz'))
    header = [f'# Official file: {source!r}\n'] if source is not None else []
    header += [f'# Checkpoint: {checkpoint!r}\n'] if checkpoint is not None else []
    return OFFICIAL_CONFIG_TEMPLATE.format(
        header=''.join(header), base=f'fastgan_plugin::_base_/models/fastgan_{im_size}.py',
        im_size=im_size, ngf=ngf, ndf=ndf, nz=nz,
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


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an official FastGAN-pytorch checkpoint for fastgan_plugin')
    parser.add_argument('checkpoint', metavar='IN', help='official all_N.pth or N.pth')
    parser.add_argument('out', metavar='OUT', help='mmagic checkpoint to write (.pth)')
    parser.add_argument('--config-out', metavar='PATH',
                        help='write the matching config to PATH instead of printing it')
    parser.add_argument('--im-size', type=int, choices=OFFICIAL_SIZES,
                        help='resolution (default: read off the weights)')
    parser.add_argument('--ngf', type=positive_int,
                        help='generator base width (default: read off the weights)')
    parser.add_argument('--ndf', type=positive_int,
                        help='discriminator base width (default: read off the weights)')
    parser.add_argument('--nz', type=positive_int,
                        help='noise dimension (default: read off the weights)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    checkpoint, config = convert_official_checkpoint(
        args.checkpoint, args.out, im_size=args.im_size, ngf=args.ngf, ndf=args.ndf,
        nz=args.nz)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save(checkpoint, args.out)
    meta = checkpoint['meta']['official_fastgan']
    sizes = ', '.join(f'{key}={meta[key]}' for key in ('im_size', 'ngf', 'ndf', 'nz'))
    print(f'wrote {args.out} ({sizes}; generator_ema from {meta["generator_ema"]!r})',
          file=sys.stderr)
    if args.config_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.config_out)), exist_ok=True)
        with open(args.config_out, 'w') as f:
            f.write(config)
        print(f'wrote {args.config_out}', file=sys.stderr)
    else:
        print(config, end='')


if __name__ == '__main__':
    run(main)
