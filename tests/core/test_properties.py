"""Property tests: any spec JSON, --set string or URL query is accepted or refused with a SpecError, never another
exception; an accepted spec is within the server's budgets and survives both codecs unchanged."""

import json
import math
from collections.abc import Callable
from dataclasses import fields

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core import budget
from core.spec import (
    CHOICES,
    LENGTHS,
    LIMITS,
    PATTERNS,
    SECTIONS,
    LayerSpec,
    Spec,
    SpecError,
    apply_overrides,
    from_dict,
    from_query,
    output_size,
    parse_overrides,
    to_dict,
    to_query,
    validate,
)

CASES = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.just(10**5000),
    st.floats(),  # NaN and infinities included
    st.text(max_size=12),
    st.lists(st.integers(-3, 300), max_size=4),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.recursive(st.integers(), lambda inner: st.lists(inner, max_size=2), max_leaves=30),
)


def scalar(key: str, t: str, clean: bool = False):
    """Values in the field's range or choices (mostly), plus the edges just outside unless clean."""
    if t == "bool":
        return st.booleans()
    if key in CHOICES:
        return st.sampled_from(list(CHOICES[key]))
    if key in PATTERNS:
        good = st.from_regex(PATTERNS[key].regex, fullmatch=True)
        return good if clean else st.one_of(good, good, st.text(max_size=20))
    lim = LIMITS[key]
    if t == "int":
        inside = st.integers(int(lim.lo), int(min(lim.hi, max(lim.lo, 1) * 4 + 64)))
        if clean:
            return inside
        return st.one_of(inside, inside, inside, st.sampled_from([lim.lo - 1, lim.hi, lim.hi + 1]))
    inside = st.floats(lim.lo, lim.hi)
    if clean:
        return inside
    return st.one_of(inside, inside, inside, st.sampled_from([lim.lo, lim.hi, lim.hi * 1.5 + 1, -1.0]))


LAYER_VALUES = {
    "size": st.integers(1, 48),
    "kernel": st.integers(1, 7),
    "stride": st.integers(1, 3),
    "padding": st.integers(0, 3),
    "name": st.sampled_from(list(CHOICES["model.layers.name"])),
    "p": st.floats(0, 0.9),
}
LAYER = st.fixed_dictionaries({"type": st.sampled_from(list(CHOICES["model.layers.type"]))}, optional=LAYER_VALUES)


def value(key: str, t: str, clean: bool = False):
    """A JSON value for one field: a plausible one, or (unless clean) an edge or junk."""
    if t == "tuple[LayerSpec, ...]":
        good = st.lists(LAYER, max_size=8)
    elif t.startswith("tuple["):
        inner = t[6:-6]
        hi = min(LENGTHS[key].hi, 6) if key in LENGTHS else 6
        good = st.lists(scalar(key, inner, clean), max_size=hi)
    else:
        good = scalar(key, t, clean)
    return good if clean else st.one_of(good, good, good, good, good, JUNK)


FIELDS = {f"{s}.{f.name}": str(f.type) for s, cls in SECTIONS.items() for f in fields(cls)} | {"seed": "int"}
KEYS = st.sampled_from(sorted(FIELDS))
DATA_NAMES = st.sampled_from(list(CHOICES["data.name"]))


@st.composite
def spec_dicts(draw):
    """A spec JSON object: some fields of some sections, now and then an unknown key or a junk section."""
    d, clean = {}, draw(st.booleans())  # clean: every value in range (most such specs are accepted)
    for key in draw(st.lists(KEYS, max_size=6, unique=True)):
        section, _, name = key.partition(".")
        v = draw(value(key, FIELDS[key], clean))
        if key == "seed":
            d["seed"] = v
        else:
            d.setdefault(section, {})[name] = v
    d.setdefault("data", {})["name"] = draw(DATA_NAMES)  # every dataset, not only the default
    if not clean and draw(st.integers(0, 20)) == 0:
        d[draw(st.text(max_size=6))] = draw(JUNK)
    if not clean and draw(st.integers(0, 20)) == 0:
        d[draw(st.sampled_from(sorted(SECTIONS)))] = draw(JUNK)
    return d


def as_text(v) -> str:
    """How a person would type a value in --set or a URL."""
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return json.dumps(v)
    if isinstance(v, list):
        return ",".join(str(x) for x in v)
    if isinstance(v, float) and math.isfinite(v):
        return repr(v)
    try:
        return str(v)
    except ValueError:  # a 5,000-digit number
        return "9" * 5000


@st.composite
def text_pairs(draw):
    clean = draw(st.booleans())
    keys = draw(st.lists(KEYS if clean else st.one_of(KEYS, KEYS, KEYS, st.text(max_size=10)), max_size=6, unique=True))
    pairs = [(k, as_text(draw(value(k, FIELDS[k], clean)) if k in FIELDS else draw(JUNK))) for k in keys]
    pairs.append(("data.name", draw(DATA_NAMES)))
    return [(k, draw(st.text(max_size=8)) if not clean and draw(st.integers(0, 10)) == 0 else v) for k, v in pairs]


def assert_within_budgets(spec: Spec) -> None:
    c, cap = budget.costs(spec, output_size(spec)), budget.budgets()
    assert c.params <= cap.params and c.train_bytes <= cap.memory_mb * budget.MB
    assert c.step_flops <= cap.step_gflop * budget.GFLOP and c.eval_flops <= cap.eval_gflop * budget.GFLOP


def accepted(spec: Spec) -> None:
    """What holds for every accepted spec: budgets, and both codecs give it back unchanged."""
    assert_within_budgets(spec)
    assert from_dict(json.loads(json.dumps(to_dict(spec)))) == spec
    assert from_query(to_query(spec)) == (spec, [])


def accepted_or_refused_clearly(read: Callable[[], Spec]) -> None:
    """`read()` gives a spec that passes `accepted`, or raises a SpecError that names the field and what is allowed."""
    try:
        spec = read()
    except SpecError as e:
        assert e.field and e.allowed and len(str(e)) < 1000
        event("refused")
        return
    event("accepted")
    accepted(spec)


@CASES
@given(spec_dicts())
def test_any_spec_json_is_accepted_or_refused_clearly(d):
    try:
        text = json.dumps(d)
    except ValueError:  # a 5,000-digit number cannot even be written as JSON text here
        text = None
    accepted_or_refused_clearly(lambda: validate(from_dict(json.loads(text) if text else d)))


@CASES
@given(text_pairs())
def test_any_set_strings_are_accepted_or_refused_clearly(pairs):
    items = [f"{k}={v}" for k, v in pairs]
    accepted_or_refused_clearly(lambda: validate(apply_overrides(Spec(), parse_overrides(items))))


@CASES
@given(text_pairs())
def test_any_url_query_restores_exactly_or_says_what_it_changed(pairs):
    query = dict(pairs)
    spec, problems = from_query(query)  # lenient: never raises
    event("restored every value" if not problems else "reported a problem")
    assert validate(spec) == spec
    assert_within_budgets(spec)
    for key, v in query.items():
        if key not in FIELDS:
            continue
        kept = any(key in p for p in problems)
        restored = (
            not kept
            and apply_overrides(Spec(), {key: v})
            and _get(apply_overrides(Spec(), {key: v}), key) == _get(spec, key)
        )
        assert kept or restored, (key, v, problems)


def _get(spec: Spec, key: str):
    if key == "seed":
        return spec.seed
    section, _, name = key.partition(".")
    return getattr(getattr(spec, section), name)


def test_layer_values_cover_every_layer_field():
    assert set(LAYER_VALUES) | {"type"} == {f.name for f in fields(LayerSpec)}
