"""The shared argument checks: what each accepts and returns, and the messages they give."""
import numpy as np
import pytest

from fastgan_plugin.utils.validation import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_str,
    format_names,
)


def test_check_bool():
    assert check_bool(True, 'flag') is True and check_bool(False, 'flag') is False
    with pytest.raises(TypeError, match='^flag must be a bool, got 1$'):
        check_bool(1, 'flag')
    with pytest.raises(TypeError, match="^Dataset: flag must be True or False, got 'yes'$"):
        check_bool('yes', 'Dataset: flag', what='True or False')


def test_check_int_accepts_python_and_numpy_ints():
    assert check_int(3, 'n') == 3
    value = check_int(np.int64(3), 'n', minimum=1)
    assert value == 3 and type(value) is int


@pytest.mark.parametrize('value, bounds, message', [
    (0, dict(minimum=1), 'n must be a positive int, got 0'),
    (True, dict(minimum=1), 'n must be a positive int, got True'),
    (np.bool_(True), dict(), 'n must be an int, got True'),
    (2.0, dict(), 'n must be an int, got 2.0'),
    (-1, dict(minimum=0), 'n must be an int >= 0, got -1'),
    (4, dict(minimum=0, maximum=3), r'n must be an int in \[0, 3\], got 4'),
    (5, dict(maximum=3), 'n must be an int <= 3, got 5'),
    (1, dict(minimum=2, what='an int >= 2, or -1'), 'n must be an int >= 2, or -1, got 1'),
])
def test_check_int_refuses(value, bounds, message):
    with pytest.raises(ValueError, match=f'^{message}$'):
        check_int(value, 'n', **bounds)


def test_check_number_accepts_and_returns_floats():
    assert check_number(1, 'x') == 1.0 and type(check_number(1, 'x')) is float
    assert check_number(np.float32(0.5), 'x', 0, 1) == 0.5
    assert check_number(float('inf'), 'x', minimum=0) == float('inf')
    assert check_number(None, 'x', optional=True) is None


@pytest.mark.parametrize('value, bounds, message', [
    (1.5, dict(minimum=0, maximum=1), r'x must be a number in \[0, 1\], got 1.5'),
    (0, dict(minimum=0, exclusive_minimum=True), 'x must be a positive number, got 0'),
    (0.5, dict(minimum=0.5, exclusive_minimum=True), 'x must be a number > 0.5, got 0.5'),
    (0.5, dict(minimum=1, optional=True), 'x must be a number >= 1 or None, got 0.5'),
    ('3', dict(minimum=1, optional=True), "x must be a number >= 1 or None, got '3'"),
    (float('inf'), dict(minimum=0, finite=True), 'x must be a finite number >= 0, got inf'),
    (-1, dict(minimum=0, finite=True, what='a weight'), 'x must be a weight, got -1'),
    (float('nan'), dict(), 'x must be a number, got nan'),
    (True, dict(), 'x must be a number, got True'),
    (None, dict(), 'x must be a number, got None'),
])
def test_check_number_refuses(value, bounds, message):
    with pytest.raises(ValueError, match=f'^{message}$'):
        check_number(value, 'x', **bounds)


def test_check_str():
    assert check_str('gt', 'key') == 'gt'
    for value in ('', None, 3):
        with pytest.raises(ValueError, match=f'^key must be a non-empty string, got {value!r}$'):
            check_str(value, 'key')


def test_check_choice():
    assert check_choice('pad', 'mode', ('crop', 'pad')) == 'pad'
    assert check_choice(None, 'act', ['tanh', None]) is None
    assert check_choice('b', 'key', {'a': 1, 'b': 2}) == 'b'  # a dict's keys
    with pytest.raises(ValueError, match=r"^mode must be one of \('crop', 'pad'\), got 'fit'$"):
        check_choice('fit', 'mode', ('crop', 'pad'))
    with pytest.raises(ValueError, match=r'^size must be one of \(128, 256\), got 300$'):
        check_choice(300, 'size', [128, 256])


def test_format_names():
    assert format_names([]) == ''
    assert format_names(['b', 'a']) == 'b, a'
    assert format_names(map(repr, ['a.txt', 'b.txt'])) == "'a.txt', 'b.txt'"
    names = [f'n{i}' for i in range(12)]
    assert format_names(names) == 'n0, n1, n2, n3, n4, ... (12 in all)'
    assert format_names(names, limit=2) == 'n0, n1, ... (12 in all)'
    assert format_names(names[:5]) == 'n0, n1, n2, n3, n4'
