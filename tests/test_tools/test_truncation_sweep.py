"""tools/analysis_tools/truncation_sweep.py: SWD and diversity of samples against psi."""
import importlib.util
import re
from pathlib import Path

import pytest
import torch

from fastgan_plugin.apis import load_image_folder
from tool_utils.demo_data import make_demo_images

SCRIPT = Path(__file__).resolve().parents[2] / 'tools' / 'analysis_tools' / 'truncation_sweep.py'


@pytest.fixture(scope='module')
def sweep_tool():
    spec = importlib.util.spec_from_file_location('tool_truncation_sweep', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_swd_is_low_between_like_images(sweep_tool, tmp_path):
    make_demo_images(str(tmp_path), 8, size=64)
    scenes = load_image_folder(str(tmp_path), 64)[0]
    # the same images: only the randomly drawn patches differ (measured 54); noise: 281
    same = sweep_tool.sliced_wasserstein_distance(scenes.flip(0), scenes)
    noise = sweep_tool.sliced_wasserstein_distance(torch.rand_like(scenes) * 2 - 1, scenes)
    assert 0 < same < noise / 3, (same, noise)


def test_table_of_a_tiny_model(sweep_tool, tiny_files, tmp_path, capsys):
    make_demo_images(str(tmp_path), 6, size=256)
    config, checkpoint = tiny_files
    sweep_tool.main([config, checkpoint, '--data', str(tmp_path), '--psis', '1', '0.5', '0',
                     '--repeats', '2'])
    out = capsys.readouterr().out
    assert f'6 training images in {tmp_path}; 2 sets of 6 ema samples per psi' in out
    rows = re.findall(r'^\| ([\d.]+) \| ([\d.]+) \+- ([\d.]+) \| ([\d.]+) \+- ([\d.]+) \|$', out,
                      re.MULTILINE)
    assert [row[0] for row in rows] == ['1', '0.5', '0']
    diversity = [float(row[3]) for row in rows]
    assert diversity[0] > diversity[1] > diversity[2] == 0  # psi 0: every seed the same image
    assert all(float(row[1]) > 0 for row in rows)


def test_missing_data_is_refused(sweep_tool, tiny_files, tmp_path):
    with pytest.raises(FileNotFoundError, match='pass --data DIR'):
        sweep_tool.main([*tiny_files, '--data', str(tmp_path / 'nothing')])
