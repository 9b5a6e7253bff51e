"""Official FastGAN checkpoint converter: key table, EMA placement, refusals."""
import copy

import pytest
import torch

from fastgan_plugin.models.editors.fastgan import (
    SLEGenerator,
    SSDiscriminator,
    convert_official_state_dict,
    load_official_checkpoint,
)


@pytest.fixture(scope='module')
def official_256(official_fixture_dir):
    """The 256 checkpoint (DataParallel 'module.' prefixes), as the official train.py saves it."""
    return torch.load(official_fixture_dir / 'fastgan_official_256_ngf8.pth', map_location='cpu',
                      weights_only=True)


def _generator_parameter_keys(g_state):
    buffers = ('_u', '_v', 'running_mean', 'running_var', 'num_batches_tracked')
    return [key for key in g_state if not key.endswith(buffers)]


def test_converts_and_loads_strictly(official_256):
    converted = convert_official_state_dict(official_256)
    assert converted['meta'] == dict(im_size=256, ngf=8, ndf=8, nz=256)
    generator = SLEGenerator(im_size=256, ngf=8, nz=256, out_act=None)
    discriminator = SSDiscriminator(im_size=256, ndf=8)
    generator.load_state_dict(converted['generator'])
    generator.load_state_dict(converted['generator_ema'])
    discriminator.load_state_dict(converted['discriminator'])
    g_source = official_256['g']
    torch.testing.assert_close(converted['generator']['feat_8.1.parametrizations.weight.original'],
                               g_source['module.feat_8.1.weight_orig'])
    torch.testing.assert_close(converted['generator']['feat_8.1.parametrizations.weight.0._u'],
                               g_source['module.feat_8.1.weight_u'])
    torch.testing.assert_close(converted['generator']['feat_8.1.parametrizations.weight.0._v'],
                               g_source['module.feat_8.1.weight_v'])


def test_ema_replaces_parameters_in_official_order_and_keeps_g_buffers(official_256):
    converted = convert_official_state_dict(official_256)
    generator, ema = converted['generator'], converted['generator_ema']
    model = SLEGenerator(im_size=256, ngf=8, nz=256)
    names = [name for name, _ in model.named_parameters()]
    # Our parameter order is the official one (that of the official state dict).
    official_order = [key[len('module.'):] for key in _generator_parameter_keys(official_256['g'])]
    assert [n.replace('parametrizations.weight.original', 'weight_orig') for n in names] == \
        official_order
    assert len(names) == len(official_256['g_ema'])
    for name, tensor in zip(names, official_256['g_ema']):
        torch.testing.assert_close(ema[name], tensor, rtol=0, atol=0)
    for key in set(ema) - set(names):  # BN statistics and spectral-norm vectors come from g
        torch.testing.assert_close(ema[key], generator[key], rtol=0, atol=0)
    # Same result as the official procedure: load g, then copy g_ema into G.parameters().
    model.load_state_dict(generator)
    with torch.no_grad():
        for parameter, tensor in zip(model.parameters(), official_256['g_ema']):
            parameter.copy_(tensor)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, ema[key], rtol=0, atol=0)


def test_ema_checkpoint_without_g_ema(official_256):
    ckpt = dict(g=official_256['g'], d=official_256['d'])
    converted = convert_official_state_dict(ckpt)
    assert set(converted) == {'generator', 'discriminator', 'meta'}


def test_load_official_checkpoint_without_prefix(official_fixture_dir):
    converted = load_official_checkpoint(official_fixture_dir / 'fastgan_official_1024_ngf8.pth')
    assert converted['meta'] == dict(im_size=1024, ngf=8, ndf=8, nz=256)
    SLEGenerator(im_size=1024, ngf=8, nz=256).load_state_dict(converted['generator_ema'])
    SSDiscriminator(im_size=1024, ndf=8).load_state_dict(converted['discriminator'])


def test_round_trip_at_512():
    """A 512 checkpoint in the official vocabulary (no fixture at 512): meta and tensors."""
    generator = SLEGenerator(im_size=512, ngf=8, nz=32)
    discriminator = SSDiscriminator(im_size=512, ndf=4)

    def official_names(state):
        for ours, official in (('parametrizations.weight.original', 'weight_orig'),
                               ('parametrizations.weight.0._u', 'weight_u'),
                               ('parametrizations.weight.0._v', 'weight_v')):
            state = {key.replace(ours, official): value for key, value in state.items()}
        return state

    ckpt = dict(g=official_names(generator.state_dict()),
                d=official_names(discriminator.state_dict()))
    converted = convert_official_state_dict(ckpt)
    assert converted['meta'] == dict(im_size=512, ngf=8, ndf=4, nz=32)
    for key, value in generator.state_dict().items():
        torch.testing.assert_close(converted['generator'][key], value, rtol=0, atol=0)
    discriminator.load_state_dict(converted['discriminator'])


def test_load_refuses_pickled_objects(tmp_path):
    path = tmp_path / 'not_weights_only.pth'
    torch.save(dict(g=torch.nn.ReLU()), path)
    with pytest.raises(ValueError, match='weights_only=True'):
        load_official_checkpoint(path)


@pytest.mark.parametrize('ckpt', [
    [1, 2],
    {},
    dict(state_dict={}),
    dict(g={'init.init.0.weight_orig': torch.zeros(1)}),
])
def test_refuses_non_fastgan_dicts(ckpt):
    with pytest.raises(ValueError, match='not an official FastGAN checkpoint'):
        convert_official_state_dict(ckpt)


def test_refuses_unknown_top_level_keys(official_256):
    ckpt = dict(official_256, iteration=5)
    with pytest.raises(ValueError, match=r'unknown top-level keys \[iteration\]'):
        convert_official_state_dict(ckpt)


def test_refuses_unknown_and_missing_keys(official_256):
    ckpt = copy.copy(official_256)
    ckpt['g'] = dict(official_256['g'])
    ckpt['g']['module.texture.0.weight'] = torch.zeros(1)
    del ckpt['g']['module.feat_16.2.running_var']
    with pytest.raises(ValueError) as error:
        convert_official_state_dict(ckpt)
    message = str(error.value)
    assert 'generator' in message
    assert 'Unknown source keys: [texture.0.weight]' in message
    assert 'unfilled (official names): [feat_16.2.running_var]' in message


def test_refuses_shapes_of_no_configuration(official_256):
    ckpt = copy.copy(official_256)
    ckpt['g'] = dict(official_256['g'])
    ckpt['g']['module.to_big.weight_orig'] = torch.zeros(3, 5, 3, 3)
    with pytest.raises(ValueError, match=r'to_big.weight_orig \(3, 5, 3, 3\)'):
        convert_official_state_dict(ckpt)
    ckpt['g'] = dict(official_256['g'])
    ckpt['g']['module.init.init.0.weight_orig'] = torch.zeros(256, 250, 4, 4)
    with pytest.raises(ValueError, match='fits no FastGAN configuration'):
        convert_official_state_dict(ckpt)


def test_refuses_overrides_that_do_not_fit(official_256):
    with pytest.raises(ValueError, match='tensor shapes do not fit'):
        convert_official_state_dict(official_256, ngf=16)
    with pytest.raises(ValueError, match='official sizes'):
        convert_official_state_dict(official_256, im_size=128)


def test_refuses_bad_g_ema(official_256):
    ckpt = dict(official_256, g_ema=official_256['g_ema'][:-1])
    with pytest.raises(ValueError, match="'g_ema' holds 43 tensors"):
        convert_official_state_dict(ckpt)
