"""What a user can do to any page through AppTest, chosen at random from what the page offers.

Every value set is one the widget itself offers (a number on its step grid within its range, one of a box's
options), so a failure is the app's, not the test's. String-valued widgets (multiselect, pills, segmented
control, select slider, radio, select box) are sent as the browser sends them: the option texts the widget shows.
"""

from __future__ import annotations

import random

from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from streamlit.testing.v1.element_tree import (
    Button,
    ButtonGroup,
    Checkbox,
    Multiselect,
    NumberInput,
    Radio,
    Selectbox,
    SelectSlider,
    Slider,
    TextInput,
    Toggle,
    Widget,
)

from ui.pages import PAGES

PATHS = [p.path for p in PAGES]
TRIGGERS = ("trigger_value", "json_trigger_value", "string_trigger_value", "chat_input_value")  # sent once, never late
SETTABLE = (NumberInput, Slider, SelectSlider, Selectbox, Multiselect, ButtonGroup, Toggle, Checkbox, Radio, TextInput)


def widgets(at) -> list[Widget]:
    """Every keyed widget on the page (main area and sidebar), in page order."""
    return [n for n in at._tree if isinstance(n, Widget) and n.key]


def unkeyed(at) -> list[str]:
    """The labels of setting widgets drawn without a key. Streamlit identifies such a widget by its label and
    arguments: one whose label shows a live value is a new widget, at its default, after a redraw that changes it,
    and what a student typed there is lost (the Playground's weight box did that to a weight typed before Set)."""
    return [n.label for n in at._tree if isinstance(n, SETTABLE) and not n.key]


def drawn_at_another_value(at) -> dict[str, tuple]:
    """Setting widgets whose default is not their value, as {key: (value, default)}. The browser shows a widget's
    default when it draws the widget afresh holding no value for it (after a page change, say): such a box showed
    its minimum for a moment, and a Play pressed then would have sent it (see draw_widgets_at_their_values)."""
    out = {}
    for w in widgets(at):
        p = w.proto
        if not isinstance(w, SETTABLE) or p.set_value or w.value is None:
            continue  # the browser is sent the value itself; an empty box shows no default
        if isinstance(w, (NumberInput, Slider)) and not isinstance(w, SelectSlider):
            held = [float(v) for v in (w.value if isinstance(w.value, (list, tuple)) else [w.value])]
            default = [p.default] if isinstance(w, NumberInput) else list(p.default)
        elif isinstance(w, (Toggle, Checkbox, TextInput)):
            held, default = w.value, p.default
        else:  # options: the texts the browser shows for the value and for the default's indices
            state = w._widget_state
            held = list(state.string_array_value.data) if state.HasField("string_array_value") else [state.string_value]
            default = [w.options[int(i)] for i in ([p.default] if isinstance(w, (Selectbox, Radio)) else p.default)]
            default = [getattr(o, "content", o) for o in default]
        if held != default:
            out[w.key] = (held, default)
    return out


def settings(at) -> dict[str, object]:
    """The value of every keyed setting widget on the page (what a tour must find again)."""
    out = {}
    for w in widgets(at):
        if isinstance(w, SETTABLE):
            value = w.value
            out[w.key] = list(value) if isinstance(value, tuple) else value
    return out


def _raw(widget: Widget, state: WidgetState) -> None:
    """Make `widget` send `state` on the next run (the option texts a browser sends)."""
    widget.__class__ = type(
        f"Raw{type(widget).__name__}", (type(widget),), {"_widget_state": property(lambda s: state)}
    )


def _strings(widget: Widget, texts: list[str], single: bool = False) -> None:
    ws = WidgetState(id=widget.id)
    if single:
        ws.string_value = texts[0]
    else:
        ws.string_array_value.data[:] = texts
    _raw(widget, ws)


def _number(rng: random.Random, lo, hi, step, is_int: bool):
    if rng.random() < 0.3:  # the ends of a range find most bugs
        value = rng.choice((lo, hi))
    else:
        steps = int(min((hi - lo) / step, 10_000))
        value = lo + step * rng.randint(0, steps)
    return int(round(value)) if is_int else round(float(value), 10)


def set_random(widget: Widget, rng: random.Random) -> str:
    """Give a setting widget a random value it offers; returns what was done (for the failure log)."""
    if isinstance(widget, (Toggle, Checkbox)):
        widget.set_value(not widget.value)
        return f"{widget.key} = {not widget.value}"
    if isinstance(widget, NumberInput):
        p = widget.proto
        lo = p.min if p.has_min else -1000
        hi = p.max if p.has_max else 1000
        is_int = p.data_type == p.INT
        value = _number(rng, lo, hi, p.step or (1 if is_int else 0.1), is_int)
        widget.set_value(value)
        return f"{widget.key} = {value}"
    if isinstance(widget, Slider):
        p = widget.proto
        is_int = p.data_type == p.INT
        values = [_number(rng, p.min, p.max, p.step, is_int) for _ in p.default]
        widget.set_value(values[0] if len(values) == 1 else sorted(values))
        return f"{widget.key} = {values}"
    if isinstance(widget, (Selectbox, Multiselect, ButtonGroup, SelectSlider, Radio)):
        options = list(widget.options)
        if not options:
            return f"{widget.key}: no options"
        one = isinstance(widget, (Radio, Selectbox))  # sent as one string
        single = one or (isinstance(widget, ButtonGroup) and widget._is_single_select)
        single = single or (isinstance(widget, SelectSlider) and len(widget.proto.default) == 1)
        if single:
            texts = [rng.choice(options)]
        else:
            most = getattr(widget, "max_selections", 0) or 4  # a browser cannot pick more than the widget allows
            texts = rng.sample(options, rng.randint(0, min(len(options), most)))
        _strings(widget, texts, single=one)
        return f"{widget.key} = {texts}"
    if isinstance(widget, TextInput):
        text = rng.choice(["", "x", "a tag", "é ☃", "0" * 40])
        widget.set_value(text)
        return f"{widget.key} = {text!r}"
    return f"{widget.key}: not set"


def change_settings(at, rng: random.Random, n: int = 3) -> list[str]:
    """Set `n` random setting widgets to random allowed values, one run each."""
    done = []
    for _ in range(n):
        choices = [w for w in widgets(at) if isinstance(w, SETTABLE) and not w.disabled and w.key != "_present"]
        if not choices:
            break
        done.append(set_random(rng.choice(choices), rng))
        at.run()
    return done


def visit(at, path: str) -> None:
    """Open `path` from the navigation, as a browser does: the address loses the last page's query."""
    at.query_params.clear()
    at._sent_before = {}  # the page's widgets are drawn afresh: nothing sent before can come late
    at.switch_page(path).run()


def send(at) -> None:
    """Run the page with the widgets' values as set, remembering what that request sent (see `late_request`)."""
    sent = {}
    for w in widgets(at):
        if isinstance(w, SETTABLE) and (state := w._widget_state) is not None:
            sent[w.id] = WidgetState()
            sent[w.id].CopyFrom(state)
    at._sent_before = sent
    at.run()


def late_request(at) -> str:
    """A request the browser sent before the last run reached it: every setting widget as the last request sent it,
    not as that run drew it (a value the run set from code, a new file's columns, a changed layer list), widgets
    the run no longer draws included. A student who clicks twice quickly on a loaded server sends one."""
    sent = getattr(at, "_sent_before", {})
    now = at._tree.get_widget_states()
    late = [w for w in now.widgets if w.id not in sent] + list(sent.values())
    replayed = sorted(k for w in widgets(at) if w.id in sent and w._widget_state != sent[w.id] and (k := w.key))
    gone = len(set(sent) - {w.id for w in now.widgets})
    at._tree.get_widget_states = lambda: WidgetStates(widgets=late)  # this run's only: the next run has a new tree
    at._sent_before = {w.id: w for w in late if w.WhichOneof("value") not in TRIGGERS}
    at.run()
    return f"a late request: {replayed}, {gone} widgets gone since"


def random_action(at, rng: random.Random, home: str) -> str:
    """One random thing a user does: a setting, a button, a request sent before the last run reached the browser,
    or a switch to another page and back to `home`."""
    roll = rng.random()
    if roll < 0.1:
        away = rng.choice([p for p in PATHS if p != home] + ["pages/home.py"])
        visit(at, away)
        visit(at, home)
        return f"switch to {away} and back"
    if roll < 0.17:
        return late_request(at)
    live = [w for w in widgets(at) if not w.disabled]
    buttons = [w for w in live if isinstance(w, Button)]
    setters = [w for w in live if isinstance(w, SETTABLE) and w.key != "_present"]
    if (roll < 0.4 and buttons) or not setters:
        if not buttons:
            send(at)
            return "rerun"
        button = rng.choice(buttons)
        button.click()
        send(at)
        return f"click {button.key}"
    what = set_random(rng.choice(setters), rng)
    send(at)
    return what
