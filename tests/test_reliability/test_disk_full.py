"""A checkpoint write that fails for lack of space ends the run with one line naming the file
and the checkpoint that is intact, and leaves no partial file. A real ``tools/train.py``
process under a file size limit (``RLIMIT_FSIZE``, as ``ulimit -f`` sets it) that the next
checkpoint exceeds: the write fails with EFBIG where a full disk gives ENOSPC, through the
same code."""
import re
import resource

import pytest
from reliability_helpers import (
    last_checkpoint,
    load_checkpoint,
    make_images,
    start_training,
    tail,
    tiny_config,
)

pytestmark = pytest.mark.slow
TIMEOUT = 300


def test_a_failed_checkpoint_write_names_the_file_and_the_intact_checkpoint(tmp_path):
    work = tmp_path / 'work'
    config = tmp_path / 'tiny_fastgan.py'
    tiny_config(work, make_images(tmp_path / 'images', 4)).dump(str(config))
    log = tmp_path / 'train.log'
    assert start_training(config, log).wait(timeout=TIMEOUT) == 0, tail(log)
    size = (work / 'iter_2.pth').stat().st_size

    def limit_file_size():
        resource.setrlimit(resource.RLIMIT_FSIZE, (size // 2, size // 2))

    log = tmp_path / 'full.log'
    run = start_training(config, log, '--resume', '--cfg-options', 'train_cfg.max_iters=4',
                         preexec_fn=limit_file_size)
    assert run.wait(timeout=TIMEOUT) == 1, tail(log)
    errors = [line for line in log.read_text().splitlines() if 'error:' in line]
    assert len(errors) == 1, tail(log)
    assert re.fullmatch(
        rf'train.py: error: \[Errno 27\] could not write {work}/iter_4.pth \(File too large\); '
        rf'the partial file was removed and the latest complete checkpoint is {work}/'
        r'iter_2.pth. Free disk space \(or raise the file size limit\) and continue with '
        r'--resume \(--debug shows the traceback\)', errors[0]), errors[0]
    assert sorted(p.name for p in work.iterdir() if p.suffix == '.pth' or '.partial-' in
                  p.name) == ['iter_2.pth']
    assert last_checkpoint(work) == 'iter_2.pth'
    assert load_checkpoint(work / 'iter_2.pth')['meta']['iter'] == 2
