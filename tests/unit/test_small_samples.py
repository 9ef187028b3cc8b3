"""Small samples say so: CIs beside estimates, SE > 10% marked, cautions on tests of few."""

from __future__ import annotations

import pandas as pd

from analytics.filters import CohortFilter
from analytics.glossary import FEW_PAIRS, SMALL_GROUPS
from analytics.present.figures.clinical import villalta_pairs
from analytics.present.figures.safety import event_timeline
from analytics.present.masking import mask
from analytics.present.tables import comparison_lines, table2, table3
from analytics.views import clinical_ledger, clinical_view, patency_view, tables_view
from tests.masks import tables_mask, timeline_mask

FEW = CohortFilter(lesion_side="left").with_risk("thrombophilia", True)  # 6 patients


def test_table2_marks_estimates_whose_se_exceeds_ten_percent(demo):
    view = tables_view(demo, CohortFilter(lesion_side="left"))
    table = table2(view, tables_mask(view, None))
    value = table.set_index("Outcome").loc["Primary patency at 24 months", "Value"]
    assert value.startswith("59.1% (95% CI 36.1-76.2); at risk 13") and value.endswith("SE > 10%")
    first = table.set_index("Outcome").loc["Primary patency at 6 months", "Value"]
    assert "SE > 10%" not in first  # SE 8.2%


def test_tests_of_fewer_than_ten_pairs_carry_a_caution(demo):
    change = clinical_view(demo, FEW)
    exact = mask(clinical_ledger(change), None)
    few = table3(change, exact).set_index("Measure")
    assert all(FEW_PAIRS in test for test in few["Test"] if test)
    everyone = clinical_view(demo, CohortFilter())
    table = table3(everyone, mask(clinical_ledger(everyone), None)).set_index("Measure")
    assert not any(FEW_PAIRS in test for test in table["Test"])
    figure = villalta_pairs(change.villalta_pairs, change.villalta, exact)
    subtitle = figure.layout.title.subtitle.text
    assert FEW_PAIRS in subtitle


def test_a_log_rank_of_small_groups_carries_a_caution(demo):
    small = comparison_lines(patency_view(demo, CohortFilter(), "thrombophilia"))  # 25 and 9
    assert SMALL_GROUPS in small[0]
    large = comparison_lines(patency_view(demo, CohortFilter(), "lesion_side"))  # 22 and 12
    assert SMALL_GROUPS not in large[0]
    assert large[1].startswith("Cox HR Right vs Left: too few events")  # 3 events on the right


def test_a_bubble_at_month_zero_is_drawn_whole():
    timeline = pd.DataFrame({"event": ["minor_bleeding", "death"], "month": [0.0, 30.0],
                             "events": [4, 1]})  # fmt: skip
    assert event_timeline(timeline, timeline_mask(timeline, None)).layout.xaxis.range[0] < 0


def test_overview_tiles_show_the_interval_and_the_se_warning(page_test):
    at = page_test("app.py", lesion_side="left")
    tiles = {m.label: m for m in at.metric}
    twelve, thirty_six = tiles["Primary patency, 12 months"], tiles["Primary patency, 36 months"]
    assert twelve.value == "72.7%" and twelve.proto.delta == "95% CI 49.1-86.7"
    assert thirty_six.proto.delta == "95% CI 28.2-68.4 · SE > 10%"
