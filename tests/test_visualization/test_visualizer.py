"""CheckerboardVisualizer: RGBA sample grids over a checkerboard, others as mmagic's."""
import torch
from mmagic.registry import VISUALIZERS
from mmagic.visualization import Visualizer

import fastgan_plugin  # noqa: F401
from fastgan_plugin.visualization import CheckerboardVisualizer


def test_rgba_over_a_checkerboard_and_rgb_grey_as_mmagic():
    assert VISUALIZERS.get('CheckerboardVisualizer') is CheckerboardVisualizer
    bgra = torch.zeros(1, 4, 16, 16)
    bgra[:, 0] = 255  # blue, transparent on the left half, opaque on the right
    bgra[:, 3, :, 8:] = 255
    shown = CheckerboardVisualizer._post_process_image(bgra)  # RGB
    assert shown.shape == (1, 3, 16, 16)
    assert shown[0, :, 0, 0].tolist() == [204] * 3 and shown[0, :, 8, 0].tolist() == [153] * 3
    assert shown[0, :, 0, 12].tolist() == [0, 0, 255]
    for image in (torch.rand(2, 3, 4, 4) * 255, torch.rand(2, 1, 4, 4) * 255):
        assert torch.equal(CheckerboardVisualizer._post_process_image(image),
                           Visualizer._post_process_image(image))
