"""Lesson presets: every one loads and validates (both sides); names are names, never paths; bad files are named."""

import json

import pytest

from core.presets import Compare, PresetError, list_presets, load_preset, preset_names
from core.spec import SpecError, validate

GOOD = {"title": "T", "page": "playground", "lesson": "L", "spec": {"data": {"name": "xor"}}}


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_loads_and_validates_both_sides(name):
    preset = load_preset(name)
    assert validate(preset.spec) == preset.spec
    other = preset.compare_spec()
    if preset.compare is None:
        assert other is None
    else:
        assert validate(other) == other and other != preset.spec


def test_comparison_sides_are_typed():
    fix = load_preset("fix-relu-he")
    assert fix.compare == Compare(preset="vanishing-sigmoid")
    assert fix.compare_spec() == load_preset("vanishing-sigmoid").spec
    aug = load_preset("cnn-augmentation")
    assert aug.compare == Compare(set={"data.augment": []})
    assert aug.compare_spec() == aug.spec.with_(**{"data.augment": ()})
    edited = aug.spec.with_(**{"train.lr": 0.01})
    assert aug.compare_spec(edited) == edited.with_(**{"data.augment": ()})  # set applies to the page's spec
    assert load_preset("tfp-default").compare_spec() is None


@pytest.mark.parametrize(
    "name", ["../cnn-digits", "..", "/etc/passwd", "a/b", "CNN-DIGITS", "", "x" * 65, None, "no-such"]
)
def test_a_preset_name_is_never_a_path(name):
    with pytest.raises(KeyError):
        load_preset(name)


def write(folder, name, raw):
    path = folder / f"{name}.json"
    path.write_text(raw if isinstance(raw, str) else json.dumps(raw))
    return path


def test_teacher_presets_come_from_the_documented_folder(tmp_path, monkeypatch):
    write(tmp_path, "my-lesson", GOOD | {"compare": {"set": {"model.hidden": [8]}}})
    write(tmp_path, "tfp-default", GOOD | {"title": "shadow"})  # cannot replace a shipped preset
    write(tmp_path, "Not_A_Name", GOOD)
    with pytest.raises(KeyError):
        load_preset("my-lesson")
    monkeypatch.setenv("PLAYGROUND_PRESETS", str(tmp_path))
    mine = load_preset("my-lesson")
    assert mine.spec.data.name == "xor" and mine.compare_spec().model.hidden == (8,)
    assert load_preset("tfp-default").title != "shadow"
    assert "my-lesson" in preset_names() and "Not_A_Name" not in preset_names()
    assert "my-lesson" in [p.name for p in list_presets("playground")]


@pytest.mark.parametrize(
    "raw,problem",
    [
        ("{not json", "invalid JSON"),
        ("[" * 100_000, "invalid JSON"),
        ('{"title": ' + "9" * 5000 + "}", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({k: v for k, v in GOOD.items() if k != "lesson"}, "missing ['lesson']"),
        (GOOD | {"extra": {"compare": "tfp-default"}}, "unknown keys ['extra']"),
        (GOOD | {"compare": "tfp-default"}, "compare must be"),
        (GOOD | {"compare": {"preset": "../x"}}, "not a preset name"),
        (GOOD | {"compare": {"preset": "no-such-preset"}}, "is not a preset"),
        (GOOD | {"compare": {"set": {"data.batch_size": 100_000}}}, "data.batch_size"),
        (GOOD | {"spec": {"train": {"lr": "fast"}}}, "train.lr"),
        (GOOD | {"page": 3}, "page must be text"),
    ],
)
def test_a_malformed_preset_file_is_named_in_one_clear_error(tmp_path, monkeypatch, raw, problem):
    path = write(tmp_path, "broken", raw)
    monkeypatch.setenv("PLAYGROUND_PRESETS", str(tmp_path))
    with pytest.raises(SpecError) as e:
        load_preset("broken")
    assert isinstance(e.value, PresetError) and str(path) in str(e.value) and problem in str(e.value)
    with pytest.warns(UserWarning, match="broken.json"):
        names = [p.name for p in list_presets()]
    assert "broken" not in names and "tfp-default" in names


def test_presets_that_compare_with_each_other_load(tmp_path, monkeypatch):
    write(tmp_path, "a-side", GOOD | {"compare": {"preset": "b-side"}})
    write(tmp_path, "b-side", GOOD | {"compare": {"preset": "a-side"}, "spec": {"data": {"name": "circle"}}})
    monkeypatch.setenv("PLAYGROUND_PRESETS", str(tmp_path))
    assert load_preset("a-side").compare_spec().data.name == "circle"


def test_a_tight_server_budget_keeps_the_lesson_list_and_refuses_the_run(monkeypatch):
    """With PLAYGROUND_MAX_PARAMS below a lesson's size, the lessons still load; building the run is refused."""
    from core.spec import SpecError, validate

    monkeypatch.setenv("PLAYGROUND_MAX_PARAMS", "100")
    presets = list_presets()
    assert {p.name for p in presets} >= {"cnn-digits", "gan-digits", "tfp-default"}
    with pytest.raises(SpecError, match="parameters"):
        validate(load_preset("cnn-digits").spec)
