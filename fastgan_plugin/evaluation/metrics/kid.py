"""Kernel Inception Distance (Binkowski et al., ICLR 2018): unlike FID unbiased in the number
of images, which suits few-shot datasets of a few hundred images."""
import os.path as osp
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmagic.evaluation.functional import prepare_inception_feat
from mmagic.evaluation.functional.inception_utils import ALLOWED_INCEPTION
from mmagic.registry import METRICS
from mmengine import print_log
from mmengine.dist import is_main_process
from torch import Tensor
from torch.utils.data.dataloader import DataLoader

from fastgan_plugin.utils.validation import check_choice, check_int

from .fid import CompositeFID


def polynomial_mmd2_unbiased(x: Tensor, y: Tensor) -> Tensor:
    """Unbiased MMD^2 of ``x`` (m, d) and ``y`` (n, d), m, n >= 2, under the kernel
    ``k(a, b) = (a . b / d + 1) ** 3``: a scalar in the inputs' dtype, about 0 (also
    slightly negative) for equal distributions."""
    m, d = x.shape
    n = y.shape[0]
    k_xx = (x @ x.T / d + 1) ** 3
    k_yy = (y @ y.T / d + 1) ** 3
    k_xy = (x @ y.T / d + 1) ** 3
    return ((k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1)) +
            (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1)) - 2 * k_xy.mean())


def kernel_inception_distance(real_feats: Tensor, fake_feats: Tensor, num_subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> Tuple[float, float]:
    """Mean and population standard deviation of :func:`polynomial_mmd2_unbiased` over
    ``num_subsets`` subsets of real (n_real, d) and fake (n_fake, d) features.

    Each subset draws ``min(subset_size, n_real, n_fake)`` fake indices, then as many real
    ones, without replacement, from ``numpy.random.default_rng(seed)`` (StyleGAN2-ADA's
    order); float64 on the device of ``fake_feats``. About 1.5 min on 2 CPU cores for the
    defaults, 1000 images, d = 2048.
    """
    if real_feats.dim() != 2 or fake_feats.dim() != 2:
        raise ValueError('features must be 2-D (num_images, feature_dim), got shapes '
                         f'{tuple(real_feats.shape)} (real) and {tuple(fake_feats.shape)} (fake)')
    if real_feats.shape[1] != fake_feats.shape[1]:
        raise ValueError(f'real features have dimension {real_feats.shape[1]} but generated '
                         f'features have {fake_feats.shape[1]}: they come from different '
                         'networks (a stale inception_pkl?)')
    n_real, n_fake = real_feats.shape[0], fake_feats.shape[0]
    if min(n_real, n_fake) < 2:
        raise ValueError(f'KID needs at least 2 real and 2 generated images, got {n_real} '
                         f'real and {n_fake} generated')
    size = min(subset_size, n_real, n_fake)
    device = fake_feats.device
    real_feats = real_feats.to(device=device, dtype=torch.float64)
    fake_feats = fake_feats.to(dtype=torch.float64)
    rng = np.random.default_rng(seed)
    mmds = []
    for _ in range(num_subsets):
        fake_idx = torch.from_numpy(rng.choice(n_fake, size, replace=False)).to(device)
        real_idx = torch.from_numpy(rng.choice(n_real, size, replace=False)).to(device)
        mmds.append(polynomial_mmd2_unbiased(fake_feats[fake_idx], real_feats[real_idx]))
    mmds = torch.stack(mmds)
    return mmds.mean().item(), mmds.std(unbiased=False).item()


@METRICS.register_module()
class KernelInceptionDistance(CompositeFID):
    """KID x 10^3 from the features mmagic's FID extracts (same sampling and
    ``MultiValLoop`` integration, so it can share a ``val_evaluator`` with FID; RGBA
    composited on white and grey repeated to RGB as :class:`CompositeFID` does).

    Outputs (prefix ``'KID-Full'``): ``kid_x1e3``, the mean over subsets of the unbiased
    MMD^2, and ``kid_std_x1e3``, its spread over subsets (not a standard error), both x 1000
    as in StyleGAN2-ADA's tables; lower is better, near 0 (also negative) is indistinguishable.
    ``inception_pkl`` holds every real feature (``raw_feature``, (n_real, d)); FID's is refused.

    Args:
        fake_nums (int): Generated images, >= 2.
        real_nums (int): Real images, >= 2, or -1 for all. Defaults to -1.
        inception_style, inception_path: As mmagic's ``FrechetInceptionDistance``.
        inception_pkl (str, optional): Local real-feature cache, written on first use.
        num_subsets (int): Random subsets, >= 1. Defaults to 100.
        subset_size (int): Images per subset, >= 2, clipped to the numbers of images.
        seed (int): Seed of the subset sampling, >= 0. Defaults to 0.
        **kwargs: As mmagic's ``FrechetInceptionDistance`` (``fake_key``, ``prefix``...).
    """
    name = 'KID'
    default_prefix = 'KID-Full'

    def __init__(self, fake_nums: int, real_nums: int = -1, inception_style: str = 'StyleGAN',
                 inception_path: Optional[str] = None, inception_pkl: Optional[str] = None, *,
                 num_subsets: int = 100, subset_size: int = 1000, seed: int = 0, **kwargs):
        fake_nums = check_int(fake_nums, 'fake_nums', minimum=2)
        if real_nums != -1:
            real_nums = check_int(real_nums, 'real_nums', minimum=2,
                                  what='an int >= 2, or -1 for the whole dataset')
        check_choice(inception_style, 'inception_style', ALLOWED_INCEPTION)
        if inception_path is not None:
            if not isinstance(inception_path, str):
                raise TypeError(f'inception_path must be a str, got {inception_path!r}')
            if not inception_path.startswith('http') and not osp.isfile(inception_path):
                raise FileNotFoundError(f'inception_path {inception_path!r} is not a file')
        if inception_pkl is not None and (not isinstance(inception_pkl, str)
                                          or inception_pkl.startswith(('http', 's3'))):
            raise ValueError(f'inception_pkl must be a local path (str), got {inception_pkl!r}')
        self.num_subsets = check_int(num_subsets, 'num_subsets', minimum=1)
        self.subset_size = check_int(subset_size, 'subset_size', minimum=2)
        self.seed = check_int(seed, 'seed', minimum=0)
        kwargs['sample_kwargs'] = kwargs.get('sample_kwargs') or {}  # not FID's shared default
        super().__init__(fake_nums, real_nums, inception_style, inception_path, inception_pkl,
                         **kwargs)
        # Read by mmagic's cache naming, so features of another network are not reused.
        self.inception_args = dict(inception_style=inception_style,
                                   inception_path=inception_path)
        self.real_feats: Optional[Tensor] = None

    def prepare(self, module: nn.Module, dataloader: DataLoader) -> None:
        """Load or extract the raw Inception features of the real images."""
        self.device = module.data_preprocessor.device
        self.inception.to(self.device)
        self.inception.eval()
        state = prepare_inception_feat(dataloader, self, module.data_preprocessor,
                                       capture_mean_cov=True, capture_all=True)
        if not is_main_process():
            return
        if 'raw_feature' not in state:
            raise ValueError(f'inception_pkl {self.inception_pkl!r} holds no raw real features '
                             "('raw_feature'), only their mean and covariance as written by "
                             'FrechetInceptionDistance; KID needs the raw features: give '
                             'KernelInceptionDistance an inception_pkl path of its own, it is '
                             'written on first use')
        self.real_feats = torch.as_tensor(state['raw_feature'])

    def compute_metrics(self, fake_results: list) -> dict:
        """``kid_x1e3`` and ``kid_std_x1e3`` from the (1, d) features of the generated images."""
        fake_feats = torch.cat(fake_results, dim=0)
        size = min(self.subset_size, self.real_feats.shape[0], fake_feats.shape[0])
        if size < self.subset_size:
            print_log(f'KID: subsets of {size} images (subset_size={self.subset_size} '
                      f'exceeds {self.real_feats.shape[0]} real or {fake_feats.shape[0]} '
                      'generated images)', 'current')
        kid, kid_std = kernel_inception_distance(
            self.real_feats, fake_feats, self.num_subsets, self.subset_size, self.seed)
        return {'kid_x1e3': kid * 1e3, 'kid_std_x1e3': kid_std * 1e3}
