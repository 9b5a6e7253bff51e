"""FastGAN for OpenMMLab mmagic.

Importing this package (for example through a config's
``custom_imports=dict(imports=['fastgan_plugin'], allow_failed_imports=False)``) registers
every FastGAN component into mmagic's registries, and the package into MMEngine's
``MODULE2PACKAGE`` so that ``_base_ = 'fastgan_plugin::fastgan/<config>.py'`` resolves;
it warns if MMEngine is not a verified version.
"""
import os

# albumentations, which mmagic imports, asks pypi.org for a newer release on every import
# (up to 2 s offline, and a warning) unless this is set; a value of the user's own wins.
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

from mmengine.config.utils import MODULE2PACKAGE  # noqa: E402

from .utils.version_check import check_mmengine_version  # noqa: E402

check_mmengine_version()
MODULE2PACKAGE.setdefault('fastgan_plugin', 'fastgan_plugin')  # module -> pip package

from . import (  # noqa: E402,F401  (registration)
    datasets,
    engine,
    evaluation,
    models,
    registry,  # the fastgan_plugin scope
    visualization,
)
from .version import __version__  # noqa: E402

__all__ = ['__version__']
