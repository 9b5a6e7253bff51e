"""Prepare a checkpoint for publishing: weights and minimal meta, hash in the file name."""
import hashlib
import io
import os
import pickle

import torch

# Meta entries a published checkpoint keeps: where the weights come from, nothing local
# (the config text, work dir, time, seed and hook messages are dropped).
PUBLISHED_META_KEYS = ('iter', 'mmengine_version', 'dataset_meta', 'official_fastgan')
HASH_LENGTH = 8
SUFFIX = '.pth'


def published_path(out_file: str, sha256: str) -> str:
    """``dir/name.pth`` (or ``dir/name``) -> ``dir/name-<first 8 hex of sha256>.pth``.

    Only a final ``.pth`` is replaced (mmagic's ``publish_model.py`` strips with
    ``rstrip('.pth')``, which also eats trailing ``p``, ``t``, ``h`` and ``.`` letters:
    ``depth.pth`` became ``de-<hash>.pth``).
    """
    stem = out_file[:-len(SUFFIX)] if out_file.endswith(SUFFIX) else out_file
    return f'{stem}-{sha256[:HASH_LENGTH]}{SUFFIX}'


def publish_checkpoint(in_file: str, out_file: str) -> str:
    """Write ``in_file``'s weights to ``out_file`` with the sha256 prefix in the name.

    Keeps ``state_dict`` and the meta entries of :data:`PUBLISHED_META_KEYS`; drops the
    optimizer, message hub, parameter schedulers and everything else. The input is read
    with ``weights_only=True``.

    Args:
        in_file (str): An MMEngine checkpoint (``tools/train.py``,
            ``tools/model_converters/convert_official_checkpoint.py``).
        out_file (str): Output name without the hash, see :func:`published_path`.

    Returns:
        str: The path written.

    Raises:
        ValueError: If ``in_file`` is refused by ``weights_only=True`` or has no
            ``state_dict``.
    """
    try:
        checkpoint = torch.load(in_file, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as error:
        raise ValueError(f'{in_file} was refused by torch.load(weights_only=True) (nothing in '
                         f'it was run): {error}') from error
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        found = list(checkpoint)[:10] if isinstance(checkpoint, dict) else type(checkpoint)
        raise ValueError(f'{in_file} is not an MMEngine checkpoint: expected a dict with '
                         f"'state_dict', got {found}")
    meta = checkpoint.get('meta') or {}
    published = dict(
        state_dict=checkpoint['state_dict'],
        meta={key: meta[key] for key in PUBLISHED_META_KEYS if key in meta})
    buffer = io.BytesIO()
    torch.save(published, buffer)
    data = buffer.getvalue()
    final = published_path(out_file, hashlib.sha256(data).hexdigest())
    os.makedirs(os.path.dirname(os.path.abspath(final)), exist_ok=True)
    with open(final, 'wb') as f:
        f.write(data)
    return final
