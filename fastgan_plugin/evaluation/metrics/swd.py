"""Sliced Wasserstein distance between a chosen generator's samples and the real images."""
from typing import Iterator, List, Sequence

from mmagic.evaluation.metrics import SlicedWassersteinDistance
from mmagic.registry import METRICS
from torch import nn
from torch.utils.data import DataLoader

from .fid import metric_rgb


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
    images and samples both arrive as BGR in [0, 255], RGBA composited on white and grey
    repeated (:func:`metric_rgb`): ``image_shape`` is (3, R, R) whatever ``img_channels``."""

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """mmagic's, on the samples' ``gt_img`` and ``fake_img`` (also under ``ema`` /
        ``orig``) through :func:`metric_rgb`."""
        super().process(data_batch, [_rgb_images(sample) for sample in data_samples])

    def get_metric_sampler(self, model: nn.Module, dataloader: DataLoader,
                           metrics: List[SlicedWassersteinDistance]) -> _WithSampleModel:
        """mmagic's sampler over the real images, each batch asking for ``sample_model``."""
        return _WithSampleModel(super().get_metric_sampler(model, dataloader, metrics),
                                self.sample_model)


def _rgb_images(sample: dict) -> dict:
    """``sample`` with its ``gt_img`` and ``fake_img`` tensors, also in nested dicts, through
    :func:`metric_rgb`."""
    return {key: _rgb_images(value) if isinstance(value, dict)
            else metric_rgb(value) if key in ('gt_img', 'fake_img') else value
            for key, value in sample.items()}
