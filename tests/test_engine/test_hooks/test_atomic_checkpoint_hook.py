"""AtomicCheckpointHook never removes a checkpoint before its replacement is written, and
max_keep_ckpts never removes the best one. A toy model trains in MMEngine's runner; a test
backend makes chosen checkpoint writes fail (a full disk, or a kill, at that moment)."""
import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.fileio.backends import register_backend
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import fastgan_plugin  # noqa: F401
from fastgan_plugin.engine.hooks import AtomicCheckpointHook
from fastgan_plugin.utils.atomic_io import AtomicLocalBackend


@register_backend('failing_atomic_local', force=True)
class _FailingBackend(AtomicLocalBackend):
    fail_on = None  # a file name whose write fails

    def _write(self, file, data):
        if self.fail_on and f'.{self.fail_on}.partial-' in file.name:
            file.write(data[:10])
            raise OSError(f'simulated failure writing {self.fail_on}')
        file.write(data)


class _Line(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, targets, mode='loss'):
        pred = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=((pred - targets)**2).mean())
        return [dict(pred=p) for p in pred]


class _Points(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        x = torch.tensor([float(index), 1.0])
        return dict(inputs=x, targets=x[:1] * 0.5)


class _Score(BaseMetric):
    """Reports the next of ``scores`` at each validation (lower is better)."""

    def __init__(self, scores):
        super().__init__()
        self.scores = list(scores)

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        return dict(score=self.scores.pop(0))


def _train(work_dir, scores, max_iters=3):
    loader = dict(dataset=_Points(), batch_size=2, sampler=dict(type='DefaultSampler'),
                  collate_fn=dict(type='default_collate'))
    hook = AtomicCheckpointHook(interval=1, by_epoch=False, max_keep_ckpts=1, save_best='score',
                                rule='less', backend_args=dict(backend='failing_atomic_local'))
    runner = Runner(
        model=_Line(), work_dir=str(work_dir), train_dataloader=loader, val_dataloader=loader,
        val_evaluator=[_Score(scores)], val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=1),
        default_hooks=dict(checkpoint=hook), default_scope='mmengine',
        experiment_name=f'atomic_checkpoint_{work_dir.name}')  # own message hub per run
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
    loader = dict(dataset=_Points(), batch_size=2, sampler=dict(type='DefaultSampler'),
                  collate_fn=dict(type='default_collate'))
    runner = Runner(
        model=_Line(), work_dir=str(tmp_path), val_dataloader=loader,
        val_evaluator=[_Score([1.0])], val_cfg=dict(),
        default_hooks=dict(checkpoint=AtomicCheckpointHook(interval=1, by_epoch=False)),
        default_scope='mmengine', experiment_name=f'atomic_checkpoint_val_{tmp_path.name}')
    assert runner.val() == dict(score=1.0)
    assert _files(tmp_path) == []
