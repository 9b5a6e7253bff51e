"""Without the official fixtures the tests that need them are reported as not run, loudly,
and the rest passes; with ``FASTGAN_REQUIRE_FIXTURES=1`` (CI) they fail.

Each case runs a tiny pytest session in a fresh process, in a folder laid out like a clone
(``tests/conftest.py`` = this suite's conftest, one test that needs the fixtures and one that
does not) with nothing beside it, so there is no ``../shared``.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parent / 'conftest.py'


def _load_conftest():
    """This suite's tests/conftest.py as a module of its own name: ``import conftest`` would
    find whichever of the suite's conftest modules was imported first."""
    spec = importlib.util.spec_from_file_location('fastgan_tests_conftest', CONFTEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


suite_conftest = _load_conftest()
FIXTURES_ENV = suite_conftest.FIXTURES_ENV
REQUIRE_FIXTURES_ENV = suite_conftest.REQUIRE_FIXTURES_ENV
OFFICIAL_FIXTURE_FILES = suite_conftest.OFFICIAL_FIXTURE_FILES
TINY_TESTS = """
def test_needs_the_fixtures(official_fixture_dir):
    assert (official_fixture_dir / 'fastgan_official_256_ngf8.pth').is_file()


def test_plain():
    pass
"""
NEEDS = 'tests/test_tiny.py::test_needs_the_fixtures'


def run_session(tmp_path: Path, fixtures=None, require=False, *args: str):
    """Run the tiny session; ``fixtures`` is what FASTGAN_FIXTURES is set to (None: unset)."""
    clone = tmp_path / 'clone'
    (clone / 'tests').mkdir(parents=True, exist_ok=True)
    (clone / 'tests' / 'conftest.py').write_text(CONFTEST.read_text())
    (clone / 'tests' / 'test_tiny.py').write_text(TINY_TESTS)
    env = {k: v for k, v in os.environ.items()
           if k not in (FIXTURES_ENV, REQUIRE_FIXTURES_ENV, 'PYTEST_ADDOPTS')}
    env['OMP_NUM_THREADS'] = '1'
    if fixtures is not None:
        env[FIXTURES_ENV] = str(fixtures)
    if require:
        env[REQUIRE_FIXTURES_ENV] = '1'
    result = subprocess.run(
        [sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '-ra', *args, 'tests'],
        cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    return result.returncode, result.stdout + result.stderr


def fixture_folder(tmp_path: Path, files) -> Path:
    folder = tmp_path / 'fixtures'
    folder.mkdir()
    for name in files:
        (folder / name).write_bytes(b'')
    return folder


@pytest.mark.parametrize('where', ['default', 'empty_folder'])
def test_missing_fixtures_are_reported_as_not_run(tmp_path, where):
    fixtures = fixture_folder(tmp_path, []) if where == 'empty_folder' else None
    code, out = run_session(tmp_path, fixtures)
    assert code == 0, out
    assert '1 passed, 1 skipped' in out
    assert 'official-parity tests NOT RUN' in out
    assert f'NOT RUN {NEEDS}' in out  # which test
    expected_folder = fixtures or tmp_path / 'shared' / 'fixtures' / 'official'
    assert f'no fixtures in {expected_folder}' in out  # why
    assert 'To run them, set FASTGAN_FIXTURES to a folder of the official-format fixtures' in out


def test_required_fixtures_fail_when_missing(tmp_path):
    code, out = run_session(tmp_path, fixture_folder(tmp_path, []), True)
    assert code == 1, out
    assert '1 passed, 1 error' in out
    assert 'FASTGAN_REQUIRE_FIXTURES is set and official FastGAN fixtures not found' in out
    assert 'NOT RUN' not in out


def test_a_partial_folder_names_the_missing_files(tmp_path):
    code, out = run_session(tmp_path, fixture_folder(tmp_path, OFFICIAL_FIXTURE_FILES[:-1]))
    assert code == 0, out
    assert f'(missing: {OFFICIAL_FIXTURE_FILES[-1]})' in out


def test_present_fixtures_run_also_when_required(tmp_path):
    code, out = run_session(tmp_path, fixture_folder(tmp_path, OFFICIAL_FIXTURE_FILES), True)
    assert code == 0, out
    assert '2 passed' in out and 'NOT RUN' not in out


def test_marker_selects_the_tests_that_need_fixtures(tmp_path):
    code, out = run_session(tmp_path, None, False, '-m', 'official_fixtures')
    assert code == 0, out
    assert '1 skipped, 1 deselected' in out
