"""The Spec: validation names the field; JSON and URL codecs round-trip."""

import json
import threading
from dataclasses import fields

import pytest
import torch

from core.engine import Trainer
from core.presets import list_presets
from core.spec import (
    BOOL,
    CHOICES,
    LENGTHS,
    LIMITS,
    MAX_HIDDEN_LAYERS,
    PATTERNS,
    SECTIONS,
    LayerSpec,
    Spec,
    SpecError,
    apply_overrides,
    from_dict,
    from_json,
    from_query,
    parse_overrides,
    to_dict,
    to_json,
    to_query,
    validate,
    validate_field,
)
from core.spec_doc import DOC, documented, expected

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
    missing = [k for k in _table_keys() if k not in LIMITS and k not in CHOICES and k not in PATTERNS]
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


BAD_VALUES = [
    ("model.hidden", [1e400], "model.hidden"),
    ("model.hidden", [4.7], "model.hidden"),
    ("seed", 10**5000 - 1, "seed"),  # 5,000 digits
    ("train.lr", float("nan"), "train.lr"),
    ("train.lr", float("inf"), "train.lr"),
    ("train.lr", "fast", "train.lr"),
    ("data.n", "many", "data.n"),
    ("data.n", 4.7, "data.n"),
    ("data.n", True, "data.n"),
    ("model.batchnorm", 5, "model.batchnorm"),
    ("model.batchnorm", [0], "model.batchnorm"),
    ("model.batchnorm", None, "model.batchnorm"),
    ("model.activation", [1, 2], "model.activation"),
    ("model.layers", "[" * 5000, "model.layers"),
    ("model.layers", [[[[[]]]]], "model.layers"),
    ("data.features", {"x1": 1}, "data.features"),
]


@pytest.mark.parametrize("key,value,field", BAD_VALUES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(BAD_VALUES)])
def test_bad_values_are_one_clear_spec_error(key, value, field):
    """Every bad value is refused by the JSON reader and the --set path with a SpecError naming the field."""
    with pytest.raises(SpecError) as e:
        validate(apply_overrides(Spec(), {key: value}))
    assert e.value.field.startswith(field) and len(str(e.value)) < 400
    section, _, name = key.partition(".")
    d = {"seed": value} if key == "seed" else {section: {name: value}}
    with pytest.raises(SpecError):
        validate(from_dict(d))


@pytest.mark.parametrize(
    "text",
    [
        '{"seed": ' + "7" * 5000 + "}",
        '{"model": {"hidden": [1e400]}}',
        '{"train": {"lr": NaN}}',
        '{"train": {"lr": -Infinity}}',
        '{"model": {"layers": ' + "[" * 100_000 + "]" * 100_000 + "}}",
        '{"data": ' * 3000 + "1" + "}" * 3000,
        "not json",
        "[1, 2]",
    ],
)
def test_hostile_json_text_is_a_spec_error(text):
    with pytest.raises(SpecError) as e:
        validate(from_json(text))
    assert len(str(e.value)) < 400


def test_set_strings_parse_like_the_runner():
    values = parse_overrides(["train.lr=0.1", "model.hidden=[8,4]", "data.name=spiral", "seed=" + "1" * 5000])
    assert values["train.lr"] == 0.1 and values["model.hidden"] == [8, 4] and values["data.name"] == "spiral"
    with pytest.raises(SpecError) as e:
        apply_overrides(Spec(), values)
    assert e.value.field == "seed" and "whole number" in str(e.value) and len(str(e.value)) < 200
    with pytest.raises(SpecError):
        parse_overrides(["train.lr"])


def test_query_restores_exactly_or_reports_what_it_changed():
    spec, problems = from_query({"model.hidden": "100", "data.batch_size": "100", "data.noise": "12.5"})
    assert (spec.model.hidden, spec.data.batch_size, spec.data.noise) == ((100,), 100, 12.5) and problems == []
    spec, problems = from_query({"data.batch_size": "1000", "train.lr": "0.3"})
    assert spec.data.batch_size == Spec().data.batch_size and spec.train.lr == 0.3
    assert len(problems) == 1 and "data.batch_size" in problems[0] and "kept the default" in problems[0]
    # A rule across fields: three activation names for the default two hidden layers.
    spec, problems = from_query({"model.activation": "relu,tanh,gelu"})
    assert spec == Spec() and "model.activation" in problems[0]
    # Over a budget: the value is dropped and the message says which budget.
    spec, problems = from_query({"model.hidden": "256," * 63 + "256"})
    assert spec == Spec() and "parameters" in problems[0]
    spec, problems = from_query({"seed": "9" * 5000, "model.layers": "[" * 10_000})
    assert spec == Spec() and len(problems) == 2


def test_validation_draws_no_random_numbers():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    for p in list_presets():
        validate(p.spec)
    assert torch.equal(before, torch.get_rng_state())


def test_same_spec_same_weights_while_other_threads_build_and_validate():
    """Twenty builds of one spec give identical initial weights while four threads validate and build others."""
    spec = Spec().with_(**{"model.hidden": (16, 16), "seed": 5})
    others = [Spec().with_(**{"model.hidden": (8,) * (i + 1), "seed": i, "model.dropout": 0.2}) for i in range(4)]
    stop = threading.Event()

    def churn(other):
        while not stop.is_set():
            validate(other)
            Trainer(other)

    threads = [threading.Thread(target=churn, args=(o,)) for o in others]
    for t in threads:
        t.start()
    try:
        weights = [torch.cat([p.flatten() for p in Trainer(spec).model.parameters()]) for _ in range(20)]
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert all(torch.equal(weights[0], w) for w in weights[1:])


def test_docs_state_every_fields_default_and_limits_as_the_table_does():
    """docs/spec.md's default and allowed columns equal the table (`python -m core.spec_doc` rewrites them)."""
    assert documented(DOC.read_text()) == expected()
    assert "1 .. 512" in expected()["data.batch_size"][1]  # the table itself, spelled out
