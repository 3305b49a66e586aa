"""Browser test: a lesson link opens on its page in a real browser, with its note and no exception.

Every lesson's link is opened through AppTest (tests/app/test_scaffold.py); the browser opens one lesson per page
(the last listed), which covers each page's own charts and widgets in Chromium.
"""

import pytest

from core.presets import list_presets
from tests.e2e.conftest import assert_no_exception, open_page

pytestmark = pytest.mark.e2e

LAST_OF_EACH_PAGE = list({p.page: p for p in list_presets()}.values())


def test_a_lesson_link_of_every_page_opens_without_an_exception(server, page):
    """?preset=<name> on its page, one lesson per page: the lesson's title shows, no exception."""
    for preset in LAST_OF_EACH_PAGE:
        open_page(page, f"{server}/{preset.page}?preset={preset.name}")
        page.get_by_text(preset.title, exact=False).first.wait_for(timeout=30000)
        assert_no_exception(page)
