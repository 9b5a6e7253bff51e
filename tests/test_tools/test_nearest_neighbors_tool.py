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


def test_conditional_model_by_class(tiny_conditional_files, tmp_path, load_tool):
    config, checkpoint = tiny_conditional_files
    data = tmp_path / 'train'
    # Each class folder holds the class's sample of seed 0 and a noise image: the dog
    # sample of seed 0 is a copy of the dog training image, the cat one of the cat image.
    model = init_model(config, checkpoint)
    rng = np.random.default_rng(0)
    for name in ('cat', 'dog'):
        (data / name).mkdir(parents=True)
        sample_images(model, [0], as_pil=True, classes=name)[0].save(data / name / 'copy.png')
        Image.fromarray((rng.random((128, 128, 3)) * 255).astype(np.uint8)).save(
            data / name / 'noise.png')
    load_tool('nearest_neighbors').main([config, checkpoint, '--data', str(data), '--num', '2',
                                         '--k', '1', '--classes', 'dog', 'cat', '--out',
                                         str(tmp_path / 'out'), '--cell-size', '32'])
    report = json.loads((tmp_path / 'out' / 'nearest_neighbors.json').read_text())
    assert [(s['class'], s['seed']) for s in report['samples']] == [
        ('dog', 0), ('dog', 1), ('cat', 0), ('cat', 1)]
    assert report['samples'][0]['neighbors'] == ['dog/copy.png']
    assert report['samples'][2]['neighbors'] == ['cat/copy.png']
    assert report['samples'][0]['distances'][0] < 0.01  # rounded to 8 bits
    assert set(report['class_scores']) == {'cat', 'dog'}
    for name in ('cat', 'dog'):
        with Image.open(tmp_path / 'out' / f'nearest_neighbors_{name}.png') as grid:
            assert grid.size == (2 * 34 + 2, 2 * 34 + 2)  # sample + 1 neighbour, 2 seeds
