"""tools/generate.py: one PNG per seed, the same bytes for the same seeds; a checkpoint that
would run code is refused in one line."""
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


def test_checkpoint_that_runs_code_is_refused_in_one_line(tiny_files, tmp_path, code_checkpoint,
                                                          run_tool):
    evil = code_checkpoint('evil.pth', state_dict={})
    # torch.load without weights_only=True would unpickle anything under this variable
    result = run_tool('generate', tiny_files[0], evil, '--out', tmp_path / 'out',
                      env=dict(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1'))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f'generate.py: error: {evil} was refused by '
                               'torch.load(weights_only=True)')
    assert lines[0].endswith('(--debug shows the traceback)')
    assert not (tmp_path / 'code_ran').exists()
    assert not (tmp_path / 'out').exists()


def test_conditional_model_writes_a_folder_per_class(tiny_conditional_files, tmp_path,
                                                     load_tool):
    tool = load_tool('generate')
    config, checkpoint = tiny_conditional_files
    tool.main([config, checkpoint, '--num', '2', '--out', str(tmp_path / 'all')])
    assert sorted(p.relative_to(tmp_path / 'all').as_posix()
                  for p in (tmp_path / 'all').rglob('*.png')) == [
        'cat/seed_000000.png', 'cat/seed_000001.png', 'dog/seed_000000.png',
        'dog/seed_000001.png']
    assert _files(tmp_path / 'all' / 'cat') != _files(tmp_path / 'all' / 'dog')
    tool.main([config, checkpoint, '--num', '2', '--classes', '1', '--out',
               str(tmp_path / 'dog')])  # by index; the same images as by default
    assert list((tmp_path / 'dog').iterdir()) == [tmp_path / 'dog' / 'dog']
    assert _files(tmp_path / 'dog' / 'dog') == _files(tmp_path / 'all' / 'dog')


def test_classes_errors_in_one_line(tiny_files, tiny_conditional_files, tmp_path, run_tool):
    for files, classes, message in (
            (tiny_files, ['cat'], "classes ['cat'] given to an unconditional model"),
            (tiny_conditional_files, ['cow'], "unknown class 'cow': the 2 classes are, by "
                                              'index 0..1 or by name: cat, dog')):
        result = run_tool('generate', *files, '--classes', *classes, '--out', tmp_path / 'x')
        assert result.returncode == 1 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / 'x').exists()
