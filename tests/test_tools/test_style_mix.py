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


def test_truncation(tiny_files, tmp_path, load_tool):
    tool = load_tool('style_mix')
    config, checkpoint = tiny_files
    cells = {}
    for psi in ('1', '0'):
        out = tmp_path / f'psi_{psi}.png'
        tool.main([config, checkpoint, '--content-seeds', '1', '2', '--style-seeds', '3',
                   '--truncation', psi, '--out', str(out)])
        with Image.open(out) as grid:
            cells[psi] = [grid.crop((2 + c * CELL, 2 + r * CELL, c * CELL + CELL, r * CELL + CELL))
                          .tobytes() for r, c in ((0, 1), (1, 0), (1, 1), (2, 0), (2, 1))]
    assert len(set(cells['0'])) == 1  # psi 0: every image is the mean image
    assert len(set(cells['1'])) == 5


def test_conditional_model_writes_a_grid_per_class(tiny_conditional_files, tmp_path,
                                                   load_tool):
    config, checkpoint = tiny_conditional_files
    load_tool('style_mix').main([config, checkpoint, '--content-seeds', '1', '--style-seeds',
                                 '2', '--out', str(tmp_path / 'mix.png')])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['mix_cat.png', 'mix_dog.png']
    with Image.open(tmp_path / 'mix_cat.png') as cat, Image.open(tmp_path / 'mix_dog.png') as dog:
        assert cat.size == (2 * 130 + 2, 2 * 130 + 2)  # 128 px cells
        assert cat.tobytes() != dog.tobytes()
