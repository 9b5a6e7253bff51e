"""Nearest training images of generated ones, and a memorisation score.

Few-shot GANs can copy their training images. For each generated image this finds the
closest training images under an image distance, and summarises how close the samples are
with a score calibrated on the training set itself:

- ``train_nn[j]``: the distance of training image ``j`` to its nearest *other* training
  image, for every ``j``;
- ``threshold``: the ``quantile`` (default 0.05) of ``train_nn``, i.e. a distance that only
  5 % of training images come as close as to another training image;
- ``sample_nn[i]``: the distance of sample ``i`` to its nearest training image;
- **memorisation score** = the share of samples with ``sample_nn < threshold``.

New images drawn from the training distribution are about as far from the training set as
a training image is from the others, so a generator that does not copy scores about
``quantile`` (0.05); a score well above it means samples lie closer to training images than
distinct training images lie to each other, i.e. near-copies (1.0: every sample). A score
near 0 says nothing about quality: bad samples are far from everything too. Duplicates in
the training set lower the threshold (their distance is 0), which makes the score stricter.
"""
from typing import List, Optional, Tuple

import torch
from torch import Tensor
from tqdm import tqdm

from ..datasets import FewShotImageDataset
from ..datasets.transforms import LoadRGBImage, ResizeToSquare
from ..models.editors.fastgan.modules import resize_images
from ..models.losses import ReconstructionLoss
from ..utils.validation import check_choice, check_int

DISTANCE_METRICS = ('pixel', 'lpips')


def load_image_folder(folder: str, size: int, mode: str = 'crop',
                      scale_to: Optional[int] = None) -> Tuple[Tensor, List[str]]:
    """Read the images of a training folder as the training pipeline does.

    Args:
        folder (str): The folder (its images are listed and checked by
            :class:`~fastgan_plugin.datasets.FewShotImageDataset`).
        size (int): Side length the images are made square at, e.g. the model's
            ``im_size`` (as in training).
        mode (str): ``'crop'`` (default, as the configs) or ``'pad'``, see
            :class:`~fastgan_plugin.datasets.transforms.ResizeToSquare`.
        scale_to (int, optional): Then area-resize each image to this side length, one by
            one (a thousand 1024 px images would take 12 GB as float tensors). None keeps
            ``size``.

    Returns:
        tuple[Tensor, list[str]]: (M, 3, S, S) RGB in [-1, 1] with S = ``scale_to`` or
        ``size``, and the file paths.
    """
    dataset = FewShotImageDataset(
        folder, [LoadRGBImage(key='gt'), ResizeToSquare(size, key='gt', mode=mode)],
        serialize_data=False)
    images = []
    for index in range(len(dataset)):
        image = torch.from_numpy(dataset[index]['gt']).permute(2, 0, 1)[None].float()
        image = image.div(127.5).sub(1)
        images.append(image if scale_to is None else resize_images(image, scale_to, 'area'))
    paths = [dataset.get_data_info(i)['gt_path'] for i in range(len(dataset))]
    return torch.cat(images), paths


class ImageDistance:
    """A distance between RGB images in [-1, 1], compared at ``size`` x ``size`` pixels.

    - ``'pixel'``: root mean square difference of the pixel values (area-resized), in
      [0, 2]; cheap, but sensitive to small shifts.
    - ``'lpips'``: LPIPS-VGG v0.1 (the ``lpips`` net of
      :class:`~fastgan_plugin.models.losses.ReconstructionLoss`), closer to perceived
      similarity; one VGG pass per pair of images.

    Args:
        metric (str): ``'pixel'`` or ``'lpips'``. Defaults to 'pixel'.
        size (int): Comparison resolution. Defaults to 64.
        lpips_pretrained (bool): LPIPS only: False builds a random VGG backbone (no
            download; not LPIPS, for tests only). Defaults to True.
        device (str | torch.device): Where LPIPS runs. Defaults to 'cpu'.
        batch_size (int): Pairs per LPIPS call. Defaults to 32.
    """

    def __init__(self, metric: str = 'pixel', size: int = 64, lpips_pretrained: bool = True,
                 device='cpu', batch_size: int = 32) -> None:
        self.metric = check_choice(metric, 'metric', DISTANCE_METRICS)
        self.size = size
        self.device = device
        self.batch_size = batch_size
        self.lpips_net = None
        if metric == 'lpips':
            loss = ReconstructionLoss('lpips', pretrained=lpips_pretrained).to(device)
            self.lpips_net = loss.lpips_net

    def prepare(self, images: Tensor) -> Tensor:
        """(N, 3, H, W) any range -> (N, 3, size, size) clamped to [-1, 1]."""
        return resize_images(images.float().clamp(-1, 1), self.size, 'area')

    @torch.no_grad()
    def pairwise(self, a: Tensor, b: Optional[Tensor] = None, progress: bool = False) -> Tensor:
        """Distances between every image of ``a`` and every image of ``b``.

        Args:
            a (Tensor): (N, 3, H, W) RGB in [-1, 1].
            b (Tensor, optional): (M, 3, H', W'); None compares ``a`` with itself (LPIPS
                then evaluates each unordered pair once: it is symmetric).
            progress (bool): Show a progress bar (LPIPS). Defaults to False.

        Returns:
            Tensor: (N, M) distances on the CPU.
        """
        a = self.prepare(a)
        other = a if b is None else self.prepare(b)
        if self.metric == 'pixel':
            distances = torch.cdist(a.flatten(1), other.flatten(1),
                                    compute_mode='donot_use_mm_for_euclid_dist')
            return distances / a[0].numel()**0.5
        if b is None:
            pairs = torch.triu_indices(len(a), len(a), offset=1).t()
        else:
            pairs = torch.cartesian_prod(torch.arange(len(a)), torch.arange(len(other)))
        distances = torch.zeros(len(a), len(other))
        for chunk in tqdm(pairs.split(self.batch_size), desc='LPIPS', unit='batch',
                          disable=not progress):
            first = a[chunk[:, 0]].to(self.device)
            second = other[chunk[:, 1]].to(self.device)
            values = self.lpips_net(first, second, normalize=False).flatten().cpu()
            distances[chunk[:, 0], chunk[:, 1]] = values
        return distances + distances.t() if b is None else distances


def memorisation(sample_to_train: Tensor, train_to_train: Tensor, k: int = 3,
                 quantile: float = 0.05) -> dict:
    """Nearest training images and the memorisation score (see the module docstring).

    Args:
        sample_to_train (Tensor): (N, M) distances of N samples to M training images.
        train_to_train (Tensor): (M, M) distances between the training images (the
            diagonal is ignored).
        k (int): Nearest training images kept per sample. Defaults to 3.
        quantile (float): Quantile of the training nearest-neighbour distances that
            defines the threshold, in (0, 1). Defaults to 0.05.

    Returns:
        dict: ``nn_indices`` and ``nn_distances`` (N, k), nearest first; ``sample_nn`` (N,);
        ``train_nn`` (M,); ``threshold`` (float); ``memorised`` (N,) bool; ``score`` (float).
    """
    num_train = train_to_train.size(0)
    if num_train < 2 or train_to_train.shape != (num_train, num_train):
        raise ValueError(f'train_to_train must be (M, M) with M >= 2 training images, got '
                         f'shape {tuple(train_to_train.shape)}')
    if sample_to_train.dim() != 2 or sample_to_train.size(1) != num_train:
        raise ValueError(f'sample_to_train must be (N, {num_train}), got '
                         f'{tuple(sample_to_train.shape)}')
    check_int(k, 'k', 1, num_train, what=f'in 1..{num_train} (the number of training images)')
    if not 0 < quantile < 1:
        raise ValueError(f'quantile must be in (0, 1), got {quantile}')
    others = train_to_train.clone().fill_diagonal_(float('inf'))
    train_nn = others.min(dim=1).values
    threshold = torch.quantile(train_nn, quantile).item()
    nn_distances, nn_indices = sample_to_train.topk(k, dim=1, largest=False)
    sample_nn = nn_distances[:, 0]
    memorised = sample_nn < threshold
    return dict(nn_indices=nn_indices, nn_distances=nn_distances, sample_nn=sample_nn,
                train_nn=train_nn, threshold=threshold, memorised=memorised,
                score=memorised.float().mean().item())
