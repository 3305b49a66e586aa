"""The headless runner: the DESIGN.md contract (outputs, metrics file, store, exit codes)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.__main__ import main
from core.presets import list_presets, load_preset
from core.store import Store

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse's own errors leave through SystemExit, as on the command line
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_presets_lists_every_preset(capsys):
    code, out, _ = run(capsys, "presets")
    assert code == 0
    names = [line.split()[0] for line in out.strip().splitlines()]
    assert names == [p.name for p in list_presets()]
    for required in (
        "tfp-default",
        "spiral-relu",
        "xor-features",
        "lr-too-high",
        "overfit-vs-l2",
        "vanishing-sigmoid",
        "fix-relu-he",
        "fix-batchnorm",
        "fix-residual",
        "exploding-init",
        "fix-clipping",
    ):
        assert required in names


def test_run_writes_metrics_summary_and_store(capsys, tmp_path):
    out_file = tmp_path / "m.jsonl"
    code, out, err = run(capsys, "run", "tfp-default", "--steps", "50", "--out", str(out_file), "--seed", "3")
    assert code == 0
    summary = json.loads(out)
    assert summary["status"] == "done" and summary["steps"] == 50
    records = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]  # 250 training points, batch 10: 25 steps an epoch
    assert list(records[0]["grad_norm"]) == ["layer1", "layer2", "output"]
    assert {"step", "loss", "val_loss", "val_accuracy", "lr"} <= set(records[0])
    assert "epoch" in err  # progress on stderr
    run_row = Store().get_run(summary["run_id"])
    assert run_row["source"] == "runner" and run_row["spec"]["seed"] == 3 and run_row["status"] == "done"


def test_gradient_lab_preset_writes_activation_statistics(capsys, tmp_path):
    out_file = tmp_path / "m.jsonl"
    code, _, _ = run(capsys, "run", "vanishing-sigmoid", "--steps", "12", "--out", str(out_file), "--quiet")
    assert code == 0
    rec = json.loads(out_file.read_text().splitlines()[0])
    layers = load_preset("vanishing-sigmoid").spec.model.hidden
    assert len(rec["activation"]) == len(layers)
    assert {"mean", "std", "q05", "q50", "q95", "saturated", "dead"} <= set(rec["activation"]["layer1"])
    assert set(rec["update_ratio"]) == set(rec["grad_norm"])


def test_diverging_preset_exits_3_with_the_step(capsys):
    code, out, err = run(capsys, "run", "lr-too-high", "--quiet")
    assert code == 3
    assert json.loads(out)["status"] == "diverged"
    assert err.strip().startswith("diverged at step")


@pytest.mark.parametrize(
    "argv,field",
    [
        (["run", "tfp-default", "--set", "train.lr=-1"], "train.lr"),
        (["run", "tfp-default", "--set", "model.bogus=1"], "model.bogus"),
        (["run", "tfp-default", "--set", "nokey"], "--set"),
        (["run", "no-such-preset"], "SPEC"),
        (["run", "missing.json"], "SPEC"),
        (["run", "tfp-default", "--steps", "0"], "--steps"),
        (["run", "tfp-default", "--device", "tpu"], "--device"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, field):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and field in err


def test_spec_file_and_set_overrides(capsys, tmp_path):
    from core.spec import Spec, to_json

    path = tmp_path / "s.json"
    path.write_text(to_json(Spec().with_(**{"data.n": 60})))
    code, out, _ = run(capsys, "run", str(path), "--steps", "3", "--set", "model.hidden=[3]", "--quiet")
    assert code == 0
    spec = Store().get_run(json.loads(out)["run_id"])["spec"]
    assert spec["model"]["hidden"] == [3] and spec["data"]["n"] == 60
    bad = tmp_path / "bad.json"
    bad.write_text('{"train": {"lrate": 1}}')
    code, _, err = run(capsys, "run", str(bad))
    assert code == 2 and "train.lrate" in err


def test_core_never_imports_streamlit():
    code = (
        "import sys, core.engine, core.jobs, core.gradlab, core.charts.gradients, core.__main__; "
        "print('streamlit' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_module_entry_point_exit_code():
    res = subprocess.run(
        [sys.executable, "-m", "core", "run", "tfp-default", "--set", "data.noise=99"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2 and "data.noise" in res.stderr and "Traceback" not in res.stderr


DEEP = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(
    "argv,field",
    [
        (["run", "tfp-default", "--set", "model.hidden=[1e400]"], "model.hidden"),
        (["run", "tfp-default", "--set", "seed=" + "7" * 5000], "seed"),
        (["run", "tfp-default", "--set", "model.hidden=" + DEEP], "model.hidden"),
        (["run", "tfp-default", "--set", "train.lr=fast"], "train.lr"),
        (["run", "tfp-default", "--set", "=3"], "--set"),
        (["run", "tfp-default", "--steps", "abc"], "--steps"),
        (["run", "tfp-default", "--steps", "-5"], "--steps"),
        (["run", "tfp-default", "--steps", "1.5"], "--steps"),
    ],
)
def test_bad_values_exit_2_with_one_line_and_no_run_row(capsys, argv, field):
    def runner_runs():  # the runs the command line made (a job an earlier test left may still record its own)
        return {r["id"] for r in Store().list_runs(limit=100_000) if r["source"] == "runner"}

    before = runner_runs()
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "", err
    assert len(err.strip().splitlines()) == 1 and field.lower() in err.lower() and "Traceback" not in err
    assert runner_runs() == before  # a refused input leaves nothing in the store


@pytest.mark.parametrize("kind", ["directory", "missing folder", "read-only folder"])
def test_unwritable_out_exits_2_with_one_line(capsys, tmp_path, kind):
    if kind == "directory":
        out = tmp_path
    elif kind == "missing folder":
        out = tmp_path / "nope" / "m.jsonl"
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        locked = tmp_path / "ro"
        locked.mkdir(mode=0o500)
        out = locked / "m.jsonl"
    code, stdout, err = run(capsys, "run", "tfp-default", "--steps", "5", "--out", str(out))
    assert code == 2 and stdout == ""
    assert len(err.strip().splitlines()) == 1 and "--out" in err


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00\x81binary\x00", b'{"train": ', DEEP.encode(), b"[1, 2]", b"\x89PNG\r\n\x1a\n"],
)
def test_undecodable_spec_file_exits_2_with_one_line(capsys, tmp_path, content):
    path = tmp_path / "spec.json"
    path.write_bytes(content)
    code, out, err = run(capsys, "run", str(path))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "spec" in err.lower() and "Traceback" not in err


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"\xff\xfe binary",
        b"[1, 2, 3]",
        b'{"title": "x", "page": "playground", "lesson": ""}',
        b'{"title": "x", "page": "playground", "lesson": "", "spec": {"train": {"lr": -1}}}',
        b'{"title": "x", "page": "playground", "lesson": "", "spec": 5}',
    ],
)
def test_malformed_preset_exits_2_with_one_line(capsys, tmp_path, monkeypatch, content):
    import core.presets

    (tmp_path / "broken.json").write_bytes(content)
    monkeypatch.setattr(core.presets, "HERE", tmp_path)
    code, out, err = run(capsys, "run", "broken")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "broken" in err or "train.lr" in err


def test_runs_lists_stored_runs_newest_first(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path))
    assert run(capsys, "runs")[:2] == (0, "")  # an empty store lists nothing
    ids = []
    for steps in ("25", "50"):
        code, out, _ = run(capsys, "run", "tfp-default", "--steps", steps, "--quiet")
        assert code == 0
        ids.append(json.loads(out)["run_id"])
    code, out, _ = run(capsys, "runs", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ids[::-1]
    assert [(r["status"], r["epochs"], r["name"]) for r in rows] == [
        ("done", 2, "tfp-default"),
        ("done", 1, "tfp-default"),
    ]
    assert all(r["created"][:4].isdigit() for r in rows)
    code, out, _ = run(capsys, "runs")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].split()[:4] == [ids[1], "done", "2", "tfp-default"]


def test_sigterm_stops_the_run_and_stores_it_as_stopped(tmp_path):
    env = {**os.environ, "PLAYGROUND_DATA": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "run", "tfp-default", "--steps", "10000000", "--quiet"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        store, deadline = Store(tmp_path / "runs.sqlite"), time.time() + 120
        while time.time() < deadline and not any(store.metrics(r["id"]) for r in store.list_runs()):
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130 and "Traceback" not in err
    summary = json.loads(out)
    run = store.get_run(summary["run_id"])
    assert summary["status"] == run["status"] == "stopped"
    epochs = [m["epoch"] for m in store.metrics(run["id"])]
    assert epochs == list(range(1, summary["epochs"] + 1))  # every epoch trained is in the store


@pytest.mark.parametrize("argv", [["runs"], ["run", "tfp-default", "--steps", "5"]])
def test_a_broken_store_file_exits_2_with_one_line(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path))
    (tmp_path / "runs.sqlite").write_bytes(b"this is not a database" * 100)
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "runs.sqlite" in err and "Traceback" not in err
