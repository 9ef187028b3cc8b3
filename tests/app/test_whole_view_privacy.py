"""Privacy over a whole page: no count below k can be worked out from what one page shows,
the sidebar's n included (issue 22's probes, each on the page that gave a count away)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analytics.glossary import CRUDE_PERCENT
from tests.conftest import SMALL_CENTRE, plotly_figures


def sidebar_n(at) -> str:
    """The sidebar's n as shown: "34", "<5" or "hidden"."""
    (text,) = [m.value for m in at.sidebar.markdown if m.value.startswith("**n = ")]
    return re.match(r"\*\*n = (\S+) of", text).group(1)


def test_a_small_centre_is_not_n_minus_the_other_centres(
    page_test, small_centre_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # C07 has 3 of the 37 patients, C01 the rest: "<5" beside n and C01's 34 gave 3 away
    monkeypatch.setenv("COHORT_DB", str(small_centre_path))
    at = page_test("pages/7_Centres.py", privacy="yes")
    assert not at.exception
    table = at.table[-1].value.set_index("Centre")
    assert table.loc[SMALL_CENTRE, "Patients"] == "<5"
    shown = [sidebar_n(at), table.loc["C01", "Patients"]]
    assert "hidden" in shown, shown
    assert not any(SMALL_CENTRE in str(trace.get("customdata")) for trace in
                   plotly_figures(at)[0]["data"])  # fmt: skip
    assert at.caption[0].value.startswith(f"{sidebar_n(at)} patients in 2 centre(s)")


def test_the_safety_page_gives_no_interval_or_count_over_a_hidden_n(page_test):
    # 4 patients, 2 with a recurrent DVT, k = 3: the 2 with it and the 2 without are both
    # "<3", so n is hidden, and 0 of n with its exact interval (0.0-60.2) gave n = 4
    at = page_test("pages/3_Safety.py", privacy="yes", privacy_k="3",
                   lesion_side="left", recent_surgery="yes")  # fmt: skip
    assert not at.exception
    assert sidebar_n(at) == "hidden"
    crude, incidence = (t.value for t in at.table[:2])
    crude = crude.set_index("Event")
    assert crude.loc["Recurrent DVT", "Patients"] == "<3"
    assert set(crude["95% CI (%)"]) == {"hidden"} and set(crude[CRUDE_PERCENT]) == {"hidden"}
    assert set(incidence.drop(columns="Event").to_numpy().ravel()) <= {"hidden", "-"}
    assert at.caption[0].value.startswith("hidden patients followed for hidden patient-years")
    shown = str([trace for figure in plotly_figures(at) for trace in figure["data"]])
    assert "60.2" not in shown and "'4'" not in shown


def test_table1_rows_that_hold_a_segment_do_not_give_the_patients_without_it(page_test):
    # EIV in 32 of the 34: its share hidden, n minus the three rows that hold EIV
    # (CIV+EIV+CFV 19, CIV+EIV 6, EIV+CFV 7) still gave the 2 without it
    at = page_test("pages/5_Tables.py", privacy="yes")
    assert not at.exception
    rows = at.table[0].value.set_index("Characteristic")["Value"]
    holding = [rows[f"Segments (paper's rows): {r}"] for r in ("CIV+EIV+CFV", "CIV+EIV", "EIV+CFV")]
    shown = [sidebar_n(at), rows["Patients"], *holding]
    assert rows["Segment involved: EIV"] == "hidden"
    assert "hidden" in shown, shown
    assert rows["Patients"] == sidebar_n(at) == "34"  # n itself stays
