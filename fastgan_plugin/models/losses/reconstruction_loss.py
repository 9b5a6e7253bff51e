"""Reconstruction loss of FastGAN's self-supervised discriminator decoders."""
import os
import pickle
import warnings
from typing import Dict, List, NamedTuple, Optional, Union

import lpips
import torch
from mmagic.registry import MODELS
from torch import Tensor, nn
from torchvision.models import VGG16_Weights

from fastgan_plugin.utils.channels import to_rgb
from fastgan_plugin.utils.validation import check_bool, check_choice, check_number

RECONSTRUCTION_DISTANCES = ('lpips', 'l1', 'mse')
RECONSTRUCTION_REDUCTIONS = ('sum', 'mean')


class ReconstructionTarget(NamedTuple):
    """A target prepared by :meth:`ReconstructionLoss.prepare_target`: the detached images
    (N, C, H, W) and, for LPIPS, their unit-normalised VGG16 features (one tensor per LPIPS
    layer, no autograd); None for 'l1' and 'mse'."""
    image: Tensor
    features: Optional[List[Tensor]]


@MODELS.register_module()
class ReconstructionLoss(nn.Module):
    """Distance ``d_i`` per sample between decoded and real images: LPIPS v0.1 on VGG16
    (official; the ``lpips`` package's heads, torchvision's ImageNet VGG16) or the mean
    absolute / squared difference over C, H, W (``'l1'`` / ``'mse'``); reduced as
    ``sum_i d_i`` (official; grows with the batch while the hinge is a mean) or its mean.

    LPIPS of grey images repeats them to RGB; of RGBA images it compares the RGB composited on
    white (what a viewer sees) and adds the mean absolute difference of the alphas
    (:func:`~fastgan_plugin.utils.channels.to_rgb`), so shape and colour both count.

    The LPIPS network (:attr:`lpips_net`) is a frozen submodule (no gradients to its weights;
    gradients flow to ``pred``), always in eval mode (its heads' dropout stays off) and left
    out of ``state_dict()``: checkpoints do not carry its 58 MB of VGG weights, and load the
    same whether or not they were pretrained here. ``.to()`` and the like move it.

    Where several predictions share a target (FastGAN's ``rec_big`` and ``rec_small``),
    :meth:`prepare_targets` computes its LPIPS features once (``lpips.LPIPS.forward`` has no
    way to take them, so its steps are run here: one VGG pass in nine saved per D step).

    Args:
        distance (str): ``'lpips'``, ``'l1'`` or ``'mse'``. Defaults to ``'lpips'``.
        reduction (str): ``'sum'`` (official) or ``'mean'``. Defaults to ``'sum'``.
        loss_weight (float): Non-negative factor. Defaults to 1.0.
        pretrained (bool): LPIPS only. True: torchvision's ImageNet VGG16 weights, from the
            torch hub cache or by download (``RuntimeError`` if that fails). False: a random
            backbone, not LPIPS: for tests and offline smoke runs. Defaults to True.
    """

    def __init__(self,
                 distance: str = 'lpips',
                 *,
                 reduction: str = 'sum',
                 loss_weight: float = 1.0,
                 pretrained: bool = True) -> None:
        super().__init__()
        self.distance = check_choice(distance, 'distance', RECONSTRUCTION_DISTANCES)
        self.reduction = check_choice(reduction, 'reduction', RECONSTRUCTION_REDUCTIONS)
        self.loss_weight = check_number(loss_weight, 'loss_weight', minimum=0, finite=True)
        self.pretrained = check_bool(pretrained, 'pretrained')
        self.lpips_net = build_lpips(pretrained) if distance == 'lpips' else None
        if self.lpips_net is not None:
            self.register_state_dict_post_hook(_drop_lpips_weights)
            self.register_load_state_dict_pre_hook(_keep_lpips_weights)

    def train(self, mode: bool = True) -> 'ReconstructionLoss':
        """Set the train/eval mode; the LPIPS network stays in eval mode."""
        super().train(mode)
        if self.lpips_net is not None:
            self.lpips_net.eval()
        return self

    @torch.no_grad()
    def prepare_target(self, target: Tensor) -> ReconstructionTarget:
        """Prepare real images (N, C, H, W), RGB in [-1, 1], once for any number of
        predictions (LPIPS features computed without autograd, under autocast in its dtype)."""
        if target.dim() != 4:
            raise ValueError(f'target must be an (N, C, H, W) tensor, got shape '
                             f'{tuple(target.shape)}')
        features = self.lpips_features(target) if self.distance == 'lpips' else None
        return ReconstructionTarget(target.detach(), features)

    def prepare_targets(self, targets: Dict[str, Tensor]) -> Dict[str, ReconstructionTarget]:
        """:meth:`prepare_target` of every value, once per distinct tensor object."""
        prepared = {}
        for image in targets.values():
            if id(image) not in prepared:
                prepared[id(image)] = self.prepare_target(image)
        return {name: prepared[id(image)] for name, image in targets.items()}

    def forward(self, pred: Tensor, target: Union[Tensor, ReconstructionTarget]) -> Tensor:
        """Scalar loss (times ``loss_weight``, at least float32) between ``pred`` (N, C, H, W),
        RGB, RGBA or grey in [-1, 1] (any channel count for 'l1' / 'mse'), and ``target``:
        images of the same shape or those prepared by :meth:`prepare_target`."""
        # The target is a constant: no gradient flows to it.
        image = (target.image if isinstance(target, ReconstructionTarget) else target).detach()
        if pred.dim() != 4 or pred.shape != image.shape:
            raise ValueError('pred and target must be (N, C, H, W) tensors of the same shape, '
                             f'got {tuple(pred.shape)} and {tuple(image.shape)}')
        if self.distance == 'lpips':
            if not isinstance(target, ReconstructionTarget):
                target = self.prepare_target(target)
            # lpips.LPIPS.forward (v0.1, spatial=False) on the target's features.
            per_layer = [lpips.spatial_average(lin((feature - target_feature)**2), keepdim=True)
                         for lin, feature, target_feature in zip(
                             self.lpips_net.lins, self.lpips_features(pred), target.features)]
            per_sample = sum(per_layer).flatten()
            # Under autocast LPIPS returns float16 / bfloat16 distances.
            per_sample = per_sample.to(torch.promote_types(per_sample.dtype, torch.float32))
            if pred.size(1) == 4:  # the shape: alpha's mean absolute difference
                per_sample = per_sample + (pred[:, 3:] - image[:, 3:]).abs().flatten(1).mean(1)
        elif self.distance == 'l1':
            per_sample = (pred - image).abs().flatten(1).mean(dim=1)
        else:
            per_sample = (pred - image).square().flatten(1).mean(dim=1)
        loss = per_sample.sum() if self.reduction == 'sum' else per_sample.mean()
        return self.loss_weight * loss

    def lpips_features(self, images: Tensor) -> List[Tensor]:
        """Unit-normalised VGG16 features of ``images`` (N, C, H, W) in [-1, 1] brought to RGB
        by :func:`to_rgb` (grey repeated, RGBA on white), one per LPIPS layer, as
        ``lpips.LPIPS.forward`` (v0.1) computes them."""
        net = self.lpips_net
        return [lpips.normalize_tensor(out)
                for out in net.net(net.scaling_layer(to_rgb(images)))]

    def extra_repr(self) -> str:
        return (f'distance={self.distance!r}, reduction={self.reduction!r}, '
                f'loss_weight={self.loss_weight}, pretrained={self.pretrained}')


def _drop_lpips_weights(loss: ReconstructionLoss, state_dict: dict, prefix: str,
                        metadata) -> None:
    """``state_dict`` hook: leave the LPIPS weights out of checkpoints."""
    for key in [key for key in state_dict if key.startswith(prefix + 'lpips_net.')]:
        del state_dict[key]


def _keep_lpips_weights(loss: ReconstructionLoss, state_dict: dict, prefix: str,
                        *args) -> None:
    """``load_state_dict`` hook: the LPIPS network keeps its weights (checkpoints have none)."""
    state_dict.update(loss.lpips_net.state_dict(prefix=prefix + 'lpips_net.', keep_vars=True))


def build_lpips(pretrained: bool) -> nn.Module:
    """A frozen ``lpips.LPIPS`` (VGG, v0.1) in eval mode; the backbone has torchvision's
    ImageNet VGG16 weights if ``pretrained``, else a random initialisation."""
    with warnings.catch_warnings():
        # lpips 0.1.4 still passes torchvision's deprecated ``pretrained`` argument.
        warnings.filterwarnings('ignore', '.*pretrained|Arguments other than a weight enum',
                                UserWarning)
        try:
            net = lpips.LPIPS(net='vgg', version='0.1', pnet_rand=not pretrained,
                              verbose=False)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as err:
            if not pretrained:
                raise
            url = VGG16_Weights.IMAGENET1K_V1.url
            cache = os.path.join(torch.hub.get_dir(), 'checkpoints', os.path.basename(url))
            raise RuntimeError(
                'ReconstructionLoss(distance="lpips") needs the ImageNet VGG16 weights of '
                f'torchvision, which could not be loaded ({type(err).__name__}: {err}). '
                f'Without network access, download {url} elsewhere and place it at {cache} '
                '(TORCH_HOME moves that cache). pretrained=False builds a random backbone '
                'instead; that is not LPIPS and is only meant for tests.') from err
    return net.requires_grad_(False).eval()
