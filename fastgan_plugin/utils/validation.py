"""Checks of constructor and function arguments, shared by every component.

Each returns the value it accepted and raises with a message that names the argument,
what it must be and what it got (``'size must be a positive int, got 0'``), so a wrong
config entry is refused where it is built. ``name`` may carry the component's name where
the argument alone is ambiguous (``'FewShotImageDataset: min_images'``), and ``what``
replaces the derived description where a component words it its own way.

``bool`` is refused where a number is asked for (``True`` is an ``int`` in Python, and a
config that writes ``size=True`` has a typo, not a size); a wrong type and a value out of
range both raise ``ValueError``, except :func:`check_bool`'s ``TypeError``.
"""
import math
from numbers import Real
from typing import Iterable, Optional

import numpy as np


def check_bool(value, name: str, what: str = 'a bool') -> bool:
    """Return ``value`` if it is a bool.

    Args:
        value: The argument.
        name (str): Its name in the message.
        what (str): What it must be, in words, e.g. ``'True or False'``.

    Raises:
        TypeError: If ``value`` is not a bool (``1`` and ``'yes'`` are refused).
    """
    if not isinstance(value, bool):
        raise TypeError(f'{name} must be {what}, got {value!r}')
    return value


def check_int(value, name: str, minimum: Optional[int] = None,
              maximum: Optional[int] = None, what: Optional[str] = None) -> int:
    """Return ``value`` as an int if it is an integer (not a bool) in ``[minimum, maximum]``.

    Python and numpy integers are accepted (numpy ones come from config arithmetic).

    Args:
        value: The argument.
        name (str): Its name in the message, e.g. ``'size'`` or ``'Dataset: min_images'``.
        minimum (int, optional): Smallest accepted value.
        maximum (int, optional): Largest accepted value.
        what (str, optional): What it must be, in words, instead of the derived
            ``'a positive int'`` (minimum 1) / ``'an int >= 0'`` / ``'an int in [0, 3]'``.

    Raises:
        ValueError: Naming the argument, what it must be and what it got.
    """
    ok = (isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
          and (minimum is None or value >= minimum) and (maximum is None or value <= maximum))
    if not ok:
        raise ValueError(f'{name} must be {what or _describe("int", minimum, maximum)}, '
                         f'got {value!r}')
    return int(value)


def check_number(value, name: str, minimum: Optional[float] = None,
                 maximum: Optional[float] = None, *, exclusive_minimum: bool = False,
                 finite: bool = False, optional: bool = False,
                 what: Optional[str] = None) -> Optional[float]:
    """Return ``value`` as a float if it is a real number (not a bool, not NaN) in range.

    Args:
        value: The argument.
        name (str): Its name in the message.
        minimum (float, optional): Lower bound (inclusive unless ``exclusive_minimum``).
        maximum (float, optional): Upper bound, inclusive.
        exclusive_minimum (bool): ``minimum`` itself is refused (e.g. a positive rate).
        finite (bool): Also refuse ``inf`` and ``-inf`` (e.g. a loss weight).
        optional (bool): Accept ``None`` too, and return it.
        what (str, optional): What it must be, in words, instead of the derived
            ``'a number in [0, 1]'`` / ``'a finite number >= 0'`` / ``'a positive number'``
            (exclusive minimum 0), with ``' or None'`` where ``optional``.

    Raises:
        ValueError: Naming the argument, what it must be and what it got.
    """
    if optional and value is None:
        return None
    ok = (isinstance(value, Real) and not isinstance(value, (bool, np.bool_))
          and not math.isnan(value) and not (finite and math.isinf(value)))
    if ok and minimum is not None:
        ok = value > minimum if exclusive_minimum else value >= minimum
    if ok and maximum is not None:
        ok = value <= maximum
    if not ok:
        if what is None:
            kind = 'finite number' if finite else 'number'
            what = _describe(kind, minimum, maximum, exclusive_minimum)
            what += ' or None' if optional else ''
        raise ValueError(f'{name} must be {what}, got {value!r}')
    return float(value)


def check_str(value, name: str) -> str:
    """Return ``value`` if it is a non-empty str; raise ``ValueError`` otherwise."""
    if not isinstance(value, str) or not value:
        raise ValueError(f'{name} must be a non-empty string, got {value!r}')
    return value


def check_choice(value, name: str, choices: Iterable) -> object:
    """Return ``value`` if it is one of ``choices``.

    Raises:
        ValueError: ``"mode must be one of ('crop', 'pad'), got 'fit'"``.
    """
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f'{name} must be one of ({", ".join(map(repr, choices))}), '
                         f'got {value!r}')
    return value


def format_names(names: Iterable, limit: int = 5) -> str:
    """A few names for an error message, in the given order: ``'a, b, c, ... (12 in all)'``.

    Pass ``map(repr, names)`` to quote them.
    """
    names = [str(name) for name in names]
    shown = ', '.join(names[:limit])
    return shown + (f', ... ({len(names)} in all)' if len(names) > limit else '')


def _describe(kind: str, minimum, maximum, exclusive_minimum: bool = False) -> str:
    """``'an int in [0, 3]'``, ``'a positive int'``, ``'a number > 0.5'``, ... for a message."""
    if minimum is not None and maximum is not None:
        text = f'{kind} in {"(" if exclusive_minimum else "["}{minimum}, {maximum}]'
    elif minimum is not None:
        positive = minimum == 0 if exclusive_minimum else (kind == 'int' and minimum == 1)
        text = (f'positive {kind}' if positive else
                f'{kind} {">" if exclusive_minimum else ">="} {minimum}')
    elif maximum is not None:
        text = f'{kind} <= {maximum}'
    else:
        text = kind
    return ('an ' if text[0] in 'aeiou' else 'a ') + text
