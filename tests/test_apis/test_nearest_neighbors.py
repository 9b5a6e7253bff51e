"""Image distances, nearest training images and the memorisation score."""
import os

import numpy as np
import pytest
import torch
from PIL import Image

from fastgan_plugin.apis import (
    ImageDistance,
    load_image_folder,
    memorisation,
    nearest_neighbors_grid,
    nearest_training_images,
    sample_images,
)


def test_pixel_distance_is_the_rms_difference():
    black = -torch.ones(1, 3, 32, 32)
    white = torch.ones(2, 3, 32, 32)
    distance = ImageDistance('pixel', size=16)
    torch.testing.assert_close(distance.pairwise(black, white), torch.full((1, 2), 2.0))
    torch.testing.assert_close(distance.pairwise(white), torch.zeros(2, 2))


def test_lpips_distance_is_symmetric_with_a_zero_diagonal():
    # pretrained=False: a random VGG backbone (no download), enough to test the plumbing.
    images = torch.rand(3, 3, 32, 32) * 2 - 1
    distance = ImageDistance('lpips', size=32, lpips_pretrained=False, batch_size=2)
    within = distance.pairwise(images)
    assert within.shape == (3, 3)
    torch.testing.assert_close(within, within.t())
    assert within.diagonal().abs().max() == 0 and within[0, 1] > 0
    torch.testing.assert_close(distance.pairwise(images, images).fill_diagonal_(0), within,
                               rtol=1e-4, atol=1e-6)


def test_memorisation_score():
    # 4 training images, nearest-neighbour distances 1, 1, 2, 2 -> median (quantile 0.5) 1.5.
    train = torch.tensor([[0.0, 1, 3, 4], [1, 0, 3, 4], [3, 3, 0, 2], [4, 4, 2, 0]])
    samples = torch.tensor([[0.0, 5, 4, 6],   # a copy of training image 0
                            [5, 6, 1.6, 7],   # farther than the threshold
                            [5, 1.4, 6, 2]])  # closer than the threshold
    result = memorisation(samples, train, k=2, quantile=0.5)
    torch.testing.assert_close(result['train_nn'], torch.tensor([1.0, 1, 2, 2]))
    assert result['threshold'] == pytest.approx(1.5)
    assert result['memorised'].tolist() == [True, False, True]
    assert result['score'] == pytest.approx(2 / 3)
    assert result['nn_indices'].tolist() == [[0, 2], [2, 0], [1, 3]]
    torch.testing.assert_close(result['nn_distances'][2], torch.tensor([1.4, 2.0]))


@pytest.mark.parametrize('kwargs,message', [
    (dict(k=5), 'k must be in 1..2'),
    (dict(quantile=1.0), 'quantile must be in \\(0, 1\\)'),
])
def test_memorisation_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        memorisation(torch.zeros(1, 2), torch.zeros(2, 2), **dict(dict(k=1), **kwargs))
    with pytest.raises(ValueError, match='M >= 2 training images'):
        memorisation(torch.zeros(1, 1), torch.zeros(1, 1))


def test_load_image_folder(tmp_path):
    colours = {'b.png': (255, 0, 0), 'a.jpg': (0, 0, 255)}
    for name, colour in colours.items():
        Image.new('RGB', (40, 20), colour).save(tmp_path / name)
    images, paths = load_image_folder(str(tmp_path), 16)
    assert [p.rsplit('/', 1)[-1] for p in paths] == ['a.jpg', 'b.png']
    assert images.shape == (2, 3, 16, 16) and images.min() >= -1 and images.max() <= 1
    np.testing.assert_allclose(images[1, :, 8, 8].numpy(), [1, -1, -1])  # red, RGB order
    small, _ = load_image_folder(str(tmp_path), 16, scale_to=4)
    assert small.shape == (2, 3, 4, 4)
    torch.testing.assert_close(small[1], images[1, :, :4, :4])  # one colour: any scale


def test_nearest_training_images_finds_a_saved_sample(tiny_model, tmp_path):
    sample_images(tiny_model, [1], as_pil=True)[0].save(tmp_path / 'copy.png')
    Image.new('RGB', (300, 200), (0, 0, 255)).save(tmp_path / 'blue.png')
    result = nearest_training_images(tiny_model, str(tmp_path), [0, 1], ImageDistance(size=16),
                                     k=2, quantile=0.5, image_size=32)
    assert result['seeds'] == [0, 1]
    assert [os.path.basename(p) for p in result['train_paths']] == ['blue.png', 'copy.png']
    # compared at 16 px, returned at 32 px (image_size), both below the model's 256 px
    assert result['samples'].shape == result['train_images'].shape == (2, 3, 32, 32)
    assert result['nn_indices'][1].tolist() == [1, 0]
    assert result['nn_distances'][1, 0] < 1e-3  # the copy is rounded to 8 bits
    assert nearest_neighbors_grid(result, 8).size == (3 * 10 + 2, 2 * 10 + 2)
