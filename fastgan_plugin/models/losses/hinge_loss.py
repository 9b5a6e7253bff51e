"""FastGAN's hinge adversarial loss with a randomly jittered margin."""
import torch
from mmagic.registry import MODELS
from torch import Tensor, nn

from fastgan_plugin.utils.validation import check_choice, check_number

HINGE_TARGETS = ('real', 'fake', 'generator')


@MODELS.register_module()
class HingeLoss(nn.Module):
    """Hinge loss of FastGAN with the official random margin; a higher logit means "more real".

    With ``m = 1 - margin_jitter + margin_jitter * U``, ``U ~ U[0, 1)`` per logit (torch's
    global generator, ``torch.rand_like``): ``'real'``: ``mean(relu(m - pred))``; ``'fake'``:
    ``mean(relu(m + pred))``; ``'generator'``: ``-mean(pred)``. ``margin_jitter=0.2`` is the
    official ``rand_like(pred) * 0.2 + 0.8`` (same draws, so the same losses under one seed);
    0 is the plain hinge and draws nothing. Means are over all logits: pass several heads'
    logits flattened into one tensor, as the official code does.

    Args:
        margin_jitter (float): Width of the margin's range, in [0, 1]. Defaults to 0.2.
        loss_weight (float): Non-negative factor. Defaults to 1.0.
    """

    def __init__(self, *, margin_jitter: float = 0.2, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.margin_jitter = check_number(margin_jitter, 'margin_jitter', 0, 1)
        self.loss_weight = check_number(loss_weight, 'loss_weight', minimum=0, finite=True)

    def forward(self, pred: Tensor, target: str) -> Tensor:
        """Scalar loss (times ``loss_weight``) of logits ``pred`` (any shape; float16 and
        bfloat16 are taken to float32 first) for ``target``: ``'real'`` or ``'fake'`` (D step)
        or ``'generator'`` (G step)."""
        check_choice(target, 'target', HINGE_TARGETS)
        pred = pred.to(torch.promote_types(pred.dtype, torch.float32))
        if target == 'generator':
            return self.loss_weight * -pred.mean()
        jitter = self.margin_jitter
        margin = torch.rand_like(pred) * jitter + (1 - jitter) if jitter else 1.0
        signed = -pred if target == 'real' else pred
        return self.loss_weight * torch.relu(margin + signed).mean()

    def extra_repr(self) -> str:
        return f'margin_jitter={self.margin_jitter}, loss_weight={self.loss_weight}'
