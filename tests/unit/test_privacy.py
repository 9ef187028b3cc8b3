"""Small-count suppression on values as they are formatted: counts 1 to k-1 and what
reveals them become "<k"; zero stays; other numbers are untouched."""

from __future__ import annotations

import math
import re

import pytest

from analytics.filters import CohortFilter
from analytics.glossary import CRUDE_PERCENT
from analytics.partitions import Sum, ledger
from analytics.present import format as fmt
from analytics.present.masking import mask
from analytics.present.masking import mask as masked_by
from analytics.present.tables import (
    ceap_shift_table,
    estimates_table,
    safety_display,
    table1,
    table2,
    table3,
)
from analytics.views import (
    patency_ledger,
    patency_view,
    safety_view,
    subgroups_ledger,
    tables_view,
)
from tests.masks import safety_mask, tables_mask


@pytest.mark.parametrize(
    ("count", "k", "shown"),
    [(0, 5, "0"), (1, 5, "<5"), (4, 5, "<5"), (5, 5, "5"), (34, 5, "34"), (9, 10, "<10"),
     (3, None, "3"), (920455, 5, "920,455"), (1000, None, "1,000")],
)  # fmt: skip
def test_count(count, k, shown):
    """A count as a view's mask shows it (fmt.cell); fmt.count writes any count as it is."""
    assert fmt.cell(mask(ledger({("n",): count}), k).cell(("n",))) == shown
    assert fmt.count(count) == f"{count:,}"


@pytest.mark.parametrize(
    ("n", "total", "k", "shown"),
    [(3, 34, 5, "<5"), (0, 34, 5, "0 (0.0%)"), (24, 34, 5, "24 (70.6%)"),
     (1234, 24680, 5, "1,234 (5.0%)"), (3, 34, None, "3 (8.8%)")],
)  # fmt: skip
def test_a_count_and_its_share_are_hidden_together(n, total, k, shown):
    assert share_of(n, total, k) == shown


def test_a_count_of_a_small_total_is_hidden():
    a, b = ("a",), ("b",)
    decided = mask(ledger({a: 2, b: 3}), 5)
    assert fmt.cell_of(decided.cell(a), decided.cell(b)) == "<5"
    decided = mask(ledger({a: 30, b: 37}), 5)
    assert fmt.cell_of(decided.cell(a), decided.cell(b)) == "30/37 (81.1%)"


@pytest.mark.parametrize(
    ("n", "total", "shown"),
    [(33, 34, "hidden"), (34, 37, "hidden"), (34, 34, "34 (100.0%)"), (29, 34, "29 (85.3%)")],
)
def test_a_count_that_leaves_a_small_rest_is_hidden(n, total, shown):
    """97.1% = 33/34 would show the one patient without the event."""
    assert share_of(n, total, 5) == shown


def share_of(n: int, total: int, k: int | None) -> str:
    """A count and its share of a shown total, as a masked view of the two (and the rest)
    renders them."""
    whole, part, rest = ("n",), ("part",), ("rest",)
    decided = mask(ledger({whole: total, part: n, rest: total - n}, [Sum(whole, (part, rest))]), k)
    return fmt.cell_share(decided.cell(part), n / total, decided.hidden(part, whole))


def test_safety_table_hides_small_counts_and_the_rates_that_reveal_them(demo):
    view = safety_view(demo, CohortFilter())
    shown = safety_display(view.safety, safety_mask(view.safety, 5, view.timeline))
    shown = shown.set_index("Event")
    minor = shown.loc["Minor bleeding (ecchymosis or haematoma)"]  # 4 patients, 4 events
    assert minor[["Patients", "Events"]].tolist() == ["<5"] * 2
    derived = [CRUDE_PERCENT, "95% CI (%)", "Per 100 patient-years"]
    assert minor[derived].tolist() == ["hidden"] * 3  # 11.8% of 34 would give the 4 away
    dvt = shown.loc["Recurrent DVT"]  # 7 patients
    assert dvt["Patients"] == "7" and dvt[CRUDE_PERCENT] == "20.6"
    assert shown.loc["Death", "Patients"] == "0"
    plain = safety_display(view.safety, safety_mask(view.safety, None)).set_index("Event")
    assert plain.loc["Recurrent DVT", CRUDE_PERCENT] == 20.6  # a number for the spreadsheet
    assert plain.loc["Minor bleeding (ecchymosis or haematoma)", "Patients"] == 4


def test_estimates_hide_the_numbers_at_risk_below_k(demo):
    view = patency_view(demo, CohortFilter(lesion_side="left"), "thrombophilia")
    shown = estimates_table(view, masked_by(patency_ledger(view), 5))
    yes = shown[shown["Curve"] == "Thrombophilia: Yes"]
    assert set(yes["At risk"]) <= {"<5", "hidden"}  # 4, 3, 2, 1 at risk
    no = shown[shown["Curve"] == "Thrombophilia: No"]
    plain = estimates_table(view)
    assert plain["At risk"].tolist()[:4] == [14, 13, 11, 10]
    counted = ["At risk", "Events", "Censored"]
    for cells, numbers in zip(no[counted].values, plain[:4][counted].values, strict=True):
        hidden = [cell in ("<5", "hidden") for cell in cells]
        # a count of 1 to 4 shows "<5", or "hidden" as part of a total of fewer than 5
        small = [cell for cell, n in zip(cells, numbers, strict=True) if 0 < n < 5]
        assert all(cell in ("<5", "hidden") for cell in small)
        assert sum(hidden) != 1  # one hidden cell alone is the total minus the others
        shown_cells = [int(cell) for cell in cells if cell not in ("<5", "hidden")]
        assert shown_cells == [n for n, h in zip(numbers, hidden, strict=True) if not h]
    assert not any(isinstance(v, float) and math.isnan(v) for v in plain["Estimate (%)"])


def test_a_curve_of_fewer_than_k_patients_shows_no_estimate(demo):
    view = patency_view(demo, CohortFilter(lesion_side="left"), "immobilization")
    shown = estimates_table(view, masked_by(patency_ledger(view), 5))
    few = shown[shown["Curve"] == "Immobilization: Yes"]
    assert set(few["Estimate (%)"]) == {"hidden"} and set(few["95% CI (%)"]) == {"hidden"}
    assert set(few["At risk"]) <= {"<5", "hidden", "0"}


def shown_counts(values) -> list[int]:
    """The counts a table shows at the start of its cells: "24 (70.6%)", "7", "34/37 (...)"."""
    counts = []
    for value in map(str, values):
        match = re.match(r"^(\d[\d,]*)(?:/(\d[\d,]*))?(?: \(|$)", value)
        if match:
            counts += [int(g.replace(",", "")) for g in match.groups() if g]
    return counts


def test_paper_tables_show_no_count_from_1_to_k_minus_1(demo):
    """Right-sided lesions (12 patients): many of their counts are under 5."""
    view = tables_view(demo, CohortFilter(lesion_side="right"))
    cells = [
        *table1(view.baseline, tables_mask(view, 5))["Value"],
        *table2(view, tables_mask(view, 5))["Value"],
        *table3(view.clinical, tables_mask(view, 5))[["Before", "After"]].to_numpy().ravel(),
        *ceap_shift_table(view.clinical.ceap_shift, tables_mask(view, 5)).to_numpy().ravel(),
    ]
    assert "<5" in cells
    assert not [n for n in shown_counts(cells) if 0 < n < 5]
    unmasked = [*table1(view.baseline, tables_mask(view, None))["Value"],
                *table2(view, tables_mask(view, None))["Value"]]  # fmt: skip
    assert [n for n in shown_counts(unmasked) if 0 < n < 5]  # the same tables show them


def test_no_kmunicate_count_below_k_can_be_worked_out_from_the_chart(demo):
    """At risk + events + censored is the curve's n: one hidden cell alone is that sum
    minus the others, so it may be one withheld in vain (hidden beside 0 and 0), never a
    small one."""
    from analytics.present.figures.patency import patency_figure

    view = patency_view(demo, CohortFilter(), "thrombophilia")

    def rows(mask) -> list[list[str]]:
        figure = patency_figure(view, False, mask, "Demo")
        return [list(t.text) for t in figure.data if t.mode == "text" and t.xaxis == "x2"]

    shown, truth = rows(masked_by(patency_ledger(view), 5)), rows(None)
    assert len(shown) % 3 == 0 and shown and len(truth) == len(shown)
    for block in range(0, len(shown), 3):
        cells_of = zip(*shown[block : block + 3], strict=True)
        columns = zip(cells_of, zip(*truth[block : block + 3], strict=True), strict=True)
        for cells, values in columns:
            hidden = [cell in ("<5", "hidden") for cell in cells]
            if sum(hidden) == 1:
                assert int(values[hidden.index(True)].replace(",", "")) >= 5, (cells, values)
            assert not any(cell.isdigit() and 0 < int(cell) < 5 for cell in cells), cells


def test_subgroup_plot_and_table_hide_the_same_and_no_size_is_left_to_subtract(demo):
    """Right-sided lesions (12): IVC 9 / <5 showed the 3 as 12 - 9; a <5 group's HR and a
    group with <5 events' estimate were drawn on the plot while the table hid them."""
    from analytics.present.figures.subgroups import TESTS, forest_plot
    from analytics.present.tables import subgroup_display
    from analytics.views import subgroups_view

    view = subgroups_view(demo, CohortFilter(lesion_side="right"))
    table = subgroup_display(view, masked_by(subgroups_ledger(view), 5))
    for _, rows in table.groupby("Factor", sort=False):
        hidden = [cell in ("<5", "hidden") for cell in rows["Patients"]]
        assert sum(hidden) != 1, rows[["Group", "Patients"]].values.tolist()
    plot = forest_plot(view, masked_by(subgroups_ledger(view), 5))
    columns = [t for t in plot.data if t.mode == "text" and t.name not in ("headers", TESTS)]
    sizes, estimates, ratios = (list(t.text) for t in columns)
    shown = [s for s in sizes if s]
    assert [s.split(" / ")[0] for s in shown] == table["Patients"].tolist()
    assert [e for e in estimates if e] == [
        "-" if e == "-" else "hidden" if e == "hidden" else f"{float(e):.0f}%"
        for e in table["Estimate (%)"]
    ]
    ratios = [r for r in ratios if r and not r.startswith("log-rank")]
    hazard_ratios = table["Hazard ratio (95% CI)"]
    assert [r == "hidden" for r in ratios] == [t == "hidden" for t in hazard_ratios]
    small = table[table["Patients"] == "<5"]
    assert not small["Hazard ratio (95% CI)"].str.match(r"\d").any()  # no ratio of few
    markers = [x for t in plot.data if t.mode == "markers" for x in t.x]
    assert len(markers) == (table["Hazard ratio (95% CI)"].str.match(r"\d")).sum()


@pytest.mark.parametrize(
    ("cells", "k", "hidden"),
    [
        ([[8, 0], [0, 3]], 5, True),  # a cell below k: the statistic with the margins shows it
        ([[8, 5], [0, 6]], 5, False),  # every cell empty or at least k
        ([[2, 1], [0, 0]], 5, True),  # a table of fewer than k
        ([[8, 0], [0, 3]], None, False),  # privacy off
    ],
)
def test_tests_on_a_table_are_hidden_when_a_cell_is_small(cells, k, hidden):
    import pandas as pd

    from analytics.glossary import CEAP_CLASSES
    from analytics.present.privacy import hidden_shift_tests
    from analytics.views import ceap_ledger

    shift = pd.DataFrame(0, index=list(CEAP_CLASSES), columns=list(CEAP_CLASSES))
    shift.loc[[4, 5], [4, 5]] = cells  # C4 and C5, before (rows) by after
    assert hidden_shift_tests(shift, mask(ceap_ledger(shift), k)) is hidden


def test_a_median_change_of_fewer_than_k_changed_pairs_is_hidden():
    """10 pairs, 2 of them changed (-3 and -5): the Hodges-Lehmann estimate, -4, is their
    mean, a statistic of 2 patients; the mean change over all 10 stays shown."""
    import pandas as pd

    from analytics.present.privacy import hidden_change
    from analytics.present.tables import score_change_line
    from analytics.stats.clinical import score_change
    from analytics.views import score_ledger

    def masked(pairs, k):
        return mask(score_ledger("villalta", pairs), k)

    pairs = pd.DataFrame({"before": [6, 6, 6], "after": [6, 3, 1], "patients": [8, 1, 1]})
    score = score_change(pairs)
    assert score.median_change.estimate == -4
    assert hidden_change("villalta", masked(pairs, 5))
    assert not hidden_change("villalta", masked(pairs, None))
    line = score_change_line("Villalta", score, "villalta", masked(pairs, None))
    assert "median change -4.00" in line
    line = score_change_line("Villalta", score, "villalta", masked(pairs, 5))
    assert f"median change {fmt.SUPPRESSED}" in line
    assert not hidden_change("villalta", masked(pairs.assign(patients=[5, 5, 5]), 5))


def test_the_signed_rank_p_of_fewer_than_k_changed_pairs_is_hidden():
    """10 pairs, 2 changed: the exact p, 0.5 = 2/2^2, gives away that 2 pairs changed, so it
    is withheld wherever the median change is (sentence, Table 3 row, chart subtitle)."""
    import pandas as pd

    from analytics.present.figures.clinical import villalta_pairs
    from analytics.present.tables import score_change_line
    from analytics.stats.clinical import score_change
    from analytics.views import score_ledger

    pairs = pd.DataFrame({"before": [6, 6, 6], "after": [6, 3, 1], "patients": [8, 1, 1]})
    score = score_change(pairs)
    exact, private = (mask(score_ledger("villalta", pairs), k) for k in (None, 5))
    assert score.p == 0.5
    assert "p = 0.500" in score_change_line("Villalta", score, "villalta", exact)
    line = score_change_line("Villalta", score, "villalta", private)
    assert line.endswith(f"p {fmt.SUPPRESSED}")
    figure = villalta_pairs(pairs, score, private)
    assert f"p {fmt.SUPPRESSED}" in figure.layout.title.subtitle.text
    assert "0.500" not in figure.layout.title.subtitle.text
