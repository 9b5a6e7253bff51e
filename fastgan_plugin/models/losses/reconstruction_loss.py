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

from fastgan_plugin.utils.validation import check_bool, check_choice, check_number

RECONSTRUCTION_DISTANCES = ('lpips', 'l1', 'mse')
RECONSTRUCTION_REDUCTIONS = ('sum', 'mean')


class ReconstructionTarget(NamedTuple):
    """A target prepared once by :meth:`ReconstructionLoss.prepare_target`.

    Attributes:
        image (Tensor): The target images (N, C, H, W), detached.
        features (list[Tensor] | None): LPIPS only: the unit-normalised VGG16 features of
            ``image`` (one (N, C_l, H_l, W_l) tensor per LPIPS layer), computed without
            autograd; None for 'l1' and 'mse'.
    """
    image: Tensor
    features: Optional[List[Tensor]]


@MODELS.register_module()
class ReconstructionLoss(nn.Module):
    """Distance between D's decoded images and the resized real images.

    For every sample ``i`` a distance ``d_i`` is computed, then reduced over the batch:

    - ``distance='lpips'`` (official): LPIPS v0.1 "net-lin" on VGG16 features, from the
      ``lpips`` package (ImageNet VGG16 backbone from torchvision, linear heads shipped in
      the package);
    - ``distance='l1'``: ``mean(|pred_i - target_i|)`` over C, H, W;
    - ``distance='mse'``: ``mean((pred_i - target_i) ** 2)`` over C, H, W.

    ``reduction='sum'`` returns ``sum_i d_i`` as the official code does (so the loss grows
    with the batch size, while FastGAN's hinge term is a mean); ``reduction='mean'`` returns
    ``sum_i d_i / N``, independent of the batch size.

    The LPIPS network is frozen and deliberately not registered as a submodule: it is kept
    in a plain attribute (see :attr:`lpips_net`). Hence it is absent from ``parameters()``
    (no optimizer, DDP gradient reducer or EMA ever sees it), from ``state_dict()``
    (checkpoints do not carry 58 MB of VGG weights, and load the same whether or not the
    weights were pretrained here), and from ``train()`` / ``eval()`` (it stays in eval mode).
    Its parameters also have ``requires_grad=False``; gradients still flow to ``pred``.
    Device and dtype moves (``.to()``, ``.cuda()``, ``.half()``, ...) of this loss or of
    any module holding it are forwarded to the network.

    The target is a constant: no gradient flows to it. Where several predictions share one
    target (FastGAN's ``rec_big`` and ``rec_small``), :meth:`prepare_target` (or
    :meth:`prepare_targets` for a dict) computes its LPIPS features once, without autograd,
    and :meth:`forward` takes the prepared target in place of the image.

    Args:
        distance (str): One of ``'lpips'``, ``'l1'``, ``'mse'``. Defaults to ``'lpips'``.
        reduction (str): ``'sum'`` (official) or ``'mean'`` over the batch. Defaults to
            ``'sum'``.
        loss_weight (float): Non-negative factor applied to the loss. Defaults to 1.0.
        pretrained (bool): LPIPS only. True loads torchvision's ImageNet VGG16 weights,
            from the torch hub cache (``$TORCH_HOME/hub/checkpoints``) or by download, and
            raises ``RuntimeError`` if that fails. False builds a randomly initialised
            backbone (the linear heads are still the package's): no download, but the
            distance is not LPIPS, so only meant for tests and offline smoke runs.
            Defaults to True.
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
        net = _build_lpips(pretrained) if distance == 'lpips' else None
        # object.__setattr__ bypasses nn.Module's registration of submodules (see above).
        object.__setattr__(self, '_lpips_net', net)

    @property
    def lpips_net(self) -> Optional[nn.Module]:
        """The frozen ``lpips.LPIPS`` network in eval mode, or None for 'l1' and 'mse'."""
        return self._lpips_net

    @torch.no_grad()
    def prepare_target(self, target: Tensor) -> ReconstructionTarget:
        """Prepare a target once for any number of predictions.

        Args:
            target (Tensor): Real images (N, C, H, W), RGB, in [-1, 1] (3 channels for
                'lpips').

        Returns:
            ReconstructionTarget: The detached image and, for 'lpips', its features, all
            computed without autograd (under autocast, in the autocast dtype, as the
            predictions' features).
        """
        if target.dim() != 4:
            raise ValueError(f'target must be an (N, C, H, W) tensor, got shape '
                             f'{tuple(target.shape)}')
        if self.distance != 'lpips':
            return ReconstructionTarget(target.detach(), None)
        return ReconstructionTarget(target.detach(), self._lpips_features(target))

    def prepare_targets(self, targets: Dict[str, Tensor]) -> Dict[str, ReconstructionTarget]:
        """:meth:`prepare_target` for every value of ``targets``, once per distinct tensor
        (values that are the same tensor object share one prepared target)."""
        prepared = {}
        for image in targets.values():
            if id(image) not in prepared:
                prepared[id(image)] = self.prepare_target(image)
        return {name: prepared[id(image)] for name, image in targets.items()}

    def forward(self, pred: Tensor, target: Union[Tensor, ReconstructionTarget]) -> Tensor:
        """Compute the reconstruction loss.

        Args:
            pred (Tensor): Reconstructed images (N, 3, H, W), RGB, in [-1, 1] (for 'l1' and
                'mse' any channel count is accepted).
            target (Tensor | ReconstructionTarget): Real images of the same shape, RGB, in
                [-1, 1], or those images prepared by :meth:`prepare_target`.

        Returns:
            Tensor: Scalar loss, multiplied by ``loss_weight``.
        """
        image = target.image if isinstance(target, ReconstructionTarget) else target
        if pred.dim() != 4 or pred.shape != image.shape:
            raise ValueError('pred and target must be (N, C, H, W) tensors of the same shape, '
                             f'got {tuple(pred.shape)} and {tuple(image.shape)}')
        if self.distance == 'lpips' and pred.size(1) != 3:
            raise ValueError(f'LPIPS needs 3-channel images, got {pred.size(1)} channels')
        if not isinstance(target, ReconstructionTarget):
            target = self.prepare_target(target)
        if self.distance == 'lpips':
            per_sample = self._lpips_distance(pred, target.features)
            # At least float32: under autocast LPIPS returns float16 / bfloat16 distances.
            per_sample = per_sample.to(torch.promote_types(per_sample.dtype, torch.float32))
        elif self.distance == 'l1':
            per_sample = (pred - target.image).abs().flatten(1).mean(dim=1)
        else:
            per_sample = (pred - target.image).square().flatten(1).mean(dim=1)
        loss = per_sample.sum() if self.reduction == 'sum' else per_sample.mean()
        return self.loss_weight * loss

    def _lpips_features(self, images: Tensor) -> List[Tensor]:
        """Unit-normalised VGG16 features of ``images`` (N, 3, H, W) in [-1, 1], one per
        LPIPS layer, as ``lpips.LPIPS.forward`` (v0.1) computes them."""
        net = self._lpips_net
        return [lpips.normalize_tensor(out) for out in net.net(net.scaling_layer(images))]

    def _lpips_distance(self, pred: Tensor, target_features: List[Tensor]) -> Tensor:
        """LPIPS v0.1 distance per sample, (N,): ``lpips.LPIPS.forward`` (``spatial=False``,
        ``normalize=False``) with the target's features given."""
        lins = self._lpips_net.lins
        per_layer = [
            lpips.spatial_average(lin((feature - target)**2), keepdim=True)
            for lin, feature, target in zip(lins, self._lpips_features(pred), target_features)
        ]
        return sum(per_layer).flatten()

    def _apply(self, fn, *args, **kwargs):
        """Forward device and dtype conversions to the unregistered LPIPS network."""
        module = super()._apply(fn, *args, **kwargs)
        if self._lpips_net is not None:
            self._lpips_net._apply(fn)
        return module

    def extra_repr(self) -> str:
        return (f'distance={self.distance!r}, reduction={self.reduction!r}, '
                f'loss_weight={self.loss_weight}, pretrained={self.pretrained}')


def _build_lpips(pretrained: bool) -> nn.Module:
    """Build a frozen LPIPS-VGG v0.1 network in eval mode.

    Args:
        pretrained (bool): Whether the VGG16 backbone gets torchvision's ImageNet weights
            (True) or a random initialisation (False).

    Returns:
        nn.Module: The ``lpips.LPIPS`` network, every parameter with requires_grad False.
    """
    with warnings.catch_warnings():
        # lpips 0.1.4 still passes torchvision's deprecated ``pretrained`` argument.
        warnings.filterwarnings('ignore', message='.*pretrained.*', category=UserWarning)
        warnings.filterwarnings('ignore', message='Arguments other than a weight enum',
                                category=UserWarning)
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
    net.requires_grad_(False)
    return net.eval()
