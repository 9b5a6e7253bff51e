"""Argument checks shared by every component.

Each returns the accepted value or raises ``ValueError`` (:func:`check_bool`: ``TypeError``)
naming the argument, what it must be and what it got (``'size must be a positive int, got
0'``); ``what`` replaces the derived wording. A bool is not a number (``size=True`` is a typo).
"""
import math
from numbers import Real
from typing import Iterable, Optional

import numpy as np


def check_bool(value, name: str, what: str = 'a bool') -> bool:
    """``value`` if it is a bool (``1`` and ``'yes'`` are refused with ``TypeError``)."""
    if not isinstance(value, bool):
        raise TypeError(f'{name} must be {what}, got {value!r}')
    return value


def check_int(value, name: str, minimum: Optional[int] = None,
              maximum: Optional[int] = None, what: Optional[str] = None) -> int:
    """``value`` as an int if it is a Python or numpy integer (not a bool) in
    ``[minimum, maximum]`` (None: unbounded)."""
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
    """``value`` as a float if it is a real number (not a bool, not NaN) in ``[minimum,
    maximum]`` (None: unbounded; ``(minimum`` if ``exclusive_minimum``), finite if ``finite``,
    or None if ``optional``."""
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
            what = _describe('finite number' if finite else 'number', minimum, maximum,
                             exclusive_minimum) + (' or None' if optional else '')
        raise ValueError(f'{name} must be {what}, got {value!r}')
    return float(value)


def check_str(value, name: str) -> str:
    """``value`` if it is a non-empty str."""
    if not isinstance(value, str) or not value:
        raise ValueError(f'{name} must be a non-empty string, got {value!r}')
    return value


def check_choice(value, name: str, choices: Iterable) -> object:
    """``value`` if it is one of ``choices``: ``"mode must be one of ('crop', 'pad'), got
    'fit'"``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f'{name} must be one of ({", ".join(map(repr, choices))}), '
                         f'got {value!r}')
    return value


def format_names(names: Iterable, limit: int = 5) -> str:
    """Names for a message, in order: ``'a, b, c, ... (12 in all)'`` (``map(repr, names)``
    quotes them)."""
    names = [str(name) for name in names]
    shown = ', '.join(names[:limit])
    return shown + (f', ... ({len(names)} in all)' if len(names) > limit else '')


def _describe(kind: str, minimum, maximum, exclusive_minimum: bool = False) -> str:
    """``'an int in [0, 3]'``, ``'a positive int'``, ``'a number > 0.5'``, ..."""
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
