"""tools/generate.py: one PNG per seed, the same bytes for the same seeds."""
from PIL import Image


def _files(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_writes_one_image_per_seed_deterministically(tiny_files, tmp_path, load_tool):
    tool = load_tool('generate')
    config, checkpoint = tiny_files
    for name in ('first', 'second'):
        tool.main([config, checkpoint, '--num', '3', '--seed', '5', '--batch-size', '2',
                   '--out', str(tmp_path / name), '--device', 'cpu'])
    first = _files(tmp_path / 'first')
    assert list(first) == ['seed_000005.png', 'seed_000006.png', 'seed_000007.png']
    with Image.open(tmp_path / 'first' / 'seed_000005.png') as image:
        assert image.size == (256, 256) and image.mode == 'RGB'
    assert _files(tmp_path / 'second') == first


def test_sample_model_orig(tiny_files, tmp_path, load_tool):
    tool = load_tool('generate')
    config, checkpoint = tiny_files
    for model in ('ema', 'orig'):
        tool.main([config, checkpoint, '--num', '1', '--out', str(tmp_path / model),
                   '--sample-model', model])
    assert _files(tmp_path / 'ema') != _files(tmp_path / 'orig')
