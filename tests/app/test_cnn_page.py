"""AppTest: the CNN page opens through the router, its widgets change the network, Step trains."""

import json

import pytest

from core.presets import load_preset
from tests.app.conftest import chart_figures, no_exception, wait_idle


def open_cnn(app, query: dict | None = None):
    at = app
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/cnn.py").run()
    no_exception(at)
    return at


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_open_step_and_see_inside(app):
    """The default lesson opens, shows the layer table, trains one epoch and draws the inside views."""
    at = open_cnn(app)
    assert at.title[0].value == "Convolutional networks"
    assert at.dataframe, "the per-layer shape table is shown before training"
    assert metric(at, "Epoch") == "0"
    at.button(key="cnn.step").click().run()
    wait_idle(at, "cnn")
    no_exception(at)
    assert metric(at, "Epoch") == "1"
    assert metric(at, "Test accuracy").endswith("%")
    titles = [json.dumps(f) for f in chart_figures(at)]
    assert any("Feature maps, conv 1" in t for t in titles)
    assert any("Confusion matrix" in t for t in titles)


def test_layer_editor_add_move_remove(app):
    """Adding, moving and removing layers changes the table; an impossible stack names the layer."""
    at = open_cnn(app)
    n = len(at.session_state["cnn._layers"])
    at.selectbox(key="cnn._new_type").set_value("dropout").run()
    add = next(b for b in at.button if b.label == "Add layer")
    add.click().run()
    no_exception(at)
    layers = at.session_state["cnn._layers"]
    assert len(layers) == n + 1 and layers[-1]["type"] == "dropout"
    uid = layers[-1]["uid"]
    at.button(key=f"cnn.layer.{uid}.up").click().run()
    assert at.session_state["cnn._layers"][-2]["uid"] == uid
    at.button(key=f"cnn.layer.{uid}.remove").click().run()
    assert len(at.session_state["cnn._layers"]) == n
    first = at.session_state["cnn._layers"][0]["uid"]
    at.number_input(key=f"cnn.layer.{first}.kernel").set_value(15).run()
    no_exception(at)
    assert any("model.layers[0].kernel" in e.value for e in at.error)


def test_shapes_augmentation_and_training_widgets(app):
    """Switching to shapes, turning on augmentation and changing the optimiser keeps the page working."""
    at = open_cnn(app)
    at.selectbox(key="cnn.data.name").set_value("shapes").run()
    at.slider(key="cnn.data.classes").set_value(3).run()
    at.number_input(key="cnn.data.n").set_value(300).run()
    at.number_input(key="cnn.data.image_size").set_value(16).run()
    no_exception(at)
    at.session_state["cnn.data.augment"] = ["rotate", "noise"]
    at.run()
    no_exception(at)
    titles = [json.dumps(f) for f in chart_figures(at)]
    assert any("Augmentation" in t for t in titles)
    at.selectbox(key="cnn.train.optimizer").set_value("sgd").run()
    at.toggle(key="cnn.compare").set_value(True).run()
    no_exception(at)
    at.button(key="cnn.step").click().run()
    wait_idle(at, "cnn")
    no_exception(at)
    assert any("A, no augmentation" in m.label for m in at.metric)


@pytest.mark.parametrize("name", ["cnn-digits", "cnn-shapes", "cnn-augmentation", "cnn-no-pooling"])
def test_presets_open(app, name):
    """Every CNN lesson opens from its link without an error and shows its lesson."""
    at = open_cnn(app, {"preset": name})
    assert not at.error, [e.value for e in at.error]
    assert any(load_preset(name).title in i.value for i in at.info)
