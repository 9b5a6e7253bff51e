"""AtomicCheckpointHook never removes a checkpoint before its replacement is written, and
max_keep_ckpts never removes the best one. A toy model trains in MMEngine's runner; a test
backend makes chosen checkpoint writes fail (a full disk, or a kill, at that moment)."""
import pytest
from mmengine.fileio.backends import register_backend

import fastgan_plugin  # noqa: F401
from fastgan_plugin.engine.hooks import AtomicCheckpointHook
from fastgan_plugin.utils.atomic_io import AtomicLocalBackend
from helpers.toy_runner import toy_runner


@register_backend('failing_atomic_local', force=True)
class _FailingBackend(AtomicLocalBackend):
    fail_on = None  # a file name whose write fails

    def _write(self, file, data):
        if self.fail_on and f'.{self.fail_on}.partial-' in file.name:
            file.write(data[:10])
            raise OSError(f'simulated failure writing {self.fail_on}')
        file.write(data)


def _train(work_dir, scores, max_iters=3):
    hook = AtomicCheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=1, save_best='score',
                                rule='less', backend_args=dict(backend='failing_atomic_local'))
    runner = toy_runner(work_dir, hook, max_iters, scores)
    runner.train()
    return runner


def _files(work_dir):
    return sorted(p.name for p in work_dir.glob('*.pth'))


@pytest.fixture(autouse=True)
def no_failure():
    yield
    _FailingBackend.fail_on = None


def test_max_keep_ckpts_keeps_the_best_and_prunes_after_saving(tmp_path):
    _train(tmp_path, scores=[1.0, 2.0, 3.0])  # the first is the best
    assert _files(tmp_path) == ['best_score_iter_1.pth', 'iter_3.pth']
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_3.pth')


def test_a_failed_write_of_the_next_checkpoint_keeps_the_previous_one(tmp_path):
    _FailingBackend.fail_on = 'iter_2.pth'
    with pytest.raises(OSError, match='simulated failure writing iter_2.pth'):
        _train(tmp_path, scores=[1.0, 2.0, 3.0])
    # MMEngine's CheckpointHook would have removed iter_1.pth (max_keep_ckpts=1) first.
    assert _files(tmp_path) == ['best_score_iter_1.pth', 'iter_1.pth']
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_1.pth')
    assert not [p for p in tmp_path.iterdir() if '.partial-' in p.name]


def test_a_failed_write_of_a_new_best_keeps_the_previous_best(tmp_path):
    _FailingBackend.fail_on = 'best_score_iter_2.pth'
    with pytest.raises(OSError, match='simulated failure writing best_score_iter_2.pth'):
        _train(tmp_path, scores=[2.0, 1.0, 3.0])  # iteration 2 is a new best
    assert 'best_score_iter_1.pth' in _files(tmp_path)


def test_a_new_best_replaces_the_previous_one_after_it_is_written(tmp_path):
    _train(tmp_path, scores=[2.0, 1.0, 3.0])
    assert _files(tmp_path) == ['best_score_iter_2.pth', 'iter_3.pth']


def test_validation_without_training_needs_no_file_backend(tmp_path):
    """runner.val() alone (no before_train, so no file backend) with save_best off, as a
    learning check that scores the initial generator does."""
    runner = toy_runner(tmp_path, AtomicCheckpointHook(interval=1, by_epoch=False),
                        scores=[1.0])
    assert runner.val() == dict(score=1.0)
    assert _files(tmp_path) == []
