"""The registry's lesion, stent and therapy fields on the pages (AppTest)."""

from __future__ import annotations


def test_the_patency_page_compares_the_demo_by_a_device_it_does_not_record(page_test):
    """The demo records no stent design: comparing by it draws the overall curve alone, with
    no traceback (before, the comparison of no group failed)."""
    at = page_test("pages/1_Patency.py", by="stent_design")
    assert not at.exception
    assert at.session_state["by"] == "stent_design"
