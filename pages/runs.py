"""Runs: every stored run from every page and the runner; filter, rename, tag, delete, compare,
re-open, continue, export and import."""

import streamlit as st

from core import runs
from core.charts.runs import compare_figure
from core.spec import SpecError, from_dict, validate
from core.store import STATUSES
from ui.frame import require_router
from ui.plotly_live import live_chart
from ui.runs import PAGE_PATHS, PAGE_TITLES, continue_run, export_box_ui, fit_columns, import_ui, spec_query
from ui.state import enter_page, store

P = "runs"

require_router()
enter_page(P)  # the filters and choices come back after a tour of the other pages (ui/state.py)

st.title("Runs")
st.caption(
    "Every run you trained, on any page or with `python -m core run`, newest first. "
    "Pick runs to compare their curves, or open one to rename, tag, export, re-open or continue it."
)

LISTED = 500  # the newest runs listed; a class server keeps thousands
all_runs = store().list_runs(limit=LISTED)
by_id = {r["id"]: r for r in all_runs}
# A run picked here stays picked while it exists, though newer runs push it out of the newest LISTED.
for run_id in [*(st.session_state.get(f"{P}.compare") or []), st.session_state.get(f"{P}.one")]:
    if isinstance(run_id, str) and run_id not in by_id and (run := store().get_run(run_id)):
        by_id[run_id] = run
        all_runs.append(run)
rows = [runs.run_row(r) for r in all_runs]


def filters_ui() -> tuple[list[str], list[str]]:
    c1, c2 = st.columns(2)
    pages = sorted({r["page"] for r in rows})
    page = c1.multiselect("Page", pages, key=f"{P}.page", format_func=lambda p: PAGE_TITLES.get(p, p))
    status = c2.multiselect("Status", list(STATUSES), key=f"{P}.status")
    return page, status


def label(run_id: str) -> str:
    """A run as a box shows it: its name and the start of its id (the name alone may be shared)."""
    return f"{runs.run_row(by_id[run_id])['name']} ({run_id[:6]})"


def detail(run_id: str) -> str:
    r = runs.run_row(by_id[run_id])
    page = PAGE_TITLES.get(r["page"], r["page"])
    return f"{page} · {r['status']} · {r['epochs']:g} epochs · {r['created']} · id {run_id}"


if not rows:
    st.info("No runs yet: train something on the Playground (or any page) and it appears here.")
else:
    page_f, status_f = filters_ui()
    shown = [r for r in rows if (not page_f or r["page"] in page_f) and (not status_f or r["status"] in status_f)]
    st.dataframe(
        shown,
        hide_index=True,
        column_order=["name", "page", "status", "epochs", "loss", "val_loss", "val_accuracy", "tags", "created", "id"],
        column_config={"val_accuracy": st.column_config.NumberColumn("val accuracy", format="percent")}
        | fit_columns(shown, ["name", "page", "status", "tags", "created", "id"]),  # sized by every row, not the first
        placeholder="-",  # an empty cell (no validation yet) reads "-", not "None"
        key=f"{P}.table",
    )
    st.caption(f"{len(shown)} of {len(rows)} runs shown.")
    ids = [r["id"] for r in shown]
    # Runs picked before a filter hid them stay choices (a box would drop them without a word), and are named.
    hidden = [i for i in st.session_state.get(f"{P}.compare") or [] if i in by_id and i not in ids]
    one = st.session_state.get(f"{P}.one")
    one_hidden = [one] if one in by_id and one not in ids else []

    compare_tab, manage_tab = st.tabs(["Compare", "Manage"])
    with compare_tab:
        picked = st.multiselect("Runs to compare", ids + hidden, key=f"{P}.compare", format_func=label)
        if hidden:
            st.caption("Kept in the comparison though the filters hide them: " + ", ".join(map(label, hidden)) + ".")
        if len(picked) < 2:
            st.caption("Pick two or more runs to overlay their curves.")
        else:
            histories = [store().metrics(i) for i in picked]
            names = [label(i) for i in picked]  # the settings table below names them too
            shared = runs.shared_metrics(histories)
            if not shared:
                st.warning("These runs record no metric in common.")
            else:
                c1, c2, c3 = st.columns([2, 1, 2])
                metric = c1.selectbox("Metric", shared, key=f"{P}.metric")
                st.session_state.setdefault(f"{P}.log", "loss" in metric)  # settings come from session state only
                st.session_state.setdefault(f"{P}.smooth", 0.0)
                log_y = c2.toggle("Log scale", key=f"{P}.log")
                smooth = c3.slider(
                    "Smoothing", 0.0, 0.95, step=0.05, key=f"{P}.smooth", help="Exponential moving average."
                )
                curves = {n: runs.series(h, metric, smooth) for n, h in zip(names, histories)}
                live_chart(compare_figure(curves, metric, log_y, smooth), key=f"{P}.chart")
            diff = runs.differing_settings([by_id[i]["spec"] for i in picked])
            st.subheader("Settings that differ")
            if diff:
                table = [{"setting": k} | dict(zip(names, vals)) for k, vals in diff.items()]
                st.dataframe(table, hide_index=True, column_config=fit_columns(table), key=f"{P}.diff")
            else:
                st.caption("Every setting is the same: only the randomness of training can tell them apart.")

    with manage_tab:
        st.session_state.setdefault(f"{P}.one", None)
        run_id = st.selectbox("Run", ids + one_hidden, key=f"{P}.one", format_func=label, placeholder="Pick a run")
        if run_id:
            st.caption(detail(run_id))
            run = by_id[run_id]
            page = runs.page_of(run)
            # A field each on its own line: a side-by-side run's long name reads whole.
            title = st.text_input("Name", run.get("title") or "", key=f"{P}.title.{run_id}")
            tags = st.text_input("Tags (comma separated)", ", ".join(run.get("tags") or []), key=f"{P}.tags.{run_id}")
            c1, c2 = st.columns(2)
            if c1.button("Rename", key=f"{P}.rename"):
                store().rename_run(run_id, title.strip())
                st.rerun()
            if c2.button("Save tags", key=f"{P}.save_tags"):
                store().set_tags(run_id, [t.strip() for t in tags.split(",") if t.strip()])
                st.rerun()

            try:
                spec = validate(from_dict(run["spec"]))
            except SpecError as e:
                spec = None
                st.warning(f"This run's spec no longer validates, so it cannot be re-opened: {e}")
            if spec is not None:
                c1, c2 = st.columns(2)
                c1.page_link(PAGE_PATHS[page], label=f"Re-open on {PAGE_TITLES[page]}", query_params=spec_query(spec))
                can_continue = run["status"] not in ("running",)
                if c2.button("Continue training from its weights", key=f"{P}.continue", disabled=not can_continue):
                    continue_run(run)
                raw = store().load_weights(run_id)
                export_box_ui(f"{P}.export", spec, store().metrics(run_id), (lambda: raw) if raw else None)

            confirm = f"{P}._confirm_delete"
            if st.session_state.get(confirm) != run_id:
                if st.button("Delete run", key=f"{P}.delete", icon=":material/delete:"):
                    st.session_state[confirm] = run_id
                    st.rerun()
            else:
                st.warning(f"Delete **{label(run_id)}** and its metrics and weights? This cannot be undone.")
                c1, c2 = st.columns(2)
                if c1.button("Yes, delete it", key=f"{P}.delete_yes", type="primary"):
                    store().delete_run(run_id)
                    st.session_state.pop(confirm)
                    st.rerun()
                if c2.button("Cancel", key=f"{P}.delete_no"):
                    st.session_state.pop(confirm)
                    st.rerun()

st.subheader("Import")
import_ui(f"{P}.import")
