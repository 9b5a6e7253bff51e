"""tools/project.py: per image the projection beside its target, the latent file, the
progress strip and the interpolation to a sample, all consistent with one another."""
import numpy as np
import pytest
import torch
from PIL import Image

from fastgan_plugin.apis import init_model, load_image_folder, sample_images, select_generator
from fastgan_plugin.apis.projection import replaced_features
from tool_utils.demo_data import make_demo_images

CELL = 256 + 2  # image and padding


def cell(path, index: int) -> np.ndarray:
    """Image ``index`` (0-based, row by row) of a one-row grid."""
    with Image.open(path) as grid:
        return np.asarray(grid.convert('RGB'))[2:2 + 256, 2 + index * CELL:index * CELL + CELL]


@pytest.mark.parametrize('space', ['z', 'feat8'])
def test_outputs(tiny_files, tmp_path, load_tool, monkeypatch, capsys, space):
    config, checkpoint = tiny_files
    images = make_demo_images(str(tmp_path / 'data'), 2, size=300)
    out = tmp_path / 'out'
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'no_weights'))
    load_tool('project').main([config, checkpoint, *map(str, images), '--out', str(out),
                               '--steps', '6', '--frame-every', '3', '--mix-seed', '7',
                               '--mix-steps', '4', '--candidates', '4', '--space', space])
    stdout = capsys.readouterr().out
    assert ('distance: multi-scale pixel MSE (16 px and up) only: LPIPS needs the VGG16 '
            f'weights at {tmp_path}/no_weights/hub/checkpoints/vgg16-397923af.pth') in stdout
    model = init_model(config, checkpoint)
    targets = load_image_folder(str(tmp_path / 'data'), 256)[0]
    for image, target in zip(images, targets):
        name = out / image.stem
        assert f'{image}: objective' in stdout
        with Image.open(f'{name}_projection.png') as pair:
            assert pair.size == (2 * CELL + 2, CELL + 2)
        expected = ((target + 1) * 127.5).round().permute(1, 2, 0).byte().numpy()
        np.testing.assert_array_equal(cell(f'{name}_projection.png', 0), expected)
        with Image.open(f'{name}_progress.png') as progress:
            assert progress.size == (3 * CELL + 2, CELL + 2)  # steps 0, 3 and 6
        np.testing.assert_array_equal(cell(f'{name}_progress.png', 2),
                                      cell(f'{name}_projection.png', 1))
        saved = torch.load(f'{name}.pt', weights_only=True)
        assert len(saved['losses']) == 7 and saved['losses'][-1] < saved['losses'][0]
        assert saved['space'] == space and len(saved['features']) == (space == 'feat8') * 2
        generator = select_generator(model)
        with torch.no_grad(), replaced_features(generator, space,
                                                [f[None] for f in saved['features']]):
            again = generator(saved['latent'][None], injection_noise=saved['injection_noise'])
        pixels = ((again[0].clamp(-1, 1) + 1) * 127.5).round().permute(1, 2, 0).byte().numpy()
        assert np.abs(pixels.astype(int) - cell(f'{name}_projection.png', 1)).max() <= 1
        # the interpolation starts at the projection and ends at the sample of --mix-seed
        assert np.abs(cell(f'{name}_interpolation.png', 0).astype(int)
                      - cell(f'{name}_projection.png', 1)).max() <= 1
        sample = sample_images(model, [7], as_pil=True)[0]
        assert np.abs(cell(f'{name}_interpolation.png', 3).astype(int)
                      - np.asarray(sample).astype(int)).max() <= 1


def test_bad_input_is_refused_early(tiny_files, tmp_path, load_tool, run_tool):
    config, checkpoint = tiny_files
    missing = run_tool('project', config, checkpoint, tmp_path / 'nothing.png', '--out', tmp_path)
    assert missing.returncode == 1
    assert f"image '{tmp_path / 'nothing.png'}' does not exist" in missing.stderr
    images = [str(make_demo_images(str(tmp_path / folder), 1)[0]) for folder in 'ab']
    with pytest.raises(ValueError, match='share a file name'):
        load_tool('project').main([config, checkpoint, *images, '--out', str(tmp_path / 'out')])
    assert not (tmp_path / 'out').exists()
