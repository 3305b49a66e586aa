"""Run files in and out of the app: the export box every training page shows, importing a spec or
weights file, and links that re-open or continue a stored run on its page."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from core import export
from core.data.upload import MAX_UPLOAD_BYTES
from core.jobs import Job
from core.notebook import notebook_text
from core.runs import page_of
from core.spec import Spec, SpecError, from_dict, from_json, resolved_loss, to_dict, to_query, validate
from core.trainers import make_trainer
from ui.pages import PAGES
from ui.state import manager, store

PAGE_PATHS = {p.name: p.path for p in PAGES}
PAGE_TITLES = {p.name: p.title for p in PAGES}
CHAR_PX, CELL_PAD = 8, 24  # a table cell's text: at most 8 px a character in the grid's font, plus its padding


def spec_query(spec: Spec, **extra: str) -> dict:
    """The URL query that opens `spec` on its page (the pages' link contract, as ui.state.sync_url writes)."""
    return {"data.name": spec.data.name} | to_query(spec) | {k: v for k, v in extra.items() if v}


def fit_columns(rows: list[dict], names: list[str] | None = None) -> dict:
    """`column_config` that makes each text column (all of them by default) as wide as its longest cell or title,
    so no name or id is cut: the grid would size a column by its first rows only, and a wider table scrolls
    sideways instead."""
    names = names if names is not None else list(rows[0]) if rows else []
    return {
        n: st.column_config.Column(width=CELL_PAD + CHAR_PX * max(len(str(r.get(n) or "")) for r in [{n: n}, *rows]))
        for n in names
    }


def export_box_ui(key: str, spec: Spec, history: list[dict], weights: Callable[[], bytes] | None = None) -> None:
    """Download buttons: the spec as JSON, the weights (safetensors), a PyTorch script and notebook, the metrics."""
    cols = st.columns(5)
    cols[0].download_button(
        "Spec (JSON)", export.spec_json(spec), "spec.json", "application/json", key=f"{key}.spec", on_click="ignore"
    )
    cols[1].download_button(
        "Weights",
        weights or b"",
        "weights.safetensors",
        "application/octet-stream",
        key=f"{key}.weights",
        on_click="ignore",
        disabled=weights is None,
        help="The network's weights as safetensors, with the spec inside."
        if weights
        else "No weights saved for this run.",
    )
    why_not = export.script_supported(spec)
    code = (
        ("PyTorch script", export.script_text, "train.py", "text/x-python", "script",
         "A plain `python train.py` that rebuilds the data, model and training loop of this spec."),
        ("Notebook", notebook_text, "lesson.ipynb", "application/x-ipynb+json", "notebook",
         "The same as a Jupyter notebook: spec, data, model, training loop and a chart of the losses."),
    )  # fmt: skip
    for col, (label, write, name, mime, part, help_text) in zip(cols[2:4], code):
        col.download_button(
            label,
            (lambda write=write: write(spec)) if not why_not else "",
            name,
            mime,
            key=f"{key}.{part}",
            on_click="ignore",
            disabled=bool(why_not),
            help=why_not or help_text,
        )
    cols[4].download_button(
        "Metrics (CSV)",
        export.metrics_csv(history),
        "metrics.csv",
        "text/csv",
        key=f"{key}.metrics",
        on_click="ignore",
        disabled=not history,
    )


def job_export_ui(key: str, job: Job, i: int = 0) -> None:
    """The export box of a training page: its job's spec, current weights, script and metrics so far."""
    run = job.snapshot()["runs"][i]
    with st.expander("Export: spec, weights, PyTorch script or notebook, metrics", icon=":material/download:"):
        export_box_ui(f"{key}.export", run["spec"], run["history"], lambda: job.weights(i))


def read_import(name: str, raw: bytes) -> tuple[Spec, bytes | None]:
    """An uploaded spec JSON or safetensors file -> (validated spec, weights or None); SpecError otherwise.

    Weights are checked against a network built from the spec in their metadata before anything is kept.
    """
    if len(raw) > MAX_UPLOAD_BYTES:
        raise SpecError("file", name, f"at most {MAX_UPLOAD_BYTES / 1e6:.0f} MB")
    if name.endswith(".json"):
        try:
            return from_json(raw.decode("utf-8")), None
        except UnicodeDecodeError:
            raise SpecError("file", name, "a UTF-8 spec JSON file") from None
        except (ValueError, TypeError, KeyError, RecursionError) as e:
            raise SpecError("file", name, f"a spec JSON file ({type(e).__name__})") from None
    tensors, spec = export.read_weights(raw)
    if spec is None:
        raise SpecError("file", name, "safetensors saved by this app (the spec in its metadata)")
    spec = validate(spec)
    export.load_weights_into(make_trainer(spec).model, tensors)
    return spec, raw


def import_ui(key: str) -> None:
    """Upload a spec JSON (open it on its page) or weights (stored as a paused run you can continue)."""
    up = st.file_uploader("Import a spec (.json) or weights (.safetensors)", type=["json", "safetensors"], key=key)
    if up is None:
        return
    try:
        spec, raw = read_import(up.name, up.getvalue())
    except SpecError as e:
        st.error(f"Nothing was imported: {e}")
        return
    page = page_of({"spec": to_dict(spec), "source": ""})
    if raw is None:
        st.success(f"A valid spec for the {PAGE_TITLES.get(page, page)} page.")
        st.page_link(PAGE_PATHS[page], label=f"Open it on {PAGE_TITLES[page]}", query_params=spec_query(spec))
        return
    done = st.session_state.setdefault(f"{key}._done", {})
    if up.file_id not in done:
        run_id = store().create_run(to_dict(spec), page, f"imported {up.name}", status="paused")
        store().save_weights(run_id, raw)
        done[up.file_id] = run_id
    st.success(f"Weights imported as run {done[up.file_id]}: continue it from the list above.")


def continue_run(run: dict) -> None:
    """Open a stored run's page with a job that starts from the run's saved weights (press Play there)."""
    spec, page = validate(from_dict(run["spec"])), page_of(run)
    spec = spec.with_(**{"train.loss": resolved_loss(spec)})  # as the link writes it, so the page attaches
    raw = store().load_weights(run["id"])
    if raw is None:
        st.error("This run saved no weights, so it cannot be continued; re-open it to train it afresh.")
        return
    try:
        job = manager().create([spec], weights=[raw], source=page, title=(run.get("title") or page) + " (continued)")
    except SpecError as e:
        st.error(f"Cannot continue this run: {e}")
        return
    st.switch_page(PAGE_PATHS[page], query_params=spec_query(spec, run=job.id))
