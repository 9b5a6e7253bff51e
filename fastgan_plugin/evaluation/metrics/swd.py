"""Sliced Wasserstein distance between a chosen generator's samples and the real images."""
from typing import Iterator, List

from mmagic.evaluation.metrics import SlicedWassersteinDistance
from mmagic.registry import METRICS
from torch import nn
from torch.utils.data import DataLoader


class _WithSampleModel:
    """A dataloader whose batches ask the model for ``sample_model``'s images."""

    def __init__(self, dataloader: DataLoader, sample_model: str) -> None:
        self.dataloader = dataloader
        self.sample_model = sample_model

    def __len__(self) -> int:
        return len(self.dataloader)

    def __iter__(self) -> Iterator[dict]:
        for batch in self.dataloader:
            batch['inputs'] = dict(batch.get('inputs') or {}, sample_model=self.sample_model)
            yield batch


@METRICS.register_module()
class GeneratorSWD(SlicedWassersteinDistance):
    """mmagic's SWD (sliced Wasserstein distance of 7x7 Laplacian-pyramid patches, x 1e3,
    lower is closer; no downloaded weights), of the generator ``sample_model`` names: mmagic's
    own never passes ``sample_model`` on, so every GAN samples its EMA generator. Arguments
    as mmagic's; ``fake_nums=-1`` takes one sample per image of the val dataloader. Real
    images and samples both arrive as BGR in [0, 255]."""

    def get_metric_sampler(self, model: nn.Module, dataloader: DataLoader,
                           metrics: List[SlicedWassersteinDistance]) -> _WithSampleModel:
        """mmagic's sampler over the real images, each batch asking for ``sample_model``."""
        return _WithSampleModel(super().get_metric_sampler(model, dataloader, metrics),
                                self.sample_model)
