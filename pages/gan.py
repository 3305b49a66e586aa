"""GAN: a generator and a discriminator learning against each other, live (GAN Lab's lesson in PyTorch)."""

import streamlit as st

from core.charts.gan import coverage_figure, d_output_figure, gan_loss_figure, plane_figure, samples_figure
from core.presets import load_preset
from core.registry import ACTIVATIONS, DATASETS, GAN_LOSSES, NOISE_TYPES, OPTIMIZERS
from core.spec import MAX_EPOCHS, MAX_POINTS, MAX_UNITS
from core.views.gan import gan_views
from ui.controls import controls_ui, preset_select, select_ui, spec_from_widgets
from ui.frame import require_router
from ui.live import apply_action, attach_job, live_view, status_message
from ui.state import initial_spec, load_into_widgets, sync_url

require_router()

P = "gan"
TARGETS = {k: v for k, v in DATASETS.items() if v.kind in ("gan", "gan_image")}
ARCHS = {"mlp": "MLP (fully connected)", "dcgan": "DCGAN (convolutions)"}
NETS = {"gen": ("Generator (G)", "gen_hidden"), "disc": ("Discriminator (D)", "disc_hidden")}


def load(spec) -> None:
    """Put a spec into the widgets (layer count and width are widgets of their own)."""
    load_into_widgets(P, spec)
    for net, (_, field) in NETS.items():
        hidden = getattr(spec.gan, field)
        st.session_state[f"{P}.{net}_layers"] = len(hidden)
        st.session_state[f"{P}.{net}_units"] = hidden[0]


def on_preset() -> None:
    name = st.session_state[f"{P}._preset_choice"]
    if name:
        st.session_state[f"{P}._preset"] = name
        load(load_preset(name).spec)


def on_target() -> None:
    # The DCGAN architecture is for images only; 2-D targets go back to the MLP.
    if TARGETS[st.session_state[f"{P}.data.name"]].kind == "gan":
        st.session_state[f"{P}.gan.arch"] = "mlp"


def net_ui(net: str, dcgan: bool) -> None:
    """Layers, width, activation (and batch norm for G, dropout for D), optimiser and LR of one network."""
    k = f"{P}.gan.{net[0]}"
    c1, c2 = st.columns(2)
    if dcgan:
        c1.number_input("Channels", 8, MAX_UNITS, key=f"{P}.{net}_units", help="channels at the 4 × 4 stage")
    else:
        st.session_state.setdefault(f"{P}.{net}_layers", 2)  # forgotten while the DCGAN hid the widget
        c1.number_input("Layers", 1, 8, key=f"{P}.{net}_layers")
        c2.number_input("Units per layer", 1, MAX_UNITS, key=f"{P}.{net}_units")
    select_ui(P, f"gan.{net}_activation", "Activation", ACTIVATIONS)
    if net == "gen":
        st.toggle("Batch norm", key=f"{P}.gan.gen_batchnorm")
    else:
        st.slider("Dropout", 0.0, 0.9, step=0.05, key=f"{P}.gan.disc_dropout")
    select_ui(P, f"gan.{net[0]}_optimizer", "Optimizer", OPTIMIZERS)
    st.number_input("Learning rate", 1e-6, 1.0, step=0.0001, format="%g", key=f"{k}_lr")


st.title("GAN")
st.caption(
    "A generator G turns random noise into samples; a discriminator D learns to tell them from real ones; "
    "G learns from D's gradient to fool it. Both are trained live by PyTorch."
)
base = initial_spec(P, load_preset("gan-ring").spec)
if f"{P}.gen_layers" not in st.session_state:
    load(base)

with st.sidebar:
    preset_select(P, "gan", on_preset)
    with st.expander("Data and noise", expanded=True):
        select_ui(P, "data.name", "Target distribution", TARGETS, on_change=on_target)
        image = TARGETS[st.session_state[f"{P}.data.name"]].kind == "gan_image"
        st.number_input("Real samples per epoch", 16, MAX_POINTS, step=64, key=f"{P}.data.gan_samples")
        st.number_input("Batch size", 1, 512, key=f"{P}.data.batch_size")
        c1, c2 = st.columns(2)
        c1.number_input("Noise dimension", 1, 128, key=f"{P}.gan.noise_dim")
        with c2:
            select_ui(P, "gan.noise_type", "Noise", NOISE_TYPES)
        st.number_input("Seed", 0, 2**31 - 1, key=f"{P}.seed", help="the same seed gives the same data and curves")
    if image:
        st.selectbox("Architecture", list(ARCHS), format_func=ARCHS.get, key=f"{P}.gan.arch")
    dcgan = image and st.session_state.get(f"{P}.gan.arch") == "dcgan"
    for net, (label, _) in NETS.items():
        with st.expander(label, expanded=False):
            net_ui(net, dcgan)
    with st.expander("Training", expanded=True):
        select_ui(P, "gan.loss", "Loss", GAN_LOSSES)
        if GAN_LOSSES[st.session_state[f"{P}.gan.loss"]].gradient_penalty:
            st.number_input("Gradient penalty weight", 0.0, 100.0, step=0.1, format="%g", key=f"{P}.gan.gp_weight")
        st.number_input("D steps per G step", 1, 10, key=f"{P}.gan.d_steps")
        st.number_input("Epochs", 1, MAX_EPOCHS, key=f"{P}.train.epochs")
    params_slot = st.empty()

hidden = {
    f"gan.{field}": (st.session_state[f"{P}.{net}_units"],) * (1 if dcgan else st.session_state[f"{P}.{net}_layers"])
    for net, (_, field) in NETS.items()
}
spec, error = spec_from_widgets(P, base, hidden | ({} if image else {"gan.arch": "mlp"}))
if error:
    st.error(f"Cannot use these settings: {error}")
    st.stop()

preset = st.session_state.get(f"{P}._preset")
if preset:
    with st.expander(f"Lesson: {load_preset(preset).title}", expanded=True):
        st.write(load_preset(preset).lesson)

job = attach_job(P, [spec], views=gan_views, title=preset or "gan")
if job is None:
    st.stop()
trainer = job.trainers[0]
n_g, n_d = (sum(p.numel() for p in net.parameters()) for net in (trainer.G, trainer.D))
params_slot.markdown(f"**{n_g:,}** parameters in G, **{n_d:,}** in D")
action = controls_ui(P, job.running)
job = apply_action(P, job, action, [spec], views=gan_views, title=preset or "gan")
if action:
    st.rerun()
trainer = job.trainers[0]
sync_url(spec, run=job.id)

c = st.columns([1, 1, 3])
slow = None
if c[0].button("D step", icon=":material/looks_one:", key=f"{P}.d_step", disabled=job.running, width="stretch"):
    slow = "d"
if c[1].button("G step", icon=":material/looks_two:", key=f"{P}.g_step", disabled=job.running, width="stretch"):
    slow = "g"
c[2].caption(
    "Slow motion (while paused): **D step** updates only the discriminator once (the heatmap changes, the samples "
    "stay); **G step** updates only the generator once (the samples move along the arrows, the heatmap stays)."
)
if slow and not job.running:
    if slow == "d":
        done = trainer.d_step()
        if done:
            st.toast(
                f"D updated: D loss {done['d_loss']:.4g}, D(real) {done['d_real']:.3g}, D(fake) {done['d_fake']:.3g}"
            )
    else:
        trainer.g_step()
        st.toast(f"G updated: step {trainer.step_count}")
arrows = st.toggle("Show G's gradient on some fake samples", value=True, key=f"{P}.arrows") if not image else False


def draw(snap: dict) -> None:
    run = snap["runs"][0]
    hist = run["history"]
    last = hist[-1] if hist else {}
    # Paused, the page draws the trainer as it is now (slow-motion updates happen outside the job's thread).
    views = run["views"] if snap["running"] else gan_views(trainer)
    m = st.columns(7)
    m[0].metric("Epoch", run["epoch"])
    m[1].metric("Step", run["step"], help="one step = D steps per G step discriminator updates, then one G update")
    m[2].metric("D loss", f"{last['d_loss']:.4g}" if "d_loss" in last else "-")
    m[3].metric("G loss", f"{last['g_loss']:.4g}" if "g_loss" in last else "-")
    prob = GAN_LOSSES[spec.gan.loss].sigmoid
    what = "the mean probability of 'real' that D gives" if prob else "D's mean score on"
    for col, key, name in ((m[4], "d_real", "D(real)"), (m[5], "d_fake", "D(fake)")):
        sample = "real" if key == "d_real" else "generated"
        col.metric(name, f"{last[key]:.3g}" if key in last else "-", help=f"{what} {sample} samples (epoch mean)")
    if "coverage" in views:
        cov = views["coverage"]
        m[6].metric(
            "Modes covered",
            f"{cov['modes_covered']} of {cov['modes_total']}",
            help="components holding at least 1/4 of a fair share of high-quality samples (docs/metrics.md)",
        )
    status_message(snap)
    left, right = st.columns([1.1, 1])
    if image:
        left.plotly_chart(samples_figure(views["mosaic"]))
        left.caption("Samples of G from the same fixed noise at every redraw: watch digits form.")
    else:
        left.plotly_chart(plane_figure(views, arrows=arrows))
        left.caption(
            "Background: D's output over the plane (blue: D says real, orange: D says fake). Green: real samples; "
            "purple: G's samples from fixed noise; arrows: the direction G's loss pushes each sample (−∂L_G/∂x)."
        )
    right.plotly_chart(gan_loss_figure(hist))
    right.plotly_chart(d_output_figure(hist, spec.gan.loss))
    if "coverage" in views:
        st.plotly_chart(coverage_figure(hist))
        st.caption(
            "Mode coverage of 1,000 samples from fixed noise: a sample is high quality within 3 std of its nearest "
            "component; a mode is covered when it holds at least a quarter of a fair share of the samples."
        )


live_view(P, job, draw)
