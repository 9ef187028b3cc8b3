"""Names with control characters in a cohort file reach no screen: the Centres page, the
sidebar and a comparison by centre show them without (ui.text.plain, figure_text,
format.data_text)."""

from __future__ import annotations

import re

import pytest

from analytics.cohort.db import open_cohort
from tests.app.test_no_markup_from_data import chart_strings, markdown_bodies
from tests.conftest import CONTROL_CENTRES, unescaped

CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # Unicode Cc; product text breaks lines
SHOWN_CENTRES = ["Centre 2", "[31mRed[0m centre"]  # the vertical tab a space, ESC gone


@pytest.fixture
def control_page(page_test, control_path, monkeypatch):
    monkeypatch.setenv("COHORT_DB", str(control_path))
    return page_test


def screen_texts(at) -> list[str]:
    """Every text of the run: Markdown bodies, widget labels and options, table cells,
    chart strings."""
    texts = markdown_bodies(at) + chart_strings(at)
    for kind in ("selectbox", "multiselect"):
        texts += [str(option) for widget in at.get(kind) for option in widget.options]
    for table in [*at.table, *at.dataframe]:
        frame = table.value
        texts += [str(c) for c in frame.columns] + [str(v) for v in frame.to_numpy().ravel()]
    return texts


def test_the_centres_page_shows_the_names_without_control_characters(control_page):
    at = control_page("pages/7_Centres.py")
    assert not at.exception
    every = at.table[-1].value
    assert sorted(every["Centre"]) == SHOWN_CENTRES
    texts = screen_texts(at)
    assert [t for t in texts if CONTROL.search(t)] == []
    centre = at.sidebar.selectbox(key="center")
    assert sorted(centre.options) == SHOWN_CENTRES


def test_a_centre_picked_in_a_link_filters_by_its_name_as_the_file_holds_it(
    control_page, control_path
):
    """The filter keeps the data's own value; only its words lose the character."""
    at = control_page("pages/3_Safety.py", center=CONTROL_CENTRES[0])
    assert not at.exception and not at.sidebar.warning
    assert [t for t in screen_texts(at) if CONTROL.search(t)] == []
    with open_cohort(control_path) as con:
        (n,) = con.execute(
            "SELECT count(*) FROM limb_summary WHERE technical_success AND center = ?",
            [CONTROL_CENTRES[0]],
        ).fetchone()
    picked = at.sidebar.selectbox(key="center")
    assert picked.value == CONTROL_CENTRES[0] and "Centre 2" in picked.options  # held, shown
    assert f"**n = {n} of 37 patients** match the filters" in [m.value for m in at.sidebar.markdown]


def test_the_patency_page_by_centre_names_its_curves_without_control_characters(control_page):
    at = control_page("pages/1_Patency.py", by="center")
    assert not at.exception
    texts = screen_texts(at)
    assert [t for t in texts if CONTROL.search(t)] == []
    assert all(any(centre in t for t in texts) for centre in SHOWN_CENTRES)


@pytest.mark.parametrize(
    "page", ["app.py", "pages/4_Subgroups.py", "pages/5_Tables.py", "pages/6_Data.py"]
)
def test_no_other_page_shows_a_control_character(control_page, page):
    at = control_page(page)
    assert not at.exception
    texts = screen_texts(at)
    assert [t for t in texts if CONTROL.search(t)] == []
    assert any("Cohort]0;owned name" in unescaped(t) for t in texts)  # the cohort's name
