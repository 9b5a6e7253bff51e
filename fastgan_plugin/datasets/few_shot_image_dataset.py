"""All images of one folder, for unconditional few-shot GAN training.

Build time: each image file is checked cheaply (:func:`check_image`); unreadable ones are
skipped and named in one warning. The full decode waits for load time (``LoadRGBImage``
skips a file failing there): at build time it would cost 18-38 ms per 1024 px PNG against
1.5 ms for the CRC check, 20-40 s more at every start for 1000 images.
"""
import os
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from logging import INFO, WARNING
from typing import Callable, List, Optional, Sequence, Tuple, Union

from mmagic.registry import DATASETS
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from PIL import Image

from fastgan_plugin.utils.validation import check_bool, check_int, format_names

from .transforms.loading import SUPPORTED_MODES, printable

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.webp', '.bmp', '.tif', '.tiff')
_SPECIAL_FILES = ((stat.S_ISFIFO, 'FIFO (named pipe)'), (stat.S_ISSOCK, 'socket'),
                  (stat.S_ISCHR, 'character device'), (stat.S_ISBLK, 'block device'),
                  (stat.S_ISDIR, 'folder'))


def check_image(path: str) -> Optional[str]:
    """None if ``path`` can be read as an image, else why not. Cheap: only regular files are
    opened (a FIFO would block); the header, then PNG chunk CRCs (truncation without
    decompressing), JPEGs decoded at 1/8 scale, other formats fully."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return 'broken symbolic link' if os.path.islink(path) else 'file not found'
    except OSError as err:  # e.g. a symbolic link loop, no permission
        return f'{type(err).__name__}: {err.strerror}'
    if not stat.S_ISREG(info.st_mode):
        return next((kind for is_kind, kind in _SPECIAL_FILES if is_kind(info.st_mode)),
                    'special file') + ', not a regular file'
    if info.st_size == 0:
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


def _scan_folder(root: str, recursive: bool, extensions: Sequence[str],
                 case_sensitive: bool) -> Tuple[List[str], List[str], List[str]]:
    """Image files, other files and subfolders not descended into, sorted, relative to
    ``root``; each real folder is visited once, so symbolic-link loops end."""
    images, others, skipped_dirs = [], [], []
    visited = {os.path.realpath(root)}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        rel_dir = os.path.relpath(dirpath, root)
        if not recursive:
            skipped_dirs.extend(dirnames)
            dirnames.clear()
        for name in list(dirnames):
            real = os.path.realpath(os.path.join(dirpath, name))
            if real in visited:
                dirnames.remove(name)
            visited.add(real)
        for name in filenames:
            suffix = os.path.splitext(name)[1]
            is_image = (suffix if case_sensitive else suffix.lower()) in extensions
            (images if is_image else others).append(os.path.normpath(os.path.join(rel_dir, name)))
    return sorted(images), sorted(others), sorted(skipped_dirs)


def _where(root: str) -> str:
    return f'{root!r} (absolute path {os.path.abspath(root)!r})'


def _extensions_text(extensions: Sequence[str], case_sensitive: bool) -> str:
    return ', '.join(extensions) + (' (exactly)' if case_sensitive else ' (any case)')


def find_image_files(root: str, recursive: bool = False,
                     extensions: Sequence[str] = IMAGE_EXTENSIONS,
                     case_sensitive: bool = False) -> Tuple[List[str], List[str], List[str]]:
    """List ``root`` by file names alone (arguments as :class:`FewShotImageDataset`'s): image
    files, other files and the subfolders not descended into, sorted, relative to ``root``.

    Raises:
        FileNotFoundError, NotADirectoryError: If ``root`` is not a folder.
        ValueError: If it holds no image file (suggests ``recursive=True`` if subfolders do).
    """
    hint = 'set data_root to the folder holding the training images'
    if not os.path.exists(root):
        raise FileNotFoundError(f'FewShotImageDataset: data_root {_where(root)} does not '
                                f'exist; {hint}')
    if not os.path.isdir(root):
        raise NotADirectoryError(f'FewShotImageDataset: data_root {_where(root)} is not a '
                                 f'folder; {hint}')
    names, others, skipped_dirs = _scan_folder(root, recursive, extensions, case_sensitive)
    if names:
        return names, others, skipped_dirs
    nested = skipped_dirs and _scan_folder(root, True, extensions, case_sensitive)[0]
    if nested:
        raise ValueError(
            f'FewShotImageDataset: found 0 images directly in {_where(root)}, but '
            f'{len(nested)} in its subfolders ({format_names(map(repr, nested))}); set '
            'recursive=True to use them, or point data_root at the subfolder')
    raise ValueError(
        f'FewShotImageDataset: found 0 images in {_where(root)}'
        f'{" or its subfolders" if recursive else ""} ({len(others)} other file(s)); images '
        f'need one of {_extensions_text(extensions, case_sensitive)}')


@DATASETS.register_module()
class FewShotImageDataset(BaseDataset):
    """The images of ``data_root``, each sample ``dict(gt_path=<path>, key=<relative path
    without extension>)``; fewer than ``min_images`` readable images raise an error.

    Args:
        data_root (str | os.PathLike): Folder of the training images (``~`` expanded).
        pipeline (Sequence[dict | Callable]): Transforms. Defaults to none.
        recursive (bool): Also take images from subfolders, at any depth. Defaults to False.
        extensions (Sequence[str]): Suffixes of image files, with the dot (official: ``.jpg``,
            ``.png``, ``.jpeg``, case-sensitive). Defaults to :data:`IMAGE_EXTENSIONS`.
        case_sensitive (bool): Match ``extensions`` exactly. Defaults to False.
        min_images (int): Fewest readable images to accept. Defaults to 1.
        **kwargs: As MMEngine's ``BaseDataset`` (``max_refetch``, ``test_mode``, ...).
    """

    def __init__(self, data_root: Optional[Union[str, os.PathLike]] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (), *, recursive: bool = False,
                 extensions: Sequence[str] = IMAGE_EXTENSIONS, case_sensitive: bool = False,
                 min_images: int = 1, **kwargs) -> None:
        if not isinstance(data_root, (str, os.PathLike)) or not os.fspath(data_root):
            raise TypeError('FewShotImageDataset: data_root must be the path of the folder '
                            f'holding the training images, got {data_root!r}; set it in the '
                            'config (train_dataloader.dataset.data_root, and the same key of '
                            'val_dataloader and test_dataloader), or pass tools/train.py '
                            '--data-root DIR or --cfg-options train_dataloader.dataset.'
                            'data_root=DIR')
        for name, value in (('recursive', recursive), ('case_sensitive', case_sensitive)):
            check_bool(value, f'FewShotImageDataset: {name}', what='True or False')
        if (isinstance(extensions, str) or not isinstance(extensions, Sequence) or not extensions
                or not all(isinstance(ext, str) and ext.startswith('.') for ext in extensions)):
            raise ValueError('FewShotImageDataset: extensions must be a non-empty list of '
                             f"suffixes starting with '.', got {extensions!r}")
        self.recursive = recursive
        self.extensions = tuple(ext if case_sensitive else ext.lower() for ext in extensions)
        self.case_sensitive = case_sensitive
        self.min_images = check_int(min_images, 'FewShotImageDataset: min_images', minimum=1)
        super().__init__(data_root=os.path.expanduser(os.fspath(data_root)), data_prefix={},
                         pipeline=list(pipeline), **kwargs)

    def load_data_list(self) -> List[dict]:
        """One ``dict(gt_path=..., key=...)`` per readable image of ``data_root``, sorted."""
        root, start = self.data_root, time.perf_counter()
        names, others, skipped_dirs = find_image_files(root, self.recursive, self.extensions,
                                                       self.case_sensitive)
        if others:
            print_log(f'FewShotImageDataset: ignored {len(others)} file(s) without an image '
                      f'extension in {root!r} ({format_names(map(repr, others))}); images need '
                      f'one of {_extensions_text(self.extensions, self.case_sensitive)}',
                      'current', INFO)
        if skipped_dirs:
            print_log(f'FewShotImageDataset: ignored {len(skipped_dirs)} subfolder(s) of {root!r} '
                      f'({format_names(map(repr, skipped_dirs))}) because recursive=False',
                      'current', INFO)
        # PIL releases the GIL while decoding, so threads check files in parallel.
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            reasons = list(pool.map(check_image, [os.path.join(root, name) for name in names]))
        good = [name for name, reason in zip(names, reasons) if reason is None]
        bad = [f'  {name}: {reason}' for name, reason in zip(names, reasons) if reason]
        if bad:
            print_log(printable(f'FewShotImageDataset: skipped {len(bad)} of {len(names)} image '
                                f'file(s) in {root!r} that cannot be read:\n' + '\n'.join(bad)),
                      'current', WARNING)
        if len(good) < self.min_images:
            raise ValueError(
                f'FewShotImageDataset: found {len(good)} readable image(s) in {_where(root)} '
                f'({len(names)} image file(s), {len(bad)} unreadable and skipped, see the '
                f'warning above), fewer than min_images={self.min_images}; add images or '
                'lower min_images')
        print_log(f'FewShotImageDataset: {len(good)} images in {root!r}, checked in '
                  f'{time.perf_counter() - start:.1f} s', 'current', INFO)
        return [dict(gt_path=os.path.join(root, name), key=os.path.splitext(name)[0])
                for name in good]
