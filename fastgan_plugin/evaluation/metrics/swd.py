"""Sliced Wasserstein distance between generated and real images, without downloaded weights."""
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
    """mmagic's SWD (multi-scale sliced Wasserstein distance of 7x7 Laplacian-pyramid
    patches, x1e3; lower is closer) between a generator's samples and the real images,
    with the generator chosen by ``sample_model``.

    mmagic's ``SlicedWassersteinDistance`` reads the validation images and lets the model
    generate one sample per real image, but never tells the model which generator to
    use: every GAN then samples its EMA generator, also with ``sample_model='orig'``.
    This metric puts ``sample_model`` into each batch's inputs, as mmagic's
    noise-sampling metrics do. Both sides arrive in the same channel order: the data
    preprocessor hands validation images to the model as BGR in [0, 255] and
    ``FastGAN.forward`` returns its samples as BGR in [0, 255].

    Add to a config (``R`` = ``im_size``; the val dataloader holds the real images)::

        val_evaluator = dict(type='Evaluator', metrics=[
            dict(type='GeneratorSWD', prefix='SWD', fake_nums=-1,
                 image_shape=(3, R, R), sample_model='ema')])

    ``fake_nums=-1`` compares as many samples as the dataloader has images. Logged as
    ``SWD/<resolution>`` for each pyramid level and ``SWD/avg``. Arguments as mmagic's
    ``SlicedWassersteinDistance``.
    """

    def get_metric_sampler(self, model: nn.Module, dataloader: DataLoader,
                           metrics: List[SlicedWassersteinDistance]) -> _WithSampleModel:
        """mmagic's sampler over the real images, each batch asking for ``sample_model``."""
        return _WithSampleModel(super().get_metric_sampler(model, dataloader, metrics),
                                self.sample_model)
