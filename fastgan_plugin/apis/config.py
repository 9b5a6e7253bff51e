"""Reading a FastGAN config: overrides, the data folder, the work dir and mixed precision.

Shared by the command-line tools and :func:`~fastgan_plugin.apis.init_model`.
"""
import os
import warnings
from typing import Optional

from mmengine.config import Config

from ..datasets.few_shot_image_dataset import find_image_files
from ..engine.optimizers.mixed_precision_optim_wrapper import AMP_DTYPES
from ..utils.validation import check_choice

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


def apply_image_size(cfg: Config) -> None:
    """Resize the images to the generator's resolution, in place.

    The FastGAN dataset base (``configs/_base_/datasets/few_shot_imgs.py``) serves every
    resolution: its ``ResizeToSquare`` steps leave ``size`` out, and here each such step of
    the train / val / test pipelines takes ``model.generator.im_size``, so a config names
    its resolution once, in the model. (As with ``data_root``: MMEngine substitutes a
    variable where a file uses it, so a size set by a child config could not reach the
    pipelines written in the base.) A step that names its own ``size`` keeps it; the model
    then refuses images of the wrong size before training.

    Raises:
        ValueError: If a step needs the size and the config has no
            ``model.generator.im_size``.
    """
    size = ((cfg.get('model') or {}).get('generator') or {}).get('im_size')
    for key in DATALOADERS:
        dataset = (cfg.get(key) or {}).get('dataset')
        steps = dataset.get('pipeline') if isinstance(dataset, dict) else None
        for step in steps or []:
            kind = str(step.get('type', '')).rpartition('.')[-1] if isinstance(step, dict) else ''
            if kind != 'ResizeToSquare' or step.get('size') is not None:
                continue
            if size is None:
                raise ValueError(
                    f'{key}.dataset.pipeline: ResizeToSquare has no size and the config has '
                    'no model.generator.im_size to take it from; set one of them')
            step['size'] = size


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                data_root: Optional[str] = None) -> Config:
    """Read a config, apply ``--cfg-options``, the data folder and image size, and
    choose the work dir.

    The data folder is applied by :func:`apply_data_root` (``data_root``: ``--data-root``),
    the image size by :func:`apply_image_size`.
    The work dir is, in this order: ``work_dir``, the config's ``work_dir``,
    ``./work_dirs/<config name>`` (the OpenMMLab convention).
    """
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    apply_data_root(cfg, data_root)
    apply_image_size(cfg)
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
    check_choice(dtype, 'AMP dtype', AMP_DTYPES)
    wrappers = cfg.optim_wrapper
    per_network = {k: v for k, v in wrappers.items() if isinstance(v, dict) and 'optimizer' in v}
    for wrapper in per_network.values() or [wrappers]:
        if wrapper.get('type', 'OptimWrapper') not in AMP_WRAPPABLE:
            raise ValueError(f'--amp needs one of {AMP_WRAPPABLE}, got {wrapper.type}')
        wrapper.update(type='MixedPrecisionOptimWrapper', dtype=dtype, loss_scale='auto')
