"""Router: page config, navigation over pages/, and the sidebar frame every page shares."""

import streamlit as st

from ui.frame import presenting, read_teacher_flags, sidebar_frame
from ui.pages import PAGES as PAGE_LIST
from ui.st_internals import cache_theme_messages, draw_widgets_at_their_values, guard_rerun_requests
from ui.state import save_page, start_run
from ui.warmup import charts_ready, warm_up

read_teacher_flags()
cache_theme_messages()
guard_rerun_requests()
draw_widgets_at_their_values()
st.set_page_config(
    page_title="Deep Learning Playground",
    page_icon="🧠",  # the tab's favicon: a Material icon there is fetched from fonts.gstatic.com, an emoji is not
    layout="wide",
    initial_sidebar_state="collapsed" if presenting() else "auto",  # a projector shows the charts, not controls
)

PAGES = [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)] + [
    st.Page(p.path, title=p.title, icon=p.icon, url_path=p.name) for p in PAGE_LIST
]

page = st.navigation(PAGES)
charts_ready()
start_run()
sidebar_frame(page.url_path)
try:
    page.run()
finally:  # also after st.stop() / st.rerun(): the page's widgets are gone by the next run
    save_page()
    warm_up()  # once the page is drawn: the warm-up's imports would slow the server's first page
