"""tools/gpu_check.sh without CUDA: it says so, runs nothing and exits 0 (run in CI).

The GPU part itself needs a CUDA machine; there ``bash tools/gpu_check.sh`` is the check.
"""
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_without_cuda_it_says_so_and_exits_0(tmp_path):
    out = tmp_path / 'gpu_check'
    env = dict(os.environ, PYTHON=sys.executable, CUDA_VISIBLE_DEVICES='')  # hides any GPU
    result = subprocess.run(['bash', str(REPO_ROOT / 'tools' / 'gpu_check.sh'), str(out)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'no CUDA device is visible' in result.stdout
    assert 'nothing was run and no report was written' in result.stdout
    assert not out.exists()  # no report, no logs: nothing pretends to have run
