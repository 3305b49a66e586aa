"""Network diagram: neuron heatmaps are the modules' outputs on the grid, edges are the weights."""

import numpy as np
import pytest
import torch

from core.charts.network import network_figure, tile_rgb
from core.data.base import expand_features
from core.presets import load_preset
from core.trainers import make_trainer
from core.views.mlp import ZERO_TOL, network_view


def _trainer(**overrides):
    spec = load_preset("tfp-default").spec.with_(**overrides)
    t = make_trainer(spec)
    for _ in range(3):
        t.run_epoch()
    return t


@pytest.mark.parametrize(
    "overrides",
    [{}, {"model.batchnorm": True, "model.dropout": 0.3}, {"model.residual": True, "model.hidden": [4, 4]}],
)
def test_neuron_heatmaps_equal_each_layers_output_on_the_grid(overrides):
    t = _trainer(**overrides)
    n = 12
    view = network_view(t, n=n)
    xs = np.linspace(-6, 6, n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, xs)
    x = expand_features(np.stack([gx.ravel(), gy.ravel()], 1), t.spec.data.features)
    t.model.eval()
    with torch.no_grad():  # the oracle: the blocks applied one after another, by hand
        h = x
        for i, block in enumerate(t.model.blocks):
            h = block(h)
            assert np.allclose(view["hidden"][i], h.numpy().T.reshape(-1, n, n), atol=1e-6)
        out = t.model.output(h)
        out = torch.tanh(out) if t.model.tanh_out else out  # tfp-default: TF Playground's tanh output
        out = torch.sigmoid(out) if t.loss_name == "bce" else out
    t.model.train()
    assert np.allclose(view["outputs"][0], out[:, 0].numpy().reshape(n, n), atol=1e-6)
    assert np.allclose(view["inputs"], x.numpy().T.reshape(-1, n, n))
    # row i of a grid is x2 = xs[i]: the input x2 grows down the rows
    assert view["inputs"][1][-1, 0] == pytest.approx(6.0) and view["inputs"][1][0, 0] == pytest.approx(-6.0)


def test_edges_are_the_weights_and_zero_weights_are_counted():
    t = _trainer()
    view = network_view(t)
    linears = [b.linear for b in t.model.blocks] + [t.model.output]
    for w, m in zip(view["weights"], linears):
        assert np.array_equal(w, m.weight.detach().numpy())
    with torch.no_grad():
        linears[0].weight[:2] = 0.0  # two neurons x two inputs
    assert network_view(t)["zero_weights"] == 4 + int(sum((np.abs(w) < ZERO_TOL).sum() for w in view["weights"][1:]))


def test_editing_a_weight_changes_the_surface_and_bad_edits_are_refused():
    t = _trainer()
    before = network_view(t)["outputs"]
    done = t.set_weight(2, 0, 1, 3.5)
    assert done["value"] == 3.5 and float(t.model.output.weight[0, 1].detach()) == 3.5
    assert not np.allclose(before, network_view(t)["outputs"])
    for args, why in (((7, 0, 0, 1.0), "no layer"), ((1, 5, 0, 1.0), "2 x 4"), ((0, 0, 0, float("nan")), "between")):
        with pytest.raises(ValueError, match=why):
            t.set_weight(*args)


def test_weight_edit_and_lr_finder_run_through_the_job_while_paused(tmp_store):
    from core.jobs import Job

    job = Job(load_preset("tfp-default").spec, store=tmp_store)
    assert job.act("set_weight", 0, 0, 0, 2.0) == ""
    assert float(job.trainers[0].model.blocks[0].linear.weight[0, 0].detach()) == 2.0
    assert "between" in job.act("set_weight", 0, 0, 0, 1e9)
    assert job.act("lr_find", 40) == ""
    result = job.snapshot()["action"]["results"][0]
    assert len(result["lrs"]) == len(result["losses"]) > 10


def test_diagram_draws_every_neuron_and_every_weight():
    t = _trainer(**{"model.hidden": [3, 2]})
    view = network_view(t, n=10)
    fig = network_figure(view, selected=(1, 0))
    assert len(fig.layout.images) == 2 + 3 + 2 + 1
    weights = next(tr for tr in fig.data if tr.name == "weights")
    assert len(weights.x) == 2 * 3 + 3 * 2 + 2 * 1
    assert any("weight" in s for s in weights.hovertext)
    assert fig.layout.xaxis.ticktext == ("inputs", "layer 1", "layer 2", "output")
    assert len(fig.layout.shapes) == 1  # the selected neuron is outlined


def test_tiles_are_orange_negative_white_zero_blue_positive_x2_up():
    rgb = tile_rgb(np.array([[-1.0, 0.0], [1.0, 1.0]]))
    assert tuple(rgb[1, 0]) == (0xD9, 0x82, 0x00)  # grid row 0 (bottom of the plane) is the image's last row
    assert tuple(rgb[1, 1]) == (0xF7, 0xF7, 0xF7)
    assert tuple(rgb[0, 0]) == (0x0B, 0x5E, 0xA8)


def test_discretized_output_is_the_predicted_class_everywhere():
    from core.charts.plane import discretized

    grid = {"value": np.array([[0.2, 0.7], [0.5, 0.49]], np.float32), "range": (0.0, 1.0)}
    assert discretized(grid)["value"].tolist() == [[0.0, 1.0], [1.0, 0.0]]
    probs = np.array([[[0.2, 0.5, 0.3]]], np.float32)
    assert discretized({"probs": probs})["probs"].tolist() == [[[0.0, 1.0, 0.0]]]


def test_lr_finder_chart_marks_the_suggestion_on_a_log_axis():
    from core.charts.training import lr_find_figure

    fig = lr_find_figure(
        {"lrs": [1e-4, 1e-3, 1e-2], "losses": [1, 0.5, 2], "start_loss": 1.1, "steps": 300, "suggested_lr": 1e-3}
    )
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    assert any("1e-03" in (a.text or "") or "0.001" in (a.text or "") for a in fig.layout.annotations)


def test_zero_weights_are_drawn_dotted():
    t = _trainer()
    with torch.no_grad():
        t.model.output.weight[0, 0] = 0.0
    fig = network_figure(network_view(t, n=8))
    dotted = [tr for tr in fig.data if tr.line and tr.line.dash == "dot"]
    assert len(dotted) == 1 and np.isfinite(dotted[0].x).sum() == 2 * network_view(t, n=8)["zero_weights"]


def test_a_diverged_network_is_still_drawn():
    """A weight of nan or inf (training diverged) leaves the diagram drawable: its edge dotted, its hover 'nan'."""
    t = _trainer()
    with torch.no_grad():
        t.model.blocks[0].linear.weight[0, 0] = float("nan")
        t.model.blocks[1].linear.weight[0, 0] = float("inf")
    view = network_view(t, n=8)
    assert not np.isfinite(view["hidden"][0]).all()
    fig = network_figure(view)
    hovers = [h for tr in fig.data for h in (tr.hovertext or ()) if isinstance(h, str)]
    assert any(h.startswith("weight nan") for h in hovers)
    assert len(fig.layout.images) == sum(len(c) for c in [view["inputs"], *view["hidden"], view["outputs"]])
