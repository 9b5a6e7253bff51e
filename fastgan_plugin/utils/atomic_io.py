"""Atomic file writes, and an MMEngine file backend that writes checkpoints atomically.

MMEngine's ``LocalBackend.put`` writes into the final path (a kill leaves a torn checkpoint).
Here a write goes to a hidden ``.<name>.partial-<pid>`` beside it, is fsync'ed and renamed over
the final name, then the folder is fsync'ed: readers see the old file or the whole new one.
"""
import contextlib
import os
import os.path as osp
import re
from typing import Iterable, List, Union

from mmengine.fileio.backends import LocalBackend, register_backend

ATOMIC_BACKEND = 'fastgan_atomic_local'
_PARTIAL_RE = re.compile(r'^\..+\.partial-\d+$')


def partial_path(path: str) -> str:
    """The temporary name that :func:`write_bytes_atomic` writes ``path`` under."""
    folder, name = osp.split(path)
    return osp.join(folder, f'.{name}.partial-{os.getpid()}')


def fsync_dir(folder: str) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):  # e.g. Windows
        fd = os.open(folder or '.', os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bytes_atomic(path: Union[str, os.PathLike], data: bytes, write=None) -> None:
    """Write ``data`` to ``path`` (its folder created if needed), never seen half-written.

    Args:
        write (callable, optional): ``write(file, data)`` instead of ``file.write(data)``.

    Raises:
        OSError: If the write fails; the temporary file is removed, ``path`` left as it was.
    """
    path = os.fspath(path)
    folder = osp.dirname(path)
    os.makedirs(folder or '.', exist_ok=True)
    tmp = partial_path(path)
    try:
        with open(tmp, 'wb') as f:
            if write is None:
                f.write(data)
            else:
                write(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    fsync_dir(folder)


def write_text_atomic(path: Union[str, os.PathLike], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, see :func:`write_bytes_atomic`."""
    write_bytes_atomic(path, text.encode('utf-8'))


def remove_stale_partial_files(folders: Iterable[str]) -> List[str]:
    """Remove the temporary files that killed writers left in ``folders`` (not recursively;
    missing folders are skipped). Returns the removed paths, sorted."""
    partial = sorted(osp.join(folder, name) for folder in set(folders) if osp.isdir(folder)
                     for name in os.listdir(folder)
                     if _PARTIAL_RE.match(name) and osp.isfile(osp.join(folder, name)))
    for path in partial:
        os.remove(path)
    return partial


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend with atomic :meth:`put` and :meth:`put_text`; select it
    with ``backend_args=dict(backend='fastgan_atomic_local')``."""

    def put(self, obj: bytes, filepath: Union[str, os.PathLike]) -> None:
        """Write bytes to ``filepath`` atomically.

        Raises:
            OSError: If the write fails (a full disk), naming the intact checkpoint beside it.
        """
        try:
            write_bytes_atomic(filepath, obj, write=self._write)
        except OSError as error:
            from .checkpoint import find_resume_checkpoint  # that module imports this one
            folder = osp.dirname(os.fspath(filepath))
            intact = find_resume_checkpoint(folder)
            kept = (f'the latest complete checkpoint is {intact}' if intact else
                    f'{folder} holds no complete checkpoint')
            raise OSError(error.errno, f'could not write {os.fspath(filepath)} '
                          f'({error.strerror or error}); the partial file was removed and '
                          f'{kept}. Free disk space (or raise the file size limit) and '
                          'continue with --resume') from error

    def put_text(self, obj: str, filepath: Union[str, os.PathLike],
                 encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically."""
        write_bytes_atomic(filepath, obj.encode(encoding), write=self._write)

    @staticmethod
    def _write(file, data: bytes) -> None:
        """A test seam: tests slow it down to be killed mid-write."""
        file.write(data)
