"""FastGAN for OpenMMLab mmagic.

Importing this package (for example through a config's
``custom_imports=dict(imports=['fastgan_plugin'], allow_failed_imports=False)``)
registers every FastGAN component into mmagic's registries, lets MMEngine resolve
``fastgan_plugin::<config>.py`` paths, and allow-lists the types that MMEngine runner
checkpoints contain, so that they load with ``torch.load(weights_only=True)``, also when
MMEngine downloads them from an http(s) URL.
"""
import os

# mmagic imports albumentations, which otherwise asks PyPI for a newer release on import.
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

from .utils.version_check import check_mmengine_version

check_mmengine_version()  # before patching MMEngine's private code

from .utils.checkpoint import (  # noqa: E402
    allow_runner_checkpoint_types,
    use_weights_only_url_loader,
)
from .utils.config import register_config_package  # noqa: E402
from .version import __version__  # noqa: E402

allow_runner_checkpoint_types()
use_weights_only_url_loader()
register_config_package()

from . import (  # noqa: E402,F401  (registration)
    datasets,
    engine,
    evaluation,
    models,
    registry,  # noqa: E402,F401  (the fastgan_plugin scope)
)

__all__ = ['__version__']
