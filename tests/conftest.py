"""Shared pytest fixtures.

The official-format checkpoints live outside the repository, in ``../shared/fixtures/official``
(beside the checkout, as on developers' machines and in CI); ``FASTGAN_FIXTURES`` overrides
the location. A missing folder fails the tests that need it instead of skipping them.
"""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='session')
def official_fixture_dir() -> Path:
    default = REPO_ROOT.parent / 'shared' / 'fixtures' / 'official'
    path = Path(os.environ.get('FASTGAN_FIXTURES', default))
    if not (path / 'fastgan_official_256_ngf8.pth').is_file():
        pytest.fail(f'official FastGAN fixtures not found in {path}: set FASTGAN_FIXTURES to '
                    'the folder holding fastgan_official_*_ngf8.pth')
    return path
