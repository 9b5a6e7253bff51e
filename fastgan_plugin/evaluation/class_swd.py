"""SWD per class of a class-conditional FastGAN, as one function call."""
from typing import Dict, Optional, Sequence, Union

import numpy as np
import torch
from mmagic.registry import DATASETS
from mmengine.dataset import BaseDataset, pseudo_collate
from torch import nn
from torch.utils.data import DataLoader

from ..utils.model import unwrap_model
from .metrics.per_class import PerClassMetric


@torch.no_grad()
def class_swd(model: nn.Module, dataset: Union[dict, BaseDataset],
              classes: Optional[Sequence[Union[int, str]]] = None, batch_size: int = 8,
              sample_model: str = 'ema', seed: Optional[int] = 0) -> Dict[str, float]:
    """SWD x 1e3 (``GeneratorSWD``'s ``avg`` over its Laplacian levels; lower is closer) of
    a class-conditional FastGAN's samples of each class against ``dataset``'s images of that
    class, one sample per real image, and the ``'mean'`` over the classes: exactly what
    :class:`~fastgan_plugin.evaluation.metrics.PerClassMetric` reports in validation.

    Args:
        model (nn.Module): The ``FastGAN`` (eval mode), e.g. of ``apis.init_model``.
        dataset (dict | BaseDataset): A data set of one subfolder per class with the model's
            pipeline, e.g. ``cfg.val_dataloader.dataset``.
        classes (list, optional): Names or indices to evaluate; None: every class.
        batch_size (int): Images per step.
        sample_model (str): ``'ema'`` or ``'orig'``.
        seed (int, optional): Seeds torch's and numpy's global generators for the samples and
            the random projections, restored afterwards; None: draw from them as they are.

    Returns:
        dict: class name -> SWD, and ``'mean'``.
    """
    dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
    generator = unwrap_model(unwrap_model(model).generator)
    size = generator.im_size
    metric = PerClassMetric(dict(type='GeneratorSWD', fake_nums=-1, sample_model=sample_model,
                                 image_shape=(getattr(generator, 'img_channels', 3), size, size)),
                            classes, prefix='SWD')
    loader = DataLoader(dataset, batch_size, collate_fn=pseudo_collate)
    numpy_state = np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.default_generator.manual_seed(seed)  # the CPU one only, forked above
            np.random.seed(seed)
        metric.prepare(model, loader)
        for batch in metric.get_metric_sampler(model, loader, [metric]):
            metric.process(batch, [sample.to_dict() for sample in model.val_step(batch)])
        results = metric.evaluate()
    np.random.set_state(numpy_state)
    return {key.split('/')[1]: value for key, value in results.items() if key.endswith('/avg')}
