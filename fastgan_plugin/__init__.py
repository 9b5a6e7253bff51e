"""FastGAN for OpenMMLab mmagic.

Importing this package (for example through a config's
``custom_imports=dict(imports=['fastgan_plugin'], allow_failed_imports=False)``) checks
the MMEngine version, applies the few process-wide patches of :mod:`fastgan_plugin.compat`
(``fastgan_plugin::<config>.py`` paths; runner checkpoints that load with
``torch.load(weights_only=True)``, also from http(s) URLs) and registers every FastGAN
component into mmagic's registries.
"""
from .utils.version_check import check_mmengine_version

check_mmengine_version()  # before patching MMEngine's private code

from . import compat  # noqa: E402

compat.apply()

from . import (  # noqa: E402,F401  (registration)
    datasets,
    engine,
    evaluation,
    models,
    registry,  # the fastgan_plugin scope
)
from .version import __version__  # noqa: E402

__all__ = ['__version__']
