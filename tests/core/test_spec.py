"""The Spec: validation names the field; JSON and URL codecs round-trip."""

import json
from dataclasses import fields

import pytest

from core.presets import list_presets
from core.spec import (
    BOOL,
    CHOICES,
    LENGTHS,
    LIMITS,
    MAX_HIDDEN_LAYERS,
    SECTIONS,
    LayerSpec,
    Spec,
    SpecError,
    apply_overrides,
    from_dict,
    from_json,
    from_query,
    to_dict,
    to_json,
    to_query,
    validate,
    validate_field,
)

RICH = Spec().with_(
    **{
        "data.name": "spiral",
        "data.noise": 25.0,
        "data.features": ("x1", "x2", "sin_x1"),
        "model.hidden": (8, 8, 4),
        "model.activation": ("relu", "tanh", "gelu"),
        "model.init": "he",
        "train.optimizer": "adamw",
        "train.lr": 0.003,
        "train.schedule": "warmup_cosine",
        "seed": 42,
    }
)


@pytest.mark.parametrize("spec", [Spec(), RICH, *[p.spec for p in list_presets()]], ids=lambda s: "spec")
def test_json_round_trip(spec):
    assert from_json(to_json(spec)) == spec
    assert from_dict(json.loads(json.dumps(to_dict(spec)))) == spec


@pytest.mark.parametrize("spec", [Spec(), RICH, *[p.spec for p in list_presets()]], ids=lambda s: "spec")
def test_url_round_trip(spec):
    query = to_query(spec)
    assert all(isinstance(v, str) for v in query.values())
    back, problems = from_query(query)
    assert problems == [] and back == spec


def test_cnn_layers_round_trip():
    spec = Spec().with_(
        **{
            "data.name": "digits",
            "model.family": "cnn",
            "model.layers": (LayerSpec("conv", 4, 3, 1, 1), LayerSpec("pool", kernel=2, name="max")),
        }
    )
    assert from_json(to_json(spec)) == spec
    assert from_query(to_query(spec))[0] == spec


def test_strict_json_rejects_unknown_keys():
    d = to_dict(Spec())
    d["train"]["lrate"] = 0.1
    with pytest.raises(SpecError) as e:
        from_dict(d)
    assert "train.lrate" in str(e.value)


def test_lenient_query_skips_and_reports_bad_keys():
    spec, problems = from_query({"train.lr": "0.1", "train.bogus": "1", "model.hidden": "a,b"})
    assert spec.train.lr == 0.1
    assert len(problems) == 2 and any("train.bogus" in p for p in problems)
    assert spec.model.hidden == Spec().model.hidden


@pytest.mark.parametrize(
    "key,value,field",
    [
        ("train.lr", -1.0, "train.lr"),
        ("data.noise", 80.0, "data.noise"),
        ("model.activation", ("swish",), "model.activation"),
        ("train.optimizer", "lbfgs", "train.optimizer"),
        ("model.hidden", (4,) * (MAX_HIDDEN_LAYERS + 1), "model.hidden"),
        ("data.batch_size", 0, "data.batch_size"),
        ("data.train_frac", 0.95, "data.train_frac"),
    ],
)
def test_validate_names_the_field(key, value, field):
    with pytest.raises(SpecError) as e:
        validate(apply_overrides(Spec(), {key: value}))
    assert e.value.field.startswith(field)
    assert e.value.allowed and str(e.value).startswith(e.value.field)


def test_parameter_cap_is_enforced():
    with pytest.raises(SpecError) as e:
        validate(Spec().with_(**{"model.hidden": (256,) * 40}))
    assert "param" in str(e.value).lower()


def test_overrides_reach_every_section():
    spec = apply_overrides(Spec(), {"data.noise": "10", "model.batchnorm": "true", "gan.d_steps": 3, "seed": "7"})
    assert (spec.data.noise, spec.model.batchnorm, spec.gan.d_steps, spec.seed) == (10.0, True, 3, 7)
    with pytest.raises(SpecError):
        apply_overrides(Spec(), {"model.nonsense": 1})


def _table_keys():
    keys = ["seed"]
    for section, cls in SECTIONS.items():
        keys += [f"{section}.{f.name}" for f in fields(cls) if f.name != "layers"]
    return keys + [f"model.layers.{f.name}" for f in fields(LayerSpec)]


def test_limits_table_covers_every_field():
    missing = [k for k in _table_keys() if k not in LIMITS and k not in CHOICES]
    assert missing == []
    for key in LENGTHS:
        assert str({f.name: f.type for f in fields(SECTIONS[key.split(".")[0]])}[key.split(".")[1]]).startswith("tuple")


@pytest.mark.parametrize("key", [k for k in LIMITS if not k.startswith("model.layers.")])
def test_validate_reads_the_limits_table(key):
    """The table's ends are accepted and a value past either end is refused, naming the field."""
    lim = LIMITS[key]
    tuple_field = key in LENGTHS
    base = Spec().with_(**{"data.name": "digits"}) if key == "data.n" else Spec()  # 2-D sets need 10 points
    for ok in (lim.lo, lim.hi):
        validate_field(apply_overrides(base, {key: (ok,) if tuple_field else ok}), key)
    for bad in (lim.lo - lim.step, lim.hi + lim.step):
        with pytest.raises(SpecError) as e:
            validate_field(apply_overrides(base, {key: (bad,) if tuple_field else bad}), key)
        assert e.value.field.startswith(key)


@pytest.mark.parametrize("key", list(LENGTHS))
def test_validate_reads_the_lengths_table(key):
    lim = LENGTHS[key]
    element = LIMITS[key].lo if key in LIMITS else next(iter(CHOICES.get(key, {"conv": 0})))
    if key == "model.layers":
        element = LayerSpec("dropout")
    too_long = (element,) * (lim.hi + 1)
    with pytest.raises(SpecError) as e:
        validate_field(apply_overrides(Spec(), {key: too_long}), key)
    assert e.value.field == key and str(lim.hi) in e.value.allowed


def test_choices_fields_refuse_unknown_names():
    for key in CHOICES:
        if key.startswith("model.layers.") or CHOICES[key] is BOOL:
            continue
        value = ("nonsense",) if key in LENGTHS else "nonsense"
        with pytest.raises(SpecError) as e:
            validate_field(apply_overrides(Spec(), {key: value}), key)
        assert e.value.field.startswith(key)
