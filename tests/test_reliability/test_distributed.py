"""Distributed training with 2 CPU processes (gloo): train, checkpoint, resume.

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
import subprocess
import sys

import pytest
import torch
from mmagic.registry import MODELS
from mmengine.model import convert_sync_batchnorm
from mmengine.registry import DefaultScope
from reliability_helpers import (
    REPO_ROOT,
    TRAIN_SCRIPT,
    last_checkpoint,
    load_checkpoint,
    make_images,
    subprocess_env,
    tail,
    tiny_config,
)

TIMEOUT = 400


def torchrun(config, log, *args):
    """Run ``tools/train.py`` in 2 processes; return the exit status."""
    with open(log, 'ab') as out:
        return subprocess.run(
            [sys.executable, '-m', 'torch.distributed.run', '--standalone',
             '--nproc_per_node=2', TRAIN_SCRIPT, str(config), '--launcher', 'pytorch', *args],
            cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, env=subprocess_env(),
            timeout=TIMEOUT).returncode


def _config(tmp_path, **options):
    data = make_images(tmp_path / 'images', 4)
    work = tmp_path / 'work'
    config = tmp_path / 'tiny_fastgan.py'
    tiny_config(work, data, **{'custom_hooks': [dict(type='DumpStateHook')], **options}).dump(
        str(config))
    return config, work


def _ranks(work):
    return [torch.load(work / f'weights_rank{r}.pt', weights_only=True) for r in (0, 1)]


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


@pytest.mark.slow
def test_two_processes_train_checkpoint_and_resume(tmp_path):
    config, work = _config(tmp_path)
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
    assert "ValueError: sync_bn='torch' needs GPUs" in text, tail(log)
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
