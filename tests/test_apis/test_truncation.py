"""Truncation of the random inputs in seeded sampling (``truncation`` of sample_images)."""
import pytest
import torch

from fastgan_plugin.apis import (
    interpolate,
    sample_images,
    seeded_injection_noise,
    seeded_noise,
    select_generator,
)

SEEDS = list(range(8))
PSIS = (1.0, 0.8, 0.6, 0.4, 0.2, 0.0)


def test_psi_one_is_the_untruncated_sample(tiny_model):
    generator = select_generator(tiny_model)
    with torch.no_grad():
        expected = generator(seeded_noise(SEEDS, generator.nz),
                             injection_noise=seeded_injection_noise(generator, SEEDS))
    assert torch.equal(sample_images(tiny_model, SEEDS, truncation=1.0), expected)
    assert torch.equal(sample_images(tiny_model, SEEDS), expected)


def test_truncated_sample_is_the_sample_of_scaled_inputs(tiny_model):
    generator = select_generator(tiny_model)
    with torch.no_grad():
        expected = generator(0.5 * seeded_noise(SEEDS, generator.nz), injection_noise=[
            0.5 * noise for noise in seeded_injection_noise(generator, SEEDS)])
    images = sample_images(tiny_model, SEEDS, batch_size=3, truncation=0.5)
    torch.testing.assert_close(images, expected)
    # seeded: the same seed and psi give the same image, in any batch
    torch.testing.assert_close(sample_images(tiny_model, SEEDS[5:6], truncation=0.5)[0], images[5])


def test_diversity_falls_with_psi_and_vanishes_at_zero(tiny_model):
    spread = [sample_images(tiny_model, SEEDS, truncation=psi).std(dim=0).mean().item()
              for psi in PSIS]
    assert all(high > low for high, low in zip(spread, spread[1:])), spread
    assert spread[-1] == 0  # psi = 0: every seed gives the mean image


@pytest.mark.parametrize('psi', [-0.1, 1.5, float('nan'), True, '0.5'])
def test_truncation_outside_zero_one_is_refused(tiny_model, psi):
    with pytest.raises(ValueError, match='truncation must be'):
        sample_images(tiny_model, SEEDS[:1], truncation=psi)


def test_interpolation_frames_are_truncated_too(tiny_model):
    frames = interpolate(tiny_model, [0, 1], num_steps=4, truncation=0.0)
    assert (frames - frames[:1]).abs().max() == 0  # every frame the mean image
    moving = interpolate(tiny_model, [0, 1], num_steps=4, truncation=0.5)
    assert (moving - moving[:1]).abs().max() > 0
