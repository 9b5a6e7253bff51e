"""Style mixing through the SLE gates, and the figure of it."""
import numpy as np
import pytest
import torch

from fastgan_plugin.apis import (
    sample_images,
    seeded_injection_noise,
    seeded_noise,
    select_generator,
    style_mix,
    style_mix_grid,
    to_grid,
)


def test_gate_resolutions(tiny_model):
    assert tiny_model.generator.sle_resolutions == [64, 128, 256]


def test_grid_shape_and_diagonal(tiny_model):
    mixed = style_mix(tiny_model, [1, 2, 3], [2, 1], batch_size=4)
    assert mixed.shape == (3, 2, 3, 256, 256)
    plain = sample_images(tiny_model, [1, 2])
    # Content and style from the same seed: the plain sample.
    torch.testing.assert_close(mixed[0, 1], plain[0], rtol=0, atol=1e-5)
    torch.testing.assert_close(mixed[1, 0], plain[1], rtol=0, atol=1e-5)
    # Another style changes the image.
    assert (mixed[0, 0] - plain[0]).abs().max() > 1e-3


def test_without_gates_the_style_does_not_matter(tiny_model):
    mixed = style_mix(tiny_model, [1], [2], gates=[])
    torch.testing.assert_close(mixed[0, 0], sample_images(tiny_model, [1])[0], rtol=0, atol=1e-5)
    only_64 = style_mix(tiny_model, [1], [2], gates=[64])
    assert (only_64[0, 0] - mixed[0, 0]).abs().max() > 1e-4


def test_orig_generator(tiny_model):
    mixed = style_mix(tiny_model, [4], [4], sample_model='orig')
    plain = sample_images(tiny_model, [4], sample_model='orig')
    torch.testing.assert_close(mixed[0, 0], plain[0], rtol=0, atol=1e-5)


def test_refuses_unknown_gates(tiny_model):
    with pytest.raises(ValueError, match=r'gates \[512\] are not SLE resolutions '
                       r'of this generator; choose from \[64, 128, 256\]'):
        style_mix(tiny_model, [1], [2], gates=[64, 512])
    with pytest.raises(ValueError, match='needs content and style seeds'):
        style_mix(tiny_model, [], [1])


def test_figure_has_the_samples_on_its_edges(tiny_model):
    grid = style_mix_grid(tiny_model, [1, 2], [3], gates=[64])
    assert grid.size == (2 * 258 + 2, 3 * 258 + 2)  # 1 + 1 style wide, 1 + 2 contents high
    mixed = style_mix(tiny_model, [1, 2], [3], gates=[64])
    contents, style = sample_images(tiny_model, [1, 2]), sample_images(tiny_model, [3])
    expected = to_grid(torch.cat([torch.ones_like(style), style, contents[:1], mixed[0],
                                  contents[1:], mixed[1]]), num_columns=2)
    np.testing.assert_array_equal(np.asarray(grid), np.asarray(expected))


def test_truncation_scales_content_and_style_inputs(tiny_model):
    generator = select_generator(tiny_model)
    mixed = style_mix(tiny_model, [1, 2], [3], gates=[64], truncation=0.5)

    def inputs(seed):
        return dict(noise=0.5 * seeded_noise([seed], generator.nz), injection_noise=[
            0.5 * noise for noise in seeded_injection_noise(generator, [seed])])

    with torch.no_grad():
        gates = generator.sle_gates(*inputs(3).values(), resolutions=[64])
        expected = generator(**inputs(2), gates=gates)
    torch.testing.assert_close(mixed[1, 0], expected[0], rtol=0, atol=1e-5)
    # the diagonal is the truncated sample; at psi 0 every cell is the mean image
    same = style_mix(tiny_model, [4], [4], truncation=0.5)[0, 0]
    torch.testing.assert_close(same, sample_images(tiny_model, [4], truncation=0.5)[0], rtol=0,
                               atol=1e-5)
    assert (same - sample_images(tiny_model, [4])[0]).abs().max() > 1e-3
    mean = style_mix(tiny_model, [1, 2], [3, 4], truncation=0.0)
    assert (mean - mean[:1, :1]).abs().max() == 0


def test_truncated_figure_has_truncated_samples_on_its_edges(tiny_model):
    grid = style_mix_grid(tiny_model, [1], [3], truncation=0.0)
    # psi 0: content, style and mix are all the mean image (the corner stays white)
    cells = [np.asarray(grid)[2 + r * 258:r * 258 + 258, 2 + c * 258:c * 258 + 258]
             for r, c in ((0, 1), (1, 0), (1, 1))]
    assert all(np.array_equal(cell, cells[0]) for cell in cells)
    assert not np.array_equal(np.asarray(style_mix_grid(tiny_model, [1], [3])), np.asarray(grid))
