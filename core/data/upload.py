"""A user's uploaded picture -> the CNN's input: checked, decoded, cropped to the ink, resized, normalised."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps

MAX_UPLOAD_BYTES = 2_000_000
MAX_UPLOAD_SIDE = 4096


def open_upload(raw: bytes) -> Image.Image:
    """Decode an uploaded PNG/JPEG; ValueError with a readable message when it is too big or not an image."""
    if len(raw) > MAX_UPLOAD_BYTES:
        raise ValueError(f"the file has {len(raw) / 1e6:.1f} MB; at most {MAX_UPLOAD_BYTES / 1e6:.0f} MB, please")
    try:
        img = Image.open(io.BytesIO(raw))
    except Exception:
        raise ValueError("this file is not an image PIL can read (use PNG or JPEG)") from None
    if img.format not in ("PNG", "JPEG"):
        raise ValueError(f"the image is {img.format}; use PNG or JPEG")
    if max(img.size) > MAX_UPLOAD_SIDE:
        raise ValueError(f"the image is {img.size[0]}x{img.size[1]} pixels; at most {MAX_UPLOAD_SIDE} per side")
    try:
        img.load()
    except Exception as e:
        raise ValueError(f"the image could not be decoded ({e})") from None
    return img


def image_to_input(img: Image.Image, size: int, mean: float, std: float) -> tuple[np.ndarray, np.ndarray]:
    """A picture -> the model's input format: (1, 1, size, size) normalised, and the (size, size) [0, 1] image.

    Like the training images: grey, bright ink on a dark background (a light picture is inverted),
    cropped to the ink with a small margin, made square, resized, stretched so the brightest pixel is 1,
    then normalised with the training mean and std.
    """
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        paper = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(paper, img)
    img.thumbnail((512, 512))
    a = np.asarray(img.convert("L"), np.float32) / 255.0
    if a.mean() > 0.5:
        a = 1.0 - a  # dark ink on light paper -> bright ink on dark, as in the datasets
    ink = np.argwhere(a > 0.25)
    if len(ink):
        (r0, c0), (r1, c1) = ink.min(0), ink.max(0) + 1
        a = a[r0:r1, c0:c1]
    side = int(max(a.shape) * 1.15) + 1
    square = np.zeros((side, side), np.float32)
    r, c = (side - a.shape[0]) // 2, (side - a.shape[1]) // 2
    square[r : r + a.shape[0], c : c + a.shape[1]] = a
    small = Image.fromarray((square * 255).astype(np.uint8)).resize((size, size), Image.Resampling.BOX)
    shown = np.asarray(small, np.float32) / 255.0
    if shown.max() > 0:
        shown = shown / shown.max()  # the training images' brightest ink is 1; thin strokes shrink to grey
    return ((shown - mean) / std)[None, None].astype(np.float32), shown
