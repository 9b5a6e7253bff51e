"""Writing frames as a video, for tools/interpolate.py and tools/report.py."""
import importlib.util
import os

import numpy as np


def write_video(frames: list, out_dir: str, fps: int, video: str) -> str:
    """Write the frames (PIL images) as MP4 or GIF; returns the path, or '' for none."""
    if video == 'none':
        return ''
    has_ffmpeg = importlib.util.find_spec('imageio_ffmpeg') is not None
    if video == 'mp4' and not has_ffmpeg:
        raise ValueError('--video mp4 needs the imageio-ffmpeg package (pip install '
                         'imageio-ffmpeg); use --video gif instead')
    if video == 'auto' and not has_ffmpeg:
        print('imageio-ffmpeg is not installed: writing a GIF instead of an MP4 '
              '(pip install imageio-ffmpeg for MP4)')
    arrays = np.stack([np.asarray(frame) for frame in frames])
    if video == 'gif' or not has_ffmpeg:
        import imageio.v3 as iio

        path = os.path.join(out_dir, 'interpolation.gif')
        iio.imwrite(path, arrays, duration=1000 / fps, loop=0)
    else:
        import imageio.v2 as imageio

        path = os.path.join(out_dir, 'interpolation.mp4')
        imageio.mimwrite(path, arrays, fps=fps)
    return path
