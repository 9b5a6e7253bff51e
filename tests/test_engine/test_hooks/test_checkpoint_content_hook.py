"""MMEngine's CheckpointHook with the atomic backend and CheckpointContentHook: a failed write
keeps the previous checkpoint, max_keep_ckpts=1 is refused, and the message hub is stored as
plain data that loads with weights_only=True and resumes. A toy model trains in MMEngine's
runner; a test backend makes a chosen checkpoint write fail (a full disk at that moment)."""
import subprocess
import sys

import pytest
import torch
from mmengine.fileio.backends import register_backend
from mmengine.hooks import CheckpointHook
from mmengine.logging import HistoryBuffer

import fastgan_plugin  # noqa: F401
from fastgan_plugin.engine.hooks import CheckpointContentHook
from fastgan_plugin.utils.atomic_io import AtomicLocalBackend
from helpers.toy_runner import toy_runner


@register_backend('failing_atomic_local', force=True)
class _FailingBackend(AtomicLocalBackend):
    fail_on = None  # a file name whose write fails

    def _write(self, file, data):
        if self.fail_on and f'.{self.fail_on}.partial-' in file.name:
            file.write(data[:10])
            raise OSError(28, 'No space left on device')
        file.write(data)


@pytest.fixture(autouse=True)
def no_failure():
    yield
    _FailingBackend.fail_on = None


def _runner(work_dir, max_iters=3, max_keep_ckpts=2, **kwargs):
    hook = CheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=max_keep_ckpts,
                          backend_args=dict(backend='failing_atomic_local'))
    return toy_runner(work_dir, hook, max_iters,
                      default_hooks=dict(content=CheckpointContentHook()), **kwargs)


def _files(work_dir):
    return sorted(p.name for p in work_dir.glob('*.pth'))


def test_a_failed_write_keeps_the_previous_checkpoint_and_names_it(tmp_path):
    _FailingBackend.fail_on = 'iter_3.pth'
    with pytest.raises(OSError) as info:
        _runner(tmp_path).train()
    message = str(info.value)
    assert f'could not write {tmp_path}/iter_3.pth (No space left on device)' in message
    assert f'the latest complete checkpoint is {tmp_path}/iter_2.pth' in message
    # MMEngine pruned iter_1.pth before writing (max_keep_ckpts=2); iter_2.pth survives.
    assert _files(tmp_path) == ['iter_2.pth']
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_2.pth')
    assert not [p for p in tmp_path.iterdir() if '.partial-' in p.name]


def test_max_keep_ckpts_1_is_refused_before_training(tmp_path):
    runner = _runner(tmp_path, max_keep_ckpts=1)
    with pytest.raises(ValueError, match='max_keep_ckpts=1 can leave no checkpoint: MMEngine '
                       'deletes the previous checkpoint before writing the next one'):
        runner.train()
    assert _files(tmp_path) == []


def test_the_message_hub_is_plain_data_and_resumes(tmp_path):
    _runner(tmp_path, max_iters=2).train()
    # In a fresh interpreter, without fastgan_plugin and its loaders.
    script = ('import sys, torch; print(torch.serialization.get_unsafe_globals_in_checkpoint('
              'sys.argv[1])); torch.load(sys.argv[1], weights_only=True)')
    out = subprocess.run([sys.executable, '-c', script, str(tmp_path / 'iter_2.pth')],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'
    scalars = torch.load(tmp_path / 'iter_2.pth', weights_only=True)['message_hub'][
        'log_scalars']
    assert scalars['train/loss']['log_history'].shape == (2, )

    runner = _runner(tmp_path, max_iters=3, resume=True)
    runner.train()
    loss = runner.message_hub.get_scalar('train/loss')
    assert isinstance(loss, HistoryBuffer) and len(loss.data[0]) == 3  # 2 resumed + 1


def test_a_checkpoint_with_history_buffer_objects_still_resumes(tmp_path, monkeypatch):
    """Checkpoints of earlier releases pickled HistoryBuffer without its statistics methods
    (a patch of HistoryBuffer.__getstate__); this writes one the same way."""
    _runner(tmp_path, max_iters=2).train()
    checkpoint = torch.load(tmp_path / 'iter_2.pth', weights_only=True)
    scalars = checkpoint['message_hub']['log_scalars']
    for key, value in scalars.items():
        scalars[key] = HistoryBuffer(value['log_history'].numpy(),
                                     value['count_history'].numpy(), value['max_length'])
    monkeypatch.setattr(HistoryBuffer, '__getstate__', lambda self: {
        k: v for k, v in vars(self).items() if k != 'statistics_methods'})
    torch.save(checkpoint, tmp_path / 'iter_2.pth')
    monkeypatch.undo()

    runner = _runner(tmp_path, max_iters=3, resume=True)
    runner.train()
    assert len(runner.message_hub.get_scalar('train/loss').data[0]) == 3
