"""RNGStateHook: a resumed run draws what the uninterrupted run draws, validation does not
move the training RNG, and checkpoints without fitting states resume with a warning. A toy
model whose loss draws from the torch RNG trains in MMEngine's runner, with MMEngine's own
CheckpointHook (the hook needs no AtomicCheckpointHook)."""
from types import SimpleNamespace

import torch
from mmengine.hooks import CheckpointHook

import fastgan_plugin  # noqa: F401
from fastgan_plugin.engine.hooks import RNGStateHook
from helpers.toy_runner import toy_runner


def _weights(work_dir, max_iters, rng_state=True, **kwargs):
    hooks = dict(rng_state=RNGStateHook()) if rng_state else {}
    torch.manual_seed(0)  # the same initial weights in every run
    runner = toy_runner(work_dir, CheckpointHook(interval=2, by_epoch=False), max_iters,
                        default_hooks=hooks, randomness=dict(seed=0), **kwargs)
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


class _Logger:
    def __init__(self):
        self.warnings = []

    def warning(self, message):
        self.warnings.append(message)


def test_unfit_rng_states_resume_with_a_warning():
    hook = RNGStateHook()
    runner = SimpleNamespace(_load_from='a.pth', _resume=True, logger=_Logger())
    hook.after_load_checkpoint(runner, dict(meta=dict()))
    hook.after_load_checkpoint(runner, dict(meta=dict(rng_states=[{}, {}])))
    assert runner.logger.warnings == [
        "'a.pth' holds no RNG states (not written with RNGStateHook): training resumes "
        'with fresh random streams',
        "'a.pth' holds the RNG states of 2 process(es), this run has 1: training resumes "
        'with fresh random streams']
    assert hook._resumed_states is None
