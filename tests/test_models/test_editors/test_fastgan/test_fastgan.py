"""The FastGAN training model: the official loop, what each step updates, EMA, sampling."""
import copy

import pytest
import torch
from mmagic.registry import MODELS
from mmagic.utils import register_all_modules
from mmengine import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict

import fastgan_plugin  # noqa: F401
from helpers.tiny_fastgan import random_real_batch, tiny_fastgan_cfg

register_all_modules()

IM_SIZE = 256
BATCH = 2


def tiny_cfg(**overrides):
    return tiny_fastgan_cfg(IM_SIZE, **overrides)


def optimizers(model):
    def adam(module):
        return OptimWrapper(torch.optim.Adam(module.parameters(), lr=2e-4, betas=(0.5, 0.999)))
    return OptimWrapperDict(generator=adam(model.generator),
                            discriminator=adam(model.discriminator))


def batch(seed=0):
    return random_real_batch(BATCH, IM_SIZE, seed)


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def changed(before, module):
    return {k for k, v in module.named_parameters() if not torch.equal(before[k], v)}


@pytest.fixture
def model():
    torch.manual_seed(0)
    return MODELS.build(tiny_cfg())


def test_train_step_logs_every_term(model):
    MessageHub.get_current_instance().update_info('iter', 0)
    logs = model.train_step(batch(), optimizers(model))
    assert set(logs) == {'loss', 'loss_disc_real', 'loss_disc_fake', 'loss_rec_big',
                         'loss_rec_small', 'loss_rec_part', 'loss_gen'}
    d_terms = ('loss_disc_real', 'loss_disc_fake', 'loss_rec_big', 'loss_rec_small',
               'loss_rec_part')
    assert torch.isclose(logs['loss'], sum(logs[k] for k in d_terms))
    assert all(torch.isfinite(v) for v in logs.values())


def test_discriminator_step_updates_only_d(model):
    wrappers = optimizers(model)
    data = model.data_preprocessor(batch(), True)
    g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
    model.train_discriminator(**data, optimizer_wrapper=wrappers['discriminator'])
    assert changed(g_before, model.generator) == set()
    assert changed(d_before, model.discriminator) == set(d_before)  # every D weight moved

    g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
    for p in model.discriminator.parameters():
        p.requires_grad_(False)  # as BaseGAN's schedule does around the G step
    model.train_generator(**data, optimizer_wrapper=wrappers['generator'])
    assert changed(d_before, model.discriminator) == set()
    moved = changed(g_before, model.generator)
    # noise-injection weights start at 0 and get gradient; every G weight moves
    assert moved == set(g_before)


def test_generator_step_reuses_the_discriminator_steps_fakes(model):
    wrappers = optimizers(model)
    data = model.data_preprocessor(batch(), True)
    model.train_discriminator(**data, optimizer_wrapper=wrappers['discriminator'])
    fakes = model._fakes
    calls = []
    handle = model.generator.register_forward_hook(lambda *args: calls.append(1))
    model.train_generator(**data, optimizer_wrapper=wrappers['generator'])
    handle.remove()
    assert calls == []  # G did not run again: the G step used the same (augmented) fakes
    assert fakes['img'].shape == (BATCH, 3, IM_SIZE, IM_SIZE)
    assert model._fakes is None


def test_decoders_get_gradient_only_from_the_real_pass(model):
    d = model.discriminator
    decoders = [d.decoder_big, d.decoder_small, d.decoder_part]
    fake = torch.randn(BATCH, 3, IM_SIZE, IM_SIZE)
    fake_small = torch.randn(BATCH, 3, 128, 128)
    model.gan_loss(d(fake, fake_small), 'fake').backward()
    assert all(p.grad is None for dec in decoders for p in dec.parameters())

    real = torch.rand(BATCH, 3, IM_SIZE, IM_SIZE) * 2 - 1
    part = torch.tensor([0, 3])
    _, recs = d(real, part=part)
    targets = model.reconstruction_targets(real, part)
    model.rec_loss(recs['rec_part'], targets['rec_part']).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0
               for p in d.decoder_part.parameters())


def test_reconstruction_targets_follow_the_quadrant(model):
    real = torch.arange(BATCH * 3 * IM_SIZE * IM_SIZE, dtype=torch.float32).reshape(
        BATCH, 3, IM_SIZE, IM_SIZE)
    targets = model.reconstruction_targets(real, torch.tensor([1, 2]))
    half = IM_SIZE // 2
    torch.testing.assert_close(targets['rec_part'][0], real[0, :, :half, half:])  # top-right
    torch.testing.assert_close(targets['rec_part'][1], real[1, :, half:, :half])  # bottom-left
    torch.testing.assert_close(targets['rec_big'], real[:, :, ::2, ::2])  # nearest 256 -> 128
    assert targets['rec_small'] is targets['rec_big']


def test_quadrant_modes(model):
    torch.manual_seed(1)
    per_sample = model.draw_quadrants(64)
    assert per_sample.shape == (64, ) and len(per_sample.unique()) > 1
    batch_model = MODELS.build(tiny_cfg(quadrant='batch'))
    shared = batch_model.draw_quadrants(64)
    assert len(shared.unique()) == 1
    with pytest.raises(ValueError, match='quadrant'):
        MODELS.build(tiny_cfg(quadrant='random'))


@pytest.mark.parametrize('bn_stats', ['average', 'raw'])
def test_ema_update_follows_its_formula(bn_stats):
    torch.manual_seed(0)
    # rampup=None: the constant official decay (the ramp is tested in test_fastgan_ema.py)
    model = MODELS.build(tiny_cfg(ema_config=dict(type='FastGANEMA', momentum=0.001,
                                                  rampup=None, bn_stats=bn_stats)))
    ema_before = {k: v.clone() for k, v in model.generator_ema.module.state_dict().items()}
    MessageHub.get_current_instance().update_info('iter', 0)
    model.train_step(batch(), optimizers(model))
    g_state = model.generator.state_dict()
    ema_state = model.generator_ema.module.state_dict()
    for name, _ in model.generator.named_parameters():
        expected = 0.999 * ema_before[name] + 0.001 * g_state[name]
        torch.testing.assert_close(ema_state[name], expected)
    for name, _ in model.generator.named_buffers():
        if name.endswith(('running_mean', 'running_var')) and bn_stats == 'average':
            expected = 0.999 * ema_before[name] + 0.001 * g_state[name]
        else:  # spectral-norm vectors, counters, and all BN stats in 'raw' mode: copied
            expected = g_state[name]
        torch.testing.assert_close(ema_state[name], expected)


def test_ema_bn_stats_option_is_checked():
    with pytest.raises(ValueError, match='bn_stats'):
        MODELS.build(tiny_cfg(ema_config=dict(type='FastGANEMA', bn_stats='mean')))


def test_sampling_orig_ema_and_both(model):
    model.eval()
    for sample_model in ('orig', 'ema'):
        out = model.val_step(dict(inputs=dict(num_batches=3, sample_model=sample_model)))
        assert len(out) == 3
        assert out[0].fake_img.shape == (3, IM_SIZE, IM_SIZE)
        assert out[0].sample_model == sample_model
    both = model.test_step(dict(inputs=dict(num_batches=2, sample_model='ema/orig')))
    assert both[0].ema.fake_img.shape == both[0].orig.fake_img.shape == (3, IM_SIZE, IM_SIZE)


def test_resolution_mismatch_is_refused():
    cfg = tiny_cfg()
    cfg['discriminator'] = dict(type='SSDiscriminator', im_size=512, ndf=8)
    with pytest.raises(ValueError, match=r'generator.im_size \(256\).*discriminator.im_size'):
        MODELS.build(cfg)


def test_generator_step_every_discriminator_steps():
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg(discriminator_steps=2))
    wrappers = optimizers(model)
    hub = MessageHub.get_current_instance()
    fakes = []
    generate_fakes = model.generate_fakes
    model.generate_fakes = lambda num, labels=None: fakes.append(
        generate_fakes(num, labels)) or fakes[-1]
    hub.update_info('iter', 0)
    g_before = copy.deepcopy(snapshot(model.generator))
    logs = model.train_step(batch(), wrappers)
    assert 'loss_gen' not in logs and changed(g_before, model.generator) == set()
    assert model._fakes is None and not fakes[0]['img'].requires_grad  # no G graph kept
    hub.update_info('iter', 1)
    logs = model.train_step(batch(), wrappers)
    assert 'loss_gen' in logs and changed(g_before, model.generator)
    assert len(fakes) == 2 and fakes[1]['img'].requires_grad  # reused by the G step


def test_pretrained_generator_init_also_starts_the_ema(tmp_path):
    torch.manual_seed(0)
    source = MODELS.build(tiny_cfg())
    checkpoint = tmp_path / 'g.pth'
    torch.save({'state_dict': {f'generator.{k}': v for k, v in
                               source.generator.state_dict().items()}}, checkpoint)
    cfg = tiny_cfg()
    cfg['generator'] = dict(cfg['generator'], init_cfg=dict(
        type='Pretrained', checkpoint=str(checkpoint), prefix='generator.'))
    torch.manual_seed(1)
    model = MODELS.build(cfg)
    model.init_weights()
    for name, value in source.generator.state_dict().items():
        torch.testing.assert_close(model.generator.state_dict()[name], value)
        torch.testing.assert_close(model.generator_ema.module.state_dict()[name], value)


# Pure red in the generator's RGB order and value range: R = 1, G = B = -1.
RED_RGB = (1.0, -1.0, -1.0)


def paint_red(generator):
    """Make ``generator`` return pure red RGB images (a forward hook on its output)."""
    def red(module, args, output):
        assert isinstance(output, torch.Tensor)  # sampling asks for the image alone
        return torch.tensor(RED_RGB).view(1, 3, 1, 1).expand_as(output).to(output)
    return generator.register_forward_hook(red)


def generated_images(samples, sample_model):
    """The ``fake_img`` tensors of val_step's outputs, (N, 3, H, W) per generator."""
    if sample_model == 'ema/orig':
        return [torch.stack([getattr(s, name).fake_img for s in samples])
                for name in ('ema', 'orig')]
    return [torch.stack([s.fake_img for s in samples])]


@pytest.mark.parametrize('sample_model', ['orig', 'ema', 'ema/orig'])
def test_generated_red_reaches_mmagic_as_bgr(model, sample_model, tmp_path):
    from mmagic.evaluation import FrechetInceptionDistance
    from mmagic.visualization import Visualizer

    from helpers.feature_extractor import build_torchscript_feature_extractor

    paint_red(model.generator)
    paint_red(model.generator_ema.module)
    model.eval()
    samples = model.val_step(dict(inputs=dict(num_batches=2, sample_model=sample_model)))
    bgr_red = torch.tensor([0.0, 0.0, 255.0]).view(1, 3, 1, 1)
    for images in generated_images(samples, sample_model):
        # mmagic takes generated images as BGR in [0, 255] (its GANs learn from OpenCV's BGR)
        assert torch.equal(images, bgr_red.expand_as(images))
        # ... and its visualizer turns them back into RGB: the grid it writes is red.
        shown = Visualizer._post_process_image(images)
        assert (shown[:, 0] == 255).all() and (shown[:, 1:] == 0).all()

    # The metric: mmagic's FID flips its input to RGB for the (stand-in) Inception network.
    metric = FrechetInceptionDistance(
        fake_nums=2, inception_style='StyleGAN', sample_model='ema' if 'ema' in sample_model
        else 'orig', inception_path=build_torchscript_feature_extractor(
            str(tmp_path / 'inception.pt'), feature_dim=8))
    network, seen = metric.inception, []
    metric.inception = lambda image, **kwargs: seen.append(image) or network(image, **kwargs)
    metric.process(dict(), [sample.to_dict() for sample in samples])
    assert seen[0].dtype == torch.uint8 and seen[0].shape == (2, 3, IM_SIZE, IM_SIZE)
    assert (seen[0][:, 0] == 255).all() and (seen[0][:, 1:] == 0).all()  # RGB red


def test_sampling_api_returns_rgb(model):
    from fastgan_plugin.apis import sample_images

    paint_red(model.generator_ema.module)
    images = sample_images(model.eval(), seeds=[0, 1])
    red = torch.tensor(RED_RGB).view(1, 3, 1, 1)
    assert torch.equal(images, red.expand_as(images))


def test_generator_step_leaves_the_discriminator_without_gradients(model):
    MessageHub.get_current_instance().update_info('iter', 0)
    logs = model.train_step(batch(), optimizers(model))
    assert 'loss_gen' in logs
    # The G step ran with D frozen: no gradient reached D's parameters (the D step's were
    # cleared by its own update), and D trains again afterwards.
    assert all(p.grad is None or not p.grad.any() for p in model.discriminator.parameters())
    assert all(p.requires_grad for p in model.discriminator.parameters())


def test_discriminator_update_is_unaffected_by_the_generator_step(model):
    hub = MessageHub.get_current_instance()
    wrappers = optimizers(model)
    hub.update_info('iter', 0)
    model.train_step(batch(0), wrappers)  # D step, G step, EMA update
    # A twin of the trained model whose D gradients are cleared by hand before its next step.
    twin = copy.deepcopy(model)
    twin_wrappers = optimizers(twin)
    for name in ('generator', 'discriminator'):  # a copy: loading shares the moment tensors
        twin_wrappers[name].optimizer.load_state_dict(
            copy.deepcopy(wrappers[name].optimizer.state_dict()))
    for p in twin.discriminator.parameters():
        p.grad = None
    hub.update_info('iter', 1)
    for net, net_wrappers in ((model, wrappers), (twin, twin_wrappers)):
        torch.manual_seed(1)
        net.train_step(batch(1), net_wrappers)
    for (name, p), q in zip(model.discriminator.named_parameters(),
                            twin.discriminator.parameters()):
        assert torch.equal(p, q), f'{name}: the G step leaked into the next D update'
