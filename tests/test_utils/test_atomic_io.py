"""Atomic writes: a reader sees the old file or the whole new one, never a part."""
import os

import pytest
from mmengine.fileio import get_file_backend

from fastgan_plugin.utils.atomic_io import (
    ATOMIC_BACKEND,
    AtomicLocalBackend,
    partial_path,
    remove_stale_partial_files,
    write_bytes_atomic,
    write_text_atomic,
)


def test_writes_and_replaces(tmp_path):
    path = tmp_path / 'sub' / 'ckpt.pth'
    write_bytes_atomic(path, b'first')
    write_bytes_atomic(path, b'second')
    assert path.read_bytes() == b'second'
    assert sorted(os.listdir(path.parent)) == ['ckpt.pth']


def test_a_failed_write_keeps_the_old_file_and_leaves_no_partial(tmp_path):
    path = tmp_path / 'ckpt.pth'
    write_bytes_atomic(path, b'old')

    def fail_half_way(file, data):
        file.write(data[:2])
        raise OSError('disk full')

    with pytest.raises(OSError, match='disk full'):
        write_bytes_atomic(path, b'new content', write=fail_half_way)
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['ckpt.pth']


def test_partial_files_of_killed_writers_are_found_and_removed(tmp_path):
    path = str(tmp_path / 'iter_4.pth')
    torn = partial_path(path)
    with open(torn, 'wb') as f:  # what a writer killed half way leaves
        f.write(b'half')
    (tmp_path / 'iter_2.pth').write_bytes(b'whole')
    (tmp_path / '.hidden_but_ours_not').write_bytes(b'x')
    assert os.path.basename(torn).startswith('.iter_4.pth.partial-')
    assert remove_stale_partial_files([str(tmp_path)] * 2 + [str(tmp_path / 'missing')]) == [
        torn]  # each folder once
    assert sorted(os.listdir(tmp_path)) == ['.hidden_but_ours_not', 'iter_2.pth']


def test_text_and_backend(tmp_path):
    write_text_atomic(tmp_path / 'last_checkpoint', 'é/iter_2.pth')
    assert (tmp_path / 'last_checkpoint').read_text(encoding='utf-8') == 'é/iter_2.pth'
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend=ATOMIC_BACKEND))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'bytes', tmp_path / 'a.pth')
    backend.put_text('text', tmp_path / 'b.txt')
    assert backend.get(tmp_path / 'a.pth') == b'bytes'
    assert backend.get_text(tmp_path / 'b.txt') == 'text'
