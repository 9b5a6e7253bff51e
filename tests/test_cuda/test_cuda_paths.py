"""The code paths that exist only on CUDA: float16 autocast with dynamic loss scaling,
bfloat16, the autocast dtype of --amp, channels-last, cuDNN benchmark mode, spectral norm
under CUDA autocast, the NCCL all-reduce of the non-finite check, and SyncBatchNorm with
NCCL (2 GPUs).

Marked ``cuda`` (``pytest -m cuda``); ``tools/gpu_check.sh`` runs them on a CUDA machine.
Without CUDA they are skipped, saying so: there is nothing here a CPU can run.
"""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from mmagic.registry import MODELS
from mmagic.utils import register_all_modules
from mmengine import MessageHub
from mmengine.optim import OptimWrapperDict

import fastgan_plugin  # noqa: F401
from fastgan_plugin.engine.optimizers.mixed_precision_optim_wrapper import (
    MixedPrecisionOptimWrapper,
)
from fastgan_plugin.models.editors.fastgan.modules import sn_conv2d
from helpers.tiny_fastgan import random_real_batch, tiny_fastgan_cfg

register_all_modules()

REPO_ROOT = Path(__file__).resolve().parents[2]
RELIABILITY = REPO_ROOT / 'tests' / 'test_reliability'
IM_SIZE = 256
TIMEOUT = 300

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(),
                       reason='needs CUDA (no GPU here); tools/gpu_check.sh runs these tests '
                       'on a CUDA machine'),
]


def build_model(**overrides):
    cfg = tiny_fastgan_cfg(
        IM_SIZE, ngf=16, ndf=16, nz=32, policy='color,translation,cutout',
        rec_loss=dict(type='ReconstructionLoss', distance='lpips', pretrained=False),
        **overrides)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.cuda().train()


def wrappers(model, **amp):
    def wrapper(module):
        optimizer = torch.optim.Adam(module.parameters(), lr=2e-4, betas=(0.5, 0.999))
        if not amp:
            from mmengine.optim import OptimWrapper
            return OptimWrapper(optimizer)
        return MixedPrecisionOptimWrapper(optimizer=optimizer, device_type='cuda', **amp)
    return OptimWrapperDict(generator=wrapper(model.generator),
                            discriminator=wrapper(model.discriminator))


def batch(seed=0, count=4):
    return random_real_batch(count, IM_SIZE, seed)


def train(model, optim, iterations=3, seed=0):
    hub = MessageHub.get_current_instance()
    logs = []
    for iteration in range(iterations):
        hub.update_info('iter', iteration)
        torch.manual_seed(seed + iteration)
        logs.append({k: v.item() for k, v in model.train_step(batch(iteration), optim).items()})
    return logs


def snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def moved(before, module):
    return sum(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


def assert_finite(logs):
    assert all(torch.isfinite(torch.tensor(list(step.values()))).all() for step in logs), logs


def test_float16_with_dynamic_loss_scaling_trains():
    model = build_model()
    optim = wrappers(model, dtype='float16', loss_scale='dynamic')
    g, d = snapshot(model.generator), snapshot(model.discriminator)
    logs = train(model, optim)
    assert_finite(logs)
    assert moved(g, model.generator) > 0 and moved(d, model.discriminator) > 0
    for net in ('generator', 'discriminator'):
        scaler = optim[net].loss_scaler
        assert scaler.is_enabled() and 0 < scaler.get_scale() < float('inf')


def test_float16_overflow_skips_the_step_and_lowers_the_scale():
    """A scale of 2**40 overflows float16 gradients: the GradScaler skips the step (the
    weights stay) and lowers the scale, as dynamic scaling must."""
    model = build_model()
    optim = wrappers(model, dtype='float16', loss_scale=dict(init_scale=2.0**40))
    d = snapshot(model.discriminator)
    MessageHub.get_current_instance().update_info('iter', 0)
    model.train_step(batch(), optim)
    assert optim['discriminator'].loss_scaler.get_scale() < 2.0**40
    assert moved(d, model.discriminator) == 0


def test_bfloat16_trains_without_loss_scaling():
    model = build_model()
    optim = wrappers(model, dtype='bfloat16', loss_scale='auto')
    g = snapshot(model.generator)
    logs = train(model, optim)
    assert_finite(logs)
    assert moved(g, model.generator) > 0
    assert not optim['generator'].loss_scaler.is_enabled()
    assert optim['generator'].cast_dtype == torch.bfloat16


def test_auto_dtype_is_bfloat16_where_the_gpu_has_it_natively_else_scaled_float16():
    """What ``tools/train.py --amp`` (dtype 'auto') trains with on this GPU."""
    model = build_model()
    optim = wrappers(model, dtype='auto', loss_scale='auto')
    native_bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
    for net in ('generator', 'discriminator'):
        assert optim[net].cast_dtype == (torch.bfloat16 if native_bf16 else torch.float16)
        assert optim[net].loss_scaler.is_enabled() is not native_bf16
    assert_finite(train(model, optim, iterations=2))


def test_channels_last_matches_the_default_layout():
    def first_step(channels_last):
        model = build_model(channels_last=channels_last)
        return train(model, wrappers(model), iterations=1)

    torch.backends.cudnn.deterministic = True
    try:
        logs = [first_step(flag) for flag in (False, True)]
    finally:
        torch.backends.cudnn.deterministic = False
    for name, value in logs[0][0].items():
        assert logs[1][0][name] == pytest.approx(value, rel=1e-3, abs=1e-4), name


def test_channels_last_weights_and_inputs_stay_channels_last():
    model = build_model(channels_last=True)
    weights = [p for p in model.parameters() if p.dim() == 4]
    train(model, wrappers(model, dtype='float16'), iterations=1)
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in weights)


def test_cudnn_benchmark_mode_trains():
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True
    try:
        model = build_model()
        assert_finite(train(model, wrappers(model, dtype='float16')))
    finally:
        torch.backends.cudnn.benchmark = previous


def test_spectral_norm_under_cuda_autocast_normalises_in_float32():
    """Under CUDA autocast the power iteration and sigma stay float32 (float16 torch.mv
    would be inaccurate); the convolution itself runs in float16."""
    torch.manual_seed(0)
    conv = sn_conv2d(64, 64, 3, 1, 1).cuda()
    x = torch.randn(2, 64, 32, 32, device='cuda')
    conv.eval()
    full = conv(x)
    with torch.autocast('cuda', dtype=torch.float16):
        half = conv(x)
        weight = conv.weight
    assert half.dtype == torch.float16
    assert weight.dtype == torch.float32
    torch.testing.assert_close(half.float(), full, rtol=2e-2, atol=2e-2)
    conv.train()
    with torch.autocast('cuda', dtype=torch.float16):
        conv(x)
    buffers = dict(conv.named_buffers())
    assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in buffers.values())


def run_script(tmp_path, code, nproc):
    script = tmp_path / 'script.py'
    script.write_text(textwrap.dedent(code))
    return subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--standalone',
         f'--nproc_per_node={nproc}', str(script)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=TIMEOUT)


def test_nonfinite_check_agrees_over_nccl(tmp_path):
    """The non-finite check all-reduces its flags over NCCL (CUDA tensors): a NaN on the
    last process makes every process skip. One process per GPU, up to 2."""
    nproc = min(2, torch.cuda.device_count())
    result = run_script(tmp_path, f"""
        import os, torch, torch.distributed as dist
        import fastgan_plugin
        from mmagic.registry import MODELS
        from mmagic.utils import register_all_modules
        register_all_modules()
        rank = int(os.environ['RANK'])
        torch.cuda.set_device(int(os.environ['LOCAL_RANK']))
        dist.init_process_group('nccl')
        model = MODELS.build(dict(
            type='FastGAN', nonfinite='skip',
            generator=dict(type='SLEGenerator', im_size=256, ngf=8, nz=16),
            discriminator=dict(type='SSDiscriminator', im_size=256, ndf=8))).cuda()
        bad = torch.tensor(float('nan') if rank == {nproc - 1} else 1.0, device='cuda')
        good = torch.tensor(1.0, device='cuda')
        assert model.check_finite(dict(loss=good), 'generator') is True
        assert model.check_finite(dict(loss=bad), 'discriminator') is False
        print('rank', rank, 'agreed')
        dist.destroy_process_group()
    """, nproc)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count('agreed') == nproc


@pytest.mark.skipif(torch.cuda.device_count() < 2,
                    reason='needs 2 CUDA GPUs for SyncBatchNorm over NCCL '
                    f'({torch.cuda.device_count()} here); tools/gpu_check.sh runs it')
def test_sync_batch_norm_over_nccl_with_two_processes(tmp_path):
    """2 processes, ``sync_bn='torch'``, NCCL: the BatchNorm statistics are those of the
    global batch, so the running statistics agree on both ranks (they differ without
    sync_bn, see tests/test_reliability/test_distributed.py)."""
    sys.path.insert(0, str(RELIABILITY))
    from reliability_helpers import (
        TRAIN_SCRIPT,
        make_images,
        subprocess_env,
        tail,
        tiny_config,
    )
    data = make_images(tmp_path / 'images', 8)
    work = tmp_path / 'work'
    config = tmp_path / 'sync_bn.py'
    tiny_config(work, data, **{
        'sync_bn': 'torch', 'env_cfg.dist_cfg.backend': 'nccl',
        'custom_hooks': [dict(type='DumpStateHook')]}).dump(str(config))
    log = tmp_path / 'train.log'
    with open(log, 'wb') as out:
        status = subprocess.run(
            [sys.executable, '-m', 'torch.distributed.run', '--standalone',
             '--nproc_per_node=2', TRAIN_SCRIPT, str(config), '--launcher', 'pytorch'],
            cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, env=subprocess_env(),
            timeout=TIMEOUT).returncode
    assert status == 0, tail(log)
    rank0, rank1 = (torch.load(work / f'weights_rank{r}.pt', weights_only=True)
                    for r in (0, 1))
    stats = [k for k in rank0['buffers'] if k.endswith(('running_mean', 'running_var'))
             and not k.startswith('generator_ema.')]
    assert stats
    for key in stats:
        torch.testing.assert_close(rank0['buffers'][key], rank1['buffers'][key])
    for key, value in rank0['params'].items():
        torch.testing.assert_close(value, rank1['params'][key])
