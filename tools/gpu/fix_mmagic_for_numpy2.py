"""Make an installed mmagic 1.2.0 importable under numpy 2.

    python tools/gpu/fix_mmagic_for_numpy2.py SITE_PACKAGES_DIR

mmagic 1.2.0 (its last release) builds a dict at import time in mmagic/utils/trans_utils.py
with the key ``np.bool8``, an alias of ``np.bool_`` that numpy 2.0 removed, so
``import mmagic.utils`` fails there. The line is a duplicate of the ``np.bool_`` key above
it (the same object on numpy 1.x), so deleting it changes nothing on numpy 1 and is the
whole fix on numpy 2. Applied only to the temporary copy that tools/gpu_check.sh installs
(the GPU machine's image has numpy 2 and its scipy / pandas need it); exit 1 when the file
is not the one expected.
"""
import sys
from pathlib import Path

LINE = '    np.bool8: (False, True),\n'
KEPT = '    np.bool_: (False, True),\n'


def main(site: str) -> int:
    path = Path(site) / 'mmagic' / 'utils' / 'trans_utils.py'
    text = path.read_text() if path.is_file() else ''
    if text.count(LINE) != 1 or text.count(KEPT + LINE) != 1:
        print(f"fix_mmagic_for_numpy2: {path} is not mmagic 1.2.0's file (expected the line "
              f'{LINE.strip()!r} once, after {KEPT.strip()!r}): nothing changed', file=sys.stderr)
        return 1
    path.write_text(text.replace(KEPT + LINE, KEPT))
    print(f'fix_mmagic_for_numpy2: removed {LINE.strip()!r} from {path}')
    return 0


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: fix_mmagic_for_numpy2.py SITE_PACKAGES_DIR')
    sys.exit(main(sys.argv[1]))
