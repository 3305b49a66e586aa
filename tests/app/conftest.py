"""AppTest fixtures: start from app.py; stop every job a test started."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def app():
    """An AppTest of the whole app (router included), stopped jobs afterwards."""
    at = AppTest.from_file(APP, default_timeout=60)
    yield at
    from ui.state import manager

    manager().stop_all()
    manager.clear()


def no_exception(at: AppTest) -> None:
    """Fail with the page's exception text when it shows one."""
    assert not at.exception, [e.message for e in at.exception]
