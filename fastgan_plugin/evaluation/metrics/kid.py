"""Kernel Inception Distance (KID) for mmagic's generative-metric loop.

KID (Binkowski et al., "Demystifying MMD GANs", ICLR 2018) is the squared maximum mean
discrepancy between Inception features of real and generated images under the cubic
polynomial kernel ``k(x, y) = (x . y / d + 1) ** 3``, estimated without bias. Unlike FID it
is unbiased in the number of images, so it is the better choice for the few-hundred-image
datasets FastGAN targets.
"""
import os.path as osp
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmagic.evaluation.functional import prepare_inception_feat
from mmagic.evaluation.functional.inception_utils import ALLOWED_INCEPTION
from mmagic.evaluation.metrics import FrechetInceptionDistance
from mmagic.registry import METRICS
from mmengine import print_log
from mmengine.dist import is_main_process
from torch import Tensor
from torch.utils.data.dataloader import DataLoader

from fastgan_plugin.utils.validation import check_choice, check_int


def polynomial_mmd2_unbiased(x: Tensor, y: Tensor) -> Tensor:
    """Unbiased estimate of MMD^2 under the kernel ``k(a, b) = (a . b / d + 1) ** 3``.

    ``MMD^2 = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (n (n - 1))
    - 2 sum_{i, j} k(x_i, y_j) / (m n)``.

    Args:
        x (Tensor): Samples (m, d), m >= 2.
        y (Tensor): Samples (n, d), n >= 2.

    Returns:
        Tensor: Scalar estimate, in the dtype of the inputs; can be slightly negative
        when the two distributions are equal.
    """
    m, d = x.shape
    n = y.shape[0]
    k_xx = (x @ x.T / d + 1) ** 3
    k_yy = (y @ y.T / d + 1) ** 3
    k_xy = (x @ y.T / d + 1) ** 3
    return ((k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1)) +
            (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1)) - 2 * k_xy.mean())


def kernel_inception_distance(real_feats: Tensor,
                              fake_feats: Tensor,
                              num_subsets: int = 100,
                              subset_size: int = 1000,
                              seed: int = 0) -> Tuple[float, float]:
    """KID: mean and standard deviation of MMD^2 over random subsets.

    Each of the ``num_subsets`` subsets draws ``min(subset_size, n_real, n_fake)`` fake
    indices and then as many real indices, without replacement, from
    ``numpy.random.default_rng(seed)``; :func:`polynomial_mmd2_unbiased` is computed in
    float64 on the device of ``fake_feats``. Cost: ``6 * num_subsets * size**2 * d``
    floating-point operations, for example 1.2e12 with the defaults, 1000 images and
    d = 2048 (about 1.5 minutes on 2 CPU cores, a second on a GPU).

    Args:
        real_feats (Tensor): Real features (n_real, d), n_real >= 2.
        fake_feats (Tensor): Generated features (n_fake, d), n_fake >= 2.
        num_subsets (int): Number of subsets. Defaults to 100.
        subset_size (int): Largest subset size. Defaults to 1000.
        seed (int): Seed of the subset sampling. Defaults to 0.

    Returns:
        Tuple[float, float]: Mean and (population) standard deviation of the subset
        estimates, unscaled.
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


@METRICS.register_module('KID-Full')
@METRICS.register_module('KID')
@METRICS.register_module()
class KernelInceptionDistance(FrechetInceptionDistance):
    """Kernel Inception Distance, reported x 10^3.

    Same Inception feature extraction, generated-image sampling and ``MultiValLoop``
    integration as mmagic's :class:`~mmagic.evaluation.FrechetInceptionDistance` (this
    class only changes how real features are cached and how the value is computed), so it
    can share a ``val_evaluator`` and the generated images with FID.

    Output keys (under the prefix, ``'KID-Full'`` by default), both multiplied by 1000 as
    in the KID tables of StyleGAN2-ADA and most GAN papers ("KID x 10^3"):

    - ``kid_x1e3``: mean over subsets of the unbiased MMD^2 estimate;
    - ``kid_std_x1e3``: its standard deviation over subsets (spread of the subset
      estimates, not a standard error).

    Lower is better (``rule='less'`` for ``CheckpointHook(save_best=...)``). Values near 0,
    including slightly negative ones, mean indistinguishable feature distributions.

    Real-feature cache: KID needs every real feature, while FID's ``inception_pkl`` holds
    only their mean and covariance. This metric therefore asks mmagic's
    ``prepare_inception_feat`` for both (``capture_mean_cov=True, capture_all=True``): the
    pkl it writes holds ``raw_feature`` (n_real, d) besides ``real_mean`` / ``real_cov``,
    and is also a valid FID pkl. A pkl without ``raw_feature`` (one written by FID) is
    refused with an error; give KID its own ``inception_pkl``. With ``inception_pkl=None``
    the file goes to mmagic's cache folder under a name hashed from the dataset, the
    capture mode and (unlike FID's) ``inception_style`` and ``inception_path``, so
    features of another network are never reused.

    Args:
        fake_nums (int): Number of generated images, >= 2.
        real_nums (int): Number of real images, >= 2; -1 for the whole dataset. Defaults
            to -1.
        inception_style (str): 'StyleGAN' (TorchScript Inception of StyleGAN2-ADA, uint8
            input) or 'PyTorch' (torchvision-style weights). Defaults to 'StyleGAN'.
        inception_path (str, optional): Local TorchScript file or URL of the StyleGAN
            Inception; None downloads the official one. Defaults to None.
        inception_pkl (str, optional): Local path of the real-feature cache, written on
            first use. Defaults to None (mmagic's cache folder).
        fake_key (str, optional): Key of generated images in the model output; None
            takes ``fake_img``. Defaults to None.
        real_key (str, optional): Key of real images in the preprocessed data samples.
            Defaults to 'gt_img'.
        need_cond_input (bool): Sample conditional inputs from the dataset. Defaults to
            False.
        sample_model (str): Generator to sample from: 'orig' or 'ema'. Defaults to 'orig'.
        collect_device (str): Device for collecting results across ranks, 'cpu' or 'gpu'.
            Defaults to 'cpu'.
        prefix (str, optional): Prefix of the output keys. Defaults to None, which uses
            ``'KID-Full'``; pass another one when ``real_nums`` is not -1.
        sample_kwargs (dict, optional): Extra keyword arguments for the generator.
            Defaults to None (none).
        num_subsets (int): Number of random subsets, >= 1. Defaults to 100.
        subset_size (int): Images per subset, >= 2; clipped to the number of real and of
            generated images. Defaults to 1000.
        seed (int): Seed of the subset sampling, >= 0; the same features and seed give
            the same result. Defaults to 0.
    """
    name = 'KID'
    default_prefix = 'KID-Full'

    def __init__(self,
                 fake_nums: int,
                 real_nums: int = -1,
                 inception_style: str = 'StyleGAN',
                 inception_path: Optional[str] = None,
                 inception_pkl: Optional[str] = None,
                 fake_key: Optional[str] = None,
                 real_key: Optional[str] = 'gt_img',
                 need_cond_input: bool = False,
                 sample_model: str = 'orig',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 sample_kwargs: Optional[dict] = None,
                 num_subsets: int = 100,
                 subset_size: int = 1000,
                 seed: int = 0):
        fake_nums = check_int(fake_nums, 'fake_nums', minimum=2)
        if real_nums != -1:
            real_nums = check_int(real_nums, 'real_nums', minimum=2,
                                  what='an int >= 2, or -1 for the whole dataset')
        num_subsets = check_int(num_subsets, 'num_subsets', minimum=1)
        subset_size = check_int(subset_size, 'subset_size', minimum=2)
        seed = check_int(seed, 'seed', minimum=0)
        check_choice(inception_style, 'inception_style', ALLOWED_INCEPTION)
        if inception_path is not None:
            if not isinstance(inception_path, str):
                raise TypeError(f'inception_path must be a str, got {inception_path!r}')
            if not inception_path.startswith('http') and not osp.isfile(inception_path):
                raise FileNotFoundError(f'inception_path {inception_path!r} is not a file')
        if inception_pkl is not None and (not isinstance(inception_pkl, str)
                                          or inception_pkl.startswith(('http', 's3'))):
            raise ValueError(f'inception_pkl must be a local path (str), got {inception_pkl!r}')
        super().__init__(fake_nums, real_nums, inception_style, inception_path, inception_pkl,
                         fake_key, real_key, need_cond_input, sample_model, collect_device,
                         prefix, dict() if sample_kwargs is None else sample_kwargs)
        self.num_subsets = num_subsets
        self.subset_size = subset_size
        self.seed = seed
        # Read by mmagic's cache naming (get_inception_feat_cache_name_and_args).
        self.inception_args = dict(
            inception_style=inception_style, inception_path=inception_path)
        self.real_feats: Optional[Tensor] = None

    def prepare(self, module: nn.Module, dataloader: DataLoader) -> None:
        """Load or extract the raw Inception features of the real images.

        Args:
            module (nn.Module): The model to evaluate.
            dataloader (DataLoader): The dataloader of real images.
        """
        self.device = module.data_preprocessor.device
        self.inception.to(self.device)
        self.inception.eval()
        inception_state = prepare_inception_feat(
            dataloader, self, module.data_preprocessor, capture_mean_cov=True,
            capture_all=True)
        if is_main_process():
            if 'raw_feature' not in inception_state:
                raise ValueError(
                    f'inception_pkl {self.inception_pkl!r} holds no raw real features '
                    "('raw_feature'), only their mean and covariance as written by "
                    'FrechetInceptionDistance; KID needs the raw features: give '
                    'KernelInceptionDistance an inception_pkl path of its own, it is '
                    'written on first use')
            self.real_feats = torch.as_tensor(inception_state['raw_feature'])

    def compute_metrics(self, fake_results: list) -> dict:
        """Compute KID between the real features and the generated ones.

        Args:
            fake_results (list): Features of the generated images, (1, d) tensors.

        Returns:
            dict: ``kid_x1e3`` and ``kid_std_x1e3`` (see the class docstring).
        """
        fake_feats = torch.cat(fake_results, dim=0)
        size = min(self.subset_size, self.real_feats.shape[0], fake_feats.shape[0])
        if size < self.subset_size:
            print_log(f'KID: subsets of {size} images (subset_size={self.subset_size} '
                      f'exceeds {self.real_feats.shape[0]} real or {fake_feats.shape[0]} '
                      'generated images)', 'current')
        kid, kid_std = kernel_inception_distance(
            self.real_feats, fake_feats, self.num_subsets, self.subset_size, self.seed)
        return {'kid_x1e3': kid * 1e3, 'kid_std_x1e3': kid_std * 1e3}
