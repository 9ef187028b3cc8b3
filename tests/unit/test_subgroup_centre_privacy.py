"""The Subgroups and Centres pages and ``report --by center`` as masked views (issue 22):
over random small registries, no count of 1 to k-1 follows from what one view prints.

The judge is tests/reader.py's attacker: it reads the rendered surfaces (the page's
table and CSV, the forest plot's cells, the funnel plot's points and hover, the report's
JSON) and the sidebar's n, never the mask, and works with the sums the data dictionary
makes public and what a printed estimate, control limit or z-score says of the count
under it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import partial
from unittest import mock

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import views
from analytics.filters import CohortFilter
from analytics.glossary import ENDPOINTS
from analytics.partitions import Key
from analytics.present import format as fmt
from analytics.present import masking, tables
from analytics.present.figures.centres import funnel_plot
from analytics.present.figures.subgroups import forest_plot, layout_rows
from analytics.present.masking import Mask, mask
from analytics.present.report import report_json
from analytics.present.tables import centres_display, subgroup_display
from analytics.stats.funnel import CentreComparison, funnel_limits
from analytics.variables import BUILTIN, Role
from analytics.views import NO_CENTRE, Header, N, SubgroupsView, curve_key, header_ledger
from tests.cohorts import VIEW_FILTERS, build, registries
from tests.conftest import PATIENT_DEFAULTS
from tests.reader import Reading, fewest_patients, pinned

SIDEBAR_N = ("n",)
LOOSE = 10  # every count is at most ten times the file's patients
PROPERTY = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip


def sidebar(header: Header, decided: Mask) -> Reading:
    """The sidebar's n as the page prints it. What the sidebar says of the rest (the file's
    total, the patients the filters leave out) is the header's own view, judged by
    tests/app/test_whole_view_privacy.py: here every count is only known to be at most
    a bound far above n."""
    reading = Reading(decided.k, LOOSE * max(header.total, 1))
    reading.read(SIDEBAR_N, fmt.cell(decided.cell(N)))
    return reading


def sidebar_truth(header: Header) -> dict[Key, int]:
    return {SIDEBAR_N: header.limbs}


def nullable_factors(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The forest's factors whose column the schema lets go unrecorded."""
    columns = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name IN ('patients', 'limbs') AND is_nullable = 'YES'"
        ).fetchall()
    }
    return {v.grouping_key for v in BUILTIN.with_role(Role.FOREST) if v.key in columns}


def read_subgroups(
    view: SubgroupsView, header: Header, decided: Mask, nullable: set[str]
) -> tuple[Reading, dict[Key, int]]:
    """The Subgroups page as printed (its table, which is also its CSV, and the forest
    plot's cells), and every count the reading names with its value."""
    reading, truth = sidebar(header, decided), sidebar_truth(header)
    curve = {c: ("curve", c) for c in ("patients", "events", "censored", "outside")}
    reading.known[curve["outside"]] = header.limbs - view.patients  # the Patency page's
    reading.add_sum(SIDEBAR_N, (curve["patients"], curve["outside"]))
    reading.add_sum(curve["patients"], (curve["events"], curve["censored"]))
    truth |= {
        curve["patients"]: view.patients,
        curve["events"]: view.events,
        curve["censored"]: view.patients - view.events,
        curve["outside"]: header.limbs - view.patients,
    }
    table = view.table.reset_index(drop=True)
    shown = subgroup_display(view, decided)
    figure = forest_plot(view, decided)
    cells, estimates = _forest_cells(view, figure)
    for i, row in table.iterrows():
        level = {c: ("level", row.factor, row.level, c) for c in ("patients", "events", "censored")}
        truth |= {
            level["patients"]: row.patients,
            level["events"]: row.events,
            level["censored"]: row.patients - row.events,
        }
        reading.read(level["patients"], shown.at[i, "Patients"])
        reading.read(level["events"], shown.at[i, "Events"])
        patients, events = cells[i].split(" / ")
        reading.read(level["patients"], patients)
        reading.read(level["events"], events)
        reading.add_sum(level["patients"], (level["events"], level["censored"]))
        for printed, tolerance in ((shown.at[i, "Estimate (%)"], 0.0005), (estimates[i], 0.005)):
            estimate = _number(printed)
            if estimate is not None:
                reading.bound(level["patients"], fewest_patients(estimate / 100, tolerance))
    for factor, rows in table.groupby("factor", sort=False):
        rest = {c: ("not recorded", factor, c) for c in ("patients", "events", "censored")}
        for count in ("patients", "events"):
            parts = [("level", factor, level, count) for level in rows["level"]]
            reading.add_sum(curve[count], (*parts, rest[count]))
        reading.add_sum(rest["patients"], (rest["events"], rest["censored"]))
        truth |= {
            rest["patients"]: view.patients - int(rows["patients"].sum()),
            rest["events"]: view.events - int(rows["events"].sum()),
        }
        truth[rest["censored"]] = truth[rest["patients"]] - truth[rest["events"]]
        if factor not in nullable:
            reading.known |= {rest["patients"]: 0, rest["events"]: 0}
    return reading, truth


def _forest_cells(view: SubgroupsView, figure) -> tuple[list[str], list[str]]:
    """The forest plot's "patients / events" and estimate cells, one per table row."""
    columns = [t for t in figure.data if t.mode == "text" and t.name != "headers"]
    lines = layout_rows(view.table, view.variables)
    at = [i for i, row in enumerate(lines["table_row"]) if not pd.isna(row)]
    return [columns[0].text[i] for i in at], [columns[1].text[i] for i in at]


def _number(text: object) -> float | None:
    """A printed percentage or number, or None for a mark or a missing one."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return None if np.isnan(text) else float(text)
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)%?", str(text).strip())
    return float(match.group(1)) if match else None


def read_centres(
    comparison: CentreComparison, header: Header, decided: Mask
) -> tuple[Reading, dict[Key, int]]:
    """The Centres page as printed: its caption's n and patients without a centre, the
    funnel plot's points and hover, the centre table (and its CSV)."""
    reading, truth = sidebar(header, decided), sidebar_truth(header)
    without = ("no centre",)
    reading.read(SIDEBAR_N, fmt.cell(decided.cell(N)))
    if comparison.patients_without_centre:
        reading.read(without, fmt.cell(decided.cell(NO_CENTRE)))
    else:
        reading.known[without] = 0  # the caption names patients without a centre when any
    truth[without] = comparison.patients_without_centre
    centres = comparison.centres.reset_index(drop=True)
    names = [("centre", c, "patients") for c in centres["centre"]]
    reading.add_sum(SIDEBAR_N, (*names, without))
    shown = centres_display(comparison, comparison.centres, decided)
    for i, row in centres.iterrows():
        key = {c: ("centre", row.centre, c) for c in ("patients", "at risk", "events", "censored")}
        truth |= {key["patients"]: row.patients, key["at risk"]: row.at_risk,
                  key["events"]: row.events,
                  key["censored"]: row.patients - row.at_risk - row.events}  # fmt: skip
        reading.add_sum(key["patients"], (key["at risk"], key["events"], key["censored"]))
        for column, count in (
            ("Patients", "patients"),
            ("Events", "events"),
            ("At risk", "at risk"),
        ):
            reading.read(key[count], shown.at[i, column])
        estimate = _number(shown.at[i, "Estimate (%)"])
        if estimate is not None:
            reading.bound(key["patients"], fewest_patients(estimate / 100, 0.0005))
        sizes = _sizes_of_limits(comparison.pooled, shown.loc[i], reading.top)
        z = _number(shown.at[i, "z-score"])
        if z is not None and not np.isnan(row.estimate):
            sizes &= _sizes_of_z(comparison.pooled, row.estimate, z, reading.top)
        if sizes:
            reading.bound(key["patients"], min(sizes), max(sizes))
    figure = funnel_plot(comparison, decided)
    for trace in figure.data:
        if trace.customdata is None:
            continue
        for x, y, (name, hover) in zip(trace.x, trace.y, trace.customdata, strict=True):
            key = {c: ("centre", name, c) for c in ("patients", "at risk", "events")}
            reading.read(key["patients"], x)
            reading.bound(key["patients"], fewest_patients(y / 100, 1e-9))
            counts = re.search(r"(\S+) patients, (\S+) events, (\S+) at risk", hover)
            for count, text in zip(("patients", "events", "at risk"), counts.groups(), strict=True):
                reading.read(key[count], text)
    return reading, truth


def _sizes_of_limits(pooled: float, row: pd.Series, top: int) -> set[int]:
    """The centre sizes whose control limits print as ``row``'s (all when none print)."""
    printed = [row["95% limits (%)"], row["99.8% limits (%)"]]
    if not all(re.fullmatch(r"\d+\.\d-\d+\.\d", str(p)) for p in printed):
        return set(range(top + 1))
    limits = funnel_limits(pooled, list(range(1, top + 1)))
    return {
        int(size)
        for size, lo95, hi95, lo998, hi998 in zip(
            limits["patients"], limits["lower_95"], limits["upper_95"], limits["lower_998"],
            limits["upper_998"], strict=True,
        )
        if [fmt.ci(lo95, hi95), fmt.ci(lo998, hi998)] == printed
    }  # fmt: skip


def _sizes_of_z(pooled: float, estimate: float, z: float, top: int) -> set[int]:
    """The centre sizes whose z-score prints as ``z``."""
    sizes = np.arange(1, top + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = (estimate - pooled) / np.sqrt(pooled * (1 - pooled) / sizes)
    return {int(s) for s, score in zip(sizes, scores, strict=True) if f"{score:.2f}" == f"{z:.2f}"}


def read_report(view: views.ReportView, decided_k: int) -> tuple[Reading, dict[Key, int]]:
    """``report --by center --json`` as printed: n, each curve's KMunicate rows (at risk,
    events, censored before each month) and estimates, each centre's patients and events."""
    report = report_json(view, decided_k)
    n = view.safety.patients
    reading = Reading(decided_k, LOOSE * (n + decided_k))  # no more than a bound far above n
    reading.read(SIDEBAR_N, report["n_patients"])
    truth: dict[Key, int] = {SIDEBAR_N: n}
    counts = ("at_risk", "events", "censored")
    for endpoint, result in view.survival.items():
        entry = report["patency"][endpoint]
        curves = [("all", result.overall, entry["overall"])]
        curves += [(g.level, g, entry.get("groups", {}).get(g.level, [])) for g in result.groups]
        for level, curve, rows in curves:
            whole = ("curve", endpoint, level, "patients")
            total_events = ("curve", endpoint, level, "events")
            censored = ("curve", endpoint, level, "censored")
            truth |= {whole: curve.patients, total_events: curve.events,
                      censored: curve.patients - curve.events}  # fmt: skip
            reading.add_sum(whole, (total_events, censored))
            estimates = curve.estimates
            for i, row in enumerate(rows):
                column = [("curve", endpoint, level, c, row["month"]) for c in counts]
                values = (estimates.at_risk[i], estimates.events[i], estimates.censored[i])
                truth |= dict(zip(column, map(int, values), strict=True))
                for key, count in zip(column, counts, strict=True):
                    reading.read(key, row[count])
                reading.add_sum(whole, column)
                if row["estimate"] is not None:
                    reading.bound(whole, fewest_patients(row["estimate"], 1e-9))
            summary = entry.get("group_summary", {}).get(level)
            if summary is not None:
                reading.read(whole, summary["patients"])
                reading.read(total_events, summary["events"])
        outside = ("outside the curve", endpoint)
        reading.known[outside] = n - result.overall.patients  # public as the Patency page's
        truth[outside] = n - result.overall.patients
        reading.add_sum(SIDEBAR_N, (("curve", endpoint, "all", "patients"), outside))
        if not result.groups:
            continue
        names = [("patients", None), ("events", None)]
        names += [(c, row["month"]) for row in entry["overall"] for c in counts]
        for count, month in names:
            at = () if month is None else (month,)
            total = ("curve", endpoint, "all", count, *at)
            parts = [("curve", endpoint, g.level, count, *at) for g in result.groups]
            rest = ("no centre", endpoint, count, *at)
            truth[rest] = truth[total] - sum(truth[p] for p in parts)
            reading.add_sum(total, (*parts, rest))
    return reading, truth


def assert_safe(reading: Reading, truth: dict[Key, int]) -> None:
    given_away = pinned(reading, truth)
    assert not given_away, given_away


@PROPERTY
@given(cohort=registries(), cohort_filter=VIEW_FILTERS, k=st.sampled_from([3, 5]),
       endpoint=st.sampled_from(list(ENDPOINTS)), month=st.sampled_from([6.0, 12.0]))  # fmt: skip
def test_no_count_below_k_follows_from_the_subgroups_page(
    cohort, cohort_filter, k, endpoint, month
):
    with build(cohort) as con:
        header = views.header_view(con, cohort_filter)
        view = views.subgroups_view(con, cohort_filter, endpoint, month)
        nullable = nullable_factors(con)
    if header.limbs == 0 or view.table.empty:
        return
    decided = mask(header_ledger(header) | views.subgroups_ledger(view, header.limbs), k)
    assert_safe(*read_subgroups(view, header, decided, nullable))


@PROPERTY
@given(cohort=registries(), cohort_filter=VIEW_FILTERS, k=st.sampled_from([3, 5]),
       month=st.sampled_from([6.0, 12.0]))  # fmt: skip
def test_no_count_below_k_follows_from_the_centres_page(cohort, cohort_filter, k, month):
    with build(cohort) as con:
        header = views.header_view(con, cohort_filter)
        comparison = views.centres_view(con, cohort_filter, month)
    if header.limbs == 0:
        return
    decided = mask(header_ledger(header) | views.centres_ledger(comparison), k)
    assert_safe(*read_centres(comparison, header, decided))


@PROPERTY
@given(cohort=registries(), cohort_filter=VIEW_FILTERS, k=st.sampled_from([3, 5]))
def test_no_count_below_k_follows_from_the_report_by_centre(cohort, cohort_filter, k):
    with build(cohort) as con:
        view = views.report_view(con, cohort_filter, "center")
    if view.safety.patients == 0:
        return
    assert_safe(*read_report(view, k))


def _row(i: int, **values: object) -> dict:
    return {"row": {**PATIENT_DEFAULTS, "patient_id": f"p{i}", **values}, "events": [],
            "assessments": []}  # fmt: skip


def seven_and_one() -> list[dict]:
    """8 patients, 1 with trauma; the 7 without lose patency one by one at months 1-5,
    before anyone is censored: their estimate at 12 months is 2/7, which no group of
    fewer than 7 can reach, so "the 7 are at least 7" and n = 8 leave 1 with trauma."""
    cohort = [_row(i, trauma=i == 0, follow_up_months=24.0) for i in range(8)]
    for i in range(1, 6):
        cohort[i]["events"] = [(float(i), "restenosis")]
    return cohort


@pytest.mark.parametrize("k", [3, 5])
def test_a_subgroup_estimate_does_not_give_its_hidden_size_away(k):
    with build(seven_and_one()) as con:
        header = views.header_view(con, CohortFilter())
        view = views.subgroups_view(con, CohortFilter())
        nullable = nullable_factors(con)
    decided = mask(header_ledger(header) | views.subgroups_ledger(view, header.limbs), k)
    shown = subgroup_display(view, decided).set_index(["Factor", "Group"])
    assert shown.at[("Trauma", "Yes"), "Patients"] == f"<{k}"
    assert shown.at[("Trauma", "No"), "Estimate (%)"] == fmt.SUPPRESSED
    assert_safe(*read_subgroups(view, header, decided, nullable))


def _no_complement(view, k):
    """A mask that shows small counts as "<k" and withholds nothing beside them."""
    decided = masking.mask(view, k)
    return Mask(decided.k, decided.counts, decided.small, decided.omitted, decided.omitted)


def test_the_attacker_catches_a_mask_that_withholds_no_complement():
    """The judge of these tests can fail: with no complement withheld, n minus the other
    centres gives the small one."""
    cohort = [_row(i, center="C1" if i < 3 else "C2") for i in range(12)]
    with build(cohort) as con:
        header = views.header_view(con, CohortFilter())
        comparison = views.centres_view(con, CohortFilter())
    ledger = header_ledger(header) | views.centres_ledger(comparison)
    weak = _no_complement(ledger, 5)
    given_away = pinned(*read_centres(comparison, header, weak))
    assert (("centre", "C1", "patients"), 3, "pinned") in given_away
    assert_safe(*read_centres(comparison, header, mask(ledger, 5)))


def test_the_attacker_catches_an_estimate_beside_a_hidden_size():
    """And it inverts an estimate: shown beside its group's hidden size, as it was."""
    with build(seven_and_one()) as con:
        header = views.header_view(con, CohortFilter())
        view = views.subgroups_view(con, CohortFilter())
        nullable = nullable_factors(con)
    decided = mask(header_ledger(header) | views.subgroups_ledger(view, header.limbs), 3)
    with (
        mock.patch("analytics.present.tables.subgroup_cells", _shown_estimates),
        mock.patch("analytics.present.figures.subgroups.subgroup_cells", _shown_estimates),
    ):
        reading, truth = read_subgroups(view, header, decided, nullable)
    assert (("level", "trauma", "yes", "patients"), 1, "pinned") in pinned(reading, truth)


_subgroup_cells = tables.subgroup_cells


def _shown_estimates(view: SubgroupsView, decided: Mask | None = None) -> tables.SubgroupCells:
    """subgroup_cells as it was: a level's estimate withheld only for few patients or
    events, not beside a hidden count."""
    cells = _subgroup_cells(view, decided)
    keys = [partial(curve_key, view.endpoint, row.level, by=row.factor)
            for row in view.table.itertuples()]  # fmt: skip
    few = [decided.few(key("patients")) or decided.few(key("events")) for key in keys]
    return replace(cells, estimate_hidden=few)
