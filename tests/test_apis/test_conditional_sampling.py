"""Sampling a class-conditional FastGAN by class: every sampling function passes the class on
(class 0 and class 1 differ for the same seed, the same class and seed give the same image),
and init_model keeps the checkpoint's class names."""
import pytest
import torch
from mmengine.runner import save_checkpoint
from PIL import Image

from fastgan_plugin.apis import (
    generate,
    generate_to_folder,
    init_model,
    interpolate,
    nearest_training_images,
    sample_images,
    seeded_noise,
    style_mix,
)

SEEDS = [3, 4]


def assert_differ(a, b):
    assert (a - b).abs().mean() > 0.01, 'the class made no difference'


def test_class_changes_the_sample_and_is_reproducible(tiny_conditional_model):
    model = tiny_conditional_model
    cats = sample_images(model, SEEDS, classes='cat')
    assert_differ(cats, sample_images(model, SEEDS, classes='dog'))
    torch.testing.assert_close(sample_images(model, SEEDS, classes=0), cats)
    mixed = sample_images(model, SEEDS, batch_size=1, classes=['dog', 'cat'])
    torch.testing.assert_close(mixed[1], cats[1])  # the same seed and class in another batch
    torch.testing.assert_close(mixed[:1], sample_images(model, SEEDS[:1], classes=1))


def test_generate_takes_labels(tiny_conditional_model):
    model = tiny_conditional_model
    latents = seeded_noise(SEEDS, model.noise_size)
    torch.testing.assert_close(generate(model, latents, SEEDS, labels=torch.tensor([1, 1])),
                               sample_images(model, SEEDS, classes='dog'))
    with pytest.raises(ValueError, match='2 latents but 2 noise seeds and 1 labels'):
        generate(model, latents, SEEDS, labels=torch.tensor([1]))
    with pytest.raises(ValueError, match='labels are required'):
        generate(model, latents, SEEDS)


def test_generate_to_folder_by_class(tiny_conditional_model, tmp_path):
    model = tiny_conditional_model
    paths = generate_to_folder(model, str(tmp_path), SEEDS, classes=['dog', 'cat'])
    assert paths == [str(tmp_path / 'dog' / 'seed_000003.png'),
                     str(tmp_path / 'cat' / 'seed_000004.png')]
    expected = sample_images(model, SEEDS, as_pil=True, classes=['dog', 'cat'])
    for path, sample in zip(paths, expected):
        with Image.open(path) as image:
            assert image.tobytes() == sample.tobytes()


def test_interpolation_stays_in_its_class(tiny_conditional_model):
    model = tiny_conditional_model
    dogs = interpolate(model, SEEDS, num_steps=3, classes='dog')
    torch.testing.assert_close(dogs[0], sample_images(model, SEEDS[:1], classes='dog')[0])
    torch.testing.assert_close(dogs[-1:], generate(  # seed 4's latent, seed 3's noise
        model, seeded_noise(SEEDS[1:], model.noise_size), SEEDS[:1], labels=torch.tensor([1])))
    assert_differ(dogs, interpolate(model, SEEDS, num_steps=3, classes='cat'))


def test_style_mixing_in_a_class(tiny_conditional_model):
    model = tiny_conditional_model
    mixed = style_mix(model, SEEDS, SEEDS, classes='dog')
    samples = sample_images(model, SEEDS, classes='dog')
    for index in range(len(SEEDS)):  # (c, c) is the sample of c, in its class
        torch.testing.assert_close(mixed[index, index], samples[index])
    assert_differ(mixed, style_mix(model, SEEDS, SEEDS, classes='cat'))


def test_nearest_training_images_of_class_samples(tiny_conditional_model, tmp_path):
    model = tiny_conditional_model
    dogs = sample_images(model, SEEDS, as_pil=True, classes='dog')
    for folder, images in (('cat', sample_images(model, SEEDS, as_pil=True, classes='cat')),
                           ('dog', dogs)):
        (tmp_path / folder).mkdir()
        for seed, image in zip(SEEDS, images):
            image.save(tmp_path / folder / f'{seed}.png')
    result = nearest_training_images(model, str(tmp_path), SEEDS, k=1, classes='dog')
    assert result['labels'].tolist() == [1, 1]
    nearest = [result['train_paths'][i] for i in result['nn_indices'][:, 0].tolist()]
    assert nearest == [str(tmp_path / 'dog' / '3.png'), str(tmp_path / 'dog' / '4.png')]
    assert result['sample_nn'].max() < 0.01  # the dog samples are the dog images


def test_init_model_keeps_the_class_names(tiny_conditional_model, tiny_model, tmp_path):
    path = str(tmp_path / 'conditional.pth')
    save_checkpoint(dict(state_dict=tiny_conditional_model.state_dict(),
                         meta=dict(dataset_meta=dict(classes=('cat', 'dog')))), path)
    loaded = init_model(tiny_conditional_model.cfg, path)
    assert loaded.dataset_meta == dict(classes=('cat', 'dog'))
    torch.testing.assert_close(sample_images(loaded, SEEDS, classes='dog'),
                               sample_images(tiny_conditional_model, SEEDS, classes=1))
    assert init_model(tiny_model.cfg).dataset_meta == {}
