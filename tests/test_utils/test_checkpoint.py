"""Runner checkpoints load under ``torch.load(weights_only=True)`` once fastgan_plugin is
imported; anything else in a checkpoint is still refused before it can run."""
import pickle

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import fastgan_plugin  # noqa: F401  (allow-lists the runner checkpoint types)
from fastgan_plugin.utils.checkpoint import runner_checkpoint_types


class _Line(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, targets, mode='loss'):
        pred = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=((pred - targets)**2).mean())
        return pred


class _Points(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, index):
        x = torch.tensor([float(index), 1.0])
        return dict(inputs=x, targets=x[:1] * 0.5)


def _runner(work_dir, max_iters, resume=False, load_from=None):
    return Runner(
        model=_Line(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_Points(), batch_size=4, sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-2)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False),
                           logger=dict(type='LoggerHook', interval=1)),
        resume=resume,
        load_from=load_from,
        default_scope='mmengine')


def test_runner_checkpoint_resumes(tmp_path):
    _runner(tmp_path, max_iters=4).train()
    ckpt = tmp_path / 'iter_4.pth'
    loaded = torch.load(ckpt, map_location='cpu', weights_only=True)
    assert loaded['meta']['iter'] == 4
    assert 'message_hub' in loaded and 'optimizer' in loaded

    runner = _runner(tmp_path, max_iters=6, resume=True, load_from=str(ckpt))
    runner.train()
    assert runner.iter == 6
    # the optimizer state came back: Adam's step count continued from 4
    state = runner.optim_wrapper.optimizer.state_dict()['state']
    assert int(next(iter(state.values()))['step']) == 6


class _RunsCode:
    def __reduce__(self):
        import pathlib
        return (pathlib.Path.touch, (pathlib.Path(_RunsCode.marker), ))


def test_checkpoint_with_other_objects_is_refused(tmp_path):
    marker = tmp_path / 'code_ran'
    _RunsCode.marker = str(marker)
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': _RunsCode()}, evil)
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        torch.load(evil, map_location='cpu', weights_only=True)
    with pytest.raises(pickle.UnpicklingError):
        _runner(tmp_path / 'work', max_iters=1, load_from=str(evil)).train()
    assert not marker.exists()


def test_allow_list_is_exact():
    names = {getattr(t, '__qualname__', str(t)) for t in runner_checkpoint_types()}
    assert 'HistoryBuffer' in names and 'ndarray' in names
    assert len(names) == len(runner_checkpoint_types())
