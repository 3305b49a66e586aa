"""The Playground's look inside the network: the diagram, a neuron shown large, weight edits and the
learning-rate finder. Everything reads the Job's snapshot; edits go through `job.act`, the finder through
`job.begin` (it runs in the job's thread while the page stays live)."""

from __future__ import annotations

import threading
from collections import OrderedDict

import streamlit as st

from core.charts.network import network_figure
from core.charts.plane import decision_figure
from core.charts.training import lr_find_figure
from core.spec import LIMITS
from ui.controls import FLOAT_FORMAT
from ui.plotly_live import live_chart

OUTPUT = "output (decision surface)"
# The last diagrams drawn, by (view, selection): a view is a new object whenever the job recomputes it, and a page
# rerun for any other control (a class clicks a lot) drew the same diagram again, a fifth of the Playground's run.
_DIAGRAMS: OrderedDict = OrderedDict()
_DIAGRAMS_LOCK = threading.Lock()
DIAGRAMS_KEPT = 64


def neuron_names(view: dict) -> list[str]:
    """The choices of the "Show large" box: the output first, then every hidden neuron."""
    return [OUTPUT] + [f"layer {li + 1}, neuron {j + 1}" for li, h in enumerate(view["hidden"]) for j in range(len(h))]


def _selected(view: dict, choice: str) -> tuple[int, int] | None:
    """(diagram column, neuron) of a hidden neuron choice; None for the output."""
    if choice == OUTPUT or choice not in neuron_names(view):
        return None
    layer, neuron = (int(part.split()[-1]) for part in choice.split(","))
    return layer, neuron - 1


def plane_and_network_ui(page, run: dict, data, title: str, test) -> None:
    """The decision surface (or a chosen neuron's output over the plane) beside the network diagram."""
    view = run["views"]["network"]
    left, right = st.columns([1, 1.15])
    choice = left.selectbox("Show large", neuron_names(view), key=page.key("neuron"))
    discrete = left.toggle("Discretize output", key=page.key("discrete"), help="colour each point by its class only")
    picked = _selected(view, choice)
    train = (data.points_train, data.extra["labels_train"])
    if picked is None:
        grid, plane_title = run["views"]["grid"], title
    else:
        values = view["hidden"][picked[0] - 1][picked[1]]
        top = float(abs(values).max()) or 1.0
        grid = {"xs": view["xs"], "ys": view["xs"], "value": values, "range": (-top, top), "label": "neuron output"}
        plane_title = f"{choice}: its output over the plane"
    axes = tuple(data.extra.get("axes", ("x1", "x2")))  # a table's two columns name its plane
    figure = decision_figure(
        grid, train, test, data.task, data.n_classes, title=plane_title, discrete=discrete, axes=axes
    )
    live_chart(figure, key=f"{page.prefix}.chart.decision", where=left)
    live_chart(_diagram(view, picked), key=f"{page.prefix}.chart.network", where=right)
    zero, total = view["zero_weights"], sum(w.size for w in view["weights"])
    right.caption(
        f"Each square: a neuron's output at every point of the plane (orange negative, white 0, blue positive; "
        f"a layer's squares share one scale). Lines: weights, blue positive, orange negative, thicker = larger. "
        f"Weights near zero (|w| < {view['zero_tol']:g}, dotted): **{zero} of {total}**."
        + "".join(f" {note.capitalize()}." for note in view["notes"])
    )


def _diagram(view: dict, picked: tuple[int, int] | None):
    """`network_figure(view, selected=picked)`, drawn once per view object and selection (figures are never
    changed once made)."""
    key = (id(view), picked)
    with _DIAGRAMS_LOCK:
        hit = _DIAGRAMS.get(key)
        if hit is not None and hit[0] is view:
            _DIAGRAMS.move_to_end(key)
            return hit[1]
    figure = network_figure(view, selected=picked)
    with _DIAGRAMS_LOCK:
        _DIAGRAMS[key] = (view, figure)  # the view is held, so its id cannot be reused while it is here
        while len(_DIAGRAMS) > DIAGRAMS_KEPT:
            _DIAGRAMS.popitem(last=False)
    return figure


def weight_edit_ui(page, view: dict, running: bool) -> None:
    """Set one weight of the paused network by hand and watch the surface change."""
    with st.expander("Edit a weight", expanded=False):
        if running:
            st.caption("Pause training to edit a weight.")
            return
        widths = [w.shape for w in view["weights"]]
        names = [f"layer {i + 1}" for i in range(len(widths) - 1)] + ["output"]
        c = st.columns([2, 1, 1, 2, 1], vertical_alignment="bottom")
        if st.session_state.get(page.key("w_layer"), 0) not in range(len(widths)):  # the network lost layers
            st.session_state[page.key("w_layer")] = len(widths) - 1
        layer = c[0].selectbox("Into", range(len(widths)), format_func=lambda i: names[i], key=page.key("w_layer"))
        n_out, n_in = widths[layer]
        for key, top in ((page.key("w_in"), n_in), (page.key("w_out"), n_out)):  # another layer may be smaller
            st.session_state[key] = min(max(1, st.session_state.get(key, 1)), top)
        src = c[1].number_input("from neuron", 1, n_in, key=page.key("w_in"), help="of the layer before (or input)")
        dst = c[2].number_input("to neuron", 1, n_out, key=page.key("w_out"))
        current = float(view["weights"][layer][dst - 1, src - 1])
        # A diverging network's weight can lie outside what the box takes: the label names it, the box starts at the end.
        start = min(max(current, -100.0), 100.0)
        # The box is filled with the weight when a connection is picked, and follows the network while it holds what
        # it was filled with; a value typed in stays until Set, even if the page redraws a newer network meanwhile
        # (the label, and so an unkeyed box, changes with it: Set then applied the old weight, not the typed one).
        box, filled = page.key("w_value"), page.key("_w_filled")
        was = st.session_state.get(filled)  # (connection, the value the box was filled with)
        if was is None or was[0] != (layer, dst, src) or st.session_state.get(box) in (None, was[1]):
            if st.session_state.get(box) != start:  # (a value set through the state is sent to the browser again)
                st.session_state[box] = start
            st.session_state[filled] = ((layer, dst, src), start)
        value = c[3].number_input(f"weight (now {current:.4g})", -100.0, 100.0, step=0.1, format=FLOAT_FORMAT, key=box)
        if c[4].button("Set", key=page.key("w_set"), icon=":material/edit:"):
            msg = page.job.act("set_weight", layer, dst - 1, src - 1, value)
            if msg:
                st.error(msg)
            else:
                st.rerun()  # redraw the surface and the diagram with the new weight


def lr_finder_ui(page, snap: dict, running: bool, note: str = "") -> None:
    """The LR range test on a copy of the network, run in the job's thread with its progress shown, its curve, and
    one click to use its suggestion (`note`: what was measured of it on this page's task, where it falls short)."""
    action = (snap.get("actions") or {}).get("lr_find") or {}  # kept while other actions run (backprop)
    finding = running and "progress" in action
    with st.expander("Learning-rate finder", expanded=finding or bool(action)):
        st.caption(
            "Trains a copy of the network for 300 steps at each of 11 rates from 1e-4 to 10, and suggests the "
            "best one divided by √10 (a margin for a long run). Your network is not changed. " + note
        )
        if finding:
            share = action["progress"]
            st.progress(share, text=f"Training copies at 11 rates: {100 * share:.0f} % done. Pause stops the finder.")
            return
        if st.button("Run the LR finder", key=page.key("lr_find"), disabled=running, icon=":material/search:"):
            msg = page.job.begin("lr_find")
            if msg:
                st.info(msg)
            else:
                st.rerun()  # a full run: the page goes live (Pause instead of Play) and shows the progress
        if action.get("cancelled"):
            st.caption("The finder was stopped before it finished. Your network is as it was.")
        if action.get("error"):
            st.error(f"The LR finder stopped: {action['error']}. Your network is as it was.")
        if not action.get("results"):
            return
        results = action["results"]
        for i, result in enumerate(results):
            side = f", side {chr(ord('A') + i)}" if len(results) > 1 else ""  # each side's network has its own curve
            _lr_result_ui(page, result, i, side)


def _lr_result_ui(page, result: dict, i: int, side: str) -> None:
    """One network's finder curve, what its suggestion rests on, and the button that uses it."""
    live_chart(lr_find_figure(result, title=f"Learning-rate finder{side}"), key=f"{page.prefix}.chart.lr_find{i}")
    if result.get("plateau"):
        st.caption(
            "No short run got clearly below the baseline (a guess that ignores the input): on that plateau the "
            "losses cannot rank the rates, so the suggestion is the largest rate that stayed stable, one step "
            "below the first that diverged."
        )
    best = result.get("suggested_lr")
    limit = LIMITS["train.lr"]
    if best and limit.lo <= best <= limit.hi:
        use = st.button(
            f"Use learning rate {best:.3g}{side}",
            key=page.key(f"lr_use{i}" if i else "lr_use"),
            on_click=lambda: st.session_state.update({f"{page.prefix}.train.lr": float(f"{best:.3g}")}),
        )
        if use:
            st.rerun()  # a full run: the sidebar and the running network take the new rate
    else:
        st.caption(f"The loss never fell clearly{side}: no suggestion. Try more data per batch or another optimizer.")
