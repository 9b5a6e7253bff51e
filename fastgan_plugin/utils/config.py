"""Config helpers shared by the command-line tools and the Python API."""
import os
from typing import Optional

from mmengine.config import Config
from mmengine.config import config as mmengine_config
from mmengine.config import utils as mmengine_config_utils

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


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None) -> Config:
    """Read a config, apply ``--cfg-options`` and choose the work dir.

    The work dir is, in this order: ``work_dir``, the config's ``work_dir``,
    ``./work_dirs/<config name>`` (the OpenMMLab convention).
    """
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        name = path.rpartition('::')[-1].rsplit('/', 1)[-1].rsplit('.', 1)[0]
        cfg.work_dir = f'./work_dirs/{name}'
    return cfg


AMP_DTYPES = ('float16', 'bfloat16')
# Optimizer wrapper types that enable_amp may replace.
AMP_WRAPPABLE = ('OptimWrapper', 'AmpOptimWrapper', 'MixedPrecisionOptimWrapper')


def enable_amp(cfg: Config, dtype: str = 'float16') -> None:
    """Switch every optimizer wrapper of ``cfg`` to mixed precision.

    FastGAN configs hold one wrapper per network (``optim_wrapper.generator``,
    ``optim_wrapper.discriminator``) without a ``type``; mmagic's own ``--amp`` skips
    those and so trains in fp32. Here each becomes a ``MixedPrecisionOptimWrapper``, which
    autocasts on CUDA and on the CPU (bfloat16 only there), with dynamic loss scaling for
    float16 and none for bfloat16.
    """
    if dtype not in AMP_DTYPES:
        raise ValueError(f'AMP dtype must be one of {AMP_DTYPES}, got {dtype!r}')
    wrappers = cfg.optim_wrapper
    per_network = {k: v for k, v in wrappers.items() if isinstance(v, dict) and 'optimizer' in v}
    for wrapper in per_network.values() or [wrappers]:
        if wrapper.get('type', 'OptimWrapper') not in AMP_WRAPPABLE:
            raise ValueError(f'--amp needs one of {AMP_WRAPPABLE}, got {wrapper.type}')
        wrapper.update(type='MixedPrecisionOptimWrapper', dtype=dtype,
                       loss_scale='dynamic' if dtype == 'float16' else None)
