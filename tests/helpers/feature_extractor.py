"""A small random TorchScript network that stands in for StyleGAN's Inception in tests.

With ``inception_style='StyleGAN'``, mmagic's ``FrechetInceptionDistance`` and
``InceptionScore`` (and this plugin's ``KernelInceptionDistance``) load the TorchScript
Inception of StyleGAN2-ADA (``inception-2015-12-05.pt``, downloaded on first use) or the
TorchScript file given as ``inception_path``, and call it as:

- ``net(img, return_features=True)`` -> (N, 2048) pool features (FID, KID);
- ``net(img, no_output_bias=True)`` -> (N, 1008) class probabilities (IS);

where ``img`` is a uint8 tensor (N, 3, H, W), RGB, in [0, 255], of any size (the network
resizes it). The network's parameters must not require grad: mmagic converts the
features to numpy without ``torch.no_grad``.

:func:`build_torchscript_feature_extractor` writes a network with exactly that calling
convention, randomly initialised from a seed, so that the tests run the metric pipeline
offline. It is NOT Inception: FID, KID and IS computed with it are only comparable with
numbers computed with the same file, never with published values.

A test writes the file, then names it as ``inception_path`` in a config::

    from helpers.feature_extractor import build_torchscript_feature_extractor
    build_torchscript_feature_extractor(str(tmp_path / 'random_inception.pt'))
"""
import math
import os
import os.path as osp
from typing import List

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fastgan_plugin.utils.validation import check_int


class RandomFeatureNet(nn.Module):
    """Random convolutional features with the calling convention of StyleGAN's Inception.

    Architecture: bilinear resize to ``resolution`` x ``resolution``, (x - 128) / 128,
    three stride-2 4x4 convolutions (3 -> ``width`` -> 2 * ``width`` -> ``feature_dim``,
    LeakyReLU(0.2) between them, ReLU after the last), global average pooling, and a linear
    head to ``num_classes`` logits followed by softmax.

    Args:
        feature_dim (int): Length of the feature vector returned with
            ``return_features=True``.
        num_classes (int): Length of the probability vector returned otherwise.
        resolution (int): Side length, in pixels, the input is resized to. Must be
            divisible by 8.
        width (int): Channels of the first convolution.
    """

    resolution: int

    def __init__(self, feature_dim: int, num_classes: int, resolution: int, width: int):
        super().__init__()
        self.resolution = resolution
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, feature_dim, 4, stride=2, padding=1),
            nn.ReLU(),
        )
        self.fc = nn.Linear(feature_dim, num_classes)

    def forward(self,
                img: Tensor,
                return_features: bool = False,
                no_output_bias: bool = False) -> Tensor:
        """Extract features or class probabilities.

        Args:
            img (Tensor): uint8 images (N, 3, H, W), RGB, in [0, 255], any H and W.
            return_features (bool): Return the pooled features instead of probabilities.
            no_output_bias (bool): Leave out the bias of the classification head (mmagic's
                Inception Score asks for this). Ignored with ``return_features=True``.

        Returns:
            Tensor: Features (N, feature_dim), non-negative, if ``return_features``; else
            class probabilities (N, num_classes), each row summing to 1.
        """
        if img.dim() != 4 or img.shape[1] != 3:
            raise ValueError('expected images of shape (N, 3, H, W)')
        if img.dtype != torch.uint8:
            raise TypeError('expected uint8 images in [0, 255]')
        x = img.to(torch.float32)
        x = F.interpolate(
            x, size=[self.resolution, self.resolution], mode='bilinear', align_corners=False)
        x = (x - 128.0) / 128.0
        feats = self.features(x).mean(dim=[2, 3])
        if return_features:
            return feats
        if no_output_bias:
            logits = F.linear(feats, self.fc.weight)
        else:
            logits = self.fc(feats)
        return F.softmax(logits, dim=1)


def build_torchscript_feature_extractor(path: str,
                                        feature_dim: int = 64,
                                        seed: int = 0,
                                        *,
                                        num_classes: int = 1008,
                                        resolution: int = 64,
                                        width: int = 16) -> str:
    """Write a random TorchScript stand-in for StyleGAN's Inception to ``path``.

    The file loads with ``torch.jit.load`` and can be given as ``inception_path`` to
    mmagic's ``FrechetInceptionDistance`` / ``InceptionScore`` and to this plugin's
    ``KernelInceptionDistance`` (all with ``inception_style='StyleGAN'``). See the module
    docstring for the calling convention. For tests only: its metric values are not
    comparable with published FID / KID / IS.

    Parameters are drawn from a ``torch.Generator`` seeded with ``seed`` (He-normal
    weights, normal biases with standard deviation 0.1), so the same arguments give the same
    network on every machine with the same torch version, without touching the global RNG.
    All parameters have ``requires_grad=False``.

    Args:
        path (str): Output file, for example ``str(tmp_path / 'net.pt')``. Parent folders
            are created.
        feature_dim (int): Feature length returned with ``return_features=True``
            (the real Inception returns 2048). Defaults to 64, small enough for quick CPU
            runs of FID's covariance square root.
        seed (int): Seed of the weights. Defaults to 0.
        num_classes (int): Length of the probability vector used by Inception Score.
            Defaults to 1008, as the real network.
        resolution (int): Side length the input is resized to; divisible by 8.
            Defaults to 64.
        width (int): Channels of the first convolution. Defaults to 16.

    Returns:
        str: ``path``.
    """
    for name, value in (('feature_dim', feature_dim), ('num_classes', num_classes),
                        ('resolution', resolution), ('width', width)):
        check_int(value, name, minimum=1)
    if resolution % 8:
        raise ValueError(f'resolution must be divisible by 8, got {resolution}')
    check_int(seed, 'seed', minimum=0)

    with torch.random.fork_rng(devices=[]):  # the layers' default init draws from it
        net = RandomFeatureNet(feature_dim, num_classes, resolution, width)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in net.parameters():
            std = 0.1 if param.dim() == 1 else math.sqrt(2.0 / param[0].numel())
            param.copy_(torch.randn(param.shape, generator=generator) * std)
    net.requires_grad_(False)
    net.eval()

    dir_name = osp.dirname(osp.abspath(path))
    os.makedirs(dir_name, exist_ok=True)
    torch.jit.script(net).save(path)
    return path


def offline_fid_kid_metrics(folder: str, num_subsets: int) -> List[dict]:
    """``FID-Full`` and ``KID-Full`` metric configs that run offline, on 8 samples of the
    EMA generator and every real image.

    Their Inception is the stand-in of :func:`build_torchscript_feature_extractor`
    (8 features), written to ``folder/inception.pt`` unless it is there already; the real
    images' features are kept in ``folder/fid.pkl`` and ``folder/kid.pkl``.

    Args:
        folder (str): Where the network and the feature files go.
        num_subsets (int): KID's subsets, of 4 images each.

    Returns:
        list[dict]: The two metric configs, for ``val_evaluator.metrics`` or
        ``test_evaluator.metrics``.
    """
    inception = osp.join(folder, 'inception.pt')
    if not osp.exists(inception):
        build_torchscript_feature_extractor(inception, feature_dim=8)
    metric = dict(fake_nums=8, real_nums=-1, inception_style='StyleGAN',
                  inception_path=inception, sample_model='ema')
    return [
        dict(type='FrechetInceptionDistance', prefix='FID-Full',
             inception_pkl=osp.join(folder, 'fid.pkl'), **metric),
        dict(type='KernelInceptionDistance', prefix='KID-Full', num_subsets=num_subsets,
             subset_size=4, inception_pkl=osp.join(folder, 'kid.pkl'), **metric),
    ]
