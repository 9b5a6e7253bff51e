"""Prepare a checkpoint for publishing: weights and minimal meta, hash in the file name."""
import hashlib
import io
import os

import torch
from mmengine.runner import CheckpointLoader

# Where the weights come from, nothing local (config text, work dir, time, seed are dropped).
PUBLISHED_META_KEYS = ('iter', 'mmengine_version', 'dataset_meta', 'official_fastgan')
SUFFIX = '.pth'


def published_path(out_file: str, sha256: str) -> str:
    """``dir/name.pth`` (or ``dir/name``) -> ``dir/name-<first 8 hex of sha256>.pth``; only a
    final ``.pth`` is replaced (mmagic's ``rstrip('.pth')`` made ``depth.pth`` ``de-*.pth``)."""
    stem = out_file[:-len(SUFFIX)] if out_file.endswith(SUFFIX) else out_file
    return f'{stem}-{sha256[:8]}{SUFFIX}'


def publish_checkpoint(in_file: str, out_file: str) -> str:
    """Write the ``state_dict`` and :data:`PUBLISHED_META_KEYS` meta of ``in_file`` (path or URL,
    read by MMEngine's ``weights_only=True`` loaders) to :func:`published_path` of
    ``out_file``; returns that path.

    Raises:
        pickle.UnpicklingError: If ``weights_only=True`` refuses ``in_file``.
        ValueError: If ``in_file`` has no ``state_dict``.
    """
    checkpoint = CheckpointLoader.load_checkpoint(in_file, map_location='cpu')
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        found = list(checkpoint)[:10] if isinstance(checkpoint, dict) else type(checkpoint)
        raise ValueError(f'{in_file} is not an MMEngine checkpoint: expected a dict with '
                         f"'state_dict', got {found}")
    meta = checkpoint.get('meta') or {}
    buffer = io.BytesIO()
    torch.save(dict(state_dict=checkpoint['state_dict'],
                    meta={key: meta[key] for key in PUBLISHED_META_KEYS if key in meta}), buffer)
    final = published_path(out_file, hashlib.sha256(buffer.getvalue()).hexdigest())
    os.makedirs(os.path.dirname(os.path.abspath(final)), exist_ok=True)
    with open(final, 'wb') as f:
        f.write(buffer.getvalue())
    return final
