"""Router: page config, navigation over pages/, and the sidebar frame every page shares."""

import streamlit as st

st.set_page_config(page_title="Deep Learning Playground", page_icon=":material/neurology:", layout="wide")

from ui.frame import sidebar_frame  # noqa: E402  (after set_page_config)

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/playground.py", title="Playground", icon=":material/scatter_plot:", url_path="playground"),
    st.Page("pages/gradients.py", title="Gradient lab", icon=":material/stacked_line_chart:", url_path="gradients"),
    st.Page("pages/cnn.py", title="CNN", icon=":material/grid_on:", url_path="cnn"),
    st.Page("pages/gan.py", title="GAN", icon=":material/blur_on:", url_path="gan"),
]

page = st.navigation(PAGES)
sidebar_frame(page.url_path)
page.run()
