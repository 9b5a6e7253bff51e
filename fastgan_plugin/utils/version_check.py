"""The MMEngine versions fastgan_plugin is verified with.

setup.py requires :data:`PIN`: mmagic 1.2.0's MMEngine range from 0.10 on. The test suite
ran on the 0.10 line (:data:`VERIFIED`, released with mmagic 1.2.0; 0.10.7 tested), and
the few MMEngine internals fastgan_plugin touches (docs/design.md) are the same across it.
Another version gets a warning on import, not an error: most of it will work.
"""
import warnings
from typing import Optional

from packaging.version import Version

REQUIRED = ('0.10.0', '1.0.0')  # [lowest, first excluded), as setup.py requires
VERIFIED = ('0.10.0', '0.11.0')
PIN = f'mmengine>={REQUIRED[0]},<{REQUIRED[1]}'


def check_mmengine_version(found: Optional[str] = None) -> bool:
    """Warn if MMEngine is not a :data:`VERIFIED` version, saying which are.

    Args:
        found (str, optional): The version to check; defaults to the installed one.

    Returns:
        bool: Whether ``found`` is verified.
    """
    if found is None:
        import mmengine
        found = mmengine.__version__
    # Release numbers only: 0.11.0rc1 is of the 0.11 line, 0.10.8.dev0 of the 0.10 line.
    lowest, end = (Version(v).release for v in VERIFIED)
    if lowest <= Version(found).release < end:
        return True
    required = Version(REQUIRED[0]).release <= Version(found).release < Version(
        REQUIRED[1]).release
    warnings.warn(
        f'fastgan_plugin is verified with MMEngine 0.10.x, but {found} is installed'
        + ('' if required else f', outside its requirement {PIN}') + '; if something '
        'fails, install a verified version: pip install "mmengine>=0.10.0,<0.11.0" '
        '(tested: mmengine==0.10.7).', stacklevel=2)
    return False
