"""The Optimization page's three views: backpropagation by hand, the optimiser race, the loss landscape.

Backpropagation and the landscape read the Job (`job.act` while paused: the numbers come from the
running network, the landscape from a copy of it); the race is torch.optim on a 2-parameter tensor.
"""

from __future__ import annotations

import streamlit as st

from core.charts.optim import (
    backprop_figure,
    landscape_contour_figure,
    landscape_line_figure,
    landscape_surface_figure,
    race_figure,
    race_loss_figure,
)
from core.mlp import PLANE
from core.race import TOL, race
from core.registry import OPTIMIZERS
from core.surfaces import SURFACES, surface_grid
from ui.controls import FLOAT_FORMAT
from ui.live import SEND_WAIT_S, poll_interval
from ui.plotly_live import live_chart
from ui.st_internals import wait_until_sent
from ui.state import manager, private

FRAMES = 30  # Run race grows the paths over this many redraws


@st.cache_data(max_entries=64)
def _race(surface: str, lrs: tuple, steps: int) -> dict:
    return race(surface, dict(lrs), steps)


@st.cache_data(max_entries=8)
def _grid(surface: str) -> dict:
    return surface_grid(surface) | {"f_min": SURFACES[surface].f_min}


def race_settings_ui(page) -> None:
    """Surface, step budget, and which optimisers race with which learning rate."""
    st.selectbox("Surface", list(SURFACES), format_func=lambda k: SURFACES[k].label, key=page.key("surface"))
    st.number_input("Steps", 10, 2000, step=10, key=page.key("steps"))
    for name, opt in OPTIMIZERS.items():
        c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
        c1.toggle(opt.label, key=page.key(f"on_{name}"))
        c2.number_input("LR", 1e-5, 10.0, format=FLOAT_FORMAT, key=page.key(f"lr_{name}"), label_visibility="collapsed")


def race_ui(page) -> None:
    """The contour plot with each path and the loss against step, drawn up to the chosen step."""
    surface, steps = st.session_state[page.key("surface")], int(st.session_state[page.key("steps")])
    lrs = tuple(
        (n, float(st.session_state[page.key(f"lr_{n}")])) for n in OPTIMIZERS if st.session_state[page.key(f"on_{n}")]
    )
    if not lrs:
        st.info("Switch on at least one optimizer in the sidebar (Race).")
        return
    results = _race(surface, lrs, steps)
    for i, (name, r) in enumerate(results.items()):
        r["label"] = f"{OPTIMIZERS[name].label} (lr {r['lr']:g})"
    at_key, play_key = page.key("race_at"), private(page.prefix, "race_play")
    st.session_state[at_key] = min(int(st.session_state.get(at_key, 0)), steps)
    if st.session_state.pop(private(page.prefix, "race_end"), False):
        st.session_state[at_key] = steps  # a run has just finished: the slider shows its end
    c = st.columns([1, 1, 1, 4], vertical_alignment="bottom")
    if c[0].button("Run race", icon=":material/play_arrow:", key=page.key("race_run")):
        st.session_state[play_key] = 0
    if c[1].button("Step", key=page.key("race_step"), help="ten more steps"):
        st.session_state[at_key] = min(st.session_state[at_key] + 10, steps)
        st.session_state.pop(play_key, None)
    if c[2].button("Reset", key=page.key("race_reset")):
        st.session_state[at_key] = 0
        st.session_state.pop(play_key, None)
    c[3].slider("Show step", 0, steps, key=at_key)
    _race_charts(page, surface, results, steps)
    rows = []
    for name, r in results.items():
        reached = r["steps_to_tol"]
        rows.append(
            {
                "optimizer": OPTIMIZERS[name].label,
                "lr": r["lr"],
                f"steps to f − f* ≤ {TOL:g}": str(reached) if reached is not None else f"not within {steps}",
                "final loss": r["final_loss"],
                "final point": "diverged" if r["diverged"] else f"({r['final'][0]:.4g}, {r['final'][1]:.4g})",
            }
        )
    st.dataframe(rows, hide_index=True)
    s = SURFACES[surface]
    st.caption(f"{s.help}. Start {s.start}; every optimizer is torch.optim on one 2-parameter tensor.")


def _race_charts(page, surface: str, results: dict, steps: int) -> None:
    """The contour and the loss chart, updated in place: after Run race, the paths grow over FRAMES redraws."""
    play_key, s = private(page.prefix, "race_play"), SURFACES[surface]
    playing = st.session_state.get(play_key) is not None

    @st.fragment(run_every=poll_interval(manager().running_count()) if playing else None)
    def charts() -> None:
        shown = st.session_state.get(play_key)
        if shown is None:
            shown = st.session_state[page.key("race_at")]
        with st.container(key=f"{page.prefix}-race-live"):  # "-live": no stale fade between frames (ui/live.py)
            left, right = st.columns([3, 2])
            live_chart(
                race_figure(_grid(surface), results, shown, s.minima, s.start, s.label), page.key("race_c"), left
            )
            live_chart(race_loss_figure(results, shown, s.f_min, TOL), page.key("race_l"), right)
        if play_key not in st.session_state:
            return
        wait_until_sent(SEND_WAIT_S)  # each frame reaches the browser before the next replaces it
        if shown >= steps:
            del st.session_state[play_key]
            st.session_state[private(page.prefix, "race_end")] = True
            st.rerun()  # stop the timer; the slider moves to the end
        st.session_state[play_key] = min(shown + max(1, steps // FRAMES), steps)

    charts()


def backprop_ui(page, snap: dict) -> None:
    """One training example through the running network: forward, then one layer back per Next, then the step."""
    if snap["running"]:
        st.caption("Pause training to follow one example through backpropagation.")
        return
    example = example_ui(page)
    if example is None:
        return
    stage_key = page.key("stage")
    st.session_state.setdefault(stage_key, 0)
    c = st.columns([1, 1, 2, 2], vertical_alignment="bottom")
    action = snap.get("action") or {}
    result = (action.get("results") or [None])[0] if action.get("name") == "backprop" else None
    if result is None or result.get("example") != example:
        msg = page.job.act("backprop", example)
        if msg:
            st.error(msg.replace("backprop failed: ", "Your example: ") + ".")
            return
        result = page.job.snapshot()["action"]["results"][0]
    n_layers = len(result["layers"])

    def move(by: int) -> None:
        st.session_state[stage_key] = min(max(st.session_state[stage_key] + by, 0), n_layers)

    at = st.session_state[stage_key]
    c[0].button("Back", key=page.key("bp_back"), disabled=at == 0, on_click=move, args=(-1,))
    c[1].button("Next", key=page.key("bp_next"), disabled=at >= n_layers, on_click=move, args=(1,))
    stage = min(st.session_state[stage_key], n_layers)
    lr = c[2].number_input("Step's learning rate η", 1e-4, 10.0, format=FLOAT_FORMAT, key=page.key("bp_lr"))
    if c[3].button("Apply w − η·∂L/∂w", key=page.key("bp_apply"), disabled=stage < n_layers):
        msg = page.job.act("backprop_step", example, lr)
        if msg:
            st.error(msg)
        else:
            done = page.job.snapshot()["action"]["results"][0]
            st.session_state[stage_key] = 0
            st.success(f"One SGD step on this example: its loss {done['loss_before']:.5g} → {done['loss_after']:.5g}.")
            page.job.act("backprop", example)
            result = page.job.snapshot()["action"]["results"][0]
            stage = 0
    st.plotly_chart(backprop_figure(result, stage))
    if stage == 0:
        st.caption(f"Forward: z = W·a + b, then a = φ(z). Target {result['target']}, loss {result['loss']:.5g}.")
        return
    layer = result["layers"][n_layers - stage]
    st.markdown(
        f"**{layer['name']}**: δ = ∂L/∂z = "
        + (
            f"{result['output_formula']} (the loss's derivative)"
            if stage == 1
            else f"(Wᵀδ from above) × φ'(z), φ' = {layer['formula']}"
        )
        + ". ∂L/∂w = δ × (the input of the weight); small φ' shrinks every δ below it: vanishing gradients."
    )
    st.dataframe({f"from {i + 1}": col for i, col in enumerate(zip(*layer["grad_w"]))}, hide_index=False)
    _finite_difference_ui(page, result, example)


def example_ui(page) -> int | dict | None:
    """The example to follow: a training example by number, or the student's own point and target (None, with a
    message saying what is wrong, when what they typed is not one)."""
    data = page.job.data(0)
    c = st.columns([2, 2, 1], vertical_alignment="bottom")
    st.session_state.setdefault(page.key("bp_own"), False)
    own = c[2].toggle("Type my own", key=page.key("bp_own"), help="your own point of the plane and its target")
    if not own:
        return c[0].number_input("Training example", 1, len(data.x_train), key=page.key("example")) - 1
    classes = data.task != "regression"
    st.session_state.setdefault(page.key("bp_point"), "1, -0.5")
    st.session_state.setdefault(page.key("bp_target"), "1" if classes else "0.5")
    point = c[0].text_input(
        "Point x1, x2", key=page.key("bp_point"), help=f"two numbers between -{PLANE:g} and {PLANE:g}"
    )
    which = f"the class: {', '.join(str(k) for k in range(data.n_classes))}" if classes else "a number"
    target = c[1].text_input("Target", key=page.key("bp_target"), help=which)
    parts = [p.strip() for p in point.replace(";", ",").split(",")]
    try:
        xy = [float(p) for p in parts]
        if len(xy) != 2:
            raise ValueError
    except ValueError:
        st.error(f"Point: {point!r} is not two numbers like 1, -0.5 (x1, then x2).")
        return None
    try:
        label = float(target)
    except ValueError:
        st.error(f"Target: {target!r} is not a number; type {which}.")
        return None
    return {"point": xy, "label": label}  # its range and class are checked where the network is (`job.act`)


def _finite_difference_ui(page, result: dict, example: int | dict) -> None:
    with st.expander("Check one weight by finite differences"):
        layers = result["layers"]
        c = st.columns(4, vertical_alignment="bottom")
        li = c[0].selectbox(
            "Layer", range(len(layers)), format_func=lambda i: layers[i]["name"], key=page.key("fd_layer")
        )
        out = c[1].number_input("to neuron", 1, len(layers[li]["z"]), key=page.key("fd_out")) - 1
        inp = c[2].number_input("from neuron", 1, len(layers[li]["grad_w"][0]), key=page.key("fd_in")) - 1
        if c[3].button("Check", key=page.key("fd_go")):
            msg = page.job.act("backprop", example, (li, out, inp))
            if msg:
                st.error(msg)
                return
            fd = page.job.snapshot()["action"]["results"][0]["finite_difference"]["value"]
            st.write(
                f"(L(w + ε) − L(w − ε)) / 2ε = **{fd:.8g}**; backpropagation: **{layers[li]['grad_w'][out][inp]:.8g}** "
                f"(ε = 1e-4, float64)."
            )


def landscape_ui(page, snap: dict) -> None:
    """The 1-D line from the initial weights and the 2-D slice around the trained ones (computed on a copy)."""
    if snap["running"]:
        st.caption("Pause training to map the loss landscape around the current weights.")
        return
    c = st.columns([2, 1, 1, 2], vertical_alignment="bottom")
    kind = c[0].selectbox(
        "Directions",
        ["random", "pca"],
        format_func={"random": "random, filter-normalised (Li et al.)", "pca": "PCA of the training path"}.get,
        key=page.key("directions"),
    )
    grid = c[1].number_input("Grid", 5, 41, step=2, key=page.key("grid"))
    span = c[2].number_input("Span", 0.1, 5.0, step=0.1, key=page.key("span"), disabled=kind == "pca")
    if c[3].button("Map the landscape", icon=":material/landscape:", key=page.key("map")):
        msg = page.job.act("landscape", grid, span, kind)
        if msg:
            st.error(msg)
            return
        snap = page.job.snapshot()
    action = snap.get("action") or {}
    if action.get("name") != "landscape" or not action.get("results"):
        st.caption("Train the network (Play or Step), pause, then map the landscape around its weights.")
        return
    for side, r in zip("AB" if len(action["results"]) > 1 else " ", action["results"]):
        who = f"{side}: " if side.strip() else ""
        st.markdown(
            f"{who}centre loss **{r['centre_loss']:.4g}** (the trained network's); the loss stays below twice it up "
            f"to **{r['basin_radius']:.3g}** from the centre, on **{100 * r['below_share']:.0f} %** of the slice; "
            f"**{r['local_minima']}** local minima along the two axes through the centre (1 on a smooth bowl)."
        )
        left, right = st.columns(2)
        left.plotly_chart(landscape_line_figure(r["line"]))
        path = r["path"]
        share = r.get("variance_share")
        title = f"{who}2-D slice" + (f" (PCA: {100 * sum(share):.0f} % of the path's variance)" if share else "")
        right.plotly_chart(landscape_contour_figure(r["plane"], path, title))
        st.plotly_chart(landscape_surface_figure(r["plane"], f"{who}the slice as a surface"))
