"""Home: what the playground is, its pages, and the lesson presets a teacher can open in one click."""

from pathlib import Path

import streamlit as st

from core.presets import list_presets
from ui.frame import require_router

require_router()

PAGE_FILES = {
    "playground": ("pages/playground.py", "Playground", "Build a small network on 2-D data and watch it learn."),
    "gradients": (
        "pages/gradients.py",
        "Gradient lab",
        "Watch gradients vanish or explode, then fix them, side by side.",
    ),
    "cnn": ("pages/cnn.py", "CNN", "Stack convolutions on handwritten digits and see the feature maps learn."),
    "gan": ("pages/gan.py", "GAN", "A generator and a discriminator learning against each other."),
}

st.title("Deep Learning Playground")
st.markdown(
    "Assemble a neural network, press **Play**, and watch a real PyTorch model train. "
    "Every chart is measured from the model while it learns: loss curves, the gradient norm of each layer, "
    "decision boundaries, feature maps and generated samples."
)

available = {k: v for k, v in PAGE_FILES.items() if Path(v[0]).exists()}
cols = st.columns(len(available))
for col, (name, (path, title, blurb)) in zip(cols, available.items()):
    with col.container(border=True):
        st.page_link(path, label=title, icon=":material/arrow_forward:")
        st.caption(blurb)

st.header("Lessons")
st.caption("Each lesson opens its page with the settings loaded. Press Play, then read the note above the charts.")
for name, (path, title, _) in available.items():
    presets = list_presets(name)
    if not presets:
        continue
    st.subheader(title)
    for p in presets:
        c1, c2 = st.columns([2, 5])
        c1.page_link(path, label=p.title, query_params={"preset": p.name}, icon=":material/school:")
        c2.caption(p.lesson)
