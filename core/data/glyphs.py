"""Generated glyphs: an alphabet of stroke figures drawn with varied position, size, rotation and clutter.

Glyph k of the alphabet is fixed (its strokes come from a generator seeded by k alone), so "glyph 41" is
the same figure on every machine and for every seed; the seed draws only how each image shows it:
where, how large, how rotated, how thick the pen, how the strokes wobble, and the clutter around it
(two stray strokes and a faint textured background). A network that has learned to read many glyphs
has learned strokes, corners and crossings under all this variation: features that new glyphs reuse.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

SUPERSAMPLE = 2  # drawn 2x larger, then box-filtered down: anti-aliased strokes
STROKES = 3  # strokes per glyph, each a bent line of three points
MAX_ROTATION = math.radians(50)
JITTER = 0.12  # wobble of each stroke point, in glyph units (the glyph spans [-1, 1])
CLUTTER = 2  # stray strokes per image


def glyph_strokes(k: int) -> np.ndarray:
    """Glyph k of the alphabet: (STROKES, 3, 2) points in [-1, 1], the same whatever the seed."""
    rng = np.random.default_rng([7919, k])
    start = rng.uniform(-0.9, 0.9, (STROKES, 1, 2))
    steps = rng.normal(0.0, 0.75, (STROKES, 2, 2))
    return np.clip(np.concatenate([start, start + np.cumsum(steps, axis=1)], axis=1), -1.0, 1.0)


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """A faint smooth background: 4x4 noise blown up to the image size."""
    coarse = Image.fromarray((rng.uniform(0, 1, (4, 4)) * 255).astype(np.uint8))
    return np.asarray(coarse.resize((size, size), Image.Resampling.BICUBIC), np.float32) / 255.0


def draw_glyph(strokes: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """One image (size, size) in [0, 1] of the strokes, placed, scaled, rotated and cluttered at random."""
    s = SUPERSAMPLE * size
    img = Image.new("L", (s, s), 0)
    d = ImageDraw.Draw(img)
    scale = rng.uniform(0.28, 0.42) * s  # glyph half-width in pixels
    cx, cy = rng.uniform(scale, s - scale, 2)
    a = rng.uniform(-MAX_ROTATION, MAX_ROTATION)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    pts = (strokes + rng.normal(0.0, JITTER, strokes.shape)) @ rot.T * scale + [cx, cy]
    width = int(round(rng.uniform(0.07, 0.11) * s))
    for stroke in pts:
        d.line([tuple(p) for p in stroke], fill=255, width=width, joint="curve")
    for _ in range(CLUTTER):  # stray short strokes, anywhere, dimmer than the glyph
        p0 = rng.uniform(0, s, 2)
        p1 = p0 + rng.normal(0.0, 0.15 * s, 2)
        d.line([tuple(p0), tuple(p1)], fill=int(rng.uniform(90, 170)), width=max(1, width - 1))
    small = np.asarray(img.resize((size, size), Image.Resampling.BOX), np.float32) / 255.0
    return np.maximum(small, 0.25 * _texture(rng, size))


def make_glyphs(classes: list[int], per_class: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """per_class images of each glyph in `classes`, shuffled: (N, size, size) in [0, 1] and labels 0..len-1."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(np.arange(len(classes)), per_class))
    alphabet = [glyph_strokes(k) for k in classes]
    images = np.empty((len(labels), size, size), np.float32)
    for i, label in enumerate(labels):
        images[i] = draw_glyph(alphabet[label], size, rng)
    return images, labels.astype(np.int64)
