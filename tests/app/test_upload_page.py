"""AppTest: your own CSV on the Playground: upload, pick the label, train a step, see the projection; bad files."""

import numpy as np

from tests.app.conftest import chart_titles, no_exception, open_page, wait_idle


def csv_bytes(n: int = 60, columns: int = 3, seed: int = 0) -> bytes:
    """A linearly separable table: `columns` numbers and a 'kind' label (a / b)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, columns))
    label = np.where(x.sum(1) > 0, "a", "b")
    head = ",".join(f"f{j}" for j in range(columns)) + ",kind\n"
    return (head + "".join(",".join(f"{v:.4f}" for v in row) + f",{k}\n" for row, k in zip(x, label))).encode()


def own_data(app):
    at = open_page(app, "pages/playground.py", preset="tfp-default")
    at.selectbox(key="pg.data.name").select("table").run()
    no_exception(at)
    return at


def upload(at, raw: bytes, name: str = "mine.csv"):
    at.get("file_uploader")[0].set_value((name, raw, "text/csv"))
    at.run()
    no_exception(at)
    return at


def test_a_csv_trains_and_draws_its_projection(app):
    """Upload a 3-column table, the label is picked by default, a step trains and both projections are drawn."""
    at = own_data(app)
    assert any("Upload a CSV" in i.value for i in at.info)
    upload(at, csv_bytes())
    assert at.selectbox(key="pg.csv.target").value == "kind"
    assert at.multiselect(key="pg.csv.features").value == ["f0", "f1", "f2"]
    assert any("60 rows" in c.value and "2 classes" in c.value for c in at.sidebar.caption)
    at.button(key="pg.step").click().run()
    trainer = wait_idle(at, "pg").trainers[0]  # the step trains in the background
    no_exception(at)
    titles = chart_titles(at)
    assert "Your data: kind" in titles and "The network's prediction" in titles
    assert trainer.spec.data.name == "table" and trainer.spec.data.columns == 3 and trainer.epoch == 1
    assert at.query_params["data.table"] == trainer.spec.data.table


def test_two_columns_get_the_decision_surface_named_by_the_columns(app):
    """A 2-column table is a plane: the decision surface and the network diagram, axes named by the columns."""
    at = upload(own_data(app), csv_bytes(columns=2))
    at.button(key="pg.step").click().run()
    assert "Decision surface" in chart_titles(at)
    assert any(t.startswith("Network") for t in chart_titles(at))


def test_a_bad_csv_says_why_and_keeps_the_table_in_use(app):
    """Text in a numeric column, then one class only: each shows its message; the trained table stays."""
    at = upload(own_data(app), csv_bytes())
    at.button(key="pg.step").click().run()
    from ui.state import manager

    job = at.session_state["pg._job"]
    table = manager().get(job).trainers[0].spec.data.table
    bad = csv_bytes().replace(b"\n0.", b"\nabc,", 1)  # a cell of text: that line has one value too many
    upload(at, bad, "bad.csv")
    assert any("line 2 has 5 values" in e.value for e in at.error)
    assert any("bad.csv" in e.value and "Nothing was changed" in e.value for e in at.error)
    assert at.session_state["pg._job"] == job and manager().get(job).trainers[0].spec.data.table == table
    upload(at, csv_bytes().replace(b",b\n", b",a\n"), "one.csv")
    assert any("one class only" in e.value for e in at.error)
    assert manager().get(at.session_state["pg._job"]).trainers[0].spec.data.table == table
    lines = csv_bytes().split(b"\n")
    lines[3] = b"1.0,oops," + lines[3].split(b",", 2)[2]  # text in column f1 on line 4
    upload(at, b"\n".join(lines), "text.csv")
    assert any("f1" in w.value and "text ('oops') on line 4" in w.value for w in at.warning)
    assert at.multiselect(key="pg.csv.features").value == ["f0", "f2"]


def test_a_link_opens_the_same_table_and_a_missing_one_is_named(app):
    """Another session opening the link trains on the same stored table; an unknown hash says to upload again."""
    at = upload(own_data(app), csv_bytes())
    at.button(key="pg.step").click().run()
    query = {k: v for k, v in at.query_params.items() if k != "run"}
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    other = AppTest.from_file(APP, default_timeout=60)
    other = open_page(other, "pages/playground.py", **query)
    assert any("60 rows" in c.value for c in other.sidebar.caption)
    other.button(key="pg.step").click().run()
    assert "Your data: kind" in chart_titles(other)
    gone = AppTest.from_file(APP, default_timeout=60)
    gone = open_page(gone, "pages/playground.py", **(query | {"data.table": "0123456789abcdef"}))
    assert any("upload the CSV again" in e.value for e in gone.error)


def test_a_2d_set_leaves_the_table_out_and_switching_back_restores_it(app):
    """Back on a 2-D set the spec and link name no table; choosing your own data again trains the same table."""
    at = upload(own_data(app), csv_bytes())
    at.button(key="pg.step").click().run()
    from ui.state import manager

    table = manager().get(at.session_state["pg._job"]).trainers[0].spec.data.table
    at.selectbox(key="pg.data.name").select("circle").run()
    at.button(key="pg.step").click().run()
    no_exception(at)
    spec = manager().get(at.session_state["pg._job"]).trainers[0].spec
    assert spec.data.name == "circle" and spec.data.table == "" and "data.table" not in at.query_params
    at.selectbox(key="pg.data.name").select("table").run()
    at.button(key="pg.step").click().run()
    assert manager().get(at.session_state["pg._job"]).trainers[0].spec.data.table == table


def test_a_number_column_with_many_values_is_a_regression_target(app):
    """The last column holds many different numbers: regression is chosen, trained and drawn in its units."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3))
    rows = "".join(",".join(f"{v:.4f}" for v in r) + f",{100 + 10 * r.sum():.3f}\n" for r in x)
    at = upload(own_data(app), ("a,b,c,price\n" + rows).encode())
    assert at.segmented_control(key="pg.csv.task").value == "regression"
    assert any("Target **price**: numbers from" in c.value for c in at.sidebar.caption)
    at.button(key="pg.step").click().run()
    no_exception(at)
    from tests.app.conftest import chart_figures

    fig = next(f for f in chart_figures(at) if f["layout"].get("title", {}).get("text") == "Your data: price")
    ticks = fig["data"][0]["marker"]["colorbar"]["ticktext"]
    assert float(ticks[0]) < 100 < float(ticks[-1])  # the colour bar reads in the column's own units
    assert at.selectbox(key="pg.train.loss").value in ("mse", "half_mse")


def test_a_label_sent_for_the_file_before_is_no_error(app, monkeypatch):
    """A request the browser sent before a new file's run reached it carries the old file's label column, a name
    the new table may not have: the page keeps the new file's own choices (it used to raise in the callback)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    from streamlit.testing.v1.element_tree import Selectbox

    at = upload(own_data(app), csv_bytes())
    upload(at, csv_bytes(columns=4).replace(b"kind", b"class"), "other.csv")
    box = at.selectbox(key="pg.csv.target")
    assert box.value == "class"
    # The browser sends a select box's value as its option's text: here the old file's label, no option now.
    drawn = Selectbox._widget_state.fget
    stale = WidgetState(id=box.id, string_value="kind")
    monkeypatch.setattr(Selectbox, "_widget_state", property(lambda b: stale if b.id == box.id else drawn(b)))
    at.run()
    monkeypatch.undo()
    no_exception(at)
    columns = {"class", "f0", "f1", "f2", "f3"}
    assert at.selectbox(key="pg.csv.target").value in columns
    assert set(at.multiselect(key="pg.csv.features").value) <= columns
