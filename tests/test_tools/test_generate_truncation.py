"""``--truncation`` of tools/generate.py."""
import numpy as np
import pytest
from PIL import Image

from fastgan_plugin.apis import init_model, sample_images


def test_truncation_writes_the_truncated_samples(tiny_files, load_tool, tmp_path):
    config, checkpoint = tiny_files
    for psi in ('0', '0.5'):
        load_tool('generate').main([config, checkpoint, '--num', '3', '--truncation', psi,
                                    '--out', str(tmp_path / psi)])
    pixels = [np.asarray(Image.open(tmp_path / '0' / f'seed_{seed:06d}.png')) for seed in range(3)]
    assert all(np.array_equal(pixels[0], other) for other in pixels[1:])  # psi 0: one image
    expected = sample_images(init_model(config, checkpoint), [1], truncation=0.5, as_pil=True)[0]
    written = np.asarray(Image.open(tmp_path / '0.5' / 'seed_000001.png'), dtype=int)
    assert np.abs(written - np.asarray(expected, dtype=int)).max() <= 1


@pytest.mark.parametrize('psi', ['1.5', '-0.2', 'nan', 'x'])
def test_truncation_outside_zero_one_is_a_usage_error(tiny_files, load_tool, psi, capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_tool('generate').parse_args([*tiny_files, '--truncation', psi])
    assert exit_info.value.code == 2 and '--truncation' in capsys.readouterr().err
