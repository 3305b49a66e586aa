"""Charts: axes labelled, values drawn as measured, A and B heatmaps on one colour scale."""

import re
import tomllib
from pathlib import Path

import numpy as np

from core.charts.ae import latent_figure
from core.charts.base import FONT, PALETTE, TEMPLATE_LAYOUT
from core.charts.gradients import grad_heatmap_figure, heatmap_range, update_ratio_figure
from core.charts.seq import run_colors
from core.charts.training import grad_norm_figure, loss_figure


def steps_view(norms):
    norms = np.asarray(norms, np.float32)
    return {
        "steps": np.arange(1, len(norms) + 1),
        "norms": norms,
        "names": [f"layer{i + 1}" for i in range(norms.shape[1])],
    }


HIST = [
    {
        "epoch": e,
        "loss": 1 / e,
        "val_loss": 1.2 / e,
        "grad_norm": {"layer1": 1e-6 * e, "output": 1.0},
        "update_ratio": {"layer1": 1e-7, "output": 1e-3},
    }
    for e in range(1, 6)
]


def test_every_chart_labels_both_axes():
    for fig in (
        grad_norm_figure(HIST),
        loss_figure(HIST),
        update_ratio_figure(HIST),
        grad_heatmap_figure(steps_view([[1e-3, 1.0]] * 3)),
    ):
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


def test_grad_norm_chart_draws_the_recorded_values_input_first():
    fig = grad_norm_figure(HIST)
    assert [t.name for t in fig.data] == ["layer1", "output"]
    assert list(fig.data[0].y) == [1e-6 * e for e in range(1, 6)]
    # Six decades: powers of ten only (Plotly thins them to fit the axis), no 2 and 5 between them.
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.minorloglabels == "none"
    assert fig.layout.yaxis.dtick is None


def test_heatmaps_share_one_colour_range():
    a = steps_view([[1e-10, 1.0], [1e-9, 0.5]])
    b = steps_view([[0.1, 2.0]])
    lo, hi = heatmap_range(a, b)
    assert np.allclose((lo, hi), (-10.0, np.log10(2.0)))  # float32 norms
    fig = grad_heatmap_figure(b, zrange=(lo, hi))
    assert (fig.data[0].zmin, fig.data[0].zmax) == (lo, hi)
    assert np.allclose(np.asarray(fig.data[0].z, dtype=float), np.log10([[0.1], [2.0]]))
    assert heatmap_range(None, steps_view(np.zeros((0, 2)))) is None


def test_an_exploding_run_stays_visible():
    """Overflowed norms are drawn in the top colour and named; a one-epoch history shows its points."""
    fig = grad_heatmap_figure(steps_view([[1.0, 10.0], [np.inf, 1e6]]))
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z[0, 1] == z.max() == 6.0 and fig.data[0].customdata[0][1] == "overflow (inf)"
    one = grad_norm_figure([{"epoch": 0.2, "partial": True, "grad_norm": {"layer1": np.inf, "output": 3.0}}])
    assert one.data[0].mode == "lines+markers"
    assert one.data[0].y == (None,) and one.data[1].y == (3.0,)


def test_overflow_is_marked_on_the_gradient_chart():
    fig = grad_norm_figure([{"epoch": 0.2, "grad_norm": {"layer1": np.inf, "output": 3.0}}])
    assert "overflow" in fig.layout.annotations[0].text and "0.2" in fig.layout.annotations[0].text


def test_image_grids_travel_as_one_png_with_square_pixels():
    import base64
    import io

    from PIL import Image

    from core.charts.base import image_figure, image_grid

    mosaic = image_grid(np.random.default_rng(0).random((6, 8, 8)), cols=3, scale=4)
    fig = image_figure(mosaic, "maps")
    src = fig.data[0].source
    assert src.startswith("data:image/png;base64,") and fig.data[0].z is None
    back = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))
    assert np.array_equal(back, mosaic)
    assert fig.layout.yaxis.scaleanchor == "x" and len(src) < 20_000


def test_log_axes_label_only_decades_over_a_wide_range():
    """Over six decades: powers of ten only; over one and a half: 1, 2 and 5 of each (not every digit)."""
    wide = loss_figure([{"epoch": e, "train_loss": 10.0**-e} for e in range(7)])
    middle = loss_figure([{"epoch": e, "train_loss": 10.0 ** (-e / 4)} for e in range(7)])
    narrow = loss_figure([{"epoch": e, "train_loss": 0.5 - 0.05 * e} for e in range(7)])
    assert wide.layout.yaxis.minorloglabels == "none" and wide.layout.yaxis.dtick is None
    assert middle.layout.yaxis.dtick == "D2"
    assert narrow.layout.yaxis.dtick is None and narrow.layout.yaxis.minorloglabels is None


def test_axis_titles_stand_clear_of_their_ticks():
    """Every axis grows its margin to hold its tick labels and title (fixed margins wrote one over the other)."""
    for axis in ("xaxis", "yaxis"):
        assert TEMPLATE_LAYOUT["layout"][axis]["automargin"] is True
        assert TEMPLATE_LAYOUT["layout"][axis]["title"]["standoff"] > 0
    assert TEMPLATE_LAYOUT["data"]["heatmap"][0]["colorbar"]["title"]["side"] == "right"  # not on the top tick


def test_ten_classes_get_ten_colours_and_sides_keep_theirs():
    """The latent map of ten digits draws each class in its own colour; sides A, B, C are the palette's first three."""
    rng = np.random.default_rng(0)
    latent = {"points": rng.normal(size=(100, 2)), "labels": np.arange(100) % 10, "dim": 2, "pca": False}
    fig = latent_figure(latent, [str(c) for c in range(10)])
    colours = [t.marker.color for t in fig.data]
    assert len(colours) == 10 and len(set(colours)) == 10 and set(colours) <= set(PALETTE)
    assert list(run_colors(["A: RNN", "B: LSTM", "C: GRU"]).values()) == PALETTE[:3]


ROOT = Path(__file__).resolve().parents[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two "#rrggbb" colours."""

    def luminance(c: str) -> float:
        lin = [
            (v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4)
            for v in (int(c[i : i + 2], 16) / 255 for i in (1, 3, 5))
        ]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_buttons_are_the_charts_blue_and_their_text_is_readable():
    """The theme's primary colour (Play, Pretrain) is the palette's blue, with white text at WCAG AA contrast."""
    primary = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]["primaryColor"]
    assert primary.upper() == PALETTE[0].upper()
    assert contrast(primary, "#ffffff") >= 4.5


def test_no_colour_is_written_outside_the_scheme():
    """Outside core/charts/base.py, a colour written in ui/, pages/ or core/charts/ is a grey or the ink (hues
    come from the palette): a chart added later cannot bring a blue of its own."""
    files = [*ROOT.glob("ui/*.py"), *ROOT.glob("pages/*.py"), *ROOT.glob("core/charts/*.py")]
    found = {}
    for f in files:
        if f.name != "base.py":
            for c in re.findall(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b", f.read_text()):
                full = "#" + "".join(ch * 2 for ch in c[1:]) if len(c) == 4 else c
                if len({full[1:3], full[3:5], full[5:7]}) > 1 and full.lower() != FONT["color"]:
                    found[f.name] = c
    assert len(files) > 10 and not found, found


def test_a_line_on_a_log_axis_carries_its_label_at_its_height():
    """The 1e-3 guide of the update-ratio chart is labelled at 1e-3 (log10: -3), not at 10^0.001."""
    fig = update_ratio_figure(HIST)
    assert fig.layout.shapes[0].y0 == 1e-3 and fig.layout.annotations[0].y == -3


def test_a_chart_with_nothing_trained_says_so_instead_of_made_up_ranges():
    """Before the first epoch the loss and gradient charts show their axis titles and a note, no tick labels;
    the first epoch's points replace the note."""
    for fig in (loss_figure([]), grad_norm_figure([])):
        notes = [a.text for a in fig.layout.annotations]
        assert notes == ["Nothing trained yet:<br>press Play or Step"], notes
        assert fig.layout.xaxis.showticklabels is False and fig.layout.yaxis.showticklabels is False
        assert fig.layout.xaxis.title.text == "epoch" and fig.layout.yaxis.title.text
    first = [{"epoch": 1, "train_loss": 0.7, "val_loss": 0.8, "grad_norm": {"layer 1": 0.1}}]
    for fig in (loss_figure(first), grad_norm_figure(first)):
        assert not fig.layout.annotations and fig.layout.yaxis.type == "log"
        assert fig.layout.xaxis.showticklabels is not False
