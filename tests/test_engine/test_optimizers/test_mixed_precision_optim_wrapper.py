"""MixedPrecisionOptimWrapper: autocast and loss scaling on the CPU (and CUDA when present),
and ``--amp`` of tools/train.py (load_config + enable_amp + Runner.from_cfg) running both
networks and the LPIPS network in low precision."""
import os

import numpy as np
import pytest
import torch
from mmagic.registry import OPTIM_WRAPPERS
from mmengine.runner import Runner
from PIL import Image
from torch import nn

import fastgan_plugin  # noqa: F401
from fastgan_plugin.engine import MixedPrecisionOptimWrapper
from fastgan_plugin.utils.config import enable_amp, load_config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
CONFIG = os.path.join(REPO, 'configs', 'fastgan_256_obama.py')
DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])


def small_net(device='cpu'):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 1)).to(device)


def wrapper(net, **kwargs):
    return MixedPrecisionOptimWrapper(optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
                                      **kwargs)


def test_registered_in_mmagic():
    assert OPTIM_WRAPPERS.get('MixedPrecisionOptimWrapper') is MixedPrecisionOptimWrapper


@pytest.mark.parametrize('device', DEVICES)
def test_autocast_dtype_inside_the_context(device):
    net = small_net(device)
    dtypes = ['bfloat16'] + (['float16'] if device == 'cuda' else [])
    for dtype in dtypes:
        optim = wrapper(net, dtype=dtype, device_type=device)
        with optim.optim_context(net):
            out = net[0](torch.randn(2, 3, 8, 8, device=device))
        assert out.dtype == getattr(torch, dtype)
    assert net[0](torch.randn(2, 3, 8, 8, device=device)).dtype == torch.float32  # outside


def test_loss_scaling_choices():
    net = small_net()
    assert not wrapper(net, dtype='bfloat16', loss_scale=None).loss_scaler.is_enabled()
    dynamic = wrapper(net, dtype='bfloat16', loss_scale='dynamic').loss_scaler
    assert dynamic.is_enabled()
    static = wrapper(net, dtype='bfloat16', loss_scale=1024.)
    assert static.loss_scaler.get_scale() == 1024. and static._scale_update_param == 1024.
    configured = wrapper(net, dtype='bfloat16', loss_scale=dict(init_scale=8., growth_interval=3))
    assert configured.loss_scaler.get_scale() == 8.


def test_scaled_update_equals_unscaled_update():
    """The dynamic loss scale (2 ** 16) is divided out before the step: same parameters."""
    nets, x = [small_net(), small_net()], torch.randn(4, 3, 8, 8)
    for net, loss_scale in zip(nets, (None, 'dynamic')):
        optim = wrapper(net, dtype='bfloat16', loss_scale=loss_scale, clip_grad=dict(max_norm=1.))
        with optim.optim_context(net):
            loss = net(x).float().square().mean()
        optim.update_params(loss)
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        torch.testing.assert_close(a, b)
    assert not torch.equal(nets[0][0].weight, small_net()[0].weight)  # it did step


def test_state_dict_round_trip():
    net = small_net()
    optim = wrapper(net, dtype='bfloat16', loss_scale=256.)
    state = optim.state_dict()
    assert state['loss_scaler']['scale'] == 256.
    other = wrapper(net, dtype='bfloat16', loss_scale='dynamic')
    other.load_state_dict(state)
    assert other.loss_scaler.get_scale() == 256.
    assert wrapper(net, dtype='bfloat16', loss_scale=None).state_dict()['loss_scaler'] == {}


def test_bad_arguments_are_refused():
    net = small_net()
    with pytest.raises(ValueError, match='float16 autocast on the CPU is refused.*bfloat16'):
        wrapper(net, dtype='float16', device_type='cpu')
    with pytest.raises(ValueError, match='dtype must be one of'):
        wrapper(net, dtype='float64', device_type='cpu')
    with pytest.raises(ValueError, match='device_type must be one of'):
        wrapper(net, dtype='bfloat16', device_type='mps')
    with pytest.raises(TypeError, match='loss_scale must be'):
        wrapper(net, dtype='bfloat16', loss_scale='static')
    assert wrapper(net, dtype=torch.bfloat16).cast_dtype == torch.bfloat16


def test_enable_amp_sets_every_network_wrapper():
    cfg = load_config(CONFIG)
    enable_amp(cfg, 'bfloat16')
    for name in ('generator', 'discriminator'):
        wrapper_cfg = cfg.optim_wrapper[name]
        assert wrapper_cfg.type == 'MixedPrecisionOptimWrapper'
        assert wrapper_cfg.dtype == 'bfloat16' and wrapper_cfg.loss_scale is None
    enable_amp(cfg, 'float16')
    assert cfg.optim_wrapper.generator.loss_scale == 'dynamic'
    with pytest.raises(ValueError, match='AMP dtype'):
        enable_amp(cfg, 'float64')


def amp_runner_config(tmp_path, dtype):
    """What ``tools/train.py CONFIG --amp --amp-dtype DTYPE`` builds, with tiny networks,
    LPIPS reconstruction (random VGG: no download) and one iteration."""
    data = tmp_path / 'data'
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray((rng.random((256, 256, 3)) * 255).astype(np.uint8)).save(
            data / f'{i}.png')
    loader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                  dataset=dict(data_root=str(data)))
    options = {
        'model.generator.ngf': 8, 'model.generator.nz': 16, 'model.discriminator.ndf': 8,
        'model.rec_loss.pretrained': False, 'train_dataloader': loader,
        'train_cfg.max_iters': 1, 'val_dataloader': None, 'val_cfg': None,
        'val_evaluator': None, 'custom_hooks': [],
        'default_hooks.checkpoint.interval': 10, 'default_hooks.checkpoint.save_last': False,
    }
    cfg = load_config(CONFIG, options, str(tmp_path / 'work'))
    enable_amp(cfg, dtype)
    return cfg


def test_amp_runs_both_networks_and_lpips_in_bfloat16(tmp_path):
    runner = Runner.from_cfg(amp_runner_config(tmp_path, 'bfloat16'))
    model = runner.model
    assert model.rec_loss.distance == 'lpips'
    probes = {
        'generator': model.generator.feat_8[1],
        'discriminator': model.discriminator.down_from_big[0],
        'discriminator decoder': model.discriminator.decoder_part.main[-2],
        'lpips': next(m for m in model.rec_loss.lpips_net.modules()
                      if isinstance(m, nn.Conv2d)),
    }
    seen = {name: [] for name in probes}
    for name, conv in probes.items():
        conv.register_forward_hook(
            lambda module, args, out, name=name: seen[name].append(out.dtype))
    runner.train()

    assert all(isinstance(runner.optim_wrapper[name], MixedPrecisionOptimWrapper)
               for name in ('generator', 'discriminator'))
    # G runs in the D step (fakes) only; D runs on real and fake (D step) and fake (G step).
    assert seen['generator'] == [torch.bfloat16]
    assert seen['discriminator'] == [torch.bfloat16] * 3
    assert seen['discriminator decoder'] == [torch.bfloat16]
    assert seen['lpips'] and set(seen['lpips']) == {torch.bfloat16}
    for key in ('loss_disc_real', 'loss_disc_fake', 'loss_rec_big', 'loss_rec_part',
                'loss_gen'):
        value = runner.message_hub.get_scalar(f'train/{key}').current()
        assert np.isfinite(value), key


def test_amp_float16_on_cpu_is_refused_clearly(tmp_path):
    if torch.cuda.is_available():
        pytest.skip('float16 is refused on the CPU only; this machine trains on CUDA')
    runner = Runner.from_cfg(amp_runner_config(tmp_path, 'float16'))
    with pytest.raises(ValueError, match='--amp-dtype bfloat16'):
        runner.train()
