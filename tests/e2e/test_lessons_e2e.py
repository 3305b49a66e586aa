"""Browser test: every lesson preset opens on its page in a real browser, with its note and no exception."""

import pytest

from core.presets import list_presets
from tests.e2e.conftest import assert_no_exception, open_page

pytestmark = pytest.mark.e2e


def test_every_lesson_link_opens_without_an_exception(server, page):
    """?preset=<name> on its page, for every shipped lesson: the lesson's title shows, no exception."""
    for preset in list_presets():
        open_page(page, f"{server}/{preset.page}?preset={preset.name}")
        page.get_by_text(preset.title, exact=False).first.wait_for(timeout=30000)
        assert_no_exception(page)
