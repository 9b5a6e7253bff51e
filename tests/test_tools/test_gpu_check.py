"""tools/gpu_check.sh and tools/gpu/ without a GPU: the skip message, argument errors, the
bundle's pins and the numpy 2 fix of mmagic (all cheap; run in CI).

The GPU part itself needs a CUDA machine, and the offline dry run (a bundle installed with
--no-index, mmcv compiled) takes many minutes: docs/benchmarks.md, "GPU rows: how they are
produced", gives both commands and the dry run's measured times.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import mmagic
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
GPU_CHECK = REPO_ROOT / 'tools' / 'gpu_check.sh'
GPU_TOOLS = REPO_ROOT / 'tools' / 'gpu'
PIN = re.compile(r'^([A-Za-z0-9_.-]+)==([0-9][A-Za-z0-9_.+-]*)$')
# Packages the GPU machine's image has in a version that works: carrying another copy would
# shadow the image's builds (numpy 2.x: its scipy and pandas need it).
IMAGE_PACKAGES = {'torch', 'torchvision', 'triton', 'numpy', 'scipy', 'pandas', 'pillow',
                  'opencv-python', 'opencv-python-headless', 'matplotlib', 'pyyaml'}


def run(args, tmp_path, timeout=300, **env):
    env = dict(os.environ, PYTHON=sys.executable, CUDA_VISIBLE_DEVICES='', **env)  # no GPU
    env.pop('OUT', None)
    return subprocess.run(['bash', *map(str, args)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout)


def pins():
    lines = (GPU_TOOLS / 'bundle_requirements.txt').read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith('#')]


def normalise(name):
    return re.sub(r'[-_.]+', '-', name).lower()


def test_without_cuda_the_import_check_runs_and_the_cuda_part_is_skipped(tmp_path):
    out = tmp_path / 'gpu_check'
    result = run([GPU_CHECK, '--out', out], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'import check: passed' in result.stdout
    assert 'CUDA part SKIPPED: torch sees no CUDA device' in result.stdout
    report = (out / 'report.md').read_text()
    assert '| import check | passed |' in report
    assert 'mmagic registered' in report and 'CUDA part SKIPPED' in report
    # nothing pretends to have run: no benchmark, no grids; only the report and the logs
    assert sorted(p.name for p in out.iterdir()) == ['logs.tar.gz', 'report.md']


@pytest.mark.parametrize('args, message', [
    (['--frobnicate'], "unknown argument '--frobnicate'"),
    (['--bundle'], 'usage: gpu_check.sh'),
    (['--budget', 'soon'], '--budget must be a number of seconds'),
    (['--bundle', 'no_such_folder'], 'no_such_folder is not a bundle'),
])
def test_argument_errors_exit_2_before_anything_runs(tmp_path, args, message):
    result = run([GPU_CHECK, *args, '--out', tmp_path / 'out'], tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / 'out').exists()


def fake_bundle(folder, python_version):
    folder.mkdir()
    (folder / 'PYTHON_VERSION').write_text(python_version + '\n')
    (folder / 'MANIFEST.txt').write_text('')
    return folder


def test_a_bundle_for_another_python_is_refused(tmp_path):
    bundle = fake_bundle(tmp_path / 'bundle', '3.99')
    result = run([GPU_CHECK, '--bundle', bundle, '--out', tmp_path / 'out'], tmp_path)
    assert result.returncode == 2
    assert 'was made for Python 3.99' in result.stderr
    assert '--python-version' in result.stderr


def test_a_bundle_that_does_not_install_stops_the_check_with_a_report(tmp_path):
    version = f'{sys.version_info[0]}.{sys.version_info[1]}'
    bundle = fake_bundle(tmp_path / 'bundle', version)  # no wheels in it
    out = tmp_path / 'out'
    result = run([GPU_CHECK, '--bundle', bundle, '--out', out], tmp_path,
                 PIP_NO_INDEX='1')
    assert result.returncode != 0
    assert 'STOPPED: the bundle did not install' in result.stdout
    report = (out / 'report.md').read_text()
    assert '| install the bundle (pip --no-index) | FAILED' in report
    assert 'import check' not in report  # nothing after it ran


def test_the_bundle_pins_exact_versions_once_and_leaves_the_image_its_packages():
    names = []
    for line in pins():
        match = PIN.match(line)
        assert match, f'{line!r} is not NAME==VERSION'
        names.append(normalise(match.group(1)))
    assert len(names) == len(set(names)), 'a package is pinned twice'
    assert {'mmcv', 'mmengine', 'mmagic', 'lpips'} <= set(names)
    assert not IMAGE_PACKAGES & set(names)


def test_the_bundle_pins_agree_with_the_versions_verified_on_cpu():
    verified = {}
    for name in ('runtime.txt', 'mmagic.txt'):
        for line in (REPO_ROOT / 'requirements' / name).read_text().splitlines():
            match = PIN.match(line.strip())
            if match:
                verified[normalise(match.group(1))] = match.group(2)
    for line in pins():
        name, version = PIN.match(line).groups()
        if normalise(name) in verified:
            assert verified[normalise(name)] == version, name


@pytest.mark.parametrize('args, message', [
    (['--python-version', '312'], '--python-version must look like 3.12'),
    (['--out'], 'usage: make_offline_bundle.sh'),
    (['--nope'], "unknown argument '--nope'"),
])
def test_make_offline_bundle_argument_errors(tmp_path, args, message):
    result = run([GPU_TOOLS / 'make_offline_bundle.sh', *args], tmp_path)
    assert result.returncode == 2
    assert message in result.stderr


def test_build_mmcv_needs_a_source_archive(tmp_path):
    result = run([REPO_ROOT / 'tools' / 'env' / 'build_mmcv.sh',
                  tmp_path / 'mmcv-2.1.0.tar.gz', tmp_path],
                 tmp_path)
    assert result.returncode == 2
    assert 'no source archive at' in result.stderr


def copy_of_mmagic_trans_utils(site):
    source = Path(mmagic.__file__).parent / 'utils' / 'trans_utils.py'
    target = site / 'mmagic' / 'utils' / 'trans_utils.py'
    target.parent.mkdir(parents=True)
    target.write_text(source.read_text())
    return source.read_text(), target


def fix(site):
    return subprocess.run([sys.executable, str(GPU_TOOLS / 'fix_mmagic_for_numpy2.py'),
                           str(site)], capture_output=True, text=True, timeout=60)


def test_the_numpy2_fix_removes_only_the_bool8_line_of_mmagic(tmp_path):
    original, target = copy_of_mmagic_trans_utils(tmp_path)
    assert 'np.bool8' in original  # mmagic 1.2.0 as installed here
    result = fix(tmp_path)
    assert result.returncode == 0, result.stderr
    fixed = target.read_text()
    assert 'np.bool8' not in fixed
    assert fixed == original.replace('    np.bool8: (False, True),\n', '')
    # a second run, or any other file, is refused and left as it is
    again = fix(tmp_path)
    assert again.returncode == 1
    assert "is not mmagic 1.2.0's file" in again.stderr
    assert target.read_text() == fixed


def test_the_numpy2_fix_names_a_missing_mmagic(tmp_path):
    result = fix(tmp_path)
    assert result.returncode == 1
    assert 'trans_utils.py' in result.stderr
