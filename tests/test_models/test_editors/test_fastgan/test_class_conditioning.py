"""Class conditioning: SLEGenerator / SSDiscriminator ``labels``, FastGAN's label flow."""
import pytest
import torch
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmagic.utils import register_all_modules
from mmengine import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict

import fastgan_plugin  # noqa: F401
from fastgan_plugin.models.editors.fastgan import SLEGenerator, SSDiscriminator
from helpers.tiny_fastgan import random_real_batch, tiny_fastgan_cfg

register_all_modules()

NZ = 16


def test_generator_class_changes_the_image_and_is_checked():
    generator = SLEGenerator(im_size=128, ngf=8, nz=NZ, num_classes=3).eval()
    noise = torch.randn(1, NZ).repeat(3, 1)
    injection = [torch.randn(1, *shape).repeat(3, 1, 1, 1)
                 for shape in generator.injection_noise_shapes]
    labels = torch.tensor([0, 1, 1])
    with torch.no_grad():
        images = generator(noise, labels=labels, injection_noise=injection)
    # Same noise, other class: another image; same noise and class: the same image.
    assert (images[0] - images[1]).abs().mean() > 1e-3
    torch.testing.assert_close(images[1], images[2])
    with pytest.raises(ValueError, match='labels are required'):
        generator(noise)
    with pytest.raises(ValueError, match=r'class indices in \[0, 3\)'):
        generator(noise, labels=labels + 2)
    with pytest.raises(ValueError, match='shape'):
        generator(noise, labels=labels[:2])
    gates = generator.sle_gates(noise, labels=labels)
    assert set(gates) == set(generator.sle_resolutions)
    with pytest.raises(ValueError, match='unconditional'):
        SLEGenerator(im_size=128, ngf=8, nz=NZ)(noise, labels=labels)


def test_conditional_generator_is_the_unconditional_one_plus_a_class_feature():
    plain = SLEGenerator(im_size=128, ngf=8, nz=NZ).state_dict()
    conditional = SLEGenerator(im_size=128, ngf=8, nz=NZ, num_classes=3).state_dict()
    embedding = conditional.pop('class_embedding.weight')
    assert embedding.shape == (3, plain['init.init.1.weight'].numel() // 2 * 4 * 4)
    assert {k: v.shape for k, v in conditional.items()} == {k: v.shape for k, v in plain.items()}


def test_class_feature_starts_below_the_noise_feature():
    # A class feature above init's noise feature (std about 0.5) makes G drop the noise: one
    # image per class (docs/conditional.md, "Within-class collapse"); 0.3 keeps both.
    torch.manual_seed(0)
    generator = SLEGenerator(im_size=128, ngf=8, nz=NZ, num_classes=3)
    noise_feature = generator.init(torch.randn(64, NZ))  # train mode: batch statistics
    class_std = generator.class_embedding.weight.std()
    assert 0.2 < class_std < 0.75 * noise_feature.std(0).mean()


def test_discriminator_projection_adds_a_class_term_to_each_logit():
    torch.manual_seed(0)
    disc = SSDiscriminator(im_size=128, ndf=8, num_classes=3).eval()
    img = torch.rand(2, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        logits_0, recs_0 = disc(img, part=0, labels=torch.tensor([0, 0]))
        logits_1, recs_1 = disc(img, part=0, labels=torch.tensor([1, 0]))
    assert logits_0.shape == (2 * 2 * 25, )
    changed = (logits_0 != logits_1).view(2, 2, 25)  # path, image, 5x5
    assert changed[:, 0].all() and not changed[:, 1].any()  # only image 0, both paths
    for name in recs_0:  # the decoders stay unconditional
        torch.testing.assert_close(recs_0[name], recs_1[name])
    with pytest.raises(ValueError, match='labels are required'):
        disc(img)


def test_fastgan_refuses_different_num_classes():
    cfg = tiny_fastgan_cfg(im_size=128)
    cfg['generator']['num_classes'] = 3
    with pytest.raises(ValueError, match=r'generator.num_classes \(3\) and '
                                         r'discriminator.num_classes \(None\)'):
        MODELS.build(cfg)


def _conditional_fastgan():
    cfg = tiny_fastgan_cfg(im_size=128)
    cfg['generator']['num_classes'] = cfg['discriminator']['num_classes'] = 3
    return MODELS.build(cfg)


def test_train_step_gives_the_real_labels_to_d_and_to_the_fakes():
    torch.manual_seed(0)
    model = _conditional_fastgan()
    seen = {'generator': [], 'discriminator': []}
    for name in seen:
        getattr(model, name).register_forward_pre_hook(
            lambda module, args, kwargs, name=name: seen[name].append(kwargs['labels']),
            with_kwargs=True)
    batch = random_real_batch(4, im_size=128)
    for sample, label in zip(batch['data_samples'], [2, 0, 1, 2]):
        sample.set_gt_label(label)
    wrappers = OptimWrapperDict(**{
        name: OptimWrapper(torch.optim.Adam(getattr(model, name).parameters()))
        for name in seen})
    MessageHub.get_current_instance().update_info('iter', 0)
    model.train_step(batch, wrappers)
    expected = torch.tensor([2, 0, 1, 2])
    assert len(seen['generator']) == 1 and len(seen['discriminator']) == 3  # real, fake, G
    for labels in seen['generator'] + seen['discriminator']:
        torch.testing.assert_close(labels, expected)


def test_sampling_without_labels_cycles_the_classes_and_with_them_uses_them():
    torch.manual_seed(0)
    model = _conditional_fastgan().eval()
    samples = model.val_step(dict(inputs=dict(num_batches=5, sample_model='ema')))
    assert [s.gt_label.label.item() for s in samples] == [0, 1, 2, 0, 1]
    given = [DataSample().set_gt_label(label) for label in (2, 2)]
    samples = model(dict(num_batches=2, sample_model='ema/orig'), DataSample.stack(given))
    assert [s.gt_label.label.item() for s in samples] == [2, 2]
    noise = torch.randn(2, NZ)
    same = model(dict(noise=noise, sample_kwargs=dict(labels=torch.tensor([1, 1]))))
    other = model(dict(noise=noise, sample_kwargs=dict(labels=torch.tensor([2, 2]))))
    assert [s.gt_label.label.item() for s in same] == [1, 1]
    assert not torch.equal(same[0].fake_img, other[0].fake_img)
