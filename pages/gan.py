"""GAN: a generator and a discriminator learning against each other, live (GAN Lab's lesson in PyTorch)."""

import streamlit as st

from core.charts.gan import coverage_figure, d_output_figure, gan_loss_figure, plane_figure, samples_figure
from core.registry import DATASETS, GAN_LOSSES
from core.shapes import gan_shapes
from core.views.gan import gan_views
from ui.controls import number_ui, select_ui
from ui.plotly_live import live_chart
from ui.scaffold import Action, Page, PageDef

P = "gan"
TARGETS = {k: v for k, v in DATASETS.items() if v.kind in ("gan", "gan_image")}
ARCHS = {"mlp": "MLP (fully connected)", "dcgan": "DCGAN (convolutions)"}
NETS = {"gen": ("Generator (G)", "gen_hidden"), "disc": ("Discriminator (D)", "disc_hidden")}


def load(sides) -> None:
    """Layer count and width are widgets of their own."""
    for net, (_, field) in NETS.items():
        hidden = getattr(sides[-1].gan, field)
        st.session_state[f"{P}.{net}_layers"] = len(hidden)
        st.session_state[f"{P}.{net}_units"] = hidden[0]


def d_done(action: dict) -> str:
    r = (action.get("results") or [{}])[0]
    if "d_loss" not in r:
        return "D updated"
    return f"D updated: D loss {r['d_loss']:.4g}, D(real) {r['d_real']:.3g}, D(fake) {r['d_fake']:.3g}"


PAGE = PageDef(
    prefix=P,
    name="gan",
    title="GAN",
    caption="A generator G turns random noise into samples; a discriminator D learns to tell them from real ones; "
    "G learns from D's gradient to fool it. Both are trained live by PyTorch.",
    default="gan-ring",
    load=load,
    views=gan_views,
    actions=(
        Action(
            "d_step",
            "D step",
            ":material/looks_one:",
            "Slow motion (while paused): **D step** updates only the "
            "discriminator once (the heatmap changes, the samples stay);",
            d_done,
        ),
        Action(
            "g_step",
            "G step",
            ":material/looks_two:",
            "**G step** updates only the generator once (the samples move along the arrows, the heatmap stays).",
            lambda a: "G updated",
        ),
    ),
    ui_keys=("arrows",),
)


def on_target() -> None:
    # The DCGAN architecture is for images only; 2-D targets go back to the MLP.
    if TARGETS[st.session_state[f"{P}.data.name"]].kind == "gan":
        st.session_state[f"{P}.gan.arch"] = "mlp"


def net_ui(net: str, dcgan: bool) -> None:
    """Layers, width, activation (and batch norm for G, dropout for D), optimiser and LR of one network."""
    field = NETS[net][1]
    c1, c2 = st.columns(2)
    if dcgan:
        number_ui(P, f"gan.{field}", "Channels", key=f"{P}.{net}_units", lo=8, where=c1, help="at the 4 × 4 stage")
    else:
        st.session_state.setdefault(f"{P}.{net}_layers", 2)  # forgotten while the DCGAN hid the widget
        number_ui(P, f"gan.{field}", "Layers", key=f"{P}.{net}_layers", length=True, where=c1)
        number_ui(P, f"gan.{field}", "Units per layer", key=f"{P}.{net}_units", where=c2)
    select_ui(P, f"gan.{net}_activation", "Activation")
    if net == "gen":
        st.toggle("Batch norm", key=f"{P}.gan.gen_batchnorm")
    else:
        number_ui(P, "gan.disc_dropout", "Dropout", slider=True)
    select_ui(P, f"gan.{net[0]}_optimizer", "Optimizer")
    number_ui(P, f"gan.{net[0]}_lr", "Learning rate")


def settings(page: Page) -> list:
    with page.section("data", "Data and noise"):
        select_ui(P, "data.name", "Target distribution", TARGETS, on_change=on_target)
        image = TARGETS[st.session_state[f"{P}.data.name"]].kind == "gan_image"
        number_ui(P, "data.gan_samples", "Real samples per epoch")
        number_ui(P, "data.batch_size", "Batch size")
        number_ui(P, "gan.noise_dim", "Noise dimension")
        select_ui(P, "gan.noise_type", "Noise")
        number_ui(P, "seed", "Seed", help="the same seed gives the same data and curves")
        if image:
            st.selectbox("Architecture", list(ARCHS), format_func=ARCHS.get, key=f"{P}.gan.arch")
    dcgan = image and st.session_state.get(f"{P}.gan.arch") == "dcgan"
    for net, (label, _) in NETS.items():
        with page.section("generator" if net == "gen" else "discriminator", label, expanded=False):
            net_ui(net, dcgan)
    with page.section("training", "Training"):
        select_ui(P, "gan.loss", "Loss")
        if GAN_LOSSES[st.session_state[f"{P}.gan.loss"]].gradient_penalty:
            number_ui(P, "gan.gp_weight", "Gradient penalty weight")
        number_ui(P, "gan.d_steps", "D steps per G step")
        number_ui(P, "train.epochs", "Epochs")
        params = st.empty()
    hidden = {
        f"gan.{field}": (st.session_state[f"{P}.{net}_units"],)
        * (1 if dcgan else st.session_state[f"{P}.{net}_layers"])
        for net, (_, field) in NETS.items()
    }
    spec = page.spec(hidden | ({} if image else {"gan.arch": "mlp"}))
    g, d = gan_shapes(spec)
    params.markdown(f"**{sum(x.params for x in g):,}** parameters in G, **{sum(x.params for x in d):,}** in D")
    if not image:
        st.session_state.setdefault(page.key("arrows"), True)
        st.toggle("Show G's gradient on some fake samples", key=page.key("arrows"))
    return [spec]


def draw(snap: dict) -> None:
    run = snap["runs"][0]
    hist = run["history"]
    last = hist[-1] if hist else {}
    views, spec = run["views"], page.specs[0]
    image = TARGETS[spec.data.name].kind == "gan_image"
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
            "Modes",  # "6 of 8" says what is counted; a longer label broke mid-word in a seventh of 1024 px
            f"{cov['modes_covered']} of {cov['modes_total']}",
            help="modes covered: components holding at least 1/4 of a fair share of high-quality samples (docs/metrics.md)",
        )
    left, right = st.columns([1.1, 1])
    if image:
        live_chart(samples_figure(views["mosaic"]), key=f"{P}.chart.samples", where=left)
        left.caption("Samples of G from the same fixed noise at every redraw: watch digits form.")
    else:
        live_chart(
            plane_figure(views, arrows=st.session_state.get(page.key("arrows"), True)),
            key=f"{P}.chart.plane",
            where=left,
        )
        left.caption(
            "Background: D's output over the plane (blue: D says real, orange: D says fake). Green: real samples; "
            "purple: G's samples from fixed noise; arrows: the direction G's loss pushes each sample (−∂L_G/∂x)."
        )
    live_chart(gan_loss_figure(hist), key=f"{P}.chart.gan_loss", where=right)
    live_chart(d_output_figure(hist, spec.gan.loss), key=f"{P}.chart.d_output", where=right)
    if "coverage" in views:
        live_chart(coverage_figure(hist), key=f"{P}.chart.coverage")
        st.caption(
            "Mode coverage of 1,000 samples from fixed noise: a sample is high quality within 3 std of its nearest "
            "component; a mode is covered when it holds at least a quarter of a fair share of the samples."
        )


page = Page(PAGE)
page.run(settings, draw)
