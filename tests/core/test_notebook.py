"""Notebook export: executed top to bottom, the notebook reaches the app's losses and charts them with Plotly."""

import json

import nbformat
import pytest
import torch
from nbclient import NotebookClient

from core.__main__ import main
from core.notebook import notebook_supported, notebook_text
from core.presets import load_preset
from core.trainers import make_trainer

CASES = {  # an MLP on a 2-D set, a CNN on the digits (scikit-learn's, loaded inside the notebook), an LSTM
    "tfp-default": {"train.epochs": 3},
    "cnn-digits": {"train.epochs": 2, "data.n": 300},
    "rnn-vs-lstm-copy": {"train.epochs": 2, "data.n": 300},
}


def _app_history(spec) -> list[dict]:
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # the notebook trains on one thread; the same thread count gives the same sums
    try:
        t = make_trainer(spec)
        while not t.done:
            t.step()
        return t.history
    finally:
        torch.set_num_threads(n)


def _execute(text: str, folder) -> nbformat.NotebookNode:
    nb = nbformat.reads(text, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return nb


@pytest.mark.parametrize("case", list(CASES))
def test_notebook_runs_top_to_bottom_to_the_apps_losses(case, tmp_path):
    spec = load_preset(case).spec.with_(**CASES[case])
    app = _app_history(spec)
    nb = _execute(notebook_text(spec, "A lesson"), tmp_path)
    run_cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith("history = train("))
    last = json.loads("".join(o.get("text", "") for o in run_cell.outputs).strip().splitlines()[-1])
    assert last["epoch"] == spec.train.epochs
    assert last["loss"] == pytest.approx(app[-1]["loss"], rel=1e-5)
    assert last["val_loss"] == pytest.approx(app[-1]["val_loss"], rel=1e-5)
    if "val_accuracy" in app[-1]:
        assert last["val_accuracy"] == pytest.approx(app[-1]["val_accuracy"], abs=1e-6)
    chart = [o for o in nb.cells[-1].outputs if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert chart, "the last cell draws a Plotly figure"
    fig = chart[0]["data"]["application/vnd.plotly.v1+json"]
    train, test = fig["data"]
    assert train["y"] == pytest.approx([r["loss"] for r in app], rel=1e-5)  # every epoch, not just the last
    assert fig["layout"]["xaxis"]["title"]["text"] and fig["layout"]["yaxis"]["title"]["text"]
    assert any("## The model" in c.source for c in nb.cells if c.cell_type == "markdown")


def test_notebook_cli_writes_a_valid_notebook_and_refuses_a_gan(tmp_path, capsys):
    path = tmp_path / "lesson.ipynb"
    assert main(["export", "tfp-default", "--notebook", str(path)]) == 0
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].source.startswith("# ") and "pip install torch numpy plotly scikit-learn" in nb.cells[0].source
    capsys.readouterr()
    assert notebook_supported(load_preset("gan-ring").spec)
    assert main(["export", "gan-ring", "--notebook", str(tmp_path / "gan.ipynb")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "notebooks" in err
    assert not (tmp_path / "gan.ipynb").exists()
