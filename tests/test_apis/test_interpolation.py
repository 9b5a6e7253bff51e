"""Latent interpolation: slerp / lerp, paths through seeds, frames."""
import pytest
import torch

from fastgan_plugin.apis import (
    interpolate,
    interpolate_latents,
    interpolation_latents,
    sample_images,
    seeded_noise,
)


def test_lerp_and_slerp_end_at_the_endpoints():
    start, end = seeded_noise([1, 2], 32)
    for method in ('lerp', 'slerp'):
        path = interpolate_latents(start, end, 5, method)
        assert path.shape == (5, 32)
        torch.testing.assert_close(path[0], start)
        torch.testing.assert_close(path[-1], end)
    torch.testing.assert_close(interpolate_latents(start, end, 3, 'lerp')[1], (start + end) / 2)


def test_slerp_follows_the_great_circle():
    start, end = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    path = interpolate_latents(start, end, 3, 'slerp')
    torch.testing.assert_close(path[1], torch.tensor([0.5**0.5, 0.5**0.5]))
    torch.testing.assert_close(path.norm(dim=1), torch.ones(3))
    # Parallel vectors: the angle is 0, so slerp is a lerp.
    same = interpolate_latents(start, 2 * start, 3, 'slerp')
    torch.testing.assert_close(same[1], 1.5 * start)


@pytest.mark.parametrize('kwargs,message', [
    (dict(num_steps=1), 'num_steps must be an int >= 2'),
    (dict(method='cubic'), "method must be one of \\('slerp', 'lerp'\\)"),
])
def test_refuses_bad_arguments(kwargs, message):
    start, end = seeded_noise([1, 2], 4)
    with pytest.raises(ValueError, match=message):
        interpolate_latents(start, end, **dict(dict(num_steps=3), **kwargs))


def test_path_through_seeds():
    anchors = seeded_noise([5, 6, 7], 8)
    path = interpolation_latents([5, 6, 7], 8, num_steps=4)
    assert path.shape == (2 * 3 + 1, 8)
    for index, anchor in zip((0, 3, 6), anchors):
        torch.testing.assert_close(path[index], anchor)
    loop = interpolation_latents([5, 6, 7], 8, num_steps=4, loop=True)
    assert loop.shape == (3 * 3, 8)  # back towards seed 5, which is not repeated
    torch.testing.assert_close(loop[:7], path)
    with pytest.raises(ValueError, match='at least 2 seeds'):
        interpolation_latents([5], 8, 4)


def test_frames_share_the_first_seeds_injection_noise(tiny_model):
    frames = interpolate(tiny_model, [3, 9], num_steps=3, batch_size=2)
    assert frames.shape == (3, 3, 256, 256)
    torch.testing.assert_close(frames[0], sample_images(tiny_model, [3])[0], rtol=0, atol=1e-5)
    # The last frame has seed 9's latent but seed 3's injection noise.
    assert (frames[2] - sample_images(tiny_model, [9])[0]).abs().max() > 1e-4
