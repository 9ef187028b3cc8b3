"""No Markdown or HTML from data or links is rendered: link values, cohort and centre names.

Each page is opened with hostile link values or on a cohort whose name and centres are
hostile (tests.conftest), and every element Streamlit renders as Markdown, and every
string of every chart, is read as Streamlit and plotly would read it.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import HOSTILE_CENTRES, HOSTILE_NAME, live_markup, plotly_figures, unescaped

HOSTILE_LINK = {
    "center": "[Re-login](https://evil.example/login)",
    "age_min": "![p](https://evil.example/p.png)",
    "by": '<img src="https://evil.example/i.png">',
    "month": ":red[alarm] $x^2$ www.evil.example",
    "see": "[here](https://evil.example)",  # not a parameter: its notice names it, and its value
}


def markdown_bodies(at) -> list[str]:
    """Every text the page rendered as Markdown: bodies, alerts, metric and widget labels."""
    kinds = ("markdown", "caption", "title", "header", "subheader", "warning", "info", "error",
             "success")  # fmt: skip
    bodies = [element.value for kind in kinds for element in at.get(kind)]
    bodies += [m.label for m in at.metric]
    for kind in ("selectbox", "multiselect", "radio", "toggle", "number_input", "button"):
        for widget in at.get(kind):
            bodies += [widget.label, widget.help or ""]
    return bodies


def chart_strings(at) -> list[str]:
    """Every string of every chart the page drew (plotly renders HTML in them)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for figure in plotly_figures(at):
        walk(figure)
    return found


def table_cells(at) -> list[str]:
    """Every cell text the page's tables display (st.table renders each as Markdown): the
    Styler's display values Streamlit sends the browser, not the data behind them."""
    import pyarrow as pa

    cells: list[str] = []
    for table in at.table:
        shown = pa.ipc.open_stream(table.proto.arrow_data.styler.display_values).read_all()
        cells += [str(v) for column in shown.columns for v in column.to_pylist() if v is not None]
    return cells


def assert_nothing_rendered_from_data(at, marker: str = "evil") -> None:
    assert not at.exception
    bodies = [b for b in markdown_bodies(at) + table_cells(at) if marker in b.replace("\u2060", "")]
    assert bodies, "the hostile text should be shown somewhere"
    assert {body: live_markup(body) for body in bodies if live_markup(body)} == {}
    tags = [s for s in chart_strings(at) if re.search(r"(?i)<(a|img)\b", s)]
    assert tags == []


def test_hostile_link_values_are_named_as_text_in_the_notices(page_test):
    at = page_test("app.py", **HOSTILE_LINK)
    assert_nothing_rendered_from_data(at)
    notices = [unescaped(w.value) for w in at.sidebar.warning]
    for key, text in HOSTILE_LINK.items():
        assert any(f"{key}={text!r}" in notice for notice in notices), key


@pytest.fixture
def hostile_page(page_test, hostile_path, monkeypatch: pytest.MonkeyPatch):
    """A page on the cohort whose name and centres are hostile."""
    monkeypatch.setenv("COHORT_DB", str(hostile_path))
    return page_test


@pytest.mark.parametrize(
    ("page", "params"),
    [
        ("app.py", {}),
        ("pages/7_Centres.py", {}),
        ("pages/6_Data.py", {}),
        ("pages/1_Patency.py", {"by": "center"}),
        # the reference group's name: in the comparison's heading and the chart's subtitle
        ("pages/1_Patency.py", {"by": "center", "ref": HOSTILE_CENTRES[5]}),
        ("pages/1_Patency.py", {"by": "center", "ref": HOSTILE_CENTRES[7]}),
        ("pages/4_Subgroups.py", {}),
        ("app.py", {"present": "yes", "center": HOSTILE_CENTRES[5]}),
    ],
)
def test_a_hostile_cohort_and_centre_names_show_as_text(hostile_page, page, params):
    at = hostile_page(page, **params)
    assert_nothing_rendered_from_data(at)


def test_the_cohort_name_is_shown_whole_in_the_sidebar(hostile_page):
    at = hostile_page("app.py")
    shown = [unescaped(c.value) for c in at.sidebar.caption]
    assert any(HOSTILE_NAME in text for text in shown)


def test_centre_names_on_charts_are_the_escaped_text(hostile_page):
    at = hostile_page("pages/1_Patency.py", by="center")
    strings = chart_strings(at)
    assert any('&lt;a href="https://evil.example"&gt;x&lt;/a&gt;' in s for s in strings)


def test_centre_names_in_tables_are_the_escaped_text(hostile_page):
    at = hostile_page("pages/7_Centres.py")
    shown = {unescaped(cell) for cell in table_cells(at)}
    assert set(HOSTILE_CENTRES) <= shown
    assert {cell: live_markup(cell) for cell in table_cells(at) if live_markup(cell)} == {}


def test_a_missing_value_in_a_table_is_a_dash_not_a_bullet(page_test):
    """A lone "-" (MISSING) in a Markdown cell starts a list: it shows as a bullet."""
    at = page_test("pages/4_Subgroups.py")  # a level without an estimable ratio
    missing = [cell for cell in table_cells(at) if unescaped(cell) == "-"]
    assert missing
    assert set(missing) == {"\\-"}
