"""FastGAN's hinge adversarial loss with a randomly jittered margin."""
from typing import Union

import torch
from mmagic.registry import MODELS
from torch import Tensor, nn

from fastgan_plugin.utils.validation import check_choice, check_number

HINGE_TARGETS = ('real', 'fake', 'generator')


@MODELS.register_module()
class HingeLoss(nn.Module):
    """Hinge loss of FastGAN, with the official random margin.

    Sign convention: the discriminator's logits score realness, so a higher logit means
    "more real". With ``m = 1 - margin_jitter + margin_jitter * U``, ``U ~ U[0, 1)`` drawn
    independently for every logit:

    - ``target='real'`` (D on real images): ``mean(relu(m - pred))``;
    - ``target='fake'`` (D on generated images): ``mean(relu(m + pred))``;
    - ``target='generator'`` (G's adversarial loss): ``-mean(pred)``, no margin.

    The default ``margin_jitter=0.2`` gives ``m = rand_like(pred) * 0.2 + 0.8`` exactly as
    in the official code (same draw, same arithmetic), so under the same seed the D losses
    equal the official ones; ``margin_jitter=0`` gives the plain hinge ``relu(1 - pred)`` /
    ``relu(1 + pred)`` and draws no random numbers. The margin comes from torch's global
    generator on ``pred``'s device (``torch.rand_like``), so ``torch.manual_seed`` makes it
    reproducible.

    Every term is a mean over all logits, whatever their shape: a discriminator with
    several heads (FastGAN's 5x5 big and small logit maps) should pass its flattened
    logits concatenated into one tensor, as the official code does.

    Args:
        margin_jitter (float): Width of the random margin's range, in [0, 1]: the margin
            is uniform in ``[1 - margin_jitter, 1)``. Defaults to 0.2 (official).
        loss_weight (float): Non-negative factor applied to the loss. Defaults to 1.0.
    """

    def __init__(self, *, margin_jitter: float = 0.2, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.margin_jitter = check_number(margin_jitter, 'margin_jitter', 0, 1)
        self.loss_weight = check_number(loss_weight, 'loss_weight', minimum=0, finite=True)

    def forward(self, pred: Tensor, target: str) -> Tensor:
        """Compute one hinge term.

        Args:
            pred (Tensor): Discriminator logits of any shape, unbounded; higher means
                more real. float16 and bfloat16 logits (mixed precision) are taken to
                float32 first, so the loss and the margin draws are those of float32.
            target (str): Which term: ``'real'`` (D step on real images), ``'fake'``
                (D step on generated images) or ``'generator'`` (G step on generated
                images).

        Returns:
            Tensor: Scalar loss, multiplied by ``loss_weight``.
        """
        check_choice(target, 'target', HINGE_TARGETS)
        # At least float32 (mixed precision gives float16 / bfloat16 logits).
        pred = pred.to(torch.promote_types(pred.dtype, torch.float32))
        if target == 'generator':
            loss = -pred.mean()
        elif target == 'real':
            loss = torch.relu(self._margin(pred) - pred).mean()
        else:
            loss = torch.relu(self._margin(pred) + pred).mean()
        return self.loss_weight * loss

    def _margin(self, pred: Tensor) -> Union[Tensor, float]:
        """Return the hinge margin: a tensor like ``pred`` in [1 - jitter, 1), or 1.0."""
        if self.margin_jitter == 0:
            return 1.0
        return torch.rand_like(pred) * self.margin_jitter + (1 - self.margin_jitter)

    def extra_repr(self) -> str:
        return f'margin_jitter={self.margin_jitter}, loss_weight={self.loss_weight}'
