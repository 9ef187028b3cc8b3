"""A deployment setting that is none of its values stops every page: the message in its
place, no page served, no traceback."""

from __future__ import annotations

import pytest

from tests.conftest import unescaped

PAGES = ("app.py", "pages/3_Safety.py", "pages/6_Data.py")
BAD = [
    ("COHORT_PRIVACY", "enforce", "COHORT_PRIVACY='enforce' is not a privacy mode: use off, "
     "on or enforced"),
    ("COHORT_PRIVACY_K", "50", "COHORT_PRIVACY_K='50' is not a privacy k: use a whole number "
     "from 3 to 20"),
    ("COHORT_IMPORTS_SHARED", "everyone", "COHORT_IMPORTS_SHARED='everyone' is neither yes "
     "nor no: use 1, true, y, yes to publish"),
    ("COHORT_IMPORT_RETENTION_DAYS", "30d", "COHORT_IMPORT_RETENTION_DAYS='30d' is not a "
     "number of days: use a whole number from 1 to 3650"),
]  # fmt: skip


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("name", "value", "said"), BAD)
def test_a_bad_setting_stops_every_page_with_its_message(
    page_test, monkeypatch, page, name, value, said
):
    monkeypatch.setenv(name, value)
    at = page_test(page)
    assert not at.exception
    errors = [unescaped(e.value) for e in at.error]
    assert len(errors) == 1 and said in errors[0], errors
    assert not (at.metric or at.table or at.dataframe or at.sidebar.toggle)  # nothing served


@pytest.mark.parametrize("value", ["", "no", "0", "yes", " Y "])
def test_a_yes_or_no_or_nothing_shares_or_keeps_imports_as_written(page_test, monkeypatch, value):
    monkeypatch.setenv("COHORT_IMPORTS_SHARED", value)
    at = page_test("pages/6_Data.py")
    assert not at.exception and not at.error
