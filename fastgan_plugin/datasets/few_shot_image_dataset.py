"""A dataset of the images in one folder, for unconditional (few-shot) GAN training.

Recommended training pipeline (it gives mmagic GANs real images the way mmagic's own
unconditional configs do, in ``data_samples.gt_img``, but in RGB as the official FastGAN)::

    train_pipeline = [
        dict(type='LoadRGBImage', key='gt'),
        dict(type='ResizeToSquare', key='gt', size=1024),  # the model's im_size
        dict(type='Flip', keys=['gt'], direction='horizontal'),  # mmagic's, p=0.5
        dict(type='PackInputs'),
    ]
    train_dataloader = dict(
        dataset=dict(type='FewShotImageDataset', data_root='data/pokemon',
                     pipeline=train_pipeline),
        sampler=dict(type='InfiniteSampler', shuffle=True), ...)
    model = dict(data_preprocessor=dict(type='DataPreprocessor', mean=[127.5] * 3,
                                        std=[127.5] * 3, output_channel_order='RGB'), ...)

``PackInputs()`` with its default keys puts the image only into the data sample
(``gt`` -> ``gt_img``, its channel order into the metainfo); ``inputs`` stays empty, as in
mmagic's DCGAN configs. Do not pass ``keys=['gt']``: the image would be copied into
``inputs`` too, where the ``DataPreprocessor`` finds no channel order for it, assumes BGR
and, with ``output_channel_order='RGB'``, swaps its channels. In training the
``DataPreprocessor`` then leaves ``gt_img`` in RGB (it is recorded as ``'rgb'``) and maps
[0, 255] to [-1, 1]; in evaluation it converts ``gt_img`` to the BGR that mmagic's metrics
(FID, IS) expect.

What is checked when:

- Build time (dataset construction, before training starts): the folder exists and is a
  folder; files are listed (symbolic links followed, extensions jpg, jpeg, png, webp, bmp,
  tif, tiff in any case unless ``extensions`` / ``case_sensitive`` say otherwise; other files
  are ignored with one summary line); each image file
  is opened (zero-byte files, non-image content, unknown formats and unsupported pixel
  modes are caught from the header), PNGs are verified chunk by chunk against their CRCs
  (catches truncation without decompressing), JPEGs are decoded at 1/8 scale (catches
  truncated or corrupt entropy data at a fraction of a full decode) and other formats are
  decoded fully, by up to 8 threads (about 10 ms per 1024 px JPEG on one core; PNGs
  less). Unreadable files are skipped and named in one warning; too few images
  left raises an error naming the folder and the counts.
- Load time (:class:`~fastgan_plugin.datasets.transforms.LoadRGBImage`, every sample):
  the full decode and conversion to RGB. A file that fails only there (changed since the
  build, or a PNG whose compressed data is corrupt behind valid CRCs) raises an error
  naming it.
"""
import os
import time
from concurrent.futures import ThreadPoolExecutor
from logging import INFO, WARNING
from typing import Callable, List, Optional, Sequence, Tuple, Union

from mmagic.registry import DATASETS
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from PIL import Image

from fastgan_plugin.utils.validation import check_bool, check_int, format_names

from .transforms.loading import SUPPORTED_MODES

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff')
_MAX_CHECK_THREADS = 8


def check_image(path: str) -> Optional[str]:
    """Check cheaply that a file can be read as an image.

    Args:
        path (str): The file.

    Returns:
        str | None: None if the file is usable, else a short reason why it is not.
    """
    if not os.path.exists(path):
        return 'broken symbolic link' if os.path.islink(path) else 'file not found'
    if os.path.getsize(path) == 0:
        return 'empty file (0 bytes)'
    try:
        with Image.open(path) as img:
            if img.mode not in SUPPORTED_MODES:
                return f'unsupported pixel mode {img.mode!r}'
            if img.format == 'PNG':
                img.verify()
            else:
                img.draft(None, (1, 1))  # JPEG: decode at 1/8 scale; a no-op for others
                img.load()
    except Exception as err:  # PIL raises many types (OSError, SyntaxError, ValueError...)
        return f'{type(err).__name__}: {err}'
    return None


def _scan_folder(root: str, recursive: bool, extensions: Sequence[str] = IMAGE_EXTENSIONS,
                 case_sensitive: bool = False) -> Tuple[List[str], List[str], List[str]]:
    """List a folder's files, following symbolic links.

    Args:
        root (str): The folder.
        recursive (bool): Whether to descend into subfolders (each real folder is visited
            once, so symbolic-link loops end).
        extensions (Sequence[str]): Suffixes of image files, with the dot.
        case_sensitive (bool): Match the suffixes exactly instead of in any case.

    Returns:
        tuple[list[str], list[str], list[str]]: Image files (by extension), other files
        and the subfolders not descended into, as sorted paths relative to ``root``.
    """
    images, others, skipped_dirs = [], [], []
    visited = {os.path.realpath(root)}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        rel_dir = os.path.relpath(dirpath, root)
        if recursive:
            kept = []
            for name in dirnames:
                real = os.path.realpath(os.path.join(dirpath, name))
                if real not in visited:
                    visited.add(real)
                    kept.append(name)
            dirnames[:] = kept
        else:
            skipped_dirs.extend(dirnames)
            dirnames.clear()
        for name in filenames:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            suffix = os.path.splitext(name)[1]
            is_image = (suffix if case_sensitive else suffix.lower()) in extensions
            (images if is_image else others).append(rel)
    return sorted(images), sorted(others), sorted(skipped_dirs)


def _examples(names: Sequence[str]) -> str:
    """A few names, quoted: ``'a.txt', 'b.txt', ... (12 in all)``."""
    return format_names(map(repr, names))


def _extensions_text(extensions: Sequence[str], case_sensitive: bool) -> str:
    return ', '.join(extensions) + (' (exactly)' if case_sensitive else ' (any case)')


def find_image_files(root: str,
                     recursive: bool = False,
                     extensions: Sequence[str] = IMAGE_EXTENSIONS,
                     case_sensitive: bool = False) -> Tuple[List[str], List[str], List[str]]:
    """List the image files of a training folder, or raise an error naming the folder.

    Only names are looked at (no file is opened): cheap enough for a command-line check
    before anything is built, e.g. ``tools/train.py --data-root``.

    Args:
        root (str): The folder.
        recursive (bool): Also list images in subfolders.
        extensions (Sequence[str]): Suffixes of image files, with the dot.
        case_sensitive (bool): Match the suffixes exactly instead of in any case.

    Returns:
        tuple[list[str], list[str], list[str]]: Image files, other files and the
        subfolders not descended into, as sorted paths relative to ``root``.

    Raises:
        FileNotFoundError: If ``root`` does not exist.
        NotADirectoryError: If ``root`` is not a folder.
        ValueError: If no image file is found (suggests ``recursive=True`` when only
            subfolders hold images).
    """
    where = f'{root!r} (absolute path {os.path.abspath(root)!r})'
    if not os.path.exists(root):
        raise FileNotFoundError(f'FewShotImageDataset: data_root {where} does not exist; '
                                'set data_root to the folder holding the training images')
    if not os.path.isdir(root):
        raise NotADirectoryError(f'FewShotImageDataset: data_root {where} is not a folder; '
                                 'set data_root to the folder holding the training images')
    names, others, skipped_dirs = _scan_folder(root, recursive, extensions, case_sensitive)
    if names:
        return names, others, skipped_dirs
    if skipped_dirs:
        nested = _scan_folder(root, True, extensions, case_sensitive)[0]
        if nested:
            raise ValueError(
                f'FewShotImageDataset: found 0 images directly in {where}, but '
                f'{len(nested)} in its subfolders ({_examples(nested)}); set '
                'recursive=True to use them, or point data_root at the subfolder')
    depth = ' or its subfolders' if recursive else ''
    raise ValueError(
        f'FewShotImageDataset: found 0 images in {where}{depth} ({len(others)} other '
        f'file(s)); images need one of {_extensions_text(extensions, case_sensitive)}')


@DATASETS.register_module()
class FewShotImageDataset(BaseDataset):
    """All images in one folder, each sample ``dict(gt_path=..., key=...)``.

    Every image file is checked when the dataset is built, so that a bad folder fails
    before training; see the module docstring for what is checked when, and for the
    recommended pipeline. Each data-list item holds only strings, so the list serializes
    (``serialize_data=True``) into shared memory for the dataloader workers.

    Args:
        data_root (str | os.PathLike): Folder holding the training images. ``~`` is
            expanded; a relative path is relative to the working directory. Required:
            our configs leave it to the config's top-level ``data_root``, which
            :func:`fastgan_plugin.apis.config.load_config` (the tools) copies here.
        pipeline (Sequence[dict | Callable]): Transforms, e.g. the recommended pipeline.
            Defaults to no transforms.
        recursive (bool): Also take images from subfolders (at any depth). Defaults to
            False.
        extensions (Sequence[str]): Suffixes of the files taken as images, with the dot.
            Defaults to :data:`IMAGE_EXTENSIONS`. The official code takes
            ``('.jpg', '.png', '.jpeg')`` with ``case_sensitive=True``.
        case_sensitive (bool): Match ``extensions`` exactly instead of in any case.
            Defaults to False.
        min_images (int): Fewest readable images to accept; fewer raise an error at build
            time. Defaults to 1.
        metainfo (dict, optional): Meta information of the dataset. Defaults to None.
        serialize_data (bool): Serialize the data list to save memory in dataloader
            workers. Defaults to True.
        test_mode (bool): Whether the dataset is used for testing (a ``None`` from the
            pipeline then raises instead of picking another sample). Defaults to False.
        max_refetch (int): How often to pick another sample when the pipeline returns
            ``None`` in training. Defaults to 1000.

    Raises:
        FileNotFoundError: If ``data_root`` does not exist.
        NotADirectoryError: If ``data_root`` is not a folder.
        ValueError: If the folder holds no images, only images in subfolders with
            ``recursive=False``, or fewer than ``min_images`` readable ones.
    """

    def __init__(self,
                 data_root: Optional[Union[str, os.PathLike]] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 *,
                 recursive: bool = False,
                 extensions: Sequence[str] = IMAGE_EXTENSIONS,
                 case_sensitive: bool = False,
                 min_images: int = 1,
                 metainfo: Optional[dict] = None,
                 serialize_data: bool = True,
                 test_mode: bool = False,
                 max_refetch: int = 1000) -> None:
        if not isinstance(data_root, (str, os.PathLike)) or not os.fspath(data_root):
            raise TypeError('FewShotImageDataset: data_root must be the path of the folder '
                            f'holding the training images, got {data_root!r}; set it once '
                            "with tools/train.py / tools/test.py --data-root, or as the "
                            "config's top-level data_root (fastgan_plugin's load_config "
                            'copies it into train_dataloader.dataset.data_root and the same '
                            'key of val_dataloader and test_dataloader; with another runner '
                            'set those keys yourself)')
        for name, value in (('recursive', recursive), ('case_sensitive', case_sensitive)):
            check_bool(value, f'FewShotImageDataset: {name}', what='True or False')
        if (isinstance(extensions, str) or not isinstance(extensions, Sequence) or not extensions
                or not all(isinstance(ext, str) and ext.startswith('.') for ext in extensions)):
            raise ValueError('FewShotImageDataset: extensions must be a non-empty list of '
                             f"suffixes starting with '.', got {extensions!r}")
        self.recursive = recursive
        self.extensions = tuple(extensions if case_sensitive else
                                (ext.lower() for ext in extensions))
        self.case_sensitive = case_sensitive
        self.min_images = check_int(min_images, 'FewShotImageDataset: min_images', minimum=1)
        super().__init__(
            data_root=os.path.expanduser(os.fspath(data_root)),
            data_prefix=dict(),
            metainfo=metainfo,
            pipeline=list(pipeline),
            serialize_data=serialize_data,
            test_mode=test_mode,
            max_refetch=max_refetch)

    def load_data_list(self) -> List[dict]:
        """List and check the images of ``data_root``.

        Returns:
            list[dict]: One ``dict(gt_path=<path>, key=<relative path without
            extension>)`` per readable image, sorted by path.
        """
        root = self.data_root
        where = f'{root!r} (absolute path {os.path.abspath(root)!r})'
        start = time.perf_counter()
        names, others, skipped_dirs = find_image_files(root, self.recursive, self.extensions,
                                                       self.case_sensitive)
        if others:
            print_log(
                f'FewShotImageDataset: ignored {len(others)} file(s) without an image '
                f'extension in {root!r} ({_examples(others)}); images need one of '
                f'{_extensions_text(self.extensions, self.case_sensitive)}',
                logger='current', level=INFO)
        if skipped_dirs:
            print_log(
                f'FewShotImageDataset: ignored {len(skipped_dirs)} subfolder(s) of {root!r} '
                f'({_examples(skipped_dirs)}) because recursive=False', logger='current',
                level=INFO)

        # PIL releases the GIL while decoding, so threads check files in parallel.
        with ThreadPoolExecutor(max_workers=min(_MAX_CHECK_THREADS, os.cpu_count() or 1)) as pool:
            reasons = list(pool.map(check_image, [os.path.join(root, name) for name in names]))
        good, bad = [], []
        for name, reason in zip(names, reasons):
            if reason is None:
                good.append(name)
            else:
                bad.append(f'  {name}: {reason}')
        if bad:
            print_log(
                f'FewShotImageDataset: skipped {len(bad)} of {len(names)} image file(s) in '
                f'{root!r} that cannot be read:\n' + '\n'.join(bad), logger='current',
                level=WARNING)
        if len(good) < self.min_images:
            raise ValueError(
                f'FewShotImageDataset: found {len(good)} readable image(s) in {where} '
                f'({len(names)} image file(s), {len(bad)} unreadable and skipped, see the '
                f'warning above), fewer than min_images={self.min_images}; add images or '
                'lower min_images')
        print_log(
            f'FewShotImageDataset: {len(good)} images in {root!r}, checked in '
            f'{time.perf_counter() - start:.1f} s', logger='current', level=INFO)
        return [dict(gt_path=os.path.join(root, name), key=os.path.splitext(name)[0])
                for name in good]
