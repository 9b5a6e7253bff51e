"""Shared pytest fixtures, and the report of the tests that need the official fixtures.

The official-format fixtures (checkpoints of the official FastGAN-pytorch models, with inputs
and outputs to reproduce, and a recorded training trajectory) live outside the repository:
in ``../shared/fixtures/official`` beside the checkout (developers' machines and CI), or in
the folder ``FASTGAN_FIXTURES`` names. Every test that needs them requests
:func:`official_fixture_dir` and is marked ``official_fixtures`` (``-m official_fixtures``
selects them). Without the files those tests do not run, and the terminal summary names
each of them, why, and how to get them; with ``FASTGAN_REQUIRE_FIXTURES=1`` (``.ci/run``
sets it) they fail instead, so CI cannot pass without them.
"""
import os
import sys
from pathlib import Path

# The tools run by the tests use the same threads in every run (bit-exact comparisons between
# runs), not --threads auto's idle cores of the moment: an explicit setting wins over auto.
os.environ.setdefault('OMP_NUM_THREADS', str(len(os.sched_getaffinity(0))))

import pytest  # noqa: E402
import torch  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
# the tools' shared helpers (tools/tool_utils) and the test doubles (tests/helpers) import
# as top-level packages in every test
sys.path[:0] = [str(REPO_ROOT / 'tools'), str(REPO_ROOT / 'tests')]
FIXTURES_ENV = 'FASTGAN_FIXTURES'
REQUIRE_FIXTURES_ENV = 'FASTGAN_REQUIRE_FIXTURES'
OFFICIAL_MARKER = 'official_fixtures'
OFFICIAL_FIXTURE_FILES = (
    'fastgan_official_256_ngf8.pth',
    'fastgan_official_256_ngf8_io.pt',
    'fastgan_official_256_ngf8_trajectory.pt',
    'fastgan_official_1024_ngf8.pth',
    'fastgan_official_1024_ngf8_io.pt',
)
HOW_TO_GET_FIXTURES = (
    f'set {FIXTURES_ENV} to a folder of the official-format fixtures (fastgan_official_*_ngf8*, '
    'made from the official FastGAN-pytorch models; their README describes them), or put that '
    'folder at ../shared/fixtures/official beside the checkout')


def official_fixture_path() -> Path:
    """Where the official fixtures are looked for: ``$FASTGAN_FIXTURES`` or the default."""
    default = REPO_ROOT.parent / 'shared' / 'fixtures' / 'official'
    return Path(os.environ.get(FIXTURES_ENV) or default)


def fixtures_required() -> bool:
    """Whether missing official fixtures fail the tests (``FASTGAN_REQUIRE_FIXTURES=1``)."""
    return os.environ.get(REQUIRE_FIXTURES_ENV, '0') not in ('', '0')


def pytest_configure(config):
    config.addinivalue_line(
        'markers', f'{OFFICIAL_MARKER}: needs the official-format fixtures ({FIXTURES_ENV}); '
        'reported as not run without them, failed with FASTGAN_REQUIRE_FIXTURES=1')


def pytest_collection_modifyitems(items):
    for item in items:
        if 'official_fixture_dir' in getattr(item, 'fixturenames', ()):
            item.add_marker(OFFICIAL_MARKER)


@pytest.fixture(scope='session')
def official_fixture_dir() -> Path:
    """The folder of the official fixtures; without every file, skip (or fail if required)."""
    path = official_fixture_path()
    missing = [name for name in OFFICIAL_FIXTURE_FILES if not (path / name).is_file()]
    if missing:
        message = (f'official FastGAN fixtures not found in {path} (missing: '
                   f'{", ".join(missing)}): {HOW_TO_GET_FIXTURES}')
        if fixtures_required():
            pytest.fail(f'{REQUIRE_FIXTURES_ENV} is set and {message}', pytrace=False)
        pytest.skip(message)
    return path


def pytest_terminal_summary(terminalreporter):
    """A section of its own, naming every official-fixture test that did not run."""
    not_run = [report for report in terminalreporter.stats.get('skipped', [])
               if OFFICIAL_MARKER in report.keywords]
    if not not_run:
        return
    write = terminalreporter.write_line
    terminalreporter.section('official-parity tests NOT RUN', sep='!', red=True, bold=True)
    count = f'{len(not_run)} test' + ('s' if len(not_run) > 1 else '')
    write(f'{count} against the official FastGAN code did not run: no fixtures in '
          f'{official_fixture_path()}.', red=True, bold=True)
    write(f'To run them, {HOW_TO_GET_FIXTURES}. {REQUIRE_FIXTURES_ENV}=1 (as in .ci/run) '
          'makes missing fixtures fail.', red=True)
    for report in not_run:
        write(f'NOT RUN {report.nodeid}', red=True)


def _settle_batch_norm(generator: torch.nn.Module, noise_size: int) -> None:
    """Give BatchNorm the statistics of a training batch (a fresh network's running
    statistics, mean 0 and variance 1, let eval-mode activations saturate, and then tiny
    rounding differences between batch sizes flip pixels)."""
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average: after one batch, that batch's statistics
    generator.train()
    classes = getattr(generator, 'num_classes', None)  # a conditional G: every class in turn
    generator(torch.randn(16, noise_size),
              **({} if classes is None else dict(labels=torch.arange(16) % classes)))
    generator.eval()
    for norm in norms:
        norm.momentum = 0.1


def make_trained_like(model: torch.nn.Module) -> None:
    """Make a fresh tiny FastGAN behave like a trained one, in place: BatchNorm statistics
    of real batches, non-zero noise-injection weights (so samples depend on the injection
    noise) and EMA weights that differ from the raw ones."""
    from fastgan_plugin.models.editors.fastgan.modules import NoiseInjection

    torch.manual_seed(0)
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, NoiseInjection):
                layer.weight.fill_(0.5)
        for parameter in model.generator_ema.parameters():
            parameter.add_(0.01 * torch.randn_like(parameter))
        for generator in (model.generator, model.generator_ema.module):
            _settle_batch_norm(generator, model.noise_size)


@pytest.fixture(scope='session')
def trained_like():
    """:func:`make_trained_like`, for the fixtures that build tiny models."""
    return make_trained_like
