"""Home: what the playground is, its pages, and the lesson presets a teacher can open in one click."""

import streamlit as st

from core.presets import list_presets
from ui.frame import require_router
from ui.pages import PAGES
from ui.plotly_live import ensure_loader

require_router()
ensure_loader()  # plotly.js (4.8 MB) loads while the student reads this page: the first chart page opens fast


st.title("Deep Learning Playground")
st.markdown(
    "Assemble a neural network, press **Play**, and watch a real PyTorch model train. "
    "Every chart is measured from the model while it learns: loss curves, the gradient norm of each layer, "
    "decision boundaries, feature maps and generated samples."
)

cols = st.columns(len(PAGES))
for col, page in zip(cols, PAGES):
    with col.container(border=True):
        st.page_link(page.path, label=page.title, icon=page.icon)
        st.caption(page.blurb)

st.header("Lessons")
st.caption("Each lesson opens its page with the settings loaded. Press Play, then read the note above the charts.")
for page in PAGES:
    presets = list_presets(page.name)
    if not presets:
        continue
    st.subheader(page.title)
    for p in presets:
        c1, c2 = st.columns([2, 5])
        c1.page_link(page.path, label=p.title, query_params={"preset": p.name}, icon=":material/school:")
        c2.caption(p.lesson)
