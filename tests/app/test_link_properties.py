"""Property test: any link (any parameter the URL spec knows, unknown ones, hostile and
ordinary values) opens any page without an exception; every value a page could not use
is named in a notice instead."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.rules import MAX_AXIS_MONTHS, MIN_AT_RISK_CHOICES, RISK_TABLE_CHOICES
from tests.conftest import unescaped
from ui.navigation import PAGES
from ui.state import (
    COHORT,
    PARAMS,
    parse_axis_months,
    parse_min_at_risk,
    parse_risk_months,
    risk_months_text,
)

VALUES = (
    "", "yes", "no", "maybe", "any", "all", "-1", "0", "2", "7", "12", "85", "1e9", "nan",
    "left", "right", "F", "M", "IVC", "IVC,CIV", "CIV+EIV", "C01", "patient_id", "primary",
    "recurrent_dvt", "thrombophilia", "dotted", "cut", "technical_success", "months", "years",
    "0,12,24,36,48", "36,0,0", "0,,12", "240", "241", "20", "50",
    "symptom_duration_months,recurrent_dvt", "center,age_years", "assisted_primary",
    "[link](https://example.org)", "![i](https://example.org/x.png)", "=1+1", "<b>x</b>",
)  # fmt: skip
KEYS = (*PARAMS, COHORT, "unknown_key")
links = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=6)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(page=st.sampled_from([path for path, _, _ in PAGES]), link=links)
def test_any_link_opens_any_page_and_names_what_it_dropped(page_test, page, link):
    at = page_test(page, **link)
    assert not at.exception, (page, link, [e.value for e in at.exception])
    notices = " ".join(unescaped(w.value) for w in at.sidebar.warning)
    if "unknown_key" in link:
        assert "unknown_key=" in notices


@given(st.lists(st.sampled_from(RISK_TABLE_CHOICES), min_size=1), st.sampled_from([",", ", "]))
def test_risk_months_read_back_from_their_link_text_in_order_once_each(months, separator):
    chosen = parse_risk_months(separator.join(map(str, months)))
    assert chosen == sorted(set(months))
    text = risk_months_text(chosen)
    assert text is None or parse_risk_months(text) == chosen  # None: the default months


@given(st.text(max_size=30) | st.sampled_from(["0, 12", "48", "10", "240", "007", "٣", "9" * 9]))
def test_time_axis_parsers_take_only_what_their_widgets_offer(text):
    """Any text is a value the widget offers, or a ValueError (a notice), never another error."""
    for parse, allowed in (
        (parse_risk_months, lambda months: set(months) <= set(RISK_TABLE_CHOICES) and months),
        (parse_axis_months, lambda months: 1 <= months <= MAX_AXIS_MONTHS),
        (parse_min_at_risk, lambda patients: patients in MIN_AT_RISK_CHOICES),
    ):
        try:
            value = parse(text)
        except ValueError:
            continue
        assert allowed(value), (parse.__name__, text, value)
