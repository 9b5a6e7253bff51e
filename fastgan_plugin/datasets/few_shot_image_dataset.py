"""All images of one folder, for few-shot GAN training: unconditional, or labelled by class
subfolder or by an annotation file (class-conditional, docs/conditional.md).

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
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import mmengine
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


def _check_folder(root: str) -> None:
    hint = 'set data_root to the folder holding the training images'
    if not os.path.exists(root):
        raise FileNotFoundError(f'FewShotImageDataset: data_root {_where(root)} does not '
                                f'exist; {hint}')
    if not os.path.isdir(root):
        raise NotADirectoryError(f'FewShotImageDataset: data_root {_where(root)} is not a '
                                 f'folder; {hint}')


def find_image_files(root: str, recursive: bool = False,
                     extensions: Sequence[str] = IMAGE_EXTENSIONS,
                     case_sensitive: bool = False) -> Tuple[List[str], List[str], List[str]]:
    """List ``root`` by file names alone (arguments as :class:`FewShotImageDataset`'s): image
    files, other files and the subfolders not descended into, sorted, relative to ``root``.

    Raises:
        FileNotFoundError, NotADirectoryError: If ``root`` is not a folder.
        ValueError: If it holds no image file (suggests ``recursive=True`` if subfolders do).
    """
    _check_folder(root)
    names, others, skipped_dirs = _scan_folder(root, recursive, extensions, case_sensitive)
    if names:
        return names, others, skipped_dirs
    nested = skipped_dirs and _scan_folder(root, True, extensions, case_sensitive)[0]
    if nested:
        raise ValueError(
            f'FewShotImageDataset: found 0 images directly in {_where(root)}, but '
            f'{len(nested)} in its subfolders ({format_names(map(repr, nested))}); set '
            'recursive=True to use them, or point data_root at the subfolder, or for one '
            'class per subfolder set class_folders=True and num_classes (a class-conditional '
            'model, docs/conditional.md)')
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
        class_folders (bool): Class-conditional: ``data_root/<class>/<images>``, classes in
            sorted folder order (metainfo ``classes``), each sample with ``gt_label``.
        ann_file (str): Class-conditional from a file (relative to ``data_root``), mmagic's
            ``BasicConditionalDataset`` format: ``.txt`` lines ``<image path> <class>`` or a
            ``.json`` ``{image path: class}``, a class being a name or an index into
            ``metainfo['classes']`` (default: the sorted names, or ``'0'`` ... for indices).
        num_classes (int, optional): With labels, the number of classes the data must have
            (the model's ``num_classes``). Every class needs 2 readable images or more.
        **kwargs: As MMEngine's ``BaseDataset`` (``max_refetch``, ``test_mode``, ...).
    """

    def __init__(self, data_root: Optional[Union[str, os.PathLike]] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (), *, recursive: bool = False,
                 extensions: Sequence[str] = IMAGE_EXTENSIONS, case_sensitive: bool = False,
                 min_images: int = 1, class_folders: bool = False, ann_file: str = '',
                 num_classes: Optional[int] = None, **kwargs) -> None:
        if not isinstance(data_root, (str, os.PathLike)) or not os.fspath(data_root):
            raise TypeError('FewShotImageDataset: data_root must be the path of the folder '
                            f'holding the training images, got {data_root!r}; set it in the '
                            'config (train_dataloader.dataset.data_root, and the same key of '
                            'val_dataloader and test_dataloader), or pass tools/train.py '
                            '--data-root DIR or --cfg-options train_dataloader.dataset.'
                            'data_root=DIR')
        for name, value in (('recursive', recursive), ('case_sensitive', case_sensitive),
                            ('class_folders', class_folders)):
            check_bool(value, f'FewShotImageDataset: {name}', what='True or False')
        if (isinstance(extensions, str) or not isinstance(extensions, Sequence) or not extensions
                or not all(isinstance(ext, str) and ext.startswith('.') for ext in extensions)):
            raise ValueError('FewShotImageDataset: extensions must be a non-empty list of '
                             f"suffixes starting with '.', got {extensions!r}")
        self.recursive = recursive
        self.extensions = tuple(ext if case_sensitive else ext.lower() for ext in extensions)
        self.case_sensitive = case_sensitive
        self.min_images = check_int(min_images, 'FewShotImageDataset: min_images', minimum=1)
        if class_folders and ann_file:
            raise ValueError('FewShotImageDataset: set class_folders=True or ann_file, not both')
        self.class_folders = class_folders
        self.num_classes = None if num_classes is None else check_int(
            num_classes, 'FewShotImageDataset: num_classes', minimum=1)
        super().__init__(data_root=os.path.expanduser(os.fspath(data_root)), data_prefix={},
                         pipeline=list(pipeline), ann_file=ann_file, **kwargs)

    def load_data_list(self) -> List[dict]:
        """One ``dict(gt_path=..., key=...)`` (and ``gt_label``, an index into metainfo
        ``classes``, with labels) per readable image of ``data_root``, sorted."""
        root, start = self.data_root, time.perf_counter()
        if self.class_folders:
            names, labels = self._class_folder_names()
            others, skipped_dirs = [], []
        elif self.ann_file:
            names, labels = self._annotated_names()
            others, skipped_dirs = [], []
        else:
            labels = None
            names, others, skipped_dirs = find_image_files(root, self.recursive,
                                                           self.extensions, self.case_sensitive)
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
        if labels is None:
            return [dict(gt_path=os.path.join(root, name), key=os.path.splitext(name)[0])
                    for name in good]
        self._check_classes(good, labels)
        return [dict(gt_path=os.path.join(root, name), key=os.path.splitext(name)[0],
                     gt_label=labels[name]) for name in good]

    def _class_folder_names(self) -> Tuple[List[str], Dict[str, int]]:
        """Image names under the class subfolders of ``data_root``, and name -> class index;
        sets metainfo ``classes`` (the sorted subfolder names)."""
        root = self.data_root
        _check_folder(root)
        loose_images, _, classes = _scan_folder(root, False, self.extensions,
                                                self.case_sensitive)
        if not classes or loose_images:
            raise ValueError(
                f'FewShotImageDataset: class_folders=True takes one subfolder per class in '
                f'data_root {_where(root)} (data_root/<class>/<images>), found '
                f'{len(classes)} subfolder(s) and {len(loose_images)} image(s) directly in it '
                f'({format_names(map(repr, loose_images))}); move each image into the folder of '
                'its class, or set class_folders=False for an unconditional model')
        names, labels = [], {}
        for index, name in enumerate(classes):
            images = _scan_folder(os.path.join(root, name), self.recursive, self.extensions,
                                  self.case_sensitive)[0]
            for image in images:
                labels[os.path.join(name, image)] = index
            names += [os.path.join(name, image) for image in images]
        self._metainfo['classes'] = tuple(classes)
        return names, labels

    def _annotated_names(self) -> Tuple[List[str], Dict[str, int]]:
        """Image names and name -> class index from ``ann_file``; sets metainfo ``classes``
        when it is not given."""
        path = self.ann_file
        if not os.path.isfile(path):
            raise FileNotFoundError(f'FewShotImageDataset: ann_file {_where(path)} does not '
                                    'exist; set ann_file relative to data_root')
        if path.endswith('.json'):
            pairs = [(name, str(label)) for name, label in mmengine.load(path).items()]
        else:
            pairs = [tuple(line.strip().rsplit(maxsplit=1)) for line in
                     mmengine.list_from_file(path) if line.strip()]
        malformed = [pair for pair in pairs if len(pair) != 2]
        if malformed:
            raise ValueError(f'FewShotImageDataset: ann_file {path!r} has lines without '
                             f'"<image path> <class>": {format_names(map(repr, malformed))}')
        numeric = all(label.isdigit() for _, label in pairs)
        classes = self._metainfo.get('classes') or (
            tuple(str(i) for i in range(max(int(label) for _, label in pairs) + 1)) if numeric
            else tuple(sorted({label for _, label in pairs})))
        index = {name: i for i, name in enumerate(classes)}
        unknown = sorted({label for _, label in pairs
                          if label not in index and not (numeric and int(label) < len(classes))})
        if unknown:
            raise ValueError(f'FewShotImageDataset: ann_file {path!r} names classes not in '
                             f'metainfo classes {classes}: {format_names(map(repr, unknown))}')
        self._metainfo['classes'] = tuple(classes)
        labels = {os.path.normpath(name): int(label) if numeric else index[label]
                  for name, label in pairs}
        return sorted(labels), labels

    def _check_classes(self, good: List[str], labels: Dict[str, int]) -> None:
        """``ValueError`` naming a class with fewer than 2 readable images, or ``num_classes``
        unlike the data's."""
        classes = self._metainfo['classes']
        counts = [0] * len(classes)
        for name in good:
            counts[labels[name]] += 1
        small = [f'{name!r} ({count})' for name, count in zip(classes, counts) if count < 2]
        where = (f'ann_file {self.ann_file!r}' if self.ann_file
                 else f'data_root {_where(self.data_root)}')
        if small:
            raise ValueError(f'FewShotImageDataset: every class needs 2 readable images or '
                             f'more; in {where} these have fewer: {format_names(small)}; add '
                             'images, or remove the class')
        if self.num_classes is not None and self.num_classes != len(classes):
            raise ValueError(
                f'FewShotImageDataset: num_classes={self.num_classes} but {where} has '
                f'{len(classes)} classes ({format_names(map(repr, classes))}); set the '
                "config's num_classes (model.generator.num_classes, model.discriminator."
                f"num_classes and the dataloaders' dataset.num_classes) to {len(classes)}")
