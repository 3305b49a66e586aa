"""Export: the standalone script trains to the app's losses; weights, spec and metrics round-trip."""

import json
import subprocess
import sys

import pytest
import torch

from core import export
from core.engine import Trainer
from core.export.seq_templates import CELL_CODE
from core.models import build_model
from core.presets import load_preset
from core.registry import CELLS, FEATURES, INITS, SCHEDULES
from core.spec import Spec, SpecError, from_json
from core.trainers import make_trainer


def _train(spec: Spec) -> Trainer:
    torch.set_num_threads(1)  # the script runs on one thread; the same thread count gives the same sums
    t = make_trainer(spec)
    while not t.done:
        t.step()
    return t


def _run_script(spec: Spec, tmp_path) -> dict:
    path = tmp_path / "train.py"
    path.write_text(export.script_text(spec))
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


CASES = {
    "tfp-default": {"train.epochs": 4},
    # residual links, batch norm, dropout, He init, one-cycle schedule, L1 + L2 and clipping together
    "mixed-mlp": {
        "data.name": "spiral",
        "data.noise": 10,
        "data.features": ["x1", "x2", "sin_x1", "x1x2"],
        "model.hidden": [8, 8, 8],
        "model.activation": ["relu"],
        "model.init": "he",
        "model.batchnorm": True,
        "model.dropout": 0.2,
        "model.residual": True,
        "train.optimizer": "adam",
        "train.lr": 0.01,
        "train.schedule": "onecycle",
        "train.l1": 0.001,
        "train.l2": 0.001,
        "train.clip": 1.0,
        "train.epochs": 3,
    },
    "cnn-augmentation": {"train.epochs": 2, "data.n": 120},
    # sequences: symbols replayed over the last steps by an LSTM with a raised forget bias, cosine schedule
    "rnn-vs-lstm-copy": {"train.epochs": 2, "data.n": 300},
    # characters at every step through two GRU layers with dropout between them, L2 and clipping
    "char-lstm": {
        "seq.cell": "gru",
        "seq.layers": 2,
        "seq.dropout": 0.3,
        "seq.length": 24,
        "data.n": 120,
        "train.l2": 0.001,
        "train.clip": 0.5,
        "train.epochs": 2,
    },
    # numbers: a ReLU RNN read at the last step (the adding problem's sum)
    "adding-rnn": {"seq.cell": "rnn_relu", "seq.length": 20, "data.n": 200, "train.epochs": 2},
}


@pytest.mark.parametrize("case", list(CASES))
def test_script_reaches_the_apps_losses(case, tmp_path):
    base = load_preset(case).spec if case != "mixed-mlp" else Spec()
    spec = base.with_(**CASES[case])
    app = _train(spec).history[-1]
    script = _run_script(spec, tmp_path)
    assert script["epochs"] == spec.train.epochs
    assert script["loss"] == pytest.approx(app["loss"], rel=1e-5)
    assert script["val_loss"] == pytest.approx(app["val_loss"], rel=1e-5)
    if "val_accuracy" in app:
        assert script["val_accuracy"] == pytest.approx(app["val_accuracy"], abs=1e-6)


def test_script_imports_only_torch_numpy_and_sklearn():
    text = export.script_text(load_preset("cnn-digits").spec)
    imports = {
        line.split()[1].split(".")[0] for line in text.splitlines() if line.strip().startswith(("import ", "from "))
    }
    assert imports <= {"__future__", "argparse", "base64", "json", "math", "zlib", "numpy", "torch", "sklearn"}


def test_script_blocks_are_cells_that_each_parse_and_make_the_script():
    """A notebook turns the blocks into cells: each is valid Python, and in order they are the script."""
    spec = load_preset("tfp-default").spec
    blocks = export.script_blocks(spec)
    assert list(blocks) == ["doc", "imports", "spec", "data", "model", "loss", "training", "run"]
    for name, text in blocks.items():
        compile(text, name, "exec")
    text, at = export.script_text(spec), 0
    for block in filter(None, blocks.values()):
        at = text.index(block.strip("\n"), at)
    assert "def main():" in blocks["training"] and "def make_data():" in blocks["data"]


def test_every_registry_entry_has_script_code():
    assert set(INITS) == set(export.INIT_CODE)
    assert set(CELLS) == set(CELL_CODE)
    assert set(SCHEDULES) == set(export.SCHEDULE_CODE)
    assert set(FEATURES) == set(export.FEATURE_CODE)


@pytest.mark.parametrize("preset", ["gan-ring", "vae-digits"])
def test_script_of_another_family_is_refused_with_a_reason(preset):
    """A VAE on digits has image data, but a script would train a classifier: refused, not written wrong."""
    with pytest.raises(SpecError, match="supervised"):
        export.script_text(load_preset(preset).spec)


def test_weights_round_trip_with_spec_in_metadata():
    spec = load_preset("tfp-default").spec
    torch.manual_seed(0)
    model = build_model(spec)
    raw = export.weights_bytes(model, spec)
    tensors, meta_spec = export.read_weights(raw)
    assert meta_spec == spec
    torch.manual_seed(1)
    other = build_model(spec)
    x = torch.randn(5, 2)
    assert not torch.equal(model(x), other(x))
    export.load_weights_into(other, tensors)
    assert torch.equal(model(x), other(x))


def test_bad_weights_are_refused_and_change_nothing():
    spec = load_preset("tfp-default").spec
    model = build_model(spec)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(SpecError, match="safetensors"):
        export.read_weights(b"\x80\x04not a safetensors file")
    wider = build_model(spec.with_(**{"model.hidden": [5, 2]}))
    tensors, _ = export.read_weights(export.weights_bytes(wider, spec))
    with pytest.raises(SpecError, match="shape"):
        export.load_weights_into(model, tensors)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_metrics_csv_has_a_column_per_layer_norm():
    hist = _train(load_preset("tfp-default").spec.with_(**{"train.epochs": 2})).history
    lines = export.metrics_csv(hist).splitlines()
    header = lines[0].split(",")
    assert {"epoch", "loss", "val_loss", "grad_norm.layer1", "grad_norm.output"} <= set(header)
    assert len(lines) == 3
    row = dict(zip(header, lines[2].split(",")))
    assert float(row["loss"]) == pytest.approx(hist[1]["loss"])
    assert float(row["grad_norm.layer1"]) == pytest.approx(hist[1]["grad_norm"]["layer1"])


def test_export_cli_writes_every_file(tmp_path):
    files = {k: tmp_path / f"out.{k}" for k in ("py", "safetensors", "json", "csv")}
    cmd = [sys.executable, "-m", "core", "export", "tfp-default", "--steps", "30"]
    cmd += ["--script", str(files["py"]), "--weights", str(files["safetensors"])]
    cmd += ["--spec", str(files["json"]), "--metrics", str(files["csv"])]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["steps"] == 30
    assert from_json(files["json"].read_text()) == load_preset("tfp-default").spec
    _, spec = export.read_weights(files["safetensors"].read_bytes())
    assert spec == load_preset("tfp-default").spec
    assert files["csv"].read_text().count("\n") == 1 + 30 // 25  # header + one row per finished epoch


def test_export_cli_bad_path_is_one_line_exit_2(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "core", "export", "tfp-default", "--spec", str(tmp_path / "no" / "such" / "x.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "writable" in out.stderr
