"""tools/interpolate.py: PNG frames and a GIF (MP4 needs imageio-ffmpeg)."""
import importlib.util

import numpy as np
import pytest
from PIL import Image


def _without_ffmpeg(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *args: None if name == 'imageio_ffmpeg' else
                        find_spec(name, *args))


def test_frames_and_gif_deterministic(tiny_files, tmp_path, load_tool, monkeypatch, capsys):
    _without_ffmpeg(monkeypatch)
    tool = load_tool('interpolate')
    config, checkpoint = tiny_files
    outputs = []
    for name in ('first', 'second'):
        out = tmp_path / name
        tool.main([config, checkpoint, '--seeds', '0', '1', '2', '--steps', '3', '--out',
                   str(out), '--fps', '5'])
        outputs.append({path.name: path.read_bytes() for path in sorted(out.iterdir())})
    frames = [f'frame_{i:04d}.png' for i in range(5)]  # 2 segments x 3 steps, shared ends once
    assert sorted(outputs[0]) == frames + ['interpolation.gif']
    assert outputs[0] == outputs[1]
    assert 'imageio-ffmpeg is not installed: writing a GIF' in capsys.readouterr().out
    with Image.open(tmp_path / 'first' / 'interpolation.gif') as gif:
        assert gif.size == (256, 256) and gif.n_frames == 5
        assert gif.info['duration'] == 200


def test_mp4_without_ffmpeg_is_refused(tiny_files, tmp_path, load_tool, monkeypatch):
    _without_ffmpeg(monkeypatch)
    config, checkpoint = tiny_files
    with pytest.raises(ValueError, match='--video mp4 needs the imageio-ffmpeg package'):
        load_tool('interpolate').main([config, checkpoint, '--seeds', '0', '1', '--steps', '2',
                                       '--out', str(tmp_path), '--video', 'mp4'])


def test_loop_without_video(tiny_files, tmp_path, load_tool):
    config, checkpoint = tiny_files
    load_tool('interpolate').main([config, checkpoint, '--seeds', '0', '1', '--steps', '3',
                                   '--loop', '--method', 'lerp', '--video', 'none', '--out',
                                   str(tmp_path)])
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        f'frame_{i:04d}.png' for i in range(4)]


def test_conditional_model_interpolates_in_each_class(tiny_conditional_files, tmp_path,
                                                      load_tool, monkeypatch):
    _without_ffmpeg(monkeypatch)
    config, checkpoint = tiny_conditional_files
    load_tool('interpolate').main([config, checkpoint, '--seeds', '0', '1', '--steps', '2',
                                   '--classes', 'dog', 'cat', '--out', str(tmp_path)])
    frames = {name: {p.name: p.read_bytes() for p in sorted((tmp_path / name).iterdir())}
              for name in ('cat', 'dog')}
    assert sorted(frames['cat']) == ['frame_0000.png', 'frame_0001.png', 'interpolation.gif']
    assert frames['cat']['frame_0000.png'] != frames['dog']['frame_0000.png']
    # the first frame is seed 0's sample of that class, as tools/generate.py writes it
    load_tool('generate').main([config, checkpoint, '--num', '1', '--out',
                                str(tmp_path / 'samples')])
    for name in ('cat', 'dog'):
        with Image.open(tmp_path / 'samples' / name / 'seed_000000.png') as sample, \
                Image.open(tmp_path / name / 'frame_0000.png') as frame:
            # the same image, up to float rounding between batch sizes (1 level of 255)
            difference = np.abs(np.asarray(sample, int) - np.asarray(frame, int))
            assert difference.max() <= 1, difference.max()
