"""Nearest training images of generated ones, and a memorisation score.

The score is calibrated on the training set: ``threshold`` is the ``quantile`` (0.05) of the
training images' distances to their nearest *other* training image, and the score is the
share of samples closer than that to a training image. A generator that does not copy
scores about ``quantile``; near-copies score up to 1. See docs/model_zoo.md.
"""
from typing import List, Optional, Sequence, Tuple

import torch
from PIL import Image
from torch import Tensor, nn
from tqdm import tqdm

from ..datasets import FewShotImageDataset
from ..datasets.transforms import LoadRGBImage, ResizeToSquare
from ..models.editors.fastgan.modules import resize_images
from ..models.losses import ReconstructionLoss
from ..utils.channels import to_rgb
from ..utils.validation import check_choice, check_int
from .classes import class_labels
from .inference import sample_images, to_grid

DISTANCE_METRICS = ('pixel', 'lpips')


def load_image_folder(folder: str, size: int, mode: str = 'crop',
                      scale_to: Optional[int] = None,
                      recursive: bool = False, img_channels: int = 3) -> Tuple[Tensor, List[str]]:
    """(M, C, S, S) RGB, RGBA or grey (C = ``img_channels``) in [-1, 1] and the paths of the
    images of ``folder`` (and of its subfolders with ``recursive``): made square at ``size``
    as in training (``mode``: ``'crop'`` or ``'pad'``), then area-resized to S = ``scale_to``
    (default: ``size``) one by one (1000 images at 1024 px would take 12 GB).
    """
    dataset = FewShotImageDataset(
        folder, [LoadRGBImage(key='gt', img_channels=img_channels,
                              skip_unreadable=False),  # a path names its own image
                 ResizeToSquare(size, key='gt', mode=mode)],
        recursive=recursive, serialize_data=False)
    images = []
    for index in range(len(dataset)):
        image = torch.from_numpy(dataset[index]['gt']).permute(2, 0, 1)[None].float() / 127.5 - 1
        images.append(image if scale_to is None else resize_images(image, scale_to, 'area'))
    return torch.cat(images), [dataset.get_data_info(i)['gt_path'] for i in range(len(dataset))]


class ImageDistance:
    """A distance between RGB images in [-1, 1] (RGBA, grey: LPIPS sees them on white, as
    RGB), compared at ``size`` x ``size`` pixels.

    ``'pixel'``: RMS difference of the area-resized pixels, in [0, 2]. ``'lpips'``: LPIPS-VGG
    v0.1 (:class:`~fastgan_plugin.models.losses.ReconstructionLoss`'s net), closer to
    perception; ``lpips_pretrained=False`` builds a random VGG (no download; tests only).
    LPIPS runs on ``device``, ``batch_size`` pairs per call.
    """

    def __init__(self, metric: str = 'pixel', size: int = 64, lpips_pretrained: bool = True,
                 device='cpu', batch_size: int = 32) -> None:
        self.metric = check_choice(metric, 'metric', DISTANCE_METRICS)
        self.size, self.device, self.batch_size = size, device, batch_size
        self.lpips_net = None if metric == 'pixel' else ReconstructionLoss(
            'lpips', pretrained=lpips_pretrained).to(device).lpips_net

    @torch.no_grad()
    def pairwise(self, a: Tensor, b: Optional[Tensor] = None, progress: bool = False) -> Tensor:
        """(N, M) distances on the CPU between images ``a`` (N, 3, H, W) and ``b``
        (M, 3, H', W'); ``b=None`` compares ``a`` with itself (each LPIPS pair once)."""
        a = resize_images(a.float().clamp(-1, 1), self.size, 'area')
        other = a if b is None else resize_images(b.float().clamp(-1, 1), self.size, 'area')
        if self.metric == 'pixel':
            distances = torch.cdist(a.flatten(1), other.flatten(1),
                                    compute_mode='donot_use_mm_for_euclid_dist')
            return distances / a[0].numel()**0.5
        pairs = (torch.triu_indices(len(a), len(a), offset=1).t() if b is None else
                 torch.cartesian_prod(torch.arange(len(a)), torch.arange(len(other))))
        distances = torch.zeros(len(a), len(other))
        for chunk in tqdm(pairs.split(self.batch_size), desc='LPIPS', unit='batch',
                          disable=not progress):
            values = self.lpips_net(to_rgb(a[chunk[:, 0]]).to(self.device),
                                    to_rgb(other[chunk[:, 1]]).to(self.device), normalize=False)
            distances[chunk[:, 0], chunk[:, 1]] = values.flatten().cpu()
        return distances + distances.t() if b is None else distances


def memorisation(sample_to_train: Tensor, train_to_train: Tensor, k: int = 3,
                 quantile: float = 0.05) -> dict:
    """The ``k`` nearest training images of N samples and the memorisation score (see the
    module docstring) from (N, M) sample-to-training and (M, M) training distances (the
    diagonal ignored); ``quantile`` in (0, 1).

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
    train_nn = train_to_train.clone().fill_diagonal_(float('inf')).min(dim=1).values
    threshold = torch.quantile(train_nn, quantile).item()
    nn_distances, nn_indices = sample_to_train.topk(k, dim=1, largest=False)
    memorised = nn_distances[:, 0] < threshold
    return dict(nn_indices=nn_indices, nn_distances=nn_distances, sample_nn=nn_distances[:, 0],
                train_nn=train_nn, threshold=threshold, memorised=memorised,
                score=memorised.float().mean().item())


def nearest_training_images(model: nn.Module, folder: str, seeds: Sequence[int],
                            distance: Optional[ImageDistance] = None, k: int = 3,
                            quantile: float = 0.05, resize_mode: str = 'crop',
                            image_size: int = 0, batch_size: int = 8,
                            sample_model: str = 'ema', progress: bool = False,
                            classes=None) -> dict:
    """The samples of ``seeds`` (of ``classes`` for a class-conditional model, as
    :func:`~fastgan_plugin.apis.sample_images`), their nearest images of ``folder`` under
    ``distance`` (default: pixel, 64 px) and the memorisation score (:func:`memorisation`).
    A conditional model's samples are compared with the images of every class (its
    ``folder`` holds one subfolder per class): a copy of any training image counts.

    Training images are made square at the model's resolution R (``resize_mode``); both they
    and the samples are area-resized to S = min(R, max(distance.size, image_size)) (the side
    wanted for display), so a sample saved as a training image is at distance ~0.

    Returns:
        dict: :func:`memorisation`'s entries, ``seeds``, ``labels`` (N,) int64 class
        indices (None: unconditional), ``samples`` (N, 3, S, S), ``train_images``
        (M, 3, S, S) and ``train_paths``.
    """
    distance = distance or ImageDistance()
    im_size = model.generator.im_size
    scale = min(im_size, max(distance.size, image_size))
    labels = class_labels(model, classes, len(seeds))
    train, paths = load_image_folder(folder, im_size, resize_mode, scale_to=scale,
                                     recursive=labels is not None,
                                     img_channels=model.generator.img_channels)
    samples = sample_images(model, seeds, batch_size, sample_model, progress=progress,
                            classes=labels)
    samples = resize_images(samples.clamp(-1, 1), scale, 'area')
    result = memorisation(distance.pairwise(samples, train, progress),
                          distance.pairwise(train, progress=progress), k, quantile)
    return dict(result, seeds=list(seeds), labels=labels, samples=samples, train_images=train,
                train_paths=paths)


def nearest_neighbors_grid(result: dict, cell_size: int,
                           label: Optional[int] = None) -> Image.Image:
    """A row per sample of :func:`nearest_training_images` (only those of class index
    ``label`` if given): the sample, then its nearest training images, nearest first, each
    ``cell_size`` pixels."""
    rows = [index for index in range(len(result['samples']))
            if label is None or result['labels'][index] == label]
    cells = torch.cat([torch.cat([result['samples'][row][None],
                                  result['train_images'][result['nn_indices'][row]]])
                       for row in rows])
    return to_grid(resize_images(cells, cell_size, 'area'), result['nn_indices'].size(1) + 1)
