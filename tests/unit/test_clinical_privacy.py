"""Privacy over the clinical view as a whole (issue 22): its counts are masked once
(analytics.views.clinical_ledger) and every clinical surface renders that one mask.

Each leak the issue names for this component, and the others of its class, is checked
as an attacker would work it out from what the surfaces print (by enumeration, not by
the masking's own integer program); a property test over random small cohorts checks that
no count below k follows from the view's sums and marks, and that no surface reads a
hidden count.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from analytics import views
from analytics.filters import CohortFilter
from analytics.glossary import CEAP_CLASSES, FEW_PAIRS, PTS, REFLUX, SEVERITY_SCORE, VILLALTA
from analytics.partitions import Ledger
from analytics.present import deck, tables
from analytics.present import format as fmt
from analytics.present.figures import clinical as figures
from analytics.present.masking import Mask, mask
from analytics.present.privacy import MIN_K
from analytics.present.report import report_json, report_text
from analytics.present.tiles import headline_tiles
from analytics.views import (
    WHEN,
    binary_key,
    ceap_class_key,
    clinical_ledger,
    pairs_key,
    severity_key,
)
from tests.masks import overview_mask
from tests.unit.test_properties import build, filters, patient

K = 5
RIGHT = CohortFilter(lesion_side="right")  # 12 limbs: several CEAP and PTS counts below 5
FEW = CohortFilter(lesion_side="left").with_risk("thrombophilia", True)  # 6 patients
CLASS_OF = {label: c for c, label in CEAP_CLASSES.items()}


def _marked(text: str, k: int, top: int) -> range:
    """The values a printed count allows: "5 (41.7%)" is 5, "<k" 1 to k-1, "hidden" k or
    more (a smaller one would show "<k")."""
    if text.startswith("<"):
        return range(1, k)
    if text == fmt.SUPPRESSED:
        return range(k, top + 1)
    value = int(re.match(r"[\d,]+", text).group().replace(",", ""))
    return range(value, value + 1)


def test_a_mean_class_beside_hidden_classes_does_not_solve_for_them(demo):
    """Right-sided lesions, 12 limbs before: C4 5, C5 and C6 "<5". The severity score's
    mean (C - 2) beside them gave 2 x 5 + 3 x C5 + 4 x C6 = 12 x 2.83, so C5 = 4 and C6 = 3:
    the mean and SD are withheld with the classes they average."""
    change = views.clinical_view(demo, RIGHT)
    table = tables.table3(change, mask(clinical_ledger(change), K)).set_index("Measure")
    pairs = change.ceap_pairs
    listed = {CLASS_OF[label]: table.loc[label, "Before"] for label in CEAP_CLASSES.values()
              if label in table.index}  # fmt: skip
    assert "<5" in listed.values()
    mean = table.loc[f"{SEVERITY_SCORE}, mean ± SD", "Before"]
    ranges = [_marked(text, K, pairs) for text in listed.values()]
    allowed = set()
    for guess in itertools.product(*ranges):
        if sum(guess) != pairs:
            continue
        score = sum((c - 2) * n for c, n in zip(listed, guess, strict=True)) / pairs
        if mean == fmt.SUPPRESSED or f"{score:.2f}" == mean.split(" ± ")[0]:
            allowed.add(guess)
    hidden = [i for i, text in enumerate(listed.values()) if not text[0].isdigit()]
    assert all(len({guess[i] for guess in allowed}) > 1 for i in hidden), (listed, mean)


def test_the_pts_tile_and_the_pts_chart_show_the_same_cells(demo):
    """Right-sided lesions: PTS 12 before, 10 after, 2 without PTS at the last visit (the
    chart's "none", "<5"). The Overview's tile printed "12 → 10" where the chart said
    hidden, and 12 - 10 gave the 2: one key each, one decision."""
    overview = views.overview_view(demo, RIGHT)
    change = overview.clinical
    clinical = overview_mask(overview, K)  # the Overview's one decision, tile and chart
    tiles = headline_tiles(overview, clinical)
    (tile,) = [t for row in tiles for t in row if t.label == "PTS before → after"]
    chart = figures.pts_severity_bars(change.pts_severity, change.pts, clinical)
    subtitle = chart.layout.title.subtitle.text.replace("<br>", " ")
    assert subtitle.startswith(f"PTS {tile.value} of ")
    last = next(trace for trace in chart.data if trace.name == "Last visit")
    assert last.customdata[0] == "<5"  # none: 2 limbs without PTS
    after = tile.value.split("→")[1].strip()
    pairs = subtitle.split(" of ")[1].split(";")[0]
    assert fmt.SUPPRESSED in (after, pairs)  # else pairs - after is the 2


def test_reflux_resolved_and_new_do_not_follow_from_before_and_after(demo):
    """The whole demo: reflux 25 → 22 of 34 beside "<5 resolved, <5 new" and the exact
    McNemar p 0.375 gave 4 resolved and 1 new (their difference is 3; the p is that of 1 of
    5 discordant pairs)."""
    change = views.clinical_view(demo, CohortFilter())
    clinical = mask(clinical_ledger(change), K)
    metrics = tables.binary_metrics(change.reflux, "reflux", clinical)
    row = tables.table3(change, clinical).set_index("Measure").loc[REFLUX]
    assert (metrics.before, metrics.after) == (row["Before"], row["After"])
    resolved, new = re.match(r"(\S+) resolved, (\S+) new", metrics.discordant).groups()
    top = change.reflux.n
    before, after = (_marked(text, K, top) for text in (metrics.before, metrics.after))
    allowed = {
        (r, n)
        for r, n, b, a in itertools.product(
            _marked(resolved, K, top), _marked(new, K, top), before, after
        )
        if b - r == a - n  # both = before - resolved = after - new
        and (metrics.p == "p hidden" or fmt.p_statement(binomtest(n, r + n).pvalue) == metrics.p)
    }
    assert len({r for r, _ in allowed}) > 1 and len({n for _, n in allowed}) > 1


def test_an_exact_mcnemar_p_of_few_discordant_pairs_is_withheld(demo):
    """Right-sided lesions: 2 limbs lost PTS, none gained it; the exact p, 0.5, is that of
    2 discordant pairs all one way (2 x 0.5^2), so it gave the "<5" away."""
    change = views.clinical_view(demo, RIGHT)
    assert (change.pts.resolved, change.pts.new) == (2, 0)
    assert binomtest(0, 2).pvalue == change.pts.p == 0.5
    clinical = mask(clinical_ledger(change), K)
    assert tables.table3(change, clinical).set_index("Measure").loc[PTS, "P value"] == "hidden"
    chart = figures.pts_severity_bars(change.pts_severity, change.pts, clinical)
    assert "McNemar: p hidden" in chart.layout.title.subtitle.text
    assert "0.500" not in deck._pts_text(change, clinical)


def test_under_a_small_n_a_class_with_limbs_is_left_out_and_an_empty_one_shows_0(demo):
    """IVC lesions, 4 patients: n is "<5" and every count of limbs under it is left out
    (two "<5" making a "<5" would bound each other); a class of none shows 0 (zero
    singles nobody out) and so is not listed, as on any view."""
    change = views.clinical_view(demo, CohortFilter(segments=("IVC",)))
    clinical = mask(clinical_ledger(change), K)
    assert clinical.cell(views.N).shown == "small" and clinical.hidden(pairs_key("ceap"))
    table = tables.table3(change, clinical).set_index("Measure")
    listed = [CEAP_CLASSES[c] for c in tables.ceap_classes_shown(clinical)]
    assert listed and set(table.loc[listed, "Before"]) <= {fmt.SUPPRESSED, "0"}
    with_limbs = {c for c in CEAP_CLASSES for when in WHEN
                  if clinical.counts[ceap_class_key(when, c)]}  # fmt: skip
    assert {CEAP_CLASSES[c] for c in with_limbs} <= set(listed)
    bars = figures.ceap_bars(change.ceap_shift, change.severity_score, clinical)
    assert {f"C{c}" for c in with_limbs} <= {trace.name for trace in bars.data}


def test_a_caution_on_few_pairs_does_not_bound_hidden_pairs(demo):
    """Left-sided lesions with thrombophilia, 6 patients: privacy withholds the Villalta
    pairs (n - 1 of 6 limbs without PTS at the last visit would follow), so "fewer than 10
    pairs" beside the Villalta test would say 5 to 9 of them."""
    change = views.clinical_view(demo, FEW)
    clinical = mask(clinical_ledger(change), K)
    assert clinical.hidden(pairs_key("villalta"))
    table = tables.table3(change, clinical).set_index("Measure")
    for row in (f"{VILLALTA}, mean ± SD", PTS):
        assert FEW_PAIRS not in table.loc[row, "Test"]
    exact = tables.table3(change, mask(clinical_ledger(change), None)).set_index("Measure")
    assert FEW_PAIRS in exact.loc[f"{VILLALTA}, mean ± SD", "Test"]  # 6 pairs, shown
    chart = figures.villalta_pairs(change.villalta_pairs, change.villalta, clinical)
    assert not chart.data  # no mean of the hidden pairs either, and the chart says why
    assert "paired limbs is hidden" in chart.layout.annotations[0].text.replace("<br>", " ")


def test_the_report_s_n_follows_its_clinical_counts(demo):
    """Left-sided lesions with thrombophilia, 6 patients: 1 without PTS at the last visit
    ("<5"), the other 5 hidden (k or more); n_patients 6 beside them gave the 1."""
    report = report_json(views.report_view(demo, FEW), K)
    assert report["clinical"]["pts_after"] is None and report["n_patients"] is None
    assert "n_patients" in report["privacy"]["suppressed"]
    assert "Patients: hidden" in report_text(views.report_view(demo, FEW), K)


def test_privacy_off_shows_every_clinical_count_as_before(demo):
    """The mask with privacy off is every count as it is: Table 3 as the paper prints it."""
    change = views.clinical_view(demo, CohortFilter())
    table = tables.table3(change, mask(clinical_ledger(change), None)).set_index("Measure")
    assert table.loc[PTS, "Before"] == "34 (100.0%)" and table.loc[PTS, "After"] == "24 (70.6%)"
    assert table.loc[REFLUX, "P value"] == "0.375"
    assert table.loc[f"{SEVERITY_SCORE}, mean ± SD", "Before"] == "2.91 ± 0.75"


# The property: random small cohorts, any filter ------------------------------------------


def other_value(view: Ledger, decided: Mask, key: tuple) -> bool:
    """Whether the view's sums, its shown counts and what its marks say ("<k": 1 to k-1;
    hidden: k or more; left out of a small count, or not shown: 0 or more) allow ``key``
    a value other than its own: a depth-first search over whole numbers with interval
    propagation on each sum (independent of the masking's integer program)."""
    k = decided.k
    top = 3 * max(view.counts.values()) + k
    unknown = decided.small | decided.withheld | (view.unseen & view.counts.keys())
    sums = [s for s in view.sums if unknown & {s.total, *s.parts}]
    low = {u: 1 if u in decided.small else 0 if u in decided.omitted | view.unseen else k
           for u in unknown}  # fmt: skip
    high = {u: k - 1 if u in decided.small else top for u in unknown}
    for key_value in (view.counts[key],):
        for low_key, high_key in ((low[key], key_value - 1), (key_value + 1, high[key])):
            if low_key <= high_key and _solvable(
                sums, view.counts, {**low, key: low_key}, {**high, key: high_key}
            ):
                return True
    return False


def _solvable(sums, counts, low: dict, high: dict) -> bool:
    low, high = dict(low), dict(high)
    if not _propagate(sums, counts, low, high):
        return False
    open_ = [u for u in low if low[u] < high[u]]
    if not open_:
        return True
    pick = min(open_, key=lambda u: (high[u] - low[u], str(u)))
    return any(
        _solvable(sums, counts, {**low, pick: v}, {**high, pick: v})
        for v in range(low[pick], high[pick] + 1)
    )


def _propagate(sums, counts, low: dict, high: dict) -> bool:
    """Narrow each unknown to what every sum (total = parts) allows; False when empty."""
    changed = True
    while changed:
        changed = False
        for s in sums:
            terms = [(s.total, -1), *((p, 1) for p in s.parts)]

            def bounds(key, sign):
                lo, hi = (low[key], high[key]) if key in low else (counts[key],) * 2
                return (lo, hi) if sign > 0 else (-hi, -lo)

            for key, sign in terms:
                if key not in low:
                    continue
                rest = [bounds(o, g) for o, g in terms if o != key or g != sign]
                rest_lo, rest_hi = sum(b[0] for b in rest), sum(b[1] for b in rest)
                lo, hi = (-rest_hi, -rest_lo) if sign > 0 else (rest_lo, rest_hi)
                if lo > low[key] or hi < high[key]:
                    low[key], high[key] = max(low[key], lo), min(high[key], hi)
                    if low[key] > high[key]:
                        return False
                    changed = True
    return True


def clinical_surfaces(change, overview, clinical: Mask) -> dict[str, str]:
    """Every clinical surface of the view as text: tables, metrics, captions, the charts'
    JSON (what the browser receives), the Overview's PTS tile, the deck's slide texts
    and its CEAP chart data."""
    shift, score = change.ceap_shift, change.severity_score
    chart = deck.ceap_chart_data(change, clinical)
    return {
        "table 3": tables.table3(change, clinical).to_json(),
        "classes": tables.ceap_shift_table(shift, clinical).to_json(),
        "tests": str(tables.ceap_test_metrics(change, clinical)),
        "score": tables.score_change_line("S", score, "ceap", clinical),
        "villalta": tables.score_change_line("V", change.villalta, "villalta", clinical),
        "reflux": str(tables.binary_metrics(change.reflux, "reflux", clinical)),
        "sankey": figures.ceap_sankey(shift, clinical).to_json(),
        "bars": figures.ceap_bars(shift, score, clinical).to_json(),
        "pairs": figures.villalta_pairs(change.villalta_pairs, change.villalta, clinical).to_json(),
        "pts": figures.pts_severity_bars(change.pts_severity, change.pts, clinical).to_json(),
        "deck": deck._ceap_text(change, clinical) + deck._clinical_notes(change, clinical),
        "deck chart": str([(s.name, list(s.values)) for s in chart]),
    }


def scrambled(decided: Mask) -> Mask:
    """The same decisions with every count it hides set to another value: a surface that
    renders only the mask renders both alike."""
    hidden = decided.small | decided.withheld
    counts = {key: n + 7 if key in hidden else n for key, n in decided.counts.items()}
    return replace(decided, counts=counts)


def printed_counts(change, clinical: Mask) -> dict[str, tuple]:
    """Where the surfaces print a count, what they print and the count's key."""
    table = tables.table3(change, clinical).set_index("Measure")
    chart = figures.pts_severity_bars(change.pts_severity, change.pts, clinical)
    places = {}
    for label, c in CLASS_OF.items():
        if label in table.index:
            for column, when in zip(("Before", "After"), WHEN, strict=True):
                places[f"table 3 {label} {when}"] = (table.loc[label, column],
                                                     ceap_class_key(when, c))  # fmt: skip
    for label, measure in ((PTS, "pts"), (REFLUX, "reflux")):
        for column, when in zip(("Before", "After"), WHEN, strict=True):
            places[f"table 3 {measure} {when}"] = (table.loc[label, column],
                                                   binary_key(measure, when))  # fmt: skip
    for trace, when in zip(chart.data, WHEN, strict=True):
        for severity, text in zip(change.pts_severity["severity"], trace.customdata, strict=True):
            places[f"chart {severity} {when}"] = (text, severity_key(when, severity))
    return places


def assert_none_follows(view: Ledger, decided: Mask) -> None:
    """No count of 1 to k-1, shown "<k" or left out, follows from the view; or, where
    masking found no complement left, no count shows but the public ones: then a withheld
    count is 0 or more, not k or more, and the marks say nothing an attacker can use."""
    if decided.everything:
        assert all(decided.hidden(key) for key in view.shown_keys() - view.public)
        return
    few = decided.small | {key for key in decided.omitted if 0 < view.counts[key] < decided.k}
    for key in sorted(few, key=str):
        assert other_value(view, decided, key), (key, view.counts[key])


def test_a_view_of_one_villalta_pair_withholds_every_count_but_the_public():
    """Three left limbs, one of them with a Villalta before and after (its PTS severity
    "none" twice), at k = 3: no complement is left to withhold, so nothing shows but the
    analysed (another view's number), and no PTS count follows (found by Hypothesis)."""
    visits = {1: [(0.0, None, 0, None), (0.25, None, None, None), (0.5, None, 0, None)]}
    cohort = [
        {"row": {**FIRST_PATIENT, "patient_id": f"p{i}", "lesion_side": side,
                 "follow_up_months": 0.5 if i == 1 else 0.0},
         "events": [], "assessments": visits.get(i, [(0.0, None, None, None)])}
        for i, side in enumerate(("left", "left", "left", "right"))
    ]  # fmt: skip
    left = CohortFilter(lesion_side="left")
    with build(cohort) as con:
        header, change = views.header_view(con, left), views.clinical_view(con, left)
    view = views.header_ledger(header) | clinical_ledger(change)
    decided = mask(view, 3)
    assert view.counts[severity_key("after", "none")] == 1
    assert decided.everything
    assert_none_follows(view, decided)
    assert decided.hidden(severity_key("after", "none"), binary_key("pts", "after"))


FIRST_PATIENT = {
    "age_years": 18, "sex": "F", "bmi": 12.0, "procedure_date": "2012-01-01",
    "technical_success": True, "symptom_duration_months": 0.0, "malignancy": False,
    "smoking": False, "immobilization": False, "thrombophilia": False,
    "recent_surgery": False, "trauma": False, "diabetes": False, "seg_ivc": True,
    "seg_civ": False, "seg_eiv": False, "seg_cfv": False, "center": None, "stents": None,
}  # fmt: skip

SIZES = st.integers(0, 12).flatmap(lambda n: st.tuples(*(patient(i) for i in range(n))))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohort=SIZES, cohort_filter=st.just(CohortFilter()) | filters(),
       k=st.integers(MIN_K, 5))  # fmt: skip
def test_no_clinical_count_below_k_follows_from_what_the_view_shows(cohort, cohort_filter, k):
    with build(list(cohort)) as con:
        header = views.header_view(con, cohort_filter)
        overview = views.overview_view(con, cohort_filter)
    change = overview.clinical
    view = views.header_ledger(header) | clinical_ledger(change)  # one n: the same patients
    decided = mask(view, k)
    assert_none_follows(view, decided)
    assert clinical_surfaces(change, overview, decided) == clinical_surfaces(
        change, overview, scrambled(decided)
    )
    for place, (text, key) in printed_counts(change, decided).items():
        shown = decided.cell(key)
        assert text.split(" (")[0] == fmt.cell(shown), place
        if 0 < shown.value < k:
            assert shown.hidden, place


@pytest.mark.parametrize("cohort_filter", [CohortFilter(), RIGHT, CohortFilter(segments=("IVC",))])
def test_the_demo_s_clinical_counts_below_k_do_not_follow_from_its_view(demo, cohort_filter):
    header, change = (
        views.header_view(demo, cohort_filter),
        views.clinical_view(demo, cohort_filter),
    )
    view = views.header_ledger(header) | clinical_ledger(change)
    decided = mask(view, K)
    few = decided.small | {key for key in decided.omitted if 0 < view.counts[key] < K}
    assert few
    for key in sorted(few, key=str):
        assert other_value(view, decided, key), (key, view.counts[key])
    overview = views.overview_view(demo, cohort_filter)
    assert clinical_surfaces(change, overview, decided) == clinical_surfaces(
        change, overview, scrambled(decided)
    )
