"""CNN page charts: image grids (one image trace each), probabilities, confusion matrix.

Grids are drawn by base.image_grid: each tile is min-max scaled on its own, high values dark. They are
sent to the browser as one PNG each: a grid as a number array would be megabytes of JSON per redraw.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.charts.base import PALETTE, figure, heatmap_figure, image_figure, image_grid

TILE_PX = 56  # target on-screen size of one small image


def _scale(h: int) -> int:
    return max(1, TILE_PX // h)


def input_figure(image: np.ndarray, title: str = "Input image") -> go.Figure:
    """One (H, W) image, enlarged."""
    mosaic = image_grid(image[None], cols=1, pad=0, scale=max(1, 160 // image.shape[0]))
    return image_figure(mosaic, title, height=mosaic.shape[0] + 60)


def feature_map_figure(maps: np.ndarray, title: str, cols: int = 8) -> go.Figure:
    """(C, H, W) feature maps of one layer as one mosaic, one tile per channel."""
    c, h, _ = maps.shape
    scale = _scale(h)
    mosaic = image_grid(maps, cols=min(cols, c), scale=scale)
    return image_figure(mosaic, f"{title}: {c} maps of {h}x{maps.shape[2]}")


def filters_figure(filters: np.ndarray | None, title: str = "First-layer filters") -> go.Figure:
    """(F, k, k) learned weights of the first conv layer, one tile per filter (dark = most positive)."""
    if filters is None:
        return figure(f"{title}: the network has no conv layer", "", "")
    f, k, _ = filters.shape
    mosaic = image_grid(filters, cols=min(8, f), scale=max(4, 48 // k))
    return image_figure(mosaic, f"{title}: {f} filters of {k}x{k}")


def probability_figure(probs: np.ndarray, names: list[str], true: int | None = None, height: int = 300) -> go.Figure:
    """Bar chart of the class probabilities (softmax of the outputs); the true class in a second colour."""
    colors = [PALETTE[1] if i == true else PALETTE[0] for i in range(len(probs))]
    pred = int(np.argmax(probs))
    title = f"Prediction: {names[pred]} ({100 * probs[pred]:.0f} %)"
    fig = figure(title, "class", "probability (%)", height)
    fig.add_trace(
        go.Bar(
            x=names,
            y=100 * np.asarray(probs, float),
            marker_color=colors,
            hovertemplate="%{x}: %{y:.1f} %<extra></extra>",
        )
    )
    fig.update_yaxes(range=[0, 101])
    fig.update_xaxes(type="category")
    return fig


def confusion_figure(confusion: np.ndarray, names: list[str], height: int = 380) -> go.Figure:
    """Counts of test images per (true, predicted) class; the diagonal is correct."""
    fig = heatmap_figure(
        confusion,
        names,
        names,
        "Confusion matrix (test set)",
        "predicted class",
        "true class",
        "images",
        height=height,
        colorscale="Blues",
        text=confusion,
        texttemplate="%{text}",
        hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
    )
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig


def misclassified_figure(wrong: dict, names: list[str], cols: int = 8) -> go.Figure:
    """Misclassified test images, each captioned 'true → predicted'."""
    images = wrong["images"]
    n = len(images)
    if n == 0:
        fig = figure("Misclassified test images: none", "", "", height=120)
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return fig
    h, w = images.shape[1:]
    scale, pad = _scale(h), 1
    cols = min(cols, n)
    label_px = 22  # a white strip under each row for the captions
    mosaic = image_grid(images, cols=cols, pad=pad, scale=scale)
    rows = int(np.ceil(n / cols))
    tile_h = (h + pad) * scale
    strips = []
    for r in range(rows):
        strips.append(mosaic[r * tile_h : (r + 1) * tile_h])
        strips.append(np.full((label_px, mosaic.shape[1]), 255, np.uint8))
    mosaic = np.concatenate(strips + [mosaic[rows * tile_h :]])
    fig = image_figure(mosaic, f"Misclassified test images ({n} shown): true → predicted")
    notes = []
    for i in range(n):
        r, c = divmod(i, cols)
        notes.append(
            dict(
                x=(c * (w + pad) + pad + w / 2) * scale,
                y=(r + 1) * tile_h + r * label_px + label_px / 2,
                text=f"{names[wrong['true'][i]]} → {names[wrong['pred'][i]]}",
                showarrow=False,
                font=dict(size=12),
            )
        )
    fig.update_layout(annotations=notes)
    return fig


def augmentation_figure(pair: np.ndarray) -> go.Figure:
    """(2, n, H, W): training images (top row) and one augmented draw of each (bottom row)."""
    _, n, h, _ = pair.shape
    mosaic = image_grid(pair.reshape(2 * n, h, -1), cols=n, scale=max(1, 40 // h))
    return image_figure(mosaic, "Augmentation: originals (top), augmented (bottom)")
