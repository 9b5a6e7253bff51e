"""A small image set drawn by code, so that the demo trains offline with nothing to download."""
import random
from pathlib import Path
from typing import List

from PIL import Image, ImageDraw, ImageFilter


def make_demo_images(out_dir: str, num_images: int = 64, size: int = 256,
                     seed: int = 0) -> List[Path]:
    """Write ``num_images`` PNGs of soft-lit coloured shapes on a gradient sky.

    Each image is a landscape-like scene: a vertical colour gradient, a 'sun' disc, two
    or three overlapping shapes and a ground band, with colours and positions drawn
    from ``random.Random(seed)``. Same arguments, same files (byte for byte).

    Args:
        out_dir (str): Folder to write into (created if missing).
        num_images (int): How many images. Defaults to 64.
        size (int): Side length in pixels. Defaults to 256.
        seed (int): Seed of the drawing. Defaults to 0.

    Returns:
        list[Path]: The written files, in order.
    """
    rng = random.Random(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(num_images):
        top = tuple(rng.randint(40, 140) for _ in range(3))
        bottom = tuple(rng.randint(150, 255) for _ in range(3))
        image = Image.new('RGB', (size, size))
        draw = ImageDraw.Draw(image)
        for y in range(size):
            t = y / (size - 1)
            draw.line([(0, y), (size, y)],
                      fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
        sun = rng.randint(size // 10, size // 5)
        cx, cy = rng.randint(sun, size - sun), rng.randint(sun, size // 2)
        draw.ellipse([cx - sun, cy - sun, cx + sun, cy + sun],
                     fill=(255, rng.randint(180, 240), rng.randint(60, 140)))
        for _ in range(rng.randint(2, 3)):
            colour = tuple(rng.randint(0, 200) for _ in range(3))
            x0, y0 = rng.randint(0, size * 3 // 4), rng.randint(size // 3, size * 3 // 4)
            w, h = rng.randint(size // 6, size // 2), rng.randint(size // 6, size // 2)
            if rng.random() < 0.5:
                draw.rectangle([x0, y0, x0 + w, y0 + h], fill=colour)
            else:
                draw.polygon([(x0, y0 + h), (x0 + w // 2, y0), (x0 + w, y0 + h)], fill=colour)
        ground = rng.randint(size * 3 // 4, size * 7 // 8)
        draw.rectangle([0, ground, size, size], fill=tuple(rng.randint(20, 120) for _ in range(3)))
        image = image.filter(ImageFilter.GaussianBlur(radius=size / 256))
        path = out / f'scene_{index:03d}.png'
        image.save(path, optimize=False)
        paths.append(path)
    return paths
