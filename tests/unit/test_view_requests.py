"""The views' request objects: each option reaches the view that asks for it, and two views
asking for the same curves get the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.filters import CohortFilter
from analytics.glossary import PATENCY_ENDPOINTS
from analytics.views import PatencyRequest, ReportRequest, patency_of, report_of

OPTIONS = {"months": (6.0, 12.0), "horizon": 24.0, "risk_months": (0.0, 12.0),
           "reference": "yes", "landmark": 6.0}  # fmt: skip


def test_the_patency_page_and_the_report_agree_on_the_same_options(demo):
    """Both carry by, months, horizon, risk-table months, reference and landmark to the
    same survival computation: the report's primary patency is the page's, number for
    number, the landmark's included."""
    page = patency_of(demo, CohortFilter(), PatencyRequest("thrombophilia", **OPTIONS))
    report = report_of(demo, CohortFilter(), ReportRequest("thrombophilia", **OPTIONS))
    assert (page.months, page.horizon) == (report.months, report.horizon) == ((6, 12), 24)
    assert page.risk_months == report.risk_months and page.risk_months[:2] == (0, 12)
    ours, theirs = page.survival["primary"], report.survival["primary"]
    assert [g.level for g in ours.groups] == [g.level for g in theirs.groups] == ["no", "yes"]
    assert ours.comparison.reference == theirs.comparison.reference == "yes"
    for mine, other in zip(ours.groups, theirs.groups, strict=True):
        np.testing.assert_array_equal(mine.estimates.estimate, other.estimates.estimate)
        assert mine.rmst.estimate == other.rmst.estimate
    assert page.landmark_month == report.landmark == 6
    np.testing.assert_array_equal(
        ours.landmark.survival.overall.estimates.estimate,
        theirs.landmark.survival.overall.estimates.estimate,
    )


def test_with_no_comparison_the_patency_page_draws_the_three_patencies(demo):
    view = patency_of(demo, CohortFilter(), PatencyRequest(endpoint="secondary"))
    assert tuple(view.survival) == PATENCY_ENDPOINTS and view.compared is None


@pytest.mark.parametrize("request_type", [PatencyRequest, ReportRequest])
def test_a_request_is_a_cache_key(request_type):
    """Frozen and hashable: equal requests are one key, another option another."""
    first, same = (
        request_type(by="sex", risk_months=(0, 6)),
        request_type(by="sex", risk_months=(0, 6)),
    )
    assert len({first, same, request_type(by="sex", landmark=12.0)}) == 2
    with pytest.raises(AttributeError):
        first.by = None
