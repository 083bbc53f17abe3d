"""Make the bundled sample images: procedural style images and resized content photographs.

Run from the repository root:

    python data/make_samples.py styles                 # regenerate data/style/*.jpg
    python data/make_samples.py content SKIMAGE_DATA   # copy photos from scikit-image's data/

The style images are drawn here with NumPy and Pillow from fixed seeds (NumPy's legacy
``RandomState``), so anyone can regenerate them; they are CC0 (the project's own work).
The content photographs are public-domain / CC0 pictures that scikit-image ships (see
data/SOURCES.md); this script only resizes them (longest side 512 px) and saves JPEGs.
scikit-image is not a dependency: point the script at an unpacked copy of its
``skimage/data`` folder (e.g. from ``pip download --no-deps scikit-image``).

Not imported by the package: ``nst_helpers.samples`` only lists the files this writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

STYLE_SIZE = 512
JPEG_QUALITY = 85
DATA_DIR = Path(__file__).resolve().parent

#: scikit-image file name -> our file name (longest side resized to 512 px).
CONTENT_PHOTOS = {
    "astronaut.png": "astronaut.jpg",
    "chelsea.png": "chelsea.jpg",
    "coffee.png": "coffee.jpg",
    "rocket.jpg": "rocket.jpg",
}


def _palette(random_state: np.random.RandomState, base: list[tuple[int, int, int]]) -> np.ndarray:
    colours = np.array(base, dtype=np.float64)
    jitter = random_state.uniform(-12, 12, size=colours.shape)
    return np.clip(colours + jitter, 0, 255)


def brush_strokes(size: int = STYLE_SIZE, seed: int = 1) -> np.ndarray:
    """Short thick strokes following a smooth flow field, in warm and cool paint colours."""
    random_state = np.random.RandomState(seed)
    palette = _palette(
        random_state,
        [(28, 52, 110), (56, 98, 168), (232, 196, 72), (214, 120, 40), (240, 232, 200),
         (24, 28, 36), (92, 150, 190), (180, 60, 36)],
    )  # fmt: skip
    canvas = Image.new("RGB", (size, size), (40, 60, 100))
    draw = ImageDraw.Draw(canvas)
    for _ in range(5200):
        x, y = random_state.uniform(0, size, 2)
        angle = np.sin(x / size * 5.0) * 1.6 + np.cos(y / size * 4.0) * 1.2
        length = random_state.uniform(8, 26)
        dx, dy = np.cos(angle) * length, np.sin(angle) * length
        colour = palette[random_state.randint(len(palette))] + random_state.uniform(-18, 18, 3)
        colour = tuple(int(c) for c in np.clip(colour, 0, 255))
        width = int(random_state.randint(3, 8))
        draw.line([(x - dx, y - dy), (x + dx, y + dy)], fill=colour, width=width)
    return np.asarray(canvas.filter(ImageFilter.SMOOTH), dtype=np.uint8)


def swirls(size: int = STYLE_SIZE, seed: int = 2) -> np.ndarray:
    """Concentric swirling bands around a few vortices, like a night sky in oils."""
    random_state = np.random.RandomState(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    field = np.zeros_like(x)
    for _ in range(5):
        cx, cy = random_state.uniform(0.1, 0.9, 2)
        strength = random_state.uniform(0.6, 1.4) * random_state.choice([-1, 1])
        radius = np.hypot(x - cx, y - cy) + 1e-3
        angle = np.arctan2(y - cy, x - cx)
        field += strength * np.sin(28.0 * radius + 3.0 * angle) * np.exp(-radius * 2.5)
    field += 0.25 * np.sin(40 * x + 7 * np.sin(9 * y))
    bands = (np.tanh(2.0 * field) + 1.0) / 2.0
    deep, light, gold = (
        np.array([18, 38, 92.0]),
        np.array([110, 160, 210.0]),
        np.array([240, 210, 90.0]),
    )
    rgb = deep + (light - deep) * bands[..., None]
    glow = np.clip(field - 0.9, 0, None)[..., None]
    rgb = rgb + (gold - rgb) * np.clip(glow * 1.5, 0, 1)
    rgb += random_state.normal(0, 6, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def stained_glass(size: int = STYLE_SIZE, seed: int = 3) -> np.ndarray:
    """Voronoi mosaic of jewel-coloured cells with dark lead lines."""
    random_state = np.random.RandomState(seed)
    count = 140
    centres = random_state.uniform(0, size, (count, 2))
    palette = _palette(
        random_state,
        [(170, 20, 40), (20, 70, 160), (230, 180, 30), (30, 130, 70), (120, 40, 140),
         (220, 110, 30), (60, 160, 190)],
    )  # fmt: skip
    colours = palette[random_state.randint(len(palette), size=count)]
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    distances = np.stack([np.hypot(x - cx, y - cy) for cx, cy in centres], axis=-1)
    nearest_two = np.partition(distances, 1, axis=-1)[..., :2]
    owner = np.argmin(distances, axis=-1)
    rgb = colours[owner]
    shade = 0.85 + 0.15 * np.sin(x / 9.0 + owner) * np.cos(y / 11.0)
    rgb = rgb * shade[..., None]
    lead = (nearest_two[..., 1] - nearest_two[..., 0]) < 3.0
    rgb[lead] = (20, 18, 16)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def waves(size: int = STYLE_SIZE, seed: int = 4) -> np.ndarray:
    """Layered crested waves in Prussian blue and foam white, like a woodblock print."""
    random_state = np.random.RandomState(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    rgb = np.zeros((size, size, 3)) + np.array([236, 226, 200.0])  # paper
    blues = [np.array(c, dtype=np.float64) for c in ((20, 45, 90), (40, 85, 140), (90, 140, 180))]
    for layer in range(14):
        phase = random_state.uniform(0, 2 * np.pi)
        height = 0.05 + layer * 0.07
        crest = height + 0.035 * np.sin(9 * x + phase) + 0.02 * np.sin(23 * x + 2 * phase)
        inside = y > crest
        stripe = (np.sin((y - crest) * 160.0) > 0.55) & inside
        colour = blues[layer % 3]
        rgb[inside] = colour
        rgb[stripe] = colour * 0.55 + np.array([236, 226, 200.0]) * 0.45
        foam = inside & (y - crest < 0.012)
        rgb[foam] = (250, 248, 240)
    rgb += random_state.normal(0, 5, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8)


#: file name in data/style/ -> (generator, seed)
STYLES = {
    "brush_strokes.jpg": (brush_strokes, 1),
    "swirls.jpg": (swirls, 2),
    "stained_glass.jpg": (stained_glass, 3),
    "waves.jpg": (waves, 4),
}


def make_styles(folder: Path) -> list[Path]:
    """Write every style image of ``STYLES`` into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (generator, seed) in STYLES.items():
        path = folder / name
        Image.fromarray(generator(STYLE_SIZE, seed)).save(path, quality=JPEG_QUALITY)
        written.append(path)
    return written


def copy_content(skimage_data: Path, folder: Path, max_side: int = 512) -> list[Path]:
    """Resize the photos of ``CONTENT_PHOTOS`` from ``skimage_data`` into ``folder`` as JPEGs."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for source_name, target_name in CONTENT_PHOTOS.items():
        source = skimage_data / source_name
        if not source.is_file():
            raise FileNotFoundError(f"{source}: not found; pass the folder skimage/data.")
        with Image.open(source) as picture:
            picture = picture.convert("RGB")
            picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            picture.save(folder / target_name, quality=JPEG_QUALITY)
        written.append(folder / target_name)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("styles", help="regenerate data/style/")
    content = sub.add_parser("content", help="copy the photographs from scikit-image's data/")
    content.add_argument("skimage_data", type=Path)
    args = parser.parse_args(argv)
    if args.what == "styles":
        paths = make_styles(DATA_DIR / "style")
    else:
        paths = copy_content(args.skimage_data, DATA_DIR / "content")
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
