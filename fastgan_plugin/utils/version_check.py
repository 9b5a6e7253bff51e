"""The MMEngine versions whose private code fastgan_plugin patches or overrides.

fastgan_plugin reaches into MMEngine where it has no public hook, all of it listed in
:mod:`fastgan_plugin.compat`:

- config path resolution: ``mmengine.config.config._get_package_and_cfg_path``,
  ``get_installed_path`` and ``mmengine.config.utils.MODULE2PACKAGE``;
- ``HistoryBuffer.__getstate__``, the http(s) checkpoint loader
  ``mmengine.runner.checkpoint.load_from_http`` and ``CheckpointLoader.register_scheme``;
- ``AmpOptimWrapper.__init__``'s module globals (``GradScaler``, ``is_cuda_available``)
  and the runner's ``_resume`` / ``_load_from`` / ``_has_loaded``;
- ``CheckpointHook._save_checkpoint_with_step`` / ``_save_best_checkpoint`` and the
  attributes they use (``keep_ckpt_ids``, ``best_ckpt_path_dict``, ...), overridden by
  ``AtomicCheckpointHook``;
- the optimizer wrappers' accumulation counters (``FastGAN.train_step``, as mmagic's
  ``BaseGAN`` does).

That code is the same, apart from docstrings, in every MMEngine release from 0.10.0 to
0.10.7 (read from the released wheels), the line mmagic 1.2.0 was released with. A later
minor release may rename or rework any of it, so :data:`SUPPORTED` ends before 0.11.
"""
from typing import Optional

from packaging.version import Version

SUPPORTED = ('0.10.0', '0.11.0')  # [lowest, first unsupported)
PIN = f'mmengine>={SUPPORTED[0]},<{SUPPORTED[1]}'


def check_mmengine_version(found: Optional[str] = None) -> None:
    """Refuse an MMEngine outside :data:`SUPPORTED` with a message saying what to do.

    Args:
        found (str, optional): The version to check; defaults to the installed one.

    Raises:
        ImportError: Naming the version found, the supported range and the fix.
    """
    if found is None:
        import mmengine
        found = mmengine.__version__
    # Release numbers only: 0.11.0rc1 is of the 0.11 line, 0.10.8.dev0 of the 0.10 line.
    lowest, end = (Version(v).release for v in SUPPORTED)
    if lowest <= Version(found).release < end:
        return
    raise ImportError(
        f'fastgan_plugin needs {PIN}, but MMEngine {found} is installed. fastgan_plugin '
        'patches private MMEngine code (config paths, checkpoint loading and saving, '
        'HistoryBuffer) that was checked only in that range. Install a supported '
        f'version, e.g. pip install "{PIN}" (tested: mmengine==0.10.7).')
