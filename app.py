"""Router: page config, navigation over pages/, and the sidebar frame every page shares."""

import streamlit as st

st.set_page_config(page_title="Deep Learning Playground", page_icon=":material/neurology:", layout="wide")

from ui.frame import sidebar_frame  # noqa: E402  (after set_page_config)
from ui.pages import PAGES as PAGE_LIST  # noqa: E402
from ui.state import save_page, start_run  # noqa: E402

PAGES = [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)] + [
    st.Page(p.path, title=p.title, icon=p.icon, url_path=p.name) for p in PAGE_LIST
]

page = st.navigation(PAGES)
start_run()
sidebar_frame(page.url_path)
try:
    page.run()
finally:  # also after st.stop() / st.rerun(): the page's widgets are gone by the next run
    save_page()
