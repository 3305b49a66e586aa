"""AppTest: every file uploader (Playground CSV, CNN image, Runs import) takes a good file, a bad file, another good
file and the file removed, in every order: one clear message each, never a traceback, and nothing trained is lost.

Streamlit 1.67's AppTest drives `st.file_uploader` itself (`FileUploader.set_value`), through the page's real run.
"""

import io
import itertools
import json
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from core.spec import Spec, to_dict
from tests.app.conftest import chart_figures, no_exception, open_page, wait_idle
from tests.app.test_upload_page import csv_bytes


def png(seed: int) -> bytes:
    """A dark stroke on white, as a student's photographed digit would be."""
    rng = np.random.default_rng(seed)
    img = np.full((40, 40), 255, np.uint8)
    r = rng.integers(8, 24)
    img[r : r + 12, 10:30] = 0
    out = io.BytesIO()
    Image.fromarray(img).save(out, format="PNG")
    return out.getvalue()


def spec_json(lr: float) -> bytes:
    return json.dumps(to_dict(Spec().with_(**{"train.lr": lr}))).encode()


@dataclass(frozen=True)
class Uploader:
    path: str
    prefix: str  # the page whose trained network must stay (the Runs page: the Playground's)
    key: str
    files: dict  # event -> (name, bytes); "removed": no file
    bad: str  # what the one message about the bad file says


def _playground(at):
    at.selectbox(key="pg.data.name").select("table").run()
    _upload(at, "pg.csv.file", ("first.csv", csv_bytes()))


def _cnn(at):
    at.radio(key="cnn.source").set_value("Upload").run()


UPLOADERS = {
    "playground csv": (
        Uploader(
            "pages/playground.py",
            "pg",
            "pg.csv.file",
            {"good": ("a.csv", csv_bytes(seed=1)), "bad": ("bad.csv", b"f0,kind\n\xff\xfe\x80,a\n"), "good2": ("b.csv", csv_bytes(columns=2, seed=2))},
            "Nothing was changed",
        ),
        _playground,
    ),
    "cnn image": (
        Uploader("pages/cnn.py", "cnn", "cnn.upload", {"good": ("a.png", png(1)), "bad": ("bad.png", b"not a picture"), "good2": ("b.png", png(2))}, "Cannot use this image"),
        _cnn,
    ),
    "runs import": (
        Uploader("pages/runs.py", "pg", "runs.import", {"good": ("a.json", spec_json(0.1)), "bad": ("bad.json", b"{not json"), "good2": ("b.json", spec_json(0.2))}, "Nothing was imported"),
        None,
    ),
}  # fmt: skip
ORDERS = list(itertools.permutations(("good", "bad", "good2", "removed")))


def _upload(at, key: str, file):
    """Choose `file` ((name, bytes), or None: remove the file) in the uploader `key`, as the browser would."""
    uploader = next(w for w in at.get("file_uploader") if w.key == key)
    uploader.set_value(None if file is None else (*file, "application/octet-stream"))
    at.run()


def _trained(at, prefix: str):
    """The page's job, its epoch, and how many charts the page shows."""
    from ui.state import manager

    job = manager().get(at.session_state[f"{prefix}._job"])
    return job.id, job.trainers[0].epoch, len(chart_figures(at))


@pytest.mark.parametrize("name", list(UPLOADERS))
def test_every_order_of_uploads_keeps_the_network(app, name):
    """Good, bad, another good, removed, in all 24 orders: one message each, no traceback, the network stays."""
    up, prepare = UPLOADERS[name]
    trained_on = "pages/playground.py" if up.prefix == "pg" else up.path
    at = open_page(app, trained_on)
    if prepare is _playground:
        prepare(at)
    at.button(key=f"{up.prefix}.step").click().run()
    wait_idle(at, up.prefix)
    if trained_on != up.path:
        at.switch_page(up.path).run()
    elif prepare is not None and prepare is not _playground:
        prepare(at)
    no_exception(at)
    charts = len(chart_figures(at))  # the training charts (a good image adds its own, which a bad one removes)
    for order in ORDERS:
        for event in order:
            if up.path == trained_on:
                before = _trained(at, up.prefix)
            _upload(at, up.key, up.files.get(event))
            where = f"{name}, {order}, {event}"
            no_exception(at)
            errors = [e.value for e in at.error]
            if event == "bad":
                assert len(errors) == 1 and up.bad in errors[0], (where, errors)
            else:
                assert not errors, (where, errors)
            if up.path == trained_on and event in ("bad", "removed"):
                job, epoch, now = _trained(at, up.prefix)
                assert job == before[0] and epoch >= before[1] and now >= charts, (where, before)
    if trained_on != up.path:  # the network trained on another page is still there
        at.switch_page(trained_on).run()
        no_exception(at)
        assert _trained(at, up.prefix)[1] >= 1
