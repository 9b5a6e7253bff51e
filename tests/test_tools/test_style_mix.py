"""tools/style_mix.py: a grid with style images on top and content images on the left."""
from PIL import Image

CELL = 256 + 2  # image and padding


def test_grid_deterministic(tiny_files, tmp_path, load_tool):
    tool = load_tool('style_mix')
    config, checkpoint = tiny_files
    for name in ('first.png', 'second.png'):
        tool.main([config, checkpoint, '--content-seeds', '1', '2', '--style-seeds', '3', '4',
                   '5', '--gates', '64', '128', '--out', str(tmp_path / name)])
    with Image.open(tmp_path / 'first.png') as grid:
        assert grid.size == (4 * CELL + 2, 3 * CELL + 2)  # 1 + 3 styles wide, 1 + 2 contents high
        corner = grid.getpixel((2 + 128, 2 + 128))
    assert corner == (255, 255, 255)  # the blank top-left cell
    assert (tmp_path / 'first.png').read_bytes() == (tmp_path / 'second.png').read_bytes()


def test_unknown_gate_is_refused(tiny_files, tmp_path, load_tool):
    config, checkpoint = tiny_files
    try:
        load_tool('style_mix').main([config, checkpoint, '--gates', '512', '--out',
                                     str(tmp_path / 'x.png')])
    except ValueError as error:
        assert 'choose from [64, 128, 256]' in str(error)
    else:
        raise AssertionError('a 512 gate on a 256 generator was accepted')
    assert not (tmp_path / 'x.png').exists()
