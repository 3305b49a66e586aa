"""Transfer learning: frozen means frozen, the body LR factor, stored weights, the target split, determinism."""

import json

import numpy as np
import pytest
import torch

from core.__main__ import main
from core.charts.transfer import architecture_figure, modes_accuracy_figure, sweep_figure
from core.data.glyphs import glyph_strokes, make_glyphs
from core.data.transfer import GLYPH_SOURCE, GLYPH_TARGET, target_classes, target_dataset
from core.presets import load_preset
from core.spec import LayerSpec as L
from core.spec import Spec, SpecError, from_json, validate
from core.trainers import make_trainer
from core.transfer import (
    MODES,
    TransferCompare,
    TransferTrainer,
    has_pretrained,
    load_pretrained,
    save_pretrained,
    source_spec,
    weights_key,
    with_mode,
)
from core.views.transfer import transfer_views

LAYERS = [L("conv", 4, 3, 1, 1), L("batchnorm"), L("act", name="relu"), L("pool", kernel=2, stride=2, name="max")]
SPEC = Spec().with_(
    **{
        "data.name": "digits",
        "data.batch_size": 16,
        "model.family": "transfer",
        "model.layers": LAYERS,
        "train.optimizer": "adam",
        "train.lr": 0.01,
        "train.epochs": 3,
        "transfer.pretrain_epochs": 1,
        "transfer.labels_per_class": 5,
    }
)

# The glyph lesson's network at 16 px with 4 pretraining epochs and 20 target epochs: seconds instead of a
# minute. Measured (seed 0) with 40 source glyphs: frozen 65.1 %, scratch 46.8 % at 10 labels per class (10 % is
# chance); it passes with the 100 source glyphs of the lesson now.
GLYPH_SPEC = load_preset("transfer-glyphs").spec.with_(
    **{"data.image_size": 16, "transfer.pretrain_epochs": 4, "train.epochs": 20}
)
GLYPH_GAP = 0.10


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread, as the app gives each run: on a busy 2-core machine two threads wait for each other."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def store_dir(tmp_path, monkeypatch):
    """Pretrained weights go to a fresh folder for this test."""
    monkeypatch.setenv("PLAYGROUND_DATA", str(tmp_path))
    return tmp_path


def run(trainer, epochs=None):
    while not trainer.done and (epochs is None or trainer.epoch < epochs):
        trainer.run_epoch()
    return trainer


def test_frozen_body_never_changes_and_the_optimizer_holds_only_the_head(store_dir):
    t = TransferTrainer(with_mode(SPEC, "frozen"))
    before = {k: v.clone() for k, v in t.model.body.state_dict().items()}  # weights and batch-norm statistics
    optimised = [p for g in t.optimizer.param_groups for p in g["params"]]
    assert {id(p) for p in optimised} == {id(p) for p in t.model.output.parameters()}
    assert all(not p.requires_grad for p in t.model.body.parameters())
    head = [p.clone() for p in t.model.output.parameters()]
    run(t)
    for k, v in t.model.body.state_dict().items():
        assert torch.equal(v, before[k]), k  # bit for bit
    assert any(not torch.equal(a, b) for a, b in zip(head, t.model.output.parameters()))  # the head did learn
    views = transfer_views(t)
    assert views["body_drift"] == 0.0
    assert views["optimised_params"] == sum(p.numel() for p in t.model.output.parameters())
    assert [r["frozen"] for r in views["layers"]] == [
        True,
        True,
        False,
        False,
        False,
        False,
    ]  # conv, batch norm; relu, pool, flatten, head


def test_finetune_body_lr_factor_is_in_the_param_groups(store_dir):
    spec = SPEC.with_(**{"transfer.body_lr_factor": 0.1, "train.lr": 0.02})
    t = TransferTrainer(with_mode(spec, "finetune"))
    body, head = t.optimizer.param_groups
    assert body["lr"] == pytest.approx(0.002) and head["lr"] == pytest.approx(0.02)
    assert {id(p) for p in body["params"]} == {id(p) for p in t.model.body.parameters()}
    assert {id(p) for p in head["params"]} == {id(p) for p in t.model.output.parameters()}
    run(t, 1)
    assert transfer_views(t)["body_drift"] > 0
    t.apply_live(spec.with_(**{"train.lr": 0.05}))  # a live LR change keeps the body's share
    assert [g["lr"] for g in t.optimizer.param_groups] == pytest.approx([0.005, 0.05])
    for schedule in ("cosine", "onecycle"):  # a schedule scales both groups alike (one-cycle too)
        s = TransferTrainer(with_mode(spec.with_(**{"train.schedule": schedule}), "finetune"))
        for _ in range(3):
            s.step()
        body, head = s.optimizer.param_groups
        assert body["lr"] / head["lr"] == pytest.approx(0.1), schedule
        s.apply_live(s.spec.with_(**{"train.lr": 0.04}))
        body, head = s.optimizer.param_groups
        assert body["lr"] / head["lr"] == pytest.approx(0.1), schedule


def test_pretrained_weights_round_trip_through_the_store_with_the_spec(store_dir, default_store):
    model = TransferTrainer(with_mode(SPEC, "scratch")).model
    assert not has_pretrained(SPEC)
    key = save_pretrained(model, SPEC, {"source_test_accuracy": 0.5})
    assert default_store.has_blob("pretrained", key) and has_pretrained(SPEC)
    tensors, meta = load_pretrained(SPEC)
    for k, v in model.state_dict().items():
        assert torch.equal(tensors[k], v), k
    assert from_json(meta["spec"]) == source_spec(SPEC) and meta["key"] == weights_key(SPEC)
    assert float(meta["source_test_accuracy"]) == 0.5
    # The key is the source spec's: fine-tuning settings share it, a different body or source does not.
    assert weights_key(SPEC.with_(**{"train.lr": 0.5, "transfer.labels_per_class": 1})) == weights_key(SPEC)
    assert weights_key(SPEC.with_(**{"transfer.source": "shapes"})) != weights_key(SPEC)
    assert weights_key(SPEC.with_(**{"model.layers": LAYERS[:1]})) != weights_key(SPEC)


def test_frozen_and_finetune_start_from_the_stored_body(store_dir):
    runs = {m: TransferTrainer(with_mode(SPEC, m)) for m in MODES}  # pretrains once, on the first use
    tensors, meta = load_pretrained(SPEC)
    assert json.loads(meta["spec"])["transfer"]["mode"] == "pretrain"
    for mode in ("frozen", "finetune"):
        for k, v in runs[mode].model.body.state_dict().items():
            assert torch.equal(v, tensors[f"body.{k}"]), (mode, k)
    assert not torch.equal(runs["scratch"].model.body[0].weight, tensors["body.0.weight"])
    heads = [r.model.output.weight for r in runs.values()]  # one seed: the same new head for all three
    assert torch.equal(heads[0], heads[1]) and torch.equal(heads[0], heads[2])


def test_target_split_uses_only_the_chosen_labels_and_the_same_examples(store_dir):
    for k in (1, 3):
        data = target_dataset(SPEC, k)
        assert np.bincount(data.y_train.numpy()).tolist() == [k] * 5
    d3, d_all = target_dataset(SPEC, 3), target_dataset(SPEC, 0)
    assert torch.equal(d3.x_test, d_all.x_test)  # one test set, whatever the number of labels
    n = len(d_all.x_train) + len(d_all.x_test)
    assert len(d_all.x_train) == round(SPEC.data.train_frac * n)  # "all" is the whole labelled pool
    assert set(d3.extra["chosen"]) <= set(range(len(d_all.x_train)))
    compare = TransferCompare(SPEC)
    xs = [r.data.x_train for r in compare.runs.values()]
    assert all(torch.equal(xs[0], x) for x in xs) and len(xs[0]) == 25


def test_same_seed_same_curves_other_seed_other_curves(store_dir):
    a, b = run(make_trainer(SPEC)), run(make_trainer(SPEC))
    assert a.history == b.history
    assert {f"{m}_test_accuracy" for m in MODES} <= set(a.history[-1])
    c = run(make_trainer(SPEC.with_(seed=1)))
    assert c.history[-1]["scratch_loss"] != a.history[-1]["scratch_loss"]


def test_lockstep_compare_matches_three_separate_runs(store_dir):
    """The runner's one-trainer comparison trains exactly what the page's three-run job trains."""
    compare = run(make_trainer(SPEC))
    for mode in MODES:
        alone = run(TransferTrainer(with_mode(SPEC, mode)))
        assert [r["test_accuracy"] for r in alone.history] == [r[f"{mode}_test_accuracy"] for r in compare.history]


def test_sweep_records_one_point_per_label_count(store_dir):
    t = run(make_trainer(SPEC.with_(**{"transfer.mode": "sweep", "transfer.sweep": [1, 0], "train.epochs": 1})))
    assert t.status == "done" and [r["labels_per_class"] for r in t.history] == [1, 0]
    assert t.history[0]["n_train"] == 5 and t.history[1]["per_class"] > 1
    fig = sweep_figure(t.history)
    assert [tr.name for tr in fig.data] == ["frozen body", "fine-tune", "from scratch"]
    assert list(fig.data[2].y) == [
        100 * r["scratch_test_accuracy"] for r in sorted(t.history, key=lambda r: r["per_class"])
    ]


def test_bad_transfer_settings_name_the_field():
    for key, value in (
        ("transfer.labels_per_class", -1),
        ("transfer.body_lr_factor", 2.0),
        ("transfer.source", "cats"),
        ("transfer.mode", "half"),
    ):
        with pytest.raises(SpecError) as e:
            validate(SPEC.with_(**{key: value}))
        assert e.value.field == key
    with pytest.raises(SpecError) as e:
        validate(SPEC.with_(**{"data.name": "shapes"}))
    assert e.value.field == "data.name"


def test_charts_label_both_axes():
    hist = {m: ([1, 2], [0.5, 0.7]) for m in MODES}
    rows = [{"kind": "conv", "text": "conv", "params": 40, "frozen": True, "pretrained": True}]
    points = [{"labels_per_class": 1, "per_class": 1.0, "frozen_test_accuracy": 0.8}]
    for fig in (modes_accuracy_figure(hist), architecture_figure({"frozen": rows}), sweep_figure(points)):
        assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text


def test_runner_final_record_carries_the_three_accuracies(store_dir, capsys):
    out = store_dir / "m.jsonl"
    args = ["run", "transfer-10-labels", "--out", str(out), "--quiet"]
    code = main([*args, "--set", "transfer.pretrain_epochs=1", "--set", "train.epochs=2"])
    assert code == 0, capsys.readouterr().err
    last = json.loads(out.read_text().splitlines()[-1])
    summary = json.loads(capsys.readouterr().out)
    for mode in MODES:
        assert 0 <= last[f"{mode}_test_accuracy"] <= 1
        assert summary[f"{mode}_test_accuracy"] == last[f"{mode}_test_accuracy"]
    preset = load_preset("transfer-10-labels").spec.with_(**{"transfer.pretrain_epochs": 1})
    assert has_pretrained(preset)  # pretrained in the run, then stored


def test_glyphs_are_fixed_figures_and_the_target_classes_are_new(store_dir):
    """A glyph is the same figure for every seed (only its drawing varies); the target glyphs are not in the source."""
    a, _ = make_glyphs([3], 2, 16, seed=0)
    b, _ = make_glyphs([3], 2, 16, seed=0)
    c, _ = make_glyphs([3], 2, 16, seed=1)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(glyph_strokes(41), glyph_strokes(41)) and not np.array_equal(
        glyph_strokes(41), glyph_strokes(3)
    )
    assert not set(GLYPH_SOURCE) & set(GLYPH_TARGET)
    spec = GLYPH_SPEC.with_(**{"transfer.labels_per_class": 3})
    data = target_dataset(spec)
    assert np.bincount(data.y_train.numpy()).tolist() == [3] * len(GLYPH_TARGET)
    assert data.x_train.shape[1:] == (1, 16, 16) and data.n_classes == target_classes(spec) == len(GLYPH_TARGET)


def test_a_body_pretrained_on_glyphs_beats_scratch_with_few_labels(store_dir):
    """The glyph lesson in small (16 px, short pretraining): at 10 labels the frozen body is well ahead of scratch."""
    run_ = run(TransferCompare(GLYPH_SPEC))
    last = run_.history[-1]
    frozen, scratch = last["frozen_test_accuracy"], last["scratch_test_accuracy"]
    chance = 1 / len(GLYPH_TARGET)
    assert frozen - scratch >= GLYPH_GAP, (frozen, scratch)
    assert scratch > chance  # scratch learns something: the gap is not a broken baseline
