"""Transfer learning: pretrain a CNN on one task, then reuse it on new classes with only a few labels."""

import streamlit as st

from core.charts.training import series
from core.charts.transfer import MODE_LABELS, architecture_figure, modes_accuracy_figure, sweep_figure
from core.data.transfer import TARGETS
from core.registry import TRANSFER_SOURCES
from core.transfer import MODES, load_pretrained, source_spec, with_mode
from core.views.transfer import transfer_views
from ui.controls import number_ui, select_ui, training_ui
from ui.live import live_view
from ui.plotly_live import live_chart
from ui.scaffold import Page, PageDef, lesson_note, sync_url
from ui.state import CURRENT_PAGE, JOB_PAGES, manager

P = "tl"
SWEEP_CHOICES = [1, 2, 3, 5, 10, 20, 50, 100, 0]
EXPLAIN = """
**The idea.** A network trained on one task has learned features (stroke edges, corners, loops) that other
tasks can use. Here a CNN first learns the **source task**; then its body (every layer but the output layer)
is reused for the **target task**, classes it has never seen, with a new output layer.

**Three ways to train the target task**, on exactly the same labelled images, batches and seed:
- **frozen body**: the pretrained layers stay as they are; only the new output layer learns (its parameters
  are the only ones the optimiser holds);
- **fine-tune**: start from the pretrained layers and train everything, the body optionally with a smaller LR;
- **from scratch**: the same network from random weights.

With few labels, the pretrained features are a head start that the random network has to earn from the few
examples it gets. With many labels the head start matters less: the sweep measures where.
"""


PAGE = PageDef(
    prefix=P,
    name="transfer",
    title="Transfer learning",
    caption="Pretrain a CNN on one task, then reuse what it learned on another task that has only a few labels.",
    default="transfer-glyphs",
    views=transfer_views,
)


def side_job(key: str, spec, title: str):
    """Start a one-run job (pretraining or a sweep) for this page and remember it under `key`."""
    jm = manager()
    jm.discard(st.session_state.get(key))
    job = jm.create([spec], views=transfer_views, title=title)
    st.session_state[key] = job.id
    st.session_state.setdefault(JOB_PAGES, {})[job.id] = st.session_state.get(CURRENT_PAGE)
    msg = job.play()
    if msg:
        st.info(msg)
    return job


def job_problem(snap: dict) -> None:
    """Say why a run stopped early (error or divergence)."""
    if snap["error"]:
        st.error(f"Training stopped with an error: {snap['error']}. The charts keep what was trained.")
    for mode, run in zip(MODES, snap["runs"]):
        if run["status"] == "diverged":
            st.error(f"{MODE_LABELS.get(mode, mode)}: training {run['message']}. Lower the learning rate, press Reset.")


def pretrain_ui(page: Page, spec) -> None:
    """Step 1 while no weights are stored for this network and source: the Pretrain button and its progress."""
    source = TRANSFER_SOURCES[spec.transfer.source].label

    def draw_pretrain(snap: dict) -> None:
        run, total = snap["runs"][0], spec.transfer.pretrain_epochs
        last = run["history"][-1] if run["history"] else {}
        acc = f", source test accuracy {100 * last['test_accuracy']:.1f} %" if "test_accuracy" in last else ""
        st.progress(
            min(1.0, run["epoch"] / total), text=f"Pretraining on {source}: epoch {run['epoch']} of {total}{acc}"
        )
        job_problem(snap)

    lesson_note(page)
    pre = manager().get(st.session_state.get(f"{P}.pre._job"))
    if pre is not None and pre.specs[0] != source_spec(spec):
        pre = None  # the settings changed: that pretraining is for another network
    st.subheader("Step 1: pretrain")
    st.write(
        f"No pretrained weights for this network and source task ({source}, {spec.transfer.pretrain_epochs} epochs, "
        f"seed {spec.seed}) are stored yet. Pretrain once; everyone on this server then starts from them."
    )
    busy = pre is not None and pre.running
    if st.button("Pretrain", icon=":material/model_training:", key=f"{P}.pretrain", type="primary", disabled=busy):
        pre = side_job(f"{P}.pre._job", source_spec(spec), f"pretrain {spec.transfer.source}")
    if pre is not None:
        live_view(f"{P}.pre", pre, draw_pretrain)


def settings(page: Page) -> list:
    with st.expander("What transfer learning is, and what the three curves compare", expanded=False):
        st.markdown(EXPLAIN)
    with page.section("tasks", "Tasks"):
        source = select_ui(P, "transfer.source", "Pretrain on (source task)")
        number_ui(P, "transfer.pretrain_epochs", "Pretraining epochs")
        st.caption(f"Target task: {TARGETS[source]}.")
        number_ui(P, "transfer.labels_per_class", "Labelled examples per class (0 = all)")
        number_ui(
            P, "transfer.body_lr_factor", "Fine-tune: body LR factor", slider=True,
            help="when fine-tuning, the pretrained layers learn at this share of the learning rate",
        )  # fmt: skip
        number_ui(P, "seed", "Seed", help="the same seed gives the same data and weights")
    with page.section("training", "Training (target task)"):
        training_ui(P, regularisation=False, weight_decay=True, clipping=False, early_stop=False, batch_size=True)
    with page.section("sweep", "Sweep", expanded=False):
        chosen = st.session_state.get(f"{P}.transfer.sweep", [])
        options = sorted(set(SWEEP_CHOICES) | set(chosen), key=lambda k: k or 10**6)  # a link may bring others
        st.multiselect(
            "Labels per class to try", options, key=f"{P}.transfer.sweep",
            format_func=lambda k: "all" if k == 0 else str(k),
        )  # fmt: skip
    spec = page.spec()
    stored = load_pretrained(spec)
    if stored is None:
        page.specs = [with_mode(spec, m) for m in MODES]
        sync_url(page, None)  # the address keeps these settings before there is a job to link
        pretrain_ui(page, spec)
        st.stop()
    meta = stored[1]
    st.caption(
        f"Pretrained on {TRANSFER_SOURCES[spec.transfer.source].label} for {meta.get('epochs', '?')} epochs: source "
        f"test accuracy {100 * float(meta.get('source_test_accuracy', 'nan')):.1f} % "
        f"(weights {meta.get('key', '')}.safetensors)."
    )
    return [with_mode(spec, m) for m in MODES]


def draw(snap: dict) -> None:
    runs = dict(zip(MODES, snap["runs"]))
    views = {m: r["views"] for m, r in runs.items()}
    m = st.columns(4)
    m[0].metric("Epoch", runs["scratch"]["epoch"], help=f"{views['scratch']['n_train']} labelled images")
    for col, mode in zip(m[1:], MODES):
        acc = views[mode]["test_accuracy"]
        col.metric(f"{MODE_LABELS[mode]}: test accuracy", "-" if acc != acc else f"{100 * acc:.1f} %")
    job_problem(snap)
    live_chart(
        modes_accuracy_figure({m: series(r["history"], "test_accuracy") for m, r in runs.items()}), key=f"{P}.chart.acc"
    )
    live_chart(architecture_figure({m: v["layers"] for m, v in views.items()}), key=f"{P}.chart.arch")
    st.caption(
        " · ".join(
            f"**{MODE_LABELS[m]}**: {v['optimised_params']:,} parameters in the optimiser, {v['frozen_params']:,} "
            f"frozen; the body has moved {100 * v['body_drift']:.1f} % (‖θ − θ₀‖ / ‖θ₀‖)"
            for m, v in views.items()
        )
    )


def draw_sweep(snap: dict) -> None:
    run = snap["runs"][0]
    n = run["views"].get("points", 0)
    if snap["running"]:
        st.progress(run["epoch"] / max(1, n), text=f"Sweep: {run['epoch']} of {n} label counts done")
    job_problem(snap)
    live_chart(sweep_figure([r for r in run["history"] if "per_class" in r]), key=f"{P}.chart.sweep")


page = Page(PAGE)
page.run(settings, draw)

st.subheader("Sweep: accuracy against labels per class")
st.caption(
    "Trains the three modes to the end for every number of labels chosen in the sidebar (same settings and seed) "
    "and plots their final test accuracy."
)
sweep = manager().get(st.session_state.get(f"{P}.sw._job"))
if st.button("Run sweep", icon=":material/query_stats:", key=f"{P}.run_sweep", disabled=bool(sweep and sweep.running)):
    page.job.pause()
    sweep = side_job(f"{P}.sw._job", with_mode(page.specs[0], "sweep"), "transfer sweep")
if sweep is not None:
    live_view(f"{P}.sw", sweep, draw_sweep)
