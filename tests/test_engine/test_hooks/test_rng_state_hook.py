"""RNGStateHook: a resumed run draws what the uninterrupted run draws, validation does not
move the training RNG, and checkpoints without fitting states resume with a warning. A toy
model whose loss draws from the torch RNG trains in MMEngine's runner, with MMEngine's own
CheckpointHook and CheckpointContentHook (which makes its checkpoints loadable with
weights_only=True)."""
import pytest
import torch
from mmengine.hooks import CheckpointHook

import fastgan_plugin  # noqa: F401
from fastgan_plugin.engine.hooks import CheckpointContentHook, RNGStateHook
from helpers.toy_runner import toy_runner


def _runner(work_dir, max_iters, rng_state=True, **kwargs):
    hooks = dict(content=CheckpointContentHook())  # resumable with weights_only=True
    if rng_state:
        hooks['rng_state'] = RNGStateHook()
    torch.manual_seed(0)  # the same initial weights in every run
    return toy_runner(work_dir, CheckpointHook(interval=2, by_epoch=False), max_iters,
                      default_hooks=hooks, randomness=dict(seed=0), **kwargs)


def _weights(work_dir, max_iters, **kwargs):
    runner = _runner(work_dir, max_iters, **kwargs)
    runner.train()
    return runner.model.linear.weight.detach().clone()


def test_resume_continues_the_random_streams(tmp_path):
    straight = _weights(tmp_path / 'straight', 4)
    _weights(tmp_path / 'resumed', 2)
    checkpoint = torch.load(tmp_path / 'resumed' / 'iter_2.pth', weights_only=True)
    assert len(checkpoint['meta']['rng_states']) == 1  # one process
    assert torch.equal(_weights(tmp_path / 'resumed', 4, resume=True), straight)
    control = _weights(tmp_path / 'control', 4, rng_state=False, resume=True,
                       load_from=str(tmp_path / 'resumed' / 'iter_2.pth'))
    assert not torch.equal(control, straight)


def test_load_from_does_not_restore_the_states(tmp_path):
    """Weights only (no resume): the run starts at iteration 0 with its own seeded streams."""
    _weights(tmp_path / 'first', 2)
    runner = _runner(tmp_path / 'second', 2, load_from=str(tmp_path / 'first' / 'iter_2.pth'))
    runner.train()
    assert not any('Restored the RNG states' in line for line in _log(runner))


def test_validation_leaves_the_training_rng_as_it_found_it():
    hook = RNGStateHook()
    training = torch.get_rng_state()
    hook.before_val(None)
    torch.rand(3)  # validation draws
    checkpoint = {}
    hook.before_save_checkpoint(None, checkpoint)  # a best checkpoint, saved in validation
    hook.after_val(None)
    assert torch.equal(torch.get_rng_state(), training)
    assert torch.equal(checkpoint['meta']['rng_states'][0]['torch'], training)


@pytest.mark.parametrize('states, warning', [
    (None, 'the checkpoint holds no RNG states (not written with RNGStateHook)'),
    ([{}, {}], 'the checkpoint holds the RNG states of 2 process(es), this run has 1')])
def test_unfit_rng_states_resume_with_a_warning(tmp_path, states, warning):
    _weights(tmp_path, 2)
    checkpoint = torch.load(tmp_path / 'iter_2.pth', weights_only=True)
    checkpoint['meta']['rng_states'] = states
    torch.save(checkpoint, tmp_path / 'iter_2.pth')
    runner = _runner(tmp_path, 3, resume=True)
    runner.train()
    assert any(f'{warning}: training resumes with fresh random streams' in line
               for line in _log(runner))


def _log(runner):
    with open(f'{runner.log_dir}/{runner.timestamp}.log', encoding='utf-8') as f:
        return f.read().splitlines()
