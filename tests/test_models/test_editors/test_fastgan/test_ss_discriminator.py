"""SSDiscriminator: shapes at every resolution, inputs, quadrants, official structure, errors."""
import pytest
import torch
from mmagic.registry import MODELS

from fastgan_plugin.models.editors.fastgan import SSDiscriminator, resize_images

# Smallest ndf per resolution (the rule: a multiple of 1 / smallest multiplier used).
TINY_NDF = {128: 4, 256: 4, 512: 4, 1024: 8, 2048: 16}
OFFICIAL_CHILDREN = [
    'down_from_big', 'down_4', 'down_8', 'down_16', 'down_32', 'down_64', 'rf_big', 'se_2_16',
    'se_4_32', 'se_8_64', 'down_from_small', 'rf_small', 'decoder_big', 'decoder_part',
    'decoder_small'
]


def _images(batch, size):
    return torch.rand(batch, 3, size, size) * 2 - 1


@pytest.mark.parametrize('im_size', [128, 256, 512, 1024, 2048])
def test_logit_shapes_at_every_resolution(im_size):
    discriminator = SSDiscriminator(im_size=im_size, ndf=TINY_NDF[im_size])
    with torch.no_grad():
        real_logits = discriminator(_images(2, im_size))
        fake_logits = discriminator(_images(2, im_size), _images(2, 128))
    assert real_logits.shape == fake_logits.shape == (2 * 2 * 25, )


def test_reconstructions():
    # The decoders read the 8x8 and 16x16 features, so they are the same at every im_size.
    discriminator = SSDiscriminator(im_size=128, ndf=4)
    with torch.no_grad():
        logits, reconstructions = discriminator(_images(2, 128), part=1)
    assert logits.shape == (100, )
    assert set(reconstructions) == {'rec_big', 'rec_small', 'rec_part'}
    for rec in reconstructions.values():
        assert rec.shape == (2, 3, 128, 128)
        assert rec.abs().max() <= 1


def test_decoder_width_scales_only_the_decoders():
    official = SSDiscriminator(im_size=128, ndf=4)
    narrow = SSDiscriminator(im_size=128, ndf=4, decoder_width=0.25)
    decoder_convs = [m for m in narrow.decoder_big.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in decoder_convs] == [64, 32, 32, 16, 3]  # 2x: GLU halves
    for name in OFFICIAL_CHILDREN:
        width = sum(p.numel() for p in getattr(narrow, name).parameters())
        official_width = sum(p.numel() for p in getattr(official, name).parameters())
        assert (width < official_width) == name.startswith('decoder_'), name
    with torch.no_grad():
        _, reconstructions = narrow(_images(2, 128), part=0)
    assert all(rec.shape == (2, 3, 128, 128) for rec in reconstructions.values())


def test_official_structure_without_texture_discriminator():
    discriminator = SSDiscriminator(im_size=1024, ndf=8)
    assert list(dict(discriminator.named_children())) == OFFICIAL_CHILDREN
    stem_keys = [k for k in discriminator.state_dict() if k.startswith('down_from_big.')]
    assert stem_keys[0] == 'down_from_big.0.parametrizations.weight.original'
    assert 'down_from_big.3.running_var' in stem_keys


def test_single_tensor_is_resized_to_small_input():
    discriminator = SSDiscriminator(im_size=256, ndf=4, resize_mode='area').eval()
    img = _images(2, 256)
    with torch.no_grad():
        torch.testing.assert_close(discriminator(img),
                                   discriminator(img, resize_images(img, 128, 'area')))


@pytest.mark.parametrize('mode', ['nearest', 'bilinear', 'bicubic', 'area'])
def test_resize_modes(mode):
    discriminator = SSDiscriminator(im_size=128, ndf=4, resize_mode=mode)
    assert discriminator(_images(2, 128)).shape == (100, )


def test_per_sample_parts_match_shared_parts():
    torch.manual_seed(0)
    discriminator = SSDiscriminator(im_size=128, ndf=4).eval()  # eval: samples independent
    img = _images(2, 128)
    parts = torch.tensor([3, 1])
    with torch.no_grad():
        _, per_sample = discriminator(img, part=parts)
        for index, part in enumerate(parts.tolist()):
            _, shared = discriminator(img, part=part)
            torch.testing.assert_close(per_sample['rec_part'][index], shared['rec_part'][index])


def test_built_from_registry_and_trainable():
    discriminator = MODELS.build(dict(type='SSDiscriminator', im_size=128, ndf=4))
    assert isinstance(discriminator, SSDiscriminator)
    discriminator.init_weights()
    logits, reconstructions = discriminator(_images(1, 128), part=torch.tensor([2]))
    (logits.mean() + sum(rec.mean() for rec in reconstructions.values())).backward()
    for name in ('down_from_big', 'decoder_part', 'decoder_small', 'rf_small'):
        grads = [p.grad for p in getattr(discriminator, name).parameters()]
        assert all(grad is not None for grad in grads), name


@pytest.mark.parametrize('kwargs,message', [
    (dict(im_size=64), r'im_size must be one of \(128, 256, 512, 1024, 2048\), got 64'),
    (dict(im_size=256, ndf=6), r'ndf must be a positive multiple of 4 at im_size=256'),
    (dict(im_size=1024, ndf=4), r'ndf must be a positive multiple of 8 at im_size=1024'),
    (dict(im_size=256, ndf=4, resize_mode='lanczos'), r'resize_mode must be one of'),
    (dict(im_size=256, ndf=4, decoder_width=0), r'decoder_width must be'),
    (dict(im_size=256, ndf=4, decoder_width=2), r'decoder_width must be'),
])
def test_constructor_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SSDiscriminator(**kwargs)


def test_forward_refuses_wrong_sizes_and_parts():
    discriminator = SSDiscriminator(im_size=256, ndf=4)
    with pytest.raises(ValueError, match=r'img must have shape \(N, 3, 256, 256\) '
                       r'\(im_size=256\), got \(2, 3, 128, 128\)'):
        discriminator(_images(2, 128))
    with pytest.raises(ValueError, match=r'img_small must have shape \(2, 3, 128, 128\)'):
        discriminator(_images(2, 256), _images(2, 64))
    with pytest.raises(ValueError, match=r'img_small must have shape \(2, 3, 128, 128\)'):
        discriminator(_images(2, 256), _images(3, 128))
    with pytest.raises(ValueError, match='part'):
        discriminator(_images(2, 256), part=4)
