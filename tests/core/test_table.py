"""Your own data as a spec: data.table and its fields, the dataset built from the stored table, the parameter
arithmetic for any width, training that learns, the runner and the exported script."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core import export
from core.__main__ import main
from core.charts.table import projection_figure
from core.data.table import make_table_dataset, store_table, stored_table
from core.data.tabular import TableError, pack_prepared, parse_csv, prepare
from core.models import build_model, count_params
from core.spec import Spec, SpecError, from_query, to_json, to_query, validate
from core.trainers import make_trainer
from core.views.mlp import mlp_views

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def data_folder(tmp_path, monkeypatch):
    """Each test stores its tables in its own data folder."""
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path))
    return tmp_path


def table_csv(n=200, columns=3, seed=0, regression=False) -> bytes:
    """A linearly separable table (label = which side of a fixed plane), or a linear target for regression."""
    rng = np.random.default_rng(seed)
    x = rng.normal(2.0, 3.0, size=(n, columns))
    w = np.linspace(1.0, -1.5, columns)
    y = [f"{v:.5f}" for v in x @ w] if regression else np.where(x @ w > x.mean(0) @ w, "up", "down")
    head = ",".join(f"c{j}" for j in range(columns)) + ",out\n"
    return (head + "".join(",".join(f"{v:.5f}" for v in r) + f",{t}\n" for r, t in zip(x, y))).encode()


def stored(columns=3, regression=False, n=200) -> dict:
    t = parse_csv(table_csv(n, columns, regression=regression))
    feats = [c for c in t.columns if c != "out"]
    return store_table(prepare(t, feats, "out", "regression" if regression else "classification"))


def table_spec(fields: dict, **more) -> Spec:
    return Spec().with_(**(fields | {"model.hidden": (6,), "train.optimizer": "adam", "train.lr": 0.05} | more))


# ---------------------------------------------------------------------------- the spec


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("data.table", "XYZ", "16 hex digits"),
        ("data.table", "0123456789ABCDEF", "16 hex digits"),  # upper case is not a hash this app writes
        ("data.target", 'a"b', "no double quotes"),
        ("data.target", "x" * 101, "up to 100 characters"),
        ("data.task", "clustering", "classification, regression"),
        ("data.columns", 50, "between 1 and 49"),
    ],
)
def test_the_table_fields_are_checked_by_the_one_table(key, value, message):
    with pytest.raises(SpecError, match=message) as e:
        validate(Spec().with_(**{key: value}))
    assert e.value.field == key


def test_a_table_spec_needs_its_hash_its_target_and_enough_rows():
    with pytest.raises(SpecError, match="upload a CSV"):
        validate(Spec().with_(**{"data.name": "table"}))
    fields = stored()
    with pytest.raises(SpecError) as e:
        validate(table_spec(fields, **{"data.n": 5}))
    assert e.value.field == "data.n"
    with pytest.raises(SpecError, match="mlp"):
        validate(table_spec(fields, **{"model.family": "cnn"}))


def test_table_fields_round_trip_through_json_and_the_link():
    spec = validate(table_spec(stored()))
    assert Spec() != spec and from_query(to_query(spec)) == (spec, [])
    assert validate(spec.with_(**{"data.target": "petal width (cm)"})).data.target == "petal width (cm)"
    assert json.loads(to_json(spec))["data"]["table"] == spec.data.table


@pytest.mark.parametrize("columns", [1, 2, 7, 49])
def test_parameter_count_by_arithmetic_equals_the_built_model(columns):
    spec = table_spec(stored(columns=columns, n=20), **{"model.hidden": (5, 3)})
    built = build_model(spec)
    assert built.blocks[0].linear.in_features == columns
    assert count_params(spec) == sum(p.numel() for p in built.parameters())


# ---------------------------------------------------------------------------- the dataset


def test_the_dataset_is_the_stored_table_split_and_standardised():
    fields = stored()
    spec = table_spec(fields, **{"data.train_frac": 0.7})
    d = make_table_dataset(spec)
    assert (len(d.x_train), len(d.x_test), d.input_shape) == (140, 60, (3,))
    assert np.allclose(d.x_train.mean(0), 0, atol=1e-5) and np.allclose(d.x_train.std(0, unbiased=False), 1, atol=1e-4)
    assert d.task == "binary" and d.n_classes == 2 and d.extra["classes"] == ["down", "up"]
    assert d.points_train.shape == (140, 2) and d.extra["plane"] is False and d.extra["axes"][0].startswith("PC1")
    raw = parse_csv(table_csv())
    # each row keeps its own label: the 'up' rows are those the spec's split put under class 1
    ups = sum(r[-1] == "up" for r in raw.rows)
    assert int(d.extra["labels_train"].sum() + d.extra["labels_test"].sum()) == ups
    again = make_table_dataset(spec)
    assert torch.equal(again.x_train, d.x_train)  # the seed fixes the split
    other = make_table_dataset(spec.with_(seed=1))
    assert not torch.equal(other.x_train, d.x_train)


def test_a_regression_table_scales_its_target_to_minus_one_one_and_a_plane_gets_its_extent():
    d = make_table_dataset(table_spec(stored(columns=2, regression=True)))
    assert d.task == "regression" and d.y_train.shape == (100, 1)
    assert float(d.y_train.min()) == -1.0 and float(d.y_train.max()) == 1.0
    lo, hi = d.extra["target_range"]
    assert lo < hi and d.extra["plane"] is True and d.extra["axes"] == ["c0", "c1"]
    assert d.extra["extent"] >= float(np.abs(d.points_train).max())


def test_a_missing_or_mismatched_table_is_named():
    fields = stored()
    with pytest.raises(SpecError, match="upload the CSV again") as e:
        make_table_dataset(table_spec(fields, **{"data.table": "0123456789abcdef"}))
    assert e.value.field == "data.table"
    with pytest.raises(SpecError, match="holds") as e:
        make_table_dataset(table_spec(fields, **{"data.columns": 4}))
    assert e.value.field == "data.columns"


def test_a_stored_table_is_read_by_another_process_and_an_older_file_moves_into_the_store(default_store, tmp_path):
    """What one replica stored, another finds; a table from before the store kept tables still opens."""
    key = stored()["data.table"]
    code = "import sys; from core.data.table import stored_table; print(len(stored_table(sys.argv[1]).y))"
    out = subprocess.run([sys.executable, "-c", code, key], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == "200", out.stderr[-2000:]

    key, raw = pack_prepared(prepare(parse_csv(table_csv(seed=7)), ["c0", "c1", "c2"], "out", "classification"))
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / f"{key}.npz").write_bytes(raw)
    assert not default_store.has_blob("uploaded_tables", key)
    assert len(stored_table(key).y) == 200 and default_store.load_blob("uploaded_tables", key) == raw
    with pytest.raises(TableError, match="upload the CSV again"):
        stored_table("0123456789abcdef")


# ---------------------------------------------------------------------------- training


def test_training_on_a_separable_table_reaches_90_percent_test_accuracy():
    torch.manual_seed(0)
    t = make_trainer(table_spec(stored(), **{"train.epochs": 25, "data.batch_size": 20}))
    while not t.done:
        t.step()
    assert t.history[-1]["val_accuracy"] > 0.9
    view = mlp_views(t)["projection"]
    with torch.no_grad():
        want = t.model.eval()(t.data.x_test).argmax(1) if t.loss_name == "ce" else None
    got = view["pred_test"]
    assert got.shape == (len(t.data.x_test),)
    if want is not None:
        assert np.array_equal(got, want.numpy())
    assert (got == t.data.extra["labels_test"]).mean() == pytest.approx(t.history[-1]["val_accuracy"])


def test_a_two_column_table_draws_its_surface_over_its_own_extent():
    t = make_trainer(table_spec(stored(columns=2)))
    t.step()
    views = mlp_views(t)
    extent = t.data.extra["extent"]
    assert views["grid"]["xs"][0] == -extent and views["grid"]["xs"][-1] == extent
    assert views["network"]["features"] == ["c0", "c1"]
    x = torch.tensor([[views["grid"]["xs"][0], views["grid"]["ys"][0]]])
    with torch.no_grad():
        p = torch.sigmoid(t.model.eval()(x))[0, 0] if t.loss_name == "bce" else None
    if p is not None:
        assert views["grid"]["value"][0, 0] == pytest.approx(float(p), abs=1e-6)


def test_projection_chart_labels_both_axes_and_names_the_classes():
    fig = projection_figure(
        (np.zeros((4, 2)), np.array([0, 1, 1, 0])), None, "binary", ["down", "up"], ["PC1", "PC2"], "Your data"
    )
    assert fig.layout.xaxis.title.text == "PC1" and fig.layout.yaxis.title.text == "PC2"
    assert [t.name for t in fig.data] == ["train: down", "train: up"]


# ---------------------------------------------------------------------------- runner and export


def test_the_runner_trains_a_table_spec_and_refuses_a_missing_one(tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_text(to_json(table_spec(stored(), **{"train.epochs": 3})))
    assert main(["run", str(path), "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs"] == 3
    gone = json.loads(path.read_text())
    gone["data"]["table"] = "0123456789abcdef"
    path.write_text(json.dumps(gone))
    assert main(["run", str(path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "upload the CSV again" in err


def test_the_exported_script_ships_the_table_and_reaches_the_apps_loss(tmp_path):
    torch.set_num_threads(1)  # the script runs on one thread; the same thread count gives the same sums
    spec = table_spec(stored(regression=True), **{"train.epochs": 3})
    t = make_trainer(spec)
    while not t.done:
        t.step()
    path = tmp_path / "train.py"
    path.write_text(export.script_text(spec))
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["loss"] == pytest.approx(t.history[-1]["loss"], rel=1e-5)
    assert result["val_loss"] == pytest.approx(t.history[-1]["val_loss"], rel=1e-5)


def test_export_of_a_table_that_is_gone_is_refused_with_the_reason():
    spec = table_spec(stored()).with_(**{"data.table": "0123456789abcdef"})
    assert "upload the CSV again" in export.script_supported(spec)
    with pytest.raises(SpecError, match="upload the CSV again"):
        export.script_text(spec)
