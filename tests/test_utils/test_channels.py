"""to_rgb (grey repeated, RGBA composited), the checkerboard, RGB <-> BGR with alpha."""
import pytest
import torch

from fastgan_plugin.utils.channels import checkerboard, swap_red_blue, to_rgb


def test_to_rgb_keeps_rgb_repeats_grey_and_composites_rgba():
    rgb = torch.rand(2, 3, 4, 4) * 2 - 1
    assert to_rgb(rgb) is rgb
    grey = torch.rand(2, 1, 4, 4)
    assert torch.equal(to_rgb(grey), grey.repeat(1, 3, 1, 1))
    opaque, clear, half = (torch.full((2, 1, 4, 4), a) for a in (1.0, -1.0, 0.0))
    assert torch.equal(to_rgb(torch.cat([rgb, opaque], 1)), rgb)
    assert torch.equal(to_rgb(torch.cat([rgb, clear], 1)), torch.ones(2, 3, 4, 4))
    torch.testing.assert_close(to_rgb(torch.cat([rgb, half], 1)), (rgb + 1) / 2)
    # [0, 255] with a background of its own.
    pixels = torch.tensor([10.0, 20.0, 30.0, 51.0]).view(1, 4, 1, 1)
    torch.testing.assert_close(to_rgb(pixels, (0, 255), torch.zeros(1, 3, 1, 1)).flatten(),
                               torch.tensor([2.0, 4.0, 6.0]))
    with pytest.raises(ValueError, match=r'C = 1 \(grey\), 3 \(RGB\) or 4 \(RGBA\)'):
        to_rgb(torch.zeros(1, 2, 4, 4))


def test_checkerboard_alternates_two_greys_in_8_px_squares():
    board = checkerboard(16, 24, (0, 255))
    assert board.shape == (1, 3, 16, 24)
    assert board[0, 0, 0, 0] == board[0, 0, 7, 7] == 204 and board[0, 0, 0, 8] == 153
    assert board[0, 0, 8, 8] == 204 and torch.equal(board[0, 0], board[0, 2])


def test_swap_red_blue_keeps_alpha_and_grey():
    rgba = torch.arange(8.0).view(2, 4, 1, 1)
    assert swap_red_blue(rgba).flatten().tolist() == [2, 1, 0, 3, 6, 5, 4, 7]
    assert swap_red_blue(rgba[0]).flatten().tolist() == [2, 1, 0, 3]  # (C, H, W)
    grey = torch.rand(1, 1, 2, 2)
    assert swap_red_blue(grey) is grey
