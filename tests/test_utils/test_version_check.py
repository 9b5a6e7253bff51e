"""The MMEngine version check that runs when fastgan_plugin is imported: a warning, not an
error, outside the verified 0.10 line."""
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from fastgan_plugin.utils.version_check import PIN, REQUIRED, check_mmengine_version

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize('version', ['0.10.0', '0.10.3', '0.10.7', '0.10.8.dev0'])
def test_verified_versions_pass_silently(version):
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert check_mmengine_version(version)


@pytest.mark.parametrize('version, outside_requirement', [
    ('0.11.0', False), ('0.11.0rc1', False), ('0.12.3', False), ('0.9.1', True), ('1.0.0', True)])
def test_other_versions_warn_saying_what_is_verified(version, outside_requirement):
    with pytest.warns(UserWarning) as record:
        assert not check_mmengine_version(version)
    message = str(record[0].message)
    assert message.startswith(f'fastgan_plugin is verified with MMEngine 0.10.x, but {version} '
                              'is installed')
    assert (f'outside its requirement {PIN}' in message) == outside_requirement
    assert 'pip install "mmengine>=0.10.0,<0.11.0"' in message


def test_the_installed_version_passes():
    assert check_mmengine_version()


def test_import_warns_and_works_outside_the_verified_line():
    """A real import, with MMEngine reporting a version it was not verified with."""
    code = ('import mmengine; mmengine.__version__ = "0.11.0"; import fastgan_plugin; '
            'print("imported")')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'UserWarning: fastgan_plugin is verified with MMEngine 0.10.x, but 0.11.0' in (
        result.stderr)
    assert result.stdout.strip() == 'imported'


def test_setup_py_declares_the_required_range():
    setup = (REPO_ROOT / 'setup.py').read_text()
    assert re.findall(r"'(mmengine[^']*)'", setup) == [PIN]
    assert PIN == f'mmengine>={REQUIRED[0]},<{REQUIRED[1]}' == 'mmengine>=0.10.0,<1.0.0'
