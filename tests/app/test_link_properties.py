"""Property test: any link (any parameter the URL spec knows, unknown ones, hostile and
ordinary values) opens any page without an exception; every value a page could not use
is named in a notice instead."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import unescaped
from ui.navigation import PAGES
from ui.state import COHORT, PARAMS

VALUES = (
    "", "yes", "no", "maybe", "any", "all", "-1", "0", "2", "7", "12", "85", "1e9", "nan",
    "left", "right", "F", "M", "IVC", "IVC,CIV", "CIV+EIV", "C01", "patient_id", "primary",
    "recurrent_dvt", "thrombophilia", "dotted", "cut", "technical_success",
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
