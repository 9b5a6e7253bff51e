"""Reading a config for our tools: overrides, ``--data-root``, the work dir, mixed precision,
as mmagic's ``tools/train.py`` does (plain ``Config.fromfile`` + ``Runner.from_cfg`` need none)."""
import os
import warnings
from typing import Optional

from mmengine.config import Config

from ..datasets.few_shot_image_dataset import find_image_files
from ..engine.optimizers.mixed_precision_optim_wrapper import AMP_DTYPES
from ..utils.config_check import DATALOADERS, config_file, find_syntax_error
from ..utils.validation import check_choice


def set_data_root(cfg: Config, data_root: str) -> None:
    """``--data-root``: set ``dataset.data_root`` of every dataloader and the config's
    ``data_root`` variable, in place, after checking that the folder holds images.

    Raises:
        FileNotFoundError, NotADirectoryError, ValueError: If ``data_root`` is not a
            folder of images; the message names it.
    """
    train = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    find_image_files(os.path.expanduser(data_root), train.get('recursive', False),
                     **{k: train[k] for k in ('extensions', 'case_sensitive') if k in train})
    cfg.data_root = data_root
    for key in DATALOADERS:
        if isinstance((cfg.get(key) or {}).get('dataset'), dict):
            cfg[key].dataset.data_root = data_root


def warn_if_data_roots_differ(cfg: Config) -> None:
    """Warn when the dataloaders read different folders: FID and KID would then compare
    the generator with other images than it trains on (intended for a held-out set)."""
    folders = {key: cfg[key].dataset.get('data_root') for key in DATALOADERS
               if isinstance((cfg.get(key) or {}).get('dataset'), dict)}
    if len(set(map(str, folders.values()))) > 1:
        warnings.warn(
            'The dataloaders read different folders: ' + ', '.join(
                f'{key}.dataset.data_root={folder!r}' for key, folder in folders.items()) +
            '; FID and KID then compare the generator with other images than it trains on. '
            'Set the three keys to one folder (or use --data-root) unless that is intended.',
            stacklevel=2)


def load_config(path: str, cfg_options: Optional[dict] = None, work_dir: Optional[str] = None,
                data_root: Optional[str] = None) -> Config:
    """``Config.fromfile(path)`` with the tools' options applied.

    Args:
        path (str): Config file, or ``fastgan_plugin::fastgan/<name>.py``.
        cfg_options (dict, optional): ``--cfg-options``, merged into the config.
        work_dir (str, optional): ``--work-dir``; else the config's, else
            ``./work_dirs/<config name>`` (as mmagic's tools).
        data_root (str, optional): ``--data-root``, see :func:`set_data_root`.

    Raises:
        SyntaxError: Naming the config file (or base) and line of a syntax error.
        ValueError: If ``cfg_options`` names a key the config cannot take.
    """
    try:
        cfg = Config.fromfile(config_file(path))
    except SyntaxError as error:  # MMEngine names neither the file nor, for bases, the line
        raise (find_syntax_error(path) or error) from None
    if cfg_options:
        try:
            cfg.merge_from_dict(cfg_options)
        except (KeyError, TypeError) as error:
            raise ValueError(f'--cfg-options: {error}') from error
    if data_root is not None:
        set_data_root(cfg, data_root)
    warn_if_data_roots_differ(cfg)
    if work_dir:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        name = path.rpartition('::')[-1].rsplit('/', 1)[-1].rsplit('.', 1)[0]
        cfg.work_dir = f'./work_dirs/{name}'
    return cfg


AMP_WRAPPABLE = ('OptimWrapper', 'AmpOptimWrapper', 'MixedPrecisionOptimWrapper')


def enable_amp(cfg: Config, dtype: str = 'auto') -> None:
    """Make every optimizer wrapper of ``cfg`` (FastGAN's are per network and untyped, which
    mmagic's ``--amp`` skips) a ``MixedPrecisionOptimWrapper`` autocasting in ``dtype``
    (see :func:`~fastgan_plugin.engine.optimizers.mixed_precision_optim_wrapper.resolve_amp_dtype`).
    """
    check_choice(dtype, 'AMP dtype', AMP_DTYPES)
    wrappers = cfg.optim_wrapper
    per_network = {k: v for k, v in wrappers.items() if isinstance(v, dict) and 'optimizer' in v}
    for wrapper in per_network.values() or [wrappers]:
        if wrapper.get('type', 'OptimWrapper') not in AMP_WRAPPABLE:
            raise ValueError(f'--amp needs one of {AMP_WRAPPABLE}, got {wrapper.type}')
        wrapper.update(type='MixedPrecisionOptimWrapper', dtype=dtype, loss_scale='auto')
