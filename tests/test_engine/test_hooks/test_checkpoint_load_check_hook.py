"""CheckpointLoadCheckHook refuses, before anything is loaded into the model, a checkpoint
file that is missing or torn and weights of another architecture (tests/test_reliability/
test_bad_inputs.py has every case with FastGAN through Runner.from_cfg)."""
import pytest
import torch
from mmengine.hooks import CheckpointHook

import fastgan_plugin  # noqa: F401
from fastgan_plugin.engine.hooks import CheckpointLoadCheckHook
from helpers.toy_runner import Line, toy_runner


def _train(work_dir, max_iters=2, **kwargs):
    runner = toy_runner(work_dir, CheckpointHook(interval=2, by_epoch=False), max_iters,
                        default_hooks=dict(checkpoint_check=CheckpointLoadCheckHook()),
                        **kwargs)
    runner.train()
    return runner


def test_a_torn_file_is_refused_before_loading(tmp_path):
    _train(tmp_path / 'first')
    data = (tmp_path / 'first' / 'iter_2.pth').read_bytes()
    torn = tmp_path / 'torn.pth'
    torn.write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r"'.*torn.pth' \(load_from\) is truncated or corrupt"):
        _train(tmp_path / 'work', load_from=str(torn))


def test_another_architecture_is_refused(tmp_path):
    _train(tmp_path / 'first')
    with pytest.raises(ValueError, match=r'does not fit this model: 1 weight\(s\) differ in '
                       r'shape \(linear.weight: checkpoint \(1, 2\), model \(1, 3\)\)'):
        _train(tmp_path / 'work', model=Line(inputs=3),
               load_from=str(tmp_path / 'first' / 'iter_2.pth'))


def test_resume_refuses_a_last_checkpoint_naming_a_missing_file(tmp_path):
    runner = _train(tmp_path)
    (tmp_path / 'iter_2.pth').rename(tmp_path / 'kept.pth')
    with pytest.raises(FileNotFoundError, match=r"names checkpoint '.*iter_2.pth', which does "
                       r'not exist \(checkpoints there: kept.pth\)'):
        _train(tmp_path, 4, resume=True)
    assert torch.equal(torch.load(tmp_path / 'kept.pth', weights_only=True)['state_dict'][
        'linear.weight'], runner.model.linear.weight)
