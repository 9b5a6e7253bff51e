"""Atomic file writes, and an MMEngine file backend that writes checkpoints atomically.

MMEngine's ``LocalBackend.put`` opens the final path and writes into it, so a process
killed during a checkpoint write (SIGKILL, out of memory, a pre-empted node) leaves a
torn ``iter_N.pth`` that ``--resume`` then picks. Here every write goes to a temporary
file in the same folder, is flushed and fsync'ed, and only then renamed over the final
name with :func:`os.replace` (atomic on POSIX and Windows within one file system); the
folder is fsync'ed after the rename so that the new name survives a power cut. Readers
therefore see the old file or the complete new one, never a part.

Temporary files are named ``.<name>.partial-<pid>`` (hidden, and never ending in
``.pth``), so nothing that lists checkpoints picks one; :func:`remove_stale_partial_files`
removes those left behind by a killed process.
"""
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
    try:
        fd = os.open(folder or '.', os.O_RDONLY)
    except OSError:  # e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes_atomic(path: Union[str, os.PathLike], data: bytes, write=None) -> None:
    """Write ``data`` to ``path`` so that ``path`` is never seen half-written.

    Args:
        path (str | os.PathLike): The final file. Its folder is created if needed.
        data (bytes): The content.
        write (callable, optional): ``write(file, data)`` used instead of
            ``file.write(data)`` (tests slow it down to be killed mid-write).

    Raises:
        OSError: If writing, syncing or renaming fails; the temporary file is removed
            and an existing ``path`` is left as it was.
    """
    path = os.fspath(path)
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
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
    """Remove the temporary files of :func:`write_bytes_atomic` that killed writers left in
    ``folders`` (each once, not recursively; missing folders are skipped); call it before
    writing there. Returns the removed paths, sorted."""
    partial = sorted(osp.join(folder, name) for folder in set(folders) if osp.isdir(folder)
                     for name in os.listdir(folder)
                     if _PARTIAL_RE.match(name) and osp.isfile(osp.join(folder, name)))
    for path in partial:
        os.remove(path)
    return partial


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local file backend with atomic :meth:`put` and :meth:`put_text`.

    Select it with ``backend_args=dict(backend='fastgan_atomic_local')`` wherever MMEngine
    takes ``backend_args`` (``default_hooks.checkpoint`` of ``configs/_base_/fastgan_runtime.py``
    does); reading, listing and removing are ``LocalBackend``'s.
    """

    def put(self, obj: bytes, filepath: Union[str, os.PathLike]) -> None:
        """Write bytes to ``filepath`` atomically (temporary file, fsync, rename).

        Raises:
            OSError: If the write fails (a full disk, a file size limit): naming the file,
                and the latest complete checkpoint beside it, which is left as it was.
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
        """Write ``data`` into the open temporary ``file`` (a test seam)."""
        file.write(data)
