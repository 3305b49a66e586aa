"""Every icon the app names is drawn from what Streamlit ships, so a classroom without internet sees it.

Streamlit bundles the Material Symbols font for the icons it lists (`streamlit.material_icon_names`): an icon in
a page link, a button or an alert is drawn from that font. The browser tab's icon (`page_icon`, and a page's icon
when no `page_icon` is set) is different: a Material name there is fetched from fonts.gstatic.com.
"""

import ast
from pathlib import Path

from streamlit.material_icon_names import ALL_MATERIAL_ICONS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "app.py"] + sorted(p for d in ("pages", "ui") for p in (ROOT / d).glob("**/*.py"))


def strings(path: Path) -> list[ast.Constant]:
    """Every string literal in a Python file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def test_every_material_icon_is_one_streamlit_ships():
    """`:material/name:` anywhere in the app names an icon in Streamlit's bundled font."""
    named = {
        (path.relative_to(ROOT), s.lineno, s.value)
        for path in SOURCES
        for s in strings(path)
        if s.value.startswith(":material/")
    }
    assert len(named) >= 10  # the pages, their buttons and alerts name icons: the scan found them
    unknown = [
        (str(p), line, v) for p, line, v in named if v.removeprefix(":material/").rstrip(":") not in ALL_MATERIAL_ICONS
    ]
    assert unknown == []


def test_the_browser_tab_icon_is_not_fetched():
    """`page_icon` is set (so no page's Material icon becomes the tab's icon) and is not a Material icon."""
    icons = [
        kw.value
        for path in SOURCES
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "page_icon"
    ]
    assert icons, "set_page_config(page_icon=...) is missing: each page's Material icon would be fetched"
    for icon in icons:
        assert isinstance(icon, ast.Constant) and not icon.value.startswith(":material/"), ast.unparse(icon)
