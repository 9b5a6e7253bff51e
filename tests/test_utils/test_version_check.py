"""The MMEngine version check that runs when fastgan_plugin is imported."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fastgan_plugin.utils.version_check import PIN, SUPPORTED, check_mmengine_version

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize('version', ['0.10.0', '0.10.3', '0.10.7'])
def test_supported_versions_pass(version):
    check_mmengine_version(version)


@pytest.mark.parametrize('version', ['0.9.1', '0.8.5', '0.11.0', '0.11.0rc1', '1.0.0'])
def test_other_versions_are_refused_with_what_to_do(version):
    with pytest.raises(ImportError) as error:
        check_mmengine_version(version)
    message = str(error.value)
    assert f'MMEngine {version} is installed' in message
    assert 'mmengine>=0.10.0,<0.11.0' in message
    assert f'pip install "{PIN}"' in message


def test_the_installed_version_passes():
    check_mmengine_version()


def test_import_fails_early_outside_the_range():
    """A real import, with MMEngine reporting an unsupported version."""
    code = ('import mmengine; mmengine.__version__ = "0.11.0"; import fastgan_plugin')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            cwd=REPO_ROOT, timeout=300)
    assert result.returncode != 0
    assert ('ImportError: fastgan_plugin needs mmengine>=0.10.0,<0.11.0, but MMEngine 0.11.0 '
            'is installed') in result.stderr


def test_setup_py_declares_the_same_range():
    setup = (REPO_ROOT / 'setup.py').read_text()
    assert re.findall(r"'(mmengine[^']*)'", setup) == [PIN]
    assert PIN == f'mmengine>={SUPPORTED[0]},<{SUPPORTED[1]}'
