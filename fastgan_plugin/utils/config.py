"""Config helpers shared by the command-line tools and the Python API."""
import os
import warnings
from typing import Optional

from mmengine.config import Config
from mmengine.config import config as mmengine_config
from mmengine.config import utils as mmengine_config_utils

from ..datasets.few_shot_image_dataset import find_image_files
from ..engine.optimizers.mixed_precision_optim_wrapper import AMP_DTYPES

PACKAGE = 'fastgan_plugin'


def register_config_package() -> None:
    """Let MMEngine resolve ``fastgan_plugin::<config>.py`` paths.

    MMEngine 0.10 only accepts ``package::`` paths of the OpenMMLab packages it lists,
    and only with a sub-folder (``pkg::folder/file.py``). This adds ``fastgan_plugin``
    to that list and accepts its top-level configs; every other path is resolved by
    MMEngine unchanged. Configs then come from ``fastgan_plugin/.mim/configs``, which
    ``setup.py`` fills, in the folder Python imports ``fastgan_plugin`` from (MMEngine alone
    would look in site-packages, which has no package folder under an editable install).
    """
    mmengine_config_utils.MODULE2PACKAGE.setdefault(PACKAGE, PACKAGE)
    resolve = mmengine_config._get_package_and_cfg_path
    if getattr(resolve, 'accepts_fastgan_plugin', False):
        return

    def get_package_and_cfg_path(cfg_path: str):
        package, sep, relative = cfg_path.partition('::')
        if sep and package == PACKAGE and relative:
            return PACKAGE, relative
        return resolve(cfg_path)

    get_package_and_cfg_path.accepts_fastgan_plugin = True
    mmengine_config._get_package_and_cfg_path = get_package_and_cfg_path

    # MMEngine looks for the package beside its distribution metadata (site-packages), where
    # an editable install (pip install -e, PEP 660) has no package folder: answer with the
    # folder Python imports fastgan_plugin from.
    installed_path = mmengine_config.get_installed_path

    def get_installed_path(package: str) -> str:
        if package == PACKAGE:
            return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        return installed_path(package)

    mmengine_config.get_installed_path = get_installed_path


DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _image_datasets(cfg: Config) -> dict:
    """``{dataloader key: its dataset config}`` for every ``FewShotImageDataset`` loader."""
    found = {}
    for key in DATALOADERS:
        dataset = (cfg.get(key) or {}).get('dataset')
        if not isinstance(dataset, dict):
            continue
        type_name = str(dataset.get('type', '')).rpartition('.')[-1]  # drops a scope prefix
        if type_name == 'FewShotImageDataset':
            found[key] = dataset
    return found


def apply_data_root(cfg: Config, data_root: Optional[str] = None) -> None:
    """Point the dataloaders of ``cfg`` at its image folder, in place.

    FastGAN configs name the folder once, as the top-level ``data_root``: their
    dataloaders (train, and val / test for FID and KID against the training images) leave
    ``dataset.data_root`` out. MMEngine substitutes a variable where a config file uses it,
    so a child config that sets ``data_root`` could not reach dicts written in its bases;
    instead, each ``FewShotImageDataset`` loader without ``data_root`` takes the config's
    here. A loader that names its own folder (in a config or with ``--cfg-options``) keeps
    it, e.g. a held-out validation set.

    Args:
        cfg (Config): The config, ``--cfg-options`` already merged.
        data_root (str, optional): ``--data-root``: the folder for every dataloader
            (train, val and test, whatever they name) and the config's ``data_root``. It
            must exist and hold image files, else an error naming it is raised now.

    Raises:
        FileNotFoundError, NotADirectoryError, ValueError: If ``data_root`` is given and
            is not a folder of images.
    """
    if data_root is not None:
        train = _image_datasets(cfg).get('train_dataloader', {})
        find_image_files(os.path.expanduser(data_root), train.get('recursive', False),
                         **{k: train[k] for k in ('extensions', 'case_sensitive') if k in train})
        cfg.data_root = data_root
        for key in DATALOADERS:
            if isinstance((cfg.get(key) or {}).get('dataset'), dict):
                cfg[key].dataset.data_root = data_root
        return
    for dataset in _image_datasets(cfg).values():
        if 'data_root' not in dataset and cfg.get('data_root') is not None:
            dataset.data_root = cfg.data_root
    folders = {key: dataset.get('data_root') for key, dataset in _image_datasets(cfg).items()}
    if len(set(map(str, folders.values()))) > 1:
        warnings.warn(
            'The dataloaders read different folders: ' + ', '.join(
                f'{key}.dataset.data_root={folder!r}' for key, folder in folders.items()) +
            '; FID and KID then compare the generator with other images than it trains on. '
            "Set the folder once with --data-root or the config's data_root (and no "
            '<loader>.dataset.data_root) unless that is intended.', stacklevel=2)


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                data_root: Optional[str] = None) -> Config:
    """Read a config, apply ``--cfg-options``, the data folder, and choose the work dir.

    The data folder is applied by :func:`apply_data_root` (``data_root``: ``--data-root``).
    The work dir is, in this order: ``work_dir``, the config's ``work_dir``,
    ``./work_dirs/<config name>`` (the OpenMMLab convention).
    """
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    apply_data_root(cfg, data_root)
    if work_dir:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        name = path.rpartition('::')[-1].rsplit('/', 1)[-1].rsplit('.', 1)[0]
        cfg.work_dir = f'./work_dirs/{name}'
    return cfg


# Optimizer wrapper types that enable_amp may replace.
AMP_WRAPPABLE = ('OptimWrapper', 'AmpOptimWrapper', 'MixedPrecisionOptimWrapper')


def enable_amp(cfg: Config, dtype: str = 'auto') -> None:
    """Switch every optimizer wrapper of ``cfg`` to mixed precision.

    FastGAN configs hold one wrapper per network (``optim_wrapper.generator``,
    ``optim_wrapper.discriminator``) without a ``type``; mmagic's own ``--amp`` skips
    those and so trains in fp32. Here each becomes a ``MixedPrecisionOptimWrapper``, which
    autocasts on CUDA and on the CPU in ``dtype``: ``'auto'`` (default) is bfloat16 where
    the hardware has it natively, float16 on older GPUs, float32 (with a warning) on CPUs
    without AVX512-BF16 or AMX; float16 is dynamically loss-scaled (see
    :func:`~fastgan_plugin.engine.optimizers.mixed_precision_optim_wrapper.resolve_amp_dtype`).
    """
    if dtype not in AMP_DTYPES:
        raise ValueError(f'AMP dtype must be one of {AMP_DTYPES}, got {dtype!r}')
    wrappers = cfg.optim_wrapper
    per_network = {k: v for k, v in wrappers.items() if isinstance(v, dict) and 'optimizer' in v}
    for wrapper in per_network.values() or [wrappers]:
        if wrapper.get('type', 'OptimWrapper') not in AMP_WRAPPABLE:
            raise ValueError(f'--amp needs one of {AMP_WRAPPABLE}, got {wrapper.type}')
        wrapper.update(type='MixedPrecisionOptimWrapper', dtype=dtype, loss_scale='auto')
