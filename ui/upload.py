"""Your own data on the Playground: upload a CSV, pick the label or target column, and see what will train.

The upload is parsed and checked by core.data.tabular; the prepared numbers are stored in the data folder under
their content hash, and the page trains on the spec fields that name them (`table_fields`). A bad file or a bad
choice shows its message and changes nothing: the fields (and any network trained on them) stay as they were.
A link carries the fields, so another browser on the same server opens the same table.
"""

from __future__ import annotations

import streamlit as st

from core.charts.table import projection_figure
from core.data.table import store_table, stored_table, table_fields
from core.data.tabular import (
    MAX_CLASSES,
    MAX_COLUMNS,
    MAX_ROWS,
    Prepared,
    Table,
    TableError,
    column_problem,
    numeric_columns,
    parse_csv,
    prepare,
)
from core.data.upload import MAX_UPLOAD_BYTES
from core.spec import PATTERNS, TABLE_TASKS, DataSpec
from ui.plotly_live import live_chart
from ui.state import private

# A 2-D set's spec leaves the table fields at their defaults (the session keeps the table for a switch back).
NO_TABLE = {f"data.{k}": getattr(DataSpec(), k) for k in ("table", "target", "task", "columns")}
CSV_HELP = (
    f"A header line with column names, then one row per example; numbers in the feature columns. "
    f"At most {MAX_UPLOAD_BYTES / 1e6:.0f} MB, {MAX_ROWS:,} rows and {MAX_COLUMNS} columns."
)


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.csv.{name}"


def default_task(table: Table, target: str, numeric: list[str]) -> str:
    """Regression for a number column with more distinct values than a classifier takes, else classification."""
    j = table.columns.index(target)
    values = {r[j] for r in table.rows}
    return "regression" if target in numeric and len(values) > MAX_CLASSES else "classification"


def _numeric(prefix: str) -> list[str]:
    """The uploaded table's number columns (found once per file: a 2 MB table takes ~0.15 s); [] without one."""
    cached = st.session_state.get(private(prefix, "csv"))
    return cached[3] if cached else []


def _on_target(prefix: str) -> None:
    """A new label column: its own task and features. Streamlit may call this after the file is gone (the
    browser still sends the select's value while a bad file replaces a good one), or with a column of the file
    before (a request sent before the new file's run reached the browser): then there is nothing to do."""
    cached = st.session_state.get(private(prefix, "csv"))
    target = st.session_state.get(_key(prefix, "target"))
    if cached and cached[1] is not None and target in cached[1].columns:
        _reset_choices(prefix, cached[1], target)


def _parsed(prefix: str, upload) -> Table | None:
    """The uploaded file's table (parsed once per file), or None after showing why it cannot be used."""
    cached = st.session_state.get(private(prefix, "csv"))
    if cached is None or cached[0] != upload.file_id:
        try:
            table, error = parse_csv(upload.getvalue()), ""
        except TableError as e:
            table, error = None, str(e)
        cached = (upload.file_id, table, error, numeric_columns(table) if table is not None else [])
        st.session_state[private(prefix, "csv")] = cached
        if table is not None:  # a new file: its own defaults for the choices below
            target = table.columns[-1]
            st.session_state[_key(prefix, "target")] = target
            _reset_choices(prefix, table, target)
    if cached[2]:
        st.error(f"**{upload.name}**: {cached[2]}. Nothing was changed.", icon=":material/error:")
    return cached[1]


def _reset_choices(prefix: str, table: Table, target: str) -> None:
    numeric = _numeric(prefix)
    st.session_state[_key(prefix, "task")] = default_task(table, target, numeric)
    st.session_state[_key(prefix, "features")] = [c for c in numeric if c != target]


def _prepared(prefix: str, table: Table, features: list[str], target: str, task: str) -> Prepared | None:
    """The chosen columns as numbers (prepared once per choice), or None after showing why not."""
    choice = (st.session_state[private(prefix, "csv")][0], tuple(features), target, task)
    cached = st.session_state.get(private(prefix, "prepared"))
    if cached is None or cached[0] != choice:
        try:
            if not PATTERNS["data.target"].match(target):
                raise TableError(f"the column name '{target[:40]}' cannot be used: {PATTERNS['data.target'].text}")
            cached = (choice, prepare(table, features, target, task), "")
        except TableError as e:
            cached = (choice, None, str(e))
        st.session_state[private(prefix, "prepared")] = cached
    if cached[2]:
        st.error(f"{cached[2]}. Nothing was changed.", icon=":material/error:")
    return cached[1]


def _choices_ui(prefix: str, table: Table) -> dict | None:
    """Label or target column, task and feature columns; the stored table's spec fields, or None."""
    target = st.selectbox(
        "Label or target column",
        table.columns,
        key=_key(prefix, "target"),
        on_change=_on_target,
        args=(prefix,),
        help="what the network learns to predict from the other columns",
    )
    task = st.segmented_control(
        "Task", list(TABLE_TASKS), format_func=lambda k: k.capitalize(), key=_key(prefix, "task"), required=True
    )
    features = st.multiselect(
        "Feature columns (the network's inputs)",
        [c for c in _numeric(prefix) if c != target],
        key=_key(prefix, "features"),
        help="columns holding numbers only; each is scaled to mean 0 and standard deviation 1 on the training rows",
    )
    numeric = set(_numeric(prefix))
    for column in [c for c in table.columns if c not in numeric and c != target]:
        st.warning(f"Not offered as a feature: {column_problem(table, column)}.", icon=":material/warning:")
    prepared = _prepared(prefix, table, features, target, task or "classification")
    return store_table(prepared) if prepared is not None else None


def _stored(prefix: str, key: str) -> tuple[Prepared | None, str]:
    """The stored table named `key` (read once per name), or None and why not."""
    cached = st.session_state.get(private(prefix, "stored"))
    if cached is None or cached[0] != key:
        try:
            cached = (key, stored_table(key), "")
        except TableError as e:
            cached = (key, None, str(e))
        st.session_state[private(prefix, "stored")] = cached
    return cached[1], cached[2]


def summary(prepared: Prepared) -> str:
    """One line on what will train: rows, feature columns, the target and its classes."""
    rows, cols = len(prepared.y), len(prepared.features)
    text = f"**{rows:,} rows**, **{cols} feature column{'s' if cols > 1 else ''}** ({', '.join(prepared.features)}). "
    if prepared.task == "classification":
        names = ", ".join(prepared.classes)
        return text + f"Label **{prepared.target}**: **{len(prepared.classes)} classes** ({names})."
    lo, hi = float(prepared.y.min()), float(prepared.y.max())
    return text + f"Target **{prepared.target}**: numbers from {lo:.4g} to {hi:.4g}."


def table_ui(prefix: str) -> dict | None:
    """The "Your own data" controls; returns the spec fields of the table to train on, or None (with a message).

    The table in use is the one `<prefix>.data.table` names (a hash; a link, a re-opened run or an upload set it):
    every other table field is read from the stored table. A new upload or a new choice of columns replaces it.
    """
    upload = st.file_uploader("CSV file", type=["csv", "txt"], key=_key(prefix, "file"), help=CSV_HELP)
    if upload is None:  # a parsed 2 MB table holds ~15 MB of Python strings: keep it only while it is uploaded
        for name in ("csv", "prepared"):
            st.session_state.pop(private(prefix, name), None)
    else:
        table = _parsed(prefix, upload)
        fields = _choices_ui(prefix, table) if table is not None else None
        if fields is not None and fields["data.table"] != st.session_state.get(private(prefix, "uploaded")):
            st.session_state[private(prefix, "uploaded")] = fields["data.table"]  # applied once, not every rerun
            st.session_state[f"{prefix}.data.table"] = fields["data.table"]
    key = st.session_state.get(f"{prefix}.data.table") or ""
    if not key:
        st.info("Upload a CSV file to train on your own data.", icon=":material/upload_file:")
        return None
    prepared, error = _stored(prefix, key)
    if prepared is None:
        st.error(error[:1].upper() + error[1:] + ".", icon=":material/error:")
        return None
    st.caption(summary(prepared))
    return table_fields(key, prepared)


def projection_ui(prefix: str, run: dict, data, show_test: bool) -> None:
    """A table of more than two columns: its rows on two principal components, coloured by the truth and by the
    network's prediction, side by side."""
    extra, pred = data.extra, run["views"]["projection"]
    names = extra["classes"] or []
    common = {"task": data.task, "class_names": names, "axes": extra["axes"], "target_range": extra.get("target_range")}
    truth_train, truth_test = (data.points_train, extra["labels_train"]), (data.points_test, extra["labels_test"])
    guess_train, guess_test = (data.points_train, pred["pred_train"]), (data.points_test, pred["pred_test"])
    c1, c2 = st.columns(2)
    truth = projection_figure(
        truth_train, truth_test if show_test else None, title=f"Your data: {extra['target']}", **common
    )
    guess = projection_figure(
        guess_train, guess_test if show_test else None, title="The network's prediction", **common
    )
    live_chart(truth, key=f"{prefix}.chart.projection", where=c1)
    live_chart(guess, key=f"{prefix}.chart.prediction", where=c2)
    st.caption(
        "Each dot is one row, placed by the first two principal components of its scaled feature columns "
        "(a flat shadow of the data: rows close together here may still differ in other columns). "
        "Dots: training rows; diamonds with a dark outline: test rows."
        + (" Targets are drawn scaled to [-1, 1] by the training rows' range." if data.task == "regression" else "")
    )
