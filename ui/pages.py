"""The app's pages: one list that the router and the home page both read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageInfo:
    name: str  # url path and the `page` of its presets
    path: str
    title: str
    icon: str
    blurb: str
    trains: bool = True  # a training page on the scaffold (Play, a job); False: the Runs page


PAGES = [
    PageInfo(
        "playground",
        "pages/playground.py",
        "Playground",
        ":material/scatter_plot:",
        "Build a small network on 2-D data and watch it learn.",
    ),
    PageInfo(
        "gradients",
        "pages/gradients.py",
        "Gradient lab",
        ":material/stacked_line_chart:",
        "Watch gradients vanish or explode, then fix them, side by side.",
    ),
    PageInfo(
        "cnn",
        "pages/cnn.py",
        "CNN",
        ":material/grid_on:",
        "Stack convolutions on handwritten digits and see the feature maps learn.",
    ),
    PageInfo(
        "gan",
        "pages/gan.py",
        "GAN",
        ":material/blur_on:",
        "A generator and a discriminator learning against each other.",
    ),
    PageInfo(
        "sequences",
        "pages/sequences.py",
        "Sequences",
        ":material/timeline:",
        "RNN, LSTM and GRU side by side: how far back does the gradient reach?",
    ),
    PageInfo(
        "autoencoders",
        "pages/autoencoders.py",
        "Autoencoders",
        ":material/compress:",
        "Squeeze images through a tiny code and back; spot the odd ones out by their error.",
    ),
    PageInfo(
        "transfer",
        "pages/transfer.py",
        "Transfer learning",
        ":material/swap_horiz:",
        "Pretrain a CNN on one task and reuse it on another with only a few labels.",
    ),
    PageInfo(
        "optimization",
        "pages/optimization.py",
        "Optimization",
        ":material/trending_down:",
        "Backpropagation by hand, optimizers racing on a surface, and the loss landscape.",
    ),
    PageInfo(
        "runs",
        "pages/runs.py",
        "Runs",
        ":material/history:",
        "Every run you trained: compare curves, re-open, continue, export and import.",
        trains=False,
    ),
]
