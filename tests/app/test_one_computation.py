"""Each curve a page shows is computed once, whatever the page lays out around it."""

from __future__ import annotations

from collections import Counter

import pytest

from analytics.stats import subgroups, survival
from analytics.stats.engine import kaplan_meier


@pytest.fixture
def curves(monkeypatch) -> Counter:
    """Every Kaplan-Meier fit of a page run, keyed by what it was fitted on."""
    fitted: Counter = Counter()

    def counted(counts, clusters=None):
        key = (counts.levels, counts.time.tobytes(), counts.events.tobytes())
        fitted[key] += 1
        return kaplan_meier.kaplan_meier(counts, clusters)

    for module in (survival, subgroups):
        monkeypatch.setattr(module, "kaplan_meier", counted)
    return fitted


@pytest.mark.parametrize(
    ("page", "params", "expected"),
    [
        ("pages/1_Patency.py", {}, 3),  # the three patencies
        ("pages/1_Patency.py", {"by": "sex"}, 3),  # the whole cohort and each sex
        # a reference chosen, and the landmark: the same three, and the three from month 12
        ("pages/1_Patency.py", {"by": "sex", "ref": "M", "landmark": "12"}, 6),
        ("app.py", {}, 3),
    ],
)
def test_a_page_fits_each_curve_once(page_test, curves, page, params, expected):
    at = page_test(page, **params)
    assert not at.exception
    assert sum(curves.values()) == expected
    assert set(curves.values()) == {1}


def test_subgroups_fit_each_level_of_each_factor_once(page_test, curves):
    at = page_test("pages/4_Subgroups.py")
    assert not at.exception
    rows = len(at.table[0].value)
    assert sum(curves.values()) == rows  # one fit per level shown, none repeated
