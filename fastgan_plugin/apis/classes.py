"""Classes of a class-conditional FastGAN by name or index: the one mapping every sampling
function and tool uses. Names are the data set's ``classes`` (its sorted subfolders), which
MMEngine saves in the checkpoint's ``meta['dataset_meta']`` (``model.dataset_meta``)."""
from typing import List, Optional, Sequence, Union

import torch
from torch import Tensor, nn

from ..utils.model import unwrap_model

ClassSpec = Union[int, str]


def num_classes(model: nn.Module) -> Optional[int]:
    """The number of classes K of ``model``'s generator; None for an unconditional model."""
    return getattr(unwrap_model(unwrap_model(model).generator), 'num_classes', None)


def class_names(model: nn.Module) -> List[str]:
    """The K class names of a conditional ``model``: its ``dataset_meta['classes']``, or
    ``'0'`` ... ``'K-1'`` when the checkpoint holds none; [] for an unconditional model."""
    count = num_classes(model) or 0
    names = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    if names is None:
        return [str(index) for index in range(count)]
    if len(names) != count:
        raise ValueError(f"the checkpoint's dataset_meta names {len(names)} classes "
                         f'({list(names)}) but the generator has num_classes={count}')
    return [str(name) for name in names]


def find_classes(names: Sequence[str],
                 classes: Optional[Union[ClassSpec, Sequence[ClassSpec]]] = None) -> List[int]:
    """Indices into ``names`` of ``classes``: names or indices (a string is a name first, then
    an index), one alone or a sequence; None: every class. ``ValueError`` for an unknown
    class, listing ``names``."""
    classes = classes.tolist() if isinstance(classes, Tensor) else classes
    if classes is None:
        return list(range(len(names)))
    indices = []
    for spec in [classes] if isinstance(classes, (int, str)) else classes:
        if str(spec) in names and not isinstance(spec, int):
            indices.append(names.index(str(spec)))
        elif str(spec).lstrip('-').isdigit() and 0 <= int(spec) < len(names):
            indices.append(int(spec))
        else:
            raise ValueError(f'unknown class {spec!r}: the {len(names)} classes are, by index '
                             f'0..{len(names) - 1} or by name: {", ".join(names)}')
    return indices


def class_indices(model: nn.Module,
                  classes: Optional[Union[ClassSpec, Sequence[ClassSpec]]] = None) -> List[int]:
    """:func:`find_classes` of ``model``'s class names; [] for an unconditional model without
    ``classes``, ``ValueError`` for one with ``classes``."""
    if num_classes(model) is None:
        if classes is None:
            return []
        raise ValueError(f'classes {classes!r} given to an unconditional model (it was trained '
                         'without classes): leave classes (--classes) out')
    return find_classes(class_names(model), classes)


def class_labels(model: nn.Module, classes: Optional[Union[ClassSpec, Sequence[ClassSpec]]],
                 count: int) -> Optional[Tensor]:
    """The generator's ``labels`` for ``count`` images: int64 (count,) of the classes (see
    :func:`class_indices`; one class for all, or one per image), or None for an unconditional
    model without ``classes``. A conditional model without ``classes`` is a ``ValueError``
    saying what to pass."""
    if classes is None and num_classes(model) is not None:
        raise ValueError(f'this model is class-conditional ({num_classes(model)} classes: '
                         f'{", ".join(class_names(model))}): pass classes, a class name or '
                         'index for every image or one per image (--classes in the tools)')
    indices = class_indices(model, classes)
    if classes is None:
        return None
    if len(indices) == 1 and isinstance(classes, (int, str)):
        indices = indices * count
    if len(indices) != count:
        raise ValueError(f'{len(indices)} classes for {count} images: pass one class for all, '
                         'or one per image')
    return torch.tensor(indices, dtype=torch.long)
