"""The Spec: validation names the field; JSON and URL codecs round-trip."""

import json

import pytest

from core.presets import list_presets
from core.spec import (
    MAX_HIDDEN_LAYERS,
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
