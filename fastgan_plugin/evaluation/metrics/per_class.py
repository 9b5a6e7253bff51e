"""A generative metric per class of a class-conditional FastGAN: the class-c samples against
the class-c real images, for every class, and the mean over the classes."""
import copy
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Union

from mmagic.registry import METRICS
from mmagic.structures import DataSample
from mmengine.dataset import BaseDataset
from mmengine.evaluator import BaseMetric
from mmengine.model import is_model_wrapper
from torch import nn
from torch.utils.data import DataLoader

from fastgan_plugin.apis.classes import find_classes


def class_subset(dataset: BaseDataset, indices: List[int]) -> BaseDataset:
    """The images ``indices`` of ``dataset`` as a data set of their own, sharing its
    pipeline and metainfo (read only here).

    Not ``dataset.get_subset``: MMEngine 0.10's ``_copy_without_annotation`` deep-copies with
    a ``memo`` dict that is a mutable default argument, kept across calls, so an object whose
    id was used by a since freed one can be "copied" into that stale object (seen: the
    pipeline's ``PackInputs`` became an earlier ``FewShotImageDataset``, now and then). A
    shallow copy cut down with the public in-place ``get_subset_`` copies nothing deep.
    """
    subset = copy.copy(dataset)
    subset.get_subset_(indices)  # assigns new data arrays to the copy; dataset keeps its own
    return subset


class _ClassSampler:
    """The batches of each class's own sampler in turn, labelled with that class."""

    def __init__(self, owner: 'PerClassMetric', samplers: Dict[int, object]) -> None:
        self.owner, self.samplers = owner, samplers

    def __len__(self) -> int:
        return sum(len(sampler) for sampler in self.samplers.values())

    def __iter__(self) -> Iterator[dict]:
        for label, sampler in self.samplers.items():
            self.owner.current = label  # process() feeds the metric of this class
            for batch in sampler:
                samples = batch.get('data_samples') or [
                    DataSample() for _ in range(batch['inputs']['num_batches'])]
                yield dict(batch, data_samples=[s.set_gt_label(label) for s in samples])


@METRICS.register_module()
class PerClassMetric(BaseMetric):
    """``metric`` once per class of the evaluated data set: its real images of class c (the
    data set's ``gt_label``, names in its metainfo ``classes``) against samples generated with
    label c (``gt_label`` of the data samples the model gets). Reports
    ``<prefix>/<class name>/<key>`` per class and ``<prefix>/mean/<key>``, the mean over the
    classes; keep the plain metric beside it for the overall value.

    Args:
        metric (dict): A generative metric of mmagic's ``MultiValLoop`` (e.g.
            ``FrechetInceptionDistance``, ``KernelInceptionDistance``, ``GeneratorSWD``);
            its ``fake_nums`` and ``real_nums`` count per class, a given ``inception_pkl`` gets
            ``_<class name>`` before its extension.
        classes (list, optional): Names or indices of the classes to evaluate; None: all.
        prefix (str, optional): Defaults to ``metric``'s prefix (e.g. ``'FID-Full'``), else
            its default prefix or name.
    """

    def __init__(self, metric: dict, classes: Optional[Sequence[Union[int, str]]] = None,
                 prefix: Optional[str] = None, collect_device: str = 'cpu') -> None:
        kind = METRICS.get(metric.get('type'))
        if kind is None:
            raise ValueError(f'PerClassMetric: metric must be the config of a registered metric, '
                             f'got {metric!r}')
        super().__init__(collect_device, prefix or metric.get('prefix') or kind.default_prefix
                         or kind.name)
        self.metric_cfg, self.classes = dict(metric), classes
        # mmagic's Evaluator reads it to group metrics; each class's metric samples as its own
        self.sample_model = metric.get('sample_model')
        # Its own group in mmagic's Evaluator, which shares one sampler per SAMPLER_MODE.
        self.SAMPLER_MODE = f'PerClass-{id(self)}'
        self.metrics: Dict[int, BaseMetric] = {}
        self.loaders: Dict[int, DataLoader] = {}
        self.names: List[str] = []
        self.current: Optional[int] = None

    def prepare(self, module: nn.Module, dataloader: DataLoader) -> None:
        """One metric and one loader of real images per class, each metric prepared."""
        dataset = dataloader.dataset
        self.names = [str(name) for name in (dataset.metainfo.get('classes') or [])]
        if not self.names:
            raise ValueError(f'PerClassMetric: the evaluated data set ({type(dataset).__name__})'
                             ' names no classes (metainfo "classes"): it needs a data set of '
                             'one subfolder per class, and a class-conditional model')
        labels = [int(dataset.get_data_info(i)['gt_label']) for i in range(len(dataset))]
        for label in find_classes(self.names, self.classes):
            name, subset = self.names[label], class_subset(
                dataset, [i for i, other in enumerate(labels) if other == label])
            # mmagic names its real-feature cache by data_root, data_prefix, metainfo and
            # pipeline, all shared by the classes: the class in data_prefix keeps them apart.
            subset.data_prefix = dict(subset.data_prefix, gt_label=label)
            cfg = dict(copy.deepcopy(self.metric_cfg), prefix=f'{self.prefix}/{name}')
            if cfg.get('inception_pkl'):
                root, ext = osp.splitext(cfg['inception_pkl'])
                cfg['inception_pkl'] = f'{root}_{name}{ext}'
            self.metrics[label] = METRICS.build(cfg)
            self.loaders[label] = DataLoader(subset, dataloader.batch_size,
                                             collate_fn=dataloader.collate_fn)
            self.metrics[label].prepare(module, self.loaders[label])

    def get_metric_sampler(self, model: nn.Module, dataloader: DataLoader,
                           metrics: List[BaseMetric]) -> _ClassSampler:
        """Each class's sampler (as its metric samples, on its real images), labelled."""
        model = model.module if is_model_wrapper(model) else model
        return _ClassSampler(self, {
            label: metric.get_metric_sampler(model, self.loaders[label], [metric])
            for label, metric in self.metrics.items()})

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        self.metrics[self.current].process(data_batch, data_samples)

    def compute_metrics(self, results: list) -> dict:
        raise NotImplementedError('PerClassMetric evaluates through its per-class metrics')

    def evaluate(self, size: int = 0) -> dict:
        """Every class's results, then ``<prefix>/mean/<key>`` of the numeric ones."""
        results, values = {}, {}
        for metric in self.metrics.values():
            for key, value in metric.evaluate().items():
                results[key] = value
                values.setdefault(key.split('/')[-1], []).append(value)
        results.update({f'{self.prefix}/mean/{key}': sum(found) / len(found)
                        for key, found in values.items()
                        if all(isinstance(v, (int, float)) for v in found)})
        return results
