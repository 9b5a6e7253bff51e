"""Distributed training on CPUs (``--launcher pytorch`` without a GPU)."""
from logging import WARNING

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log


def setup_cpu_distributed(cfg: Config) -> bool:
    """Let a config launched with ``--launcher pytorch`` train on CPUs, with gloo.

    MMEngine 0.10's ``init_dist`` and DDP ``device_ids=[LOCAL_RANK]`` need a GPU; this starts
    the gloo process group itself (MMEngine then uses it) and sets ``device_ids=None``.

    Args:
        cfg (Config): The config; ``env_cfg.dist_cfg`` and ``model_wrapper_cfg`` are updated.

    Returns:
        bool: Whether it set up CPU training (False with a GPU or another launcher).

    Raises:
        ValueError: If ``cfg.sync_bn`` is set (SyncBatchNorm has no CPU kernels).
    """
    if cfg.get('launcher', 'none') != 'pytorch' or torch.cuda.is_available():
        return False
    if cfg.get('sync_bn') is not None:
        raise ValueError(
            f'sync_bn={cfg.sync_bn!r} needs GPUs: PyTorch implements SyncBatchNorm only on '
            'GPUs, and no GPU is visible. Remove sync_bn from the config (or pass '
            '--cfg-options sync_bn=None): each process then normalises with the statistics '
            'of its own batch, as the official FastGAN does.')
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    backend = dist_cfg.get('backend', 'gloo')
    if backend != 'gloo':
        print_log(f'env_cfg.dist_cfg.backend={backend!r} needs GPUs; no GPU is visible, so '
                  'the processes communicate with gloo on the CPU', logger='current',
                  level=WARNING)
        dist_cfg['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg')
    if wrapper is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False),
            device_ids=None)
    else:
        wrapper['device_ids'] = None
    return True


def close_distributed() -> None:
    """End the process group, if one was started, before the interpreter exits.

    Otherwise gloo's threads are torn down at interpreter exit, and a rank leaving while its
    peer is busy can abort (SIGABRT) and fail the ``torchrun`` job.
    """
    if not torch_dist.is_initialized():
        return
    torch_dist.barrier()
    torch_dist.destroy_process_group()
