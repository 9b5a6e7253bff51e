"""A toy model, data set and metric for checkpoint-hook tests in MMEngine's real runner.

``Line`` is a linear model whose loss adds a random draw (``torch.rand``), so that its
weights depend on the RNG; ``Score`` reports chosen numbers, one per validation.
"""
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset


class Line(BaseModel):
    """``y = w x + b``, trained to ``x[0] / 2`` plus a random draw of the torch RNG."""

    def __init__(self, inputs: int = 2):
        super().__init__()
        self.linear = torch.nn.Linear(inputs, 1)

    def forward(self, inputs, targets, mode='loss'):
        pred = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=((pred - targets - torch.rand(()))**2).mean())
        return [dict(pred=p) for p in pred]


class Points(Dataset):
    """Four points ``([i, 1], i / 2)``."""

    def __len__(self):
        return 4

    def __getitem__(self, index):
        x = torch.tensor([float(index), 1.0])
        return dict(inputs=x, targets=x[:1] * 0.5)


class Score(BaseMetric):
    """Reports the next of ``scores`` at each validation (lower is better)."""

    def __init__(self, scores):
        super().__init__()
        self.scores = list(scores)

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        return dict(score=self.scores.pop(0))


def toy_runner(work_dir, checkpoint, max_iters: int = 3, scores=None, **kwargs) -> Runner:
    """MMEngine's runner on :class:`Line` and :class:`Points`, iteration-based.

    Args:
        work_dir (Path): The work dir (its name also names the run's message hub).
        checkpoint: The checkpoint hook (``default_hooks.checkpoint``).
        max_iters (int): Training iterations.
        scores (list[float], optional): Validate after every iteration with
            :class:`Score` reporting these; None: no validation.
        **kwargs: More ``Runner`` arguments (``model`` replaces :class:`Line`;
            ``default_hooks`` entries are added to ``checkpoint``).
    """
    loader = dict(dataset=Points(), batch_size=2, sampler=dict(type='DefaultSampler'),
                  collate_fn=dict(type='default_collate'))
    val = {} if scores is None else dict(val_dataloader=loader, val_cfg=dict(),
                                         val_evaluator=[Score(scores)])
    return Runner(
        model=kwargs.pop('model', None) or Line(), work_dir=str(work_dir), train_dataloader=loader,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=1),
        default_hooks=dict(checkpoint=checkpoint, **kwargs.pop('default_hooks', {})),
        default_scope='mmengine', experiment_name=f'toy_{work_dir.parent.name}_{work_dir.name}',
        **val, **kwargs)
