"""MixedPrecisionOptimWrapper: autocast and loss scaling on the CPU (and CUDA when present),
the dtype chosen by the hardware's native support, and ``--amp`` of tools/train.py
(load_config + enable_amp + Runner.from_cfg) running both networks and the LPIPS network in
low precision.

The only mock: the hardware capability queries (``cpu_has_native_bf16``,
``cuda_has_native_bf16``), answered both ways, since this machine has one kind of CPU and no
GPU; the real query is checked against the CPU flags of /proc/cpuinfo.
"""
import copy
import os
import platform
import warnings

import numpy as np
import pytest
import torch
from mmagic.registry import OPTIM_WRAPPERS
from mmengine.runner import Runner
from PIL import Image
from torch import nn

import fastgan_plugin  # noqa: F401
from fastgan_plugin.apis.config import enable_amp, load_config
from fastgan_plugin.engine import MixedPrecisionOptimWrapper
from fastgan_plugin.engine.optimizers import mixed_precision_optim_wrapper as mpow
from tool_utils.benchmarking import cpu_flags

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
CONFIG = os.path.join(REPO, 'configs', 'fastgan', 'fastgan_256_obama.py')
DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])


def small_net(device='cpu'):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 1)).to(device)


def wrapper(net, **kwargs):
    return MixedPrecisionOptimWrapper(optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
                                      **kwargs)


@pytest.fixture
def native_bf16(monkeypatch):
    """``native_bf16(True | False)``: what the CPU and GPU capability queries answer."""
    def answer(value):
        monkeypatch.setattr(mpow, 'cpu_has_native_bf16', lambda: value)
        monkeypatch.setattr(mpow, 'cuda_has_native_bf16', lambda: value)
    return answer


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


@pytest.mark.skipif(not (os.path.exists('/proc/cpuinfo') and platform.machine() == 'x86_64'),
                    reason='CPU flags are read from /proc/cpuinfo on x86 Linux only')
def test_cpu_query_agrees_with_the_cpu_flags():
    flags = set(cpu_flags())
    assert 'avx2' in flags or 'avx512f' in flags  # the flags were read
    assert mpow.cpu_has_native_bf16() == bool(flags & {'avx512_bf16', 'amx_bf16'})


def test_auto_on_a_cpu_with_native_bf16_is_bfloat16(native_bf16):
    native_bf16(True)
    net = small_net()
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        optim = wrapper(net, device_type='cpu')
    assert optim.cast_dtype == torch.bfloat16 and not optim.loss_scaler.is_enabled()
    with optim.optim_context(net):
        assert net[0](torch.randn(2, 3, 8, 8)).dtype == torch.bfloat16


def test_auto_on_a_cpu_without_native_bf16_stays_float32_and_says_why(native_bf16):
    native_bf16(False)
    net = small_net()
    with pytest.warns(UserWarning, match=r'Mixed precision off, training in float32: this '
                      r'CPU has neither AVX512-BF16 nor AMX.*2\.5-2\.8x slower'):
        optim = wrapper(net, device_type='cpu')
    assert optim.cast_dtype is None and not optim.loss_scaler.is_enabled()
    with optim.optim_context(net):
        assert net[0](torch.randn(2, 3, 8, 8)).dtype == torch.float32


def test_asked_bfloat16_without_native_bf16_warns_and_keeps_it(native_bf16):
    native_bf16(False)
    net = small_net()
    with pytest.warns(UserWarning, match='bfloat16 autocast as asked.*emulated'):
        optim = wrapper(net, dtype='bfloat16', device_type='cpu')
    assert optim.cast_dtype == torch.bfloat16


@pytest.mark.parametrize('native', [True, False])
def test_auto_on_cuda_follows_the_gpu(native_bf16, native):
    native_bf16(native)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no warning: auto and float16 are the fast choices
        assert mpow.resolve_amp_dtype('auto', 'cuda') == (torch.bfloat16 if native else
                                                          torch.float16)
        assert mpow.resolve_amp_dtype('float16', 'cuda') == torch.float16
        if native:
            assert mpow.resolve_amp_dtype('bfloat16', 'cuda') == torch.bfloat16
    if not native:
        with pytest.warns(UserWarning, match='this GPU has no native bfloat16'):
            assert mpow.resolve_amp_dtype('bfloat16', 'cuda') == torch.bfloat16


def test_loss_scaling_choices():
    net = small_net()
    assert not wrapper(net, dtype='bfloat16').loss_scaler.is_enabled()  # 'auto'
    assert not wrapper(net, dtype='bfloat16', loss_scale=None).loss_scaler.is_enabled()
    dynamic = wrapper(net, dtype='bfloat16', loss_scale='dynamic').loss_scaler
    assert dynamic.is_enabled()
    static = wrapper(net, dtype='bfloat16', loss_scale=1024.)
    assert static.loss_scaler.get_scale() == 1024. and static.static_loss_scale == 1024.
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


def test_overflow_skips_the_step_and_lowers_the_scale():
    """Non-finite scaled gradients: no step, a lower scale (GradScaler's rule); a clean step
    afterwards clips the unscaled gradients and logs their norm."""
    net = small_net()
    optim = wrapper(net, dtype='bfloat16', loss_scale=dict(init_scale=1024.),
                    clip_grad=dict(max_norm=1e-3))
    before = [p.detach().clone() for p in net.parameters()]
    with optim.optim_context(net):
        loss = net(torch.randn(4, 3, 8, 8)).float().mean()
    optim.update_params(loss * float('inf'))
    assert optim.loss_scaler.get_scale() == 512.
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    x, twin = torch.randn(4, 3, 8, 8), copy.deepcopy(net)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        twin(x).float().square().mean().backward()
    unscaled_norm = torch.nn.utils.clip_grad_norm_(twin.parameters(), float('inf')).item()
    with optim.optim_context(net):
        loss = net(x).float().square().mean()
    optim.update_params(loss)
    assert not all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    norm = optim.message_hub.get_scalar('train/grad_norm').current()
    assert norm == pytest.approx(unscaled_norm, rel=1e-3)  # clipped after unscaling


def test_state_dict_round_trip():
    net = small_net()
    optim = wrapper(net, dtype='bfloat16', loss_scale=256.)
    state = optim.state_dict()
    assert state['loss_scaler']['scale'] == 256.
    other = wrapper(net, dtype='bfloat16', loss_scale='dynamic')
    other.load_state_dict(state)
    assert other.loss_scaler.get_scale() == 256.
    disabled = wrapper(net, dtype='bfloat16', loss_scale=None)
    assert disabled.state_dict()['loss_scaler'] == {}
    other.load_state_dict(disabled.state_dict())  # a float16 run resumed from a bfloat16 one
    assert other.loss_scaler.get_scale() == 256.


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
    enable_amp(cfg)
    for name in ('generator', 'discriminator'):
        wrapper_cfg = cfg.optim_wrapper[name]
        assert wrapper_cfg.type == 'MixedPrecisionOptimWrapper'
        assert wrapper_cfg.dtype == 'auto' and wrapper_cfg.loss_scale == 'auto'
    enable_amp(cfg, 'bfloat16')
    assert cfg.optim_wrapper.generator.dtype == 'bfloat16'
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


@pytest.mark.parametrize('native', [True, False])
def test_amp_auto_runs_both_networks_and_lpips_in_the_chosen_dtype(tmp_path, native_bf16,
                                                                   native):
    """``--amp`` on a CPU with native bfloat16: everything in bfloat16; without: float32."""
    native_bf16(native)
    expected = torch.bfloat16 if native else torch.float32
    runner = Runner.from_cfg(amp_runner_config(tmp_path, 'auto'))
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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        runner.train()
    off = [w for w in caught if 'Mixed precision off' in str(w.message)]
    assert len(off) == (0 if native else 2)  # one per network's wrapper

    assert all(isinstance(runner.optim_wrapper[name], MixedPrecisionOptimWrapper)
               for name in ('generator', 'discriminator'))
    # G runs in the D step (fakes) only; D runs on real and fake (D step) and fake (G step).
    assert seen['generator'] == [expected]
    assert seen['discriminator'] == [expected] * 3
    assert seen['discriminator decoder'] == [expected]
    assert seen['lpips'] and set(seen['lpips']) == {expected}
    for key in ('loss_disc_real', 'loss_disc_fake', 'loss_rec_big', 'loss_rec_part',
                'loss_gen'):
        value = runner.message_hub.get_scalar(f'train/{key}').current()
        assert np.isfinite(value), key


def test_amp_float16_on_cpu_is_refused_clearly(tmp_path):
    if torch.cuda.is_available():
        pytest.skip('float16 is refused on the CPU only; this machine trains on CUDA')
    runner = Runner.from_cfg(amp_runner_config(tmp_path, 'float16'))
    with pytest.raises(ValueError, match=r"float16 autocast on the CPU is refused.*"
                       r"dtype='auto' \(tools/train.py --amp\)"):
        runner.train()
