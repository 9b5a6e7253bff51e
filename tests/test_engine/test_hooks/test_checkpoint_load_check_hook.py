"""CheckpointLoadCheckHook refuses, before anything is loaded into the model, a checkpoint
file that is missing or torn and weights of another architecture; ``resume=True`` resumes
the work dir's own newest complete checkpoint; a resume on changed training images is
refused. Toy model in MMEngine's runner (tests/test_reliability/test_bad_inputs.py has the
file cases with FastGAN through Runner.from_cfg, test_resume_data.py the data cases)."""
import shutil

import pytest
import torch
from mmengine.hooks import CheckpointHook

import fastgan_plugin  # noqa: F401
from fastgan_plugin.engine.hooks import CheckpointContentHook, CheckpointLoadCheckHook
from fastgan_plugin.engine.hooks.checkpoint_load_check_hook import (
    describe_data_change,
    training_data_record,
)
from helpers.toy_runner import Line, toy_runner


def _train(work_dir, max_iters=2, load_from=None, resume=False, **kwargs):
    """Train as Runner.from_cfg would: load_from / resume also in runner.cfg."""
    runner = toy_runner(work_dir, CheckpointHook(interval=2, by_epoch=False), max_iters,
                        default_hooks=dict(checkpoint_check=CheckpointLoadCheckHook(),
                                           content=CheckpointContentHook()),
                        load_from=load_from, resume=resume,
                        cfg=dict(load_from=load_from, resume=resume), **kwargs)
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
                       r'not exist, and no other complete checkpoint is there \(checkpoints '
                       r'there: kept.pth\)'):
        _train(tmp_path, 4, resume=True)
    assert torch.equal(torch.load(tmp_path / 'kept.pth', weights_only=True)['state_dict'][
        'linear.weight'], runner.model.linear.weight)


def test_a_copied_work_dir_resumes_from_its_own_files(tmp_path):
    """last_checkpoint holds the absolute path of the original; MMEngine alone would load it
    (or fail, once the original is gone)."""
    _train(tmp_path / 'original', 4)
    shutil.copytree(tmp_path / 'original', tmp_path / 'copy')
    shutil.rmtree(tmp_path / 'original')
    runner = _train(tmp_path / 'copy', 6, resume=True)
    assert runner.iter == 6
    assert (tmp_path / 'copy' / 'last_checkpoint').read_text() == str(
        tmp_path / 'copy' / 'iter_6.pth')


@pytest.mark.parametrize('damage', ['torn', 'missing'])
def test_resume_falls_back_to_the_newest_complete_checkpoint(tmp_path, damage):
    hook = CheckpointHook(interval=2, by_epoch=False, max_keep_ckpts=-1)
    toy_runner(tmp_path, hook, 4, default_hooks=dict(content=CheckpointContentHook())).train()
    newest = tmp_path / 'iter_4.pth'
    if damage == 'torn':
        newest.write_bytes(newest.read_bytes()[:1000])
    else:
        newest.unlink()
    runner = _train(tmp_path, 5, resume=True)
    assert runner.iter == 5
    with open(f'{runner.log_dir}/{runner.timestamp}.log', encoding='utf-8') as f:
        log = f.read()
    assert 'names iter_4.pth, which is missing or incomplete' in log
    assert 'resumed epoch: 0, iter: 2' in log


class _Dataset:
    """The part of MMEngine's BaseDataset the record reads."""

    def __init__(self, root, infos):
        self.data_root, self.infos = str(root), infos

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, index):
        return self.infos[index]


def _dataset(root, files):
    for name, content in files.items():
        (root / name).write_bytes(content)
    return _Dataset(root, [dict(gt_path=str(root / name)) for name in files])


def test_the_data_record_names_what_changed(tmp_path):
    old = training_data_record(_dataset(tmp_path, {'a.png': b'1', 'b.png': b'22',
                                                   'c.png': b'3'}))
    assert old['count'] == 3 and old['files'] == ['a.png', 'b.png', 'c.png']
    assert old['sizes'] == [1, 2, 1] and len(old['digest']) == 64
    assert describe_data_change(old, old) is None
    (tmp_path / 'a.png').unlink()
    new = training_data_record(_dataset(tmp_path, {'b.png': b'2', 'c.png': b'3',
                                                   'd.png': b'4'}))
    assert describe_data_change(old, new) == (
        '3 -> 3 file(s): 1 added (d.png), 1 removed (a.png), 1 changed in size (b.png)')
    assert training_data_record(_Dataset(tmp_path, [dict(inputs=1)])) is None
