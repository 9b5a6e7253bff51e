"""Class conditioning of FastGAN: label checks and D's projection head."""
from typing import Optional

import torch
from torch import nn

from ....utils.validation import check_int
from .modules import INDEX_DTYPES
from .spectral_norm import spectral_norm


def check_num_classes(num_classes: Optional[int]) -> Optional[int]:
    """``num_classes`` as an int >= 1, or None (unconditional)."""
    if num_classes is None:
        return None
    return check_int(num_classes, 'num_classes', minimum=1,
                     what='None (unconditional) or an int >= 1')


def check_labels(labels: Optional[torch.Tensor], num_classes: Optional[int],
                 batch: int) -> Optional[torch.Tensor]:
    """``labels`` (N,) of class indices in [0, num_classes) as int64, or None for an
    unconditional model; ``ValueError`` naming ``labels`` otherwise (values are checked, which
    synchronises a GPU stream)."""
    if num_classes is None:
        if labels is not None:
            raise ValueError('labels given to an unconditional model (num_classes=None); leave '
                             'labels out, or build the model with num_classes')
        return None
    if labels is None:
        raise ValueError(f'labels are required: the model is class-conditional '
                         f'(num_classes={num_classes}); pass labels, an integer tensor (N,) '
                         f'of class indices in [0, {num_classes})')
    if (not isinstance(labels, torch.Tensor) or labels.dtype not in INDEX_DTYPES
            or labels.shape != (batch, )):
        raise ValueError(f'labels must be an integer tensor of shape ({batch},), got '
                         f'{getattr(labels, "dtype", type(labels).__name__)} with shape '
                         f'{tuple(getattr(labels, "shape", ()))}')
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f'labels must be class indices in [0, {num_classes}) '
                         f'(num_classes={num_classes}), got {labels.tolist()}')
    return labels.long()


class ProjectionHead(nn.Module):
    """Projection term (Miyato and Koyama, 2018): ``<embed(y), mean_hw(feat)>``, the class
    embedding spectrally normalised (as SNGAN-projection and BigGAN)."""

    def __init__(self, num_classes: int, channels: int) -> None:
        super().__init__()
        self.embedding = spectral_norm(nn.Embedding(num_classes, channels))

    def forward(self, feat: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Feature (N, C, H, W) and labels (N,) -> one logit per image (N, 1)."""
        pooled = feat.mean((2, 3))
        return (self.embedding(labels).to(pooled.dtype) * pooled).sum(1, keepdim=True)
