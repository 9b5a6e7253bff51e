"""tools/interpolate.py: PNG frames and a GIF (MP4 needs imageio-ffmpeg)."""
import importlib.util

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
