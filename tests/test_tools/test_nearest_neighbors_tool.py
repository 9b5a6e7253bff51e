"""tools/nearest_neighbors.py: grid, JSON report, memorisation score (the file name differs
from tests/test_apis/test_nearest_neighbors.py: test modules need unique names)."""
import json

import numpy as np
import pytest
from PIL import Image

from fastgan_plugin.apis import init_model, sample_images


def test_finds_a_copied_sample(tiny_files, tmp_path, load_tool, capsys):
    config, checkpoint = tiny_files
    data = tmp_path / 'train'
    data.mkdir()
    # Two pairs of near-duplicates (one grey level apart): the training images' nearest-
    # neighbour distances, and so the threshold, are tiny.
    rng = np.random.default_rng(0)
    for index in range(2):
        pixels = (rng.random((256, 256, 3)) * 254).astype(np.uint8)
        Image.fromarray(pixels).save(data / f'real_{index}.png')
        Image.fromarray(pixels + 1).save(data / f'real_{index}_again.png')
    # And the sample of seed 1: that sample is memorised, the others are not.
    copied = sample_images(init_model(config, checkpoint), [1], as_pil=True)[0]
    copied.save(data / 'copy_of_seed_1.png')

    tool = load_tool('nearest_neighbors')
    args = [config, checkpoint, '--data', str(data), '--num', '3', '--k', '2', '--size', '16',
            '--quantile', '0.5', '--cell-size', '32']
    for name in ('first', 'second'):
        tool.main(args + ['--out', str(tmp_path / name)])
    assert 'memorisation score (pixel, quantile 0.5): 0.333 (1 of 3 samples' in \
        capsys.readouterr().out

    report = json.loads((tmp_path / 'first' / 'nearest_neighbors.json').read_text())
    assert report['memorisation_score'] == pytest.approx(1 / 3)
    assert report['threshold'] > 0
    seed_1 = report['samples'][1]
    assert seed_1['seed'] == 1 and seed_1['memorised']
    assert seed_1['neighbors'][0] == 'copy_of_seed_1.png'
    assert seed_1['distances'][0] < 1e-3  # the copy is rounded to 8 bits
    assert [len(sample['neighbors']) for sample in report['samples']] == [2, 2, 2]
    with Image.open(tmp_path / 'first' / 'nearest_neighbors.png') as grid:
        assert grid.size == (3 * 34 + 2, 3 * 34 + 2)  # k + 1 columns, one row per sample
    for name in ('nearest_neighbors.png', 'nearest_neighbors.json'):
        assert (tmp_path / 'first' / name).read_bytes() == (tmp_path / 'second' / name).read_bytes()
