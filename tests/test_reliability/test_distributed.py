"""Distributed training with 2 CPU processes (gloo): train, checkpoint, resume exactly;
each process draws its own randomness, and FID / KID get ``fake_nums`` distinct fakes.

``torch.distributed.run --nproc_per_node=2 tools/train.py CONFIG --launcher pytorch``, as
``tools/dist_train.sh`` runs it, with the runtime's ``MMSeparateDistributedDataParallel``
(``find_unused_parameters=False``: the decoders are unused on the fake pass, but every
discriminator parameter gets its gradient from the real pass of the same backward).

SyncBatchNorm (``sync_bn='torch'``) cannot run here: PyTorch implements it only on GPUs
(``aten::batch_norm_stats`` has no CPU kernel, and DDP refuses SyncBatchNorm in CPU
modules). What is tested instead: MMEngine's conversion turns every BatchNorm layer of
FastGAN into SyncBatchNorm with the same checkpoint keys, and a CPU run with ``sync_bn``
stops before building anything with a message saying what to do (instead of PyTorch's
error from inside DDP).
"""
import copy
import signal
import subprocess
import sys

import pytest
import torch
from mmagic.registry import MODELS
from mmengine.model import convert_sync_batchnorm
from mmengine.registry import DefaultScope
from reliability_helpers import (
    DEMO_CONFIG,
    REPO_ROOT,
    TRAIN_SCRIPT,
    last_checkpoint,
    load_checkpoint,
    make_images,
    subprocess_env,
    tail,
    tiny_config,
    wait_for,
)

from fastgan_plugin.apis.config import load_config
from helpers.feature_extractor import build_torchscript_feature_extractor

TIMEOUT = 400


def torchrun(config, log, *args):
    """Run ``tools/train.py`` in 2 processes; return the exit status."""
    with open(log, 'ab') as out:
        return subprocess.run(
            [sys.executable, '-m', 'torch.distributed.run', '--standalone',
             '--nproc_per_node=2', TRAIN_SCRIPT, str(config), '--launcher', 'pytorch', *args],
            cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, env=subprocess_env(),
            timeout=TIMEOUT).returncode


def _config(tmp_path, name='work', **options):
    data = make_images(tmp_path / 'images', 4)
    work = tmp_path / name
    config = tmp_path / f'tiny_fastgan_{name}.py'
    tiny_config(work, data, **{'custom_hooks': [dict(type='DumpStateHook')], **options}).dump(
        str(config))
    return config, work


def _ranks(work, name='weights'):
    return [torch.load(work / f'{name}_rank{r}.pt', weights_only=True) for r in (0, 1)]


def _assert_synchronised(work):
    """Parameters equal on both ranks (gradients were averaged), while BatchNorm running
    statistics differ (each rank saw its own half of the data, broadcast_buffers=False)."""
    rank0, rank1 = _ranks(work)
    assert rank0['params'].keys() == rank1['params'].keys()
    unequal = [k for k in rank0['params'] if not torch.equal(rank0['params'][k],
                                                             rank1['params'][k])]
    assert unequal == []
    assert any(not torch.equal(rank0['buffers'][k], rank1['buffers'][k])
               for k in rank0['buffers'] if k.startswith('discriminator.') and 'running_mean' in k)


def test_the_runtime_seeds_each_process_differently():
    """mmagic's runtime base, which ours inherits: seed + rank in process ``rank``."""
    randomness = load_config(DEMO_CONFIG).randomness
    assert randomness.seed == 0 and randomness.diff_rank_seed is True


@pytest.mark.slow
def test_each_process_draws_its_own_randomness_and_fid_gets_distinct_fakes(tmp_path):
    """Rank 0 and rank 1 differ in their latents, augmented fakes and RNG state within
    the first iteration; the FID computed by 2 processes receives ``fake_nums`` fakes
    (half from each process), all distinct."""
    inception = build_torchscript_feature_extractor(str(tmp_path / 'inception.pt'),
                                                    feature_dim=8)
    fake_nums = 8
    fid = dict(type='RecordingFrechetInceptionDistance', record_path=str(tmp_path / 'fakes.pt'),
               prefix='FID-Full', fake_nums=fake_nums, real_nums=-1,
               inception_style='StyleGAN', inception_path=inception,
               inception_pkl=str(tmp_path / 'real_features.pkl'), sample_model='ema')
    config, work = _config(tmp_path, **{
        'custom_hooks': [dict(type='DumpRandomnessHook')],
        'train_cfg.val_interval': 2,
        'val_cfg': dict(type='MultiValLoop'),
        'val_evaluator': dict(type='Evaluator', metrics=[fid]),
    })
    cfg = load_config(str(config))
    cfg.val_dataloader = copy.deepcopy(cfg.train_dataloader)
    cfg.val_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
    cfg.dump(str(config))
    log = tmp_path / 'train.log'
    assert torchrun(config, log) == 0, tail(log)

    rank0, rank1 = _ranks(work, 'randomness')
    assert not torch.equal(rank0['rng_state'], rank1['rng_state'])
    assert rank0['latents'].shape == rank1['latents'].shape == (2, 16)
    assert not torch.isclose(rank0['latents'], rank1['latents']).any()
    assert rank0['fake_img'].shape == rank1['fake_img'].shape and rank0['fake_img'].ndim == 4
    for key in ('fake_img', 'fake_img_small'):
        assert not torch.isclose(rank0[key], rank1[key]).all(dim=(1, 2, 3)).any()

    evaluated = torch.load(tmp_path / 'fakes.pt', weights_only=True)
    assert evaluated['features'].shape == (fake_nums, 8)
    images = evaluated['images'].flatten(1)
    assert images.shape[0] == fake_nums
    assert len(torch.unique(images, dim=0)) == fake_nums
    assert 'FID-Full/fid' in log.read_text()


@pytest.mark.slow
def test_two_processes_train_checkpoint_and_resume_exactly(tmp_path):
    """2 + 2 iterations with a resume equal 4 straight ones, on each rank: the weights
    (saved under the keys MMEngine loads, also for the networks wrapped one by one) and
    the RNG states of both processes are restored (seeded, deterministic, one data-loader
    worker, as in test_determinism.py)."""
    exact = {'train_dataloader.num_workers': 1, 'train_dataloader.persistent_workers': True,
             'randomness.deterministic': True}
    config, work = _config(tmp_path, **exact)
    log = tmp_path / 'train.log'
    assert torchrun(config, log) == 0, tail(log)
    assert last_checkpoint(work) == 'iter_2.pth'
    meta = load_checkpoint(work / 'iter_2.pth')['meta']
    assert meta['iter'] == 2 and len(meta['rng_states']) == 2  # one per process
    _assert_synchronised(work)

    assert torchrun(config, log, '--resume', '--cfg-options', 'train_cfg.max_iters=4') == 0, \
        tail(log)
    assert 'resumed epoch: 0, iter: 2' in log.read_text()
    assert last_checkpoint(work) == 'iter_4.pth'
    assert load_checkpoint(work / 'iter_4.pth')['meta']['iter'] == 4
    _assert_synchronised(work)

    straight_config, straight = _config(tmp_path, 'straight', **exact,
                                        **{'train_cfg.max_iters': 4})
    assert torchrun(straight_config, log) == 0, tail(log)
    for rank, (resumed, uninterrupted) in enumerate(zip(_ranks(work), _ranks(straight))):
        unequal = {kind: [k for k, v in uninterrupted[kind].items()
                          if not torch.equal(v, resumed[kind][k])]
                   for kind in ('params', 'buffers')}
        assert unequal['params'] == [], rank
        # A checkpoint holds process 0's BatchNorm statistics (each process keeps its own,
        # broadcast_buffers=False), so after a resume process 1 continues from those; they
        # do not enter training (BatchNorm normalises with batch statistics there).
        assert all(k.endswith(('running_mean', 'running_var')) for k in unequal['buffers'])
        assert rank == 1 or unequal['buffers'] == []


@pytest.mark.slow
def test_sigterm_to_torchrun_checkpoints_every_rank_then_resumes(tmp_path):
    """torchrun forwards SIGTERM to each worker's process group (data-loader workers
    included); both ranks stop after the same iteration, whose checkpoint holds both RNG
    states, and the run resumes from it."""
    config, work = _config(tmp_path, **{'train_cfg.max_iters': 6,
                                        'default_hooks.checkpoint.interval': 100,
                                        'train_dataloader.num_workers': 1,
                                        'train_dataloader.persistent_workers': True,
                                        'custom_hooks': [dict(type='PauseInIterationHook')]})
    log, marker = tmp_path / 'train.log', tmp_path / 'paused'
    env = subprocess_env(FASTGAN_TEST_PAUSE_ITER='3', FASTGAN_TEST_PAUSE_MARKER=str(marker))
    with open(log, 'ab') as out:
        run = subprocess.Popen(
            [sys.executable, '-m', 'torch.distributed.run', '--standalone',
             '--nproc_per_node=2', TRAIN_SCRIPT, str(config), '--launcher', 'pytorch'],
            cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    wait_for(marker.exists, run, log, TIMEOUT, 'iteration 3')
    run.send_signal(signal.SIGTERM)
    run.wait(timeout=TIMEOUT)  # torchrun itself ends with its SignalException (status 1)
    assert last_checkpoint(work) == 'iter_3.pth', tail(log)
    meta = load_checkpoint(work / 'iter_3.pth')['meta']
    assert meta['iter'] == 3 and len(meta['rng_states']) == 2
    assert f'Pre-empted by SIGTERM: saved {work}/iter_3.pth' in log.read_text()
    assert torchrun(config, log, '--resume') == 0, tail(log)
    assert 'resumed epoch: 0, iter: 3' in log.read_text()
    assert last_checkpoint(work) == 'iter_6.pth'


def test_sync_bn_on_the_cpu_is_refused_before_training(tmp_path):
    """One rank's command, as torchrun starts it (the check comes before any rendezvous)."""
    config, work = _config(tmp_path, sync_bn='torch')
    log = tmp_path / 'train.log'
    env = subprocess_env(RANK='0', LOCAL_RANK='0', WORLD_SIZE='2', MASTER_ADDR='127.0.0.1',
                         MASTER_PORT='29599')
    with open(log, 'wb') as out:
        status = subprocess.run([sys.executable, TRAIN_SCRIPT, str(config), '--launcher',
                                 'pytorch'], cwd=REPO_ROOT, stdout=out,
                                stderr=subprocess.STDOUT, env=env, timeout=TIMEOUT).returncode
    assert status != 0
    text = log.read_text()
    assert "train.py: error: sync_bn='torch' needs GPUs" in text, tail(log)  # tool_utils.cli
    assert '--cfg-options sync_bn=None' in text
    assert not work.exists() or not list(work.glob('*.pth'))


def test_sync_bn_conversion_covers_every_batchnorm_and_keeps_checkpoint_keys():
    """What the runner does with sync_bn='torch' in distributed training."""
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(tiny_config('unused', None).model)
    plain = {k: v.shape for k, v in model.state_dict().items()}
    converted = convert_sync_batchnorm(model, 'torch')
    kinds = {type(m).__name__ for m in converted.modules()
             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)}
    assert kinds == {'SyncBatchNorm'}
    assert {k: v.shape for k, v in converted.state_dict().items()} == plain
