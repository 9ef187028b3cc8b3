"""Privacy's counts of limbs carry the distinct patients behind them (issue 23): a count
whose patients were not counted was judged by the fewest it can be (half its limbs,
rounded up), which hid, at k = 5, 8 limbs of 8 patients. Each surface's patients equal
SQL's count(DISTINCT patient_key) on the bilateral registry, and at k = 5 a count of 8
limbs of 8 patients shows where 6 limbs of 3 patients are "<5"."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pytest

from analytics import views
from analytics.cohort.summary import SUMMARY_TABLE, create_summary
from analytics.filters import CohortFilter, cohort_where, parse_pairs
from analytics.partitions import patients_may_matter
from analytics.present.masking import mask
from analytics.rules import ACTIVE_ULCER_CEAP, ULCER_HEALING_MONTHS
from analytics.stats.baseline import population
from tests.conftest import add_patient


def distinct_patients(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter,
                      predicate: str) -> int:  # fmt: skip
    where, params = cohort_where(cohort_filter)
    sql = f"SELECT count(DISTINCT patient_key) FROM {SUMMARY_TABLE} WHERE ({where}) AND "
    return con.execute(sql + f"coalesce(({predicate}), false)", params).fetchone()[0]


def limb_count(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter, predicate: str) -> int:
    where, params = cohort_where(cohort_filter)
    sql = f"SELECT count(*) FROM {SUMMARY_TABLE} WHERE ({where}) AND coalesce(({predicate}), false)"
    return con.execute(sql, params).fetchone()[0]


ACTIVE = f"ceap_before = {ACTIVE_ULCER_CEAP}"
HEALED = f"{ACTIVE} AND ulcer_healed_months <= {ULCER_HEALING_MONTHS}"
STENTED = "technical_success AND coalesce(stents, 1) >= 1"
POPULATION_ROWS = {
    "enrolled": "true",
    "successes": "technical_success",
    "failures": "NOT coalesce(technical_success, false)",
    "stented": STENTED,
    "not stented": f"technical_success AND NOT ({STENTED})",
}


@pytest.mark.parametrize("side", [[], ["lesion_side=left"]])
def test_the_populations_patients_are_its_distinct_patients(bilateral, side):
    """Of centre C03's women: 2 to 48 limbs; the counts under 39 limbs have their patients
    counted (fewer than 39 limbs may be fewer than 20 patients, the largest k)."""
    analysed = parse_pairs(["center=C03", "sex=F", *side])
    found = population(bilateral, analysed)
    everyone = replace(analysed, population="all")
    rows = POPULATION_ROWS | {
        "active ulcers": f"technical_success AND {ACTIVE}",
        "ulcers healed": f"technical_success AND {HEALED}",
        "ulcers not healed": f"technical_success AND {ACTIVE} AND NOT coalesce({HEALED}, false)",
        "no active ulcer": f"technical_success AND NOT coalesce({ACTIVE}, false)",
    }
    limbs = {name: limb_count(bilateral, everyone, p) for name, p in rows.items()}
    expected = {name: distinct_patients(bilateral, everyone, p) for name, p in rows.items()
                if patients_may_matter(limbs[name])}  # fmt: skip
    assert found.patients == expected and "ulcers healed" in expected
    assert ("enrolled" in expected) is bool(side)  # 50 limbs are at least 25 patients
    assert any(expected[name] < limbs[name] for name in expected) is not side  # pairs


def bilateral_registry(con: duckdb.DuckDBPyConnection, *limbs: tuple[dict, dict | None]):
    """Patients of one limb (``second`` None) or two, each limb's columns overridden."""
    for i, (first, second) in enumerate(limbs):
        add_patient(con, f"p{i}", **first)
        if second is not None:
            con.execute(
                "INSERT INTO limbs SELECT * REPLACE (limb_id || '-2' AS limb_id, 'right' AS side, "
                "? AS technical_success) FROM limbs WHERE limb_id = ?",
                [second.get("technical_success", True), f"p{i}"],
            )
    create_summary(con)
    return con


def _population_mask(con: duckdb.DuckDBPyConnection, k: int):
    everyone = CohortFilter(population="all")
    header = views.header_view(con, everyone)
    shown = views.header_ledger(header) | views.population_ledger(population(con, everyone), True)
    return mask(shown, k)


LEFT = {"lesion_side": "left"}
FAILED = {"lesion_side": "left", "technical_success": False}


def test_eight_failed_limbs_of_eight_patients_show_at_k_5(blank):
    """8 failures of 8 patients, beside 12 patients with both limbs a success: the
    fewest patients 8 limbs can be (4) hid them."""
    con = bilateral_registry(blank, *[(FAILED, None)] * 8, *[(LEFT, {})] * 12)
    decided = _population_mask(con, 5)
    assert not decided.hidden(views.population_key("failures"))
    assert decided.cell(views.population_key("failures")).value == 8


def test_six_failed_limbs_of_three_patients_are_fewer_than_k_5(blank):
    both = {"technical_success": False}
    con = bilateral_registry(blank, *[(FAILED, both)] * 3, *[(LEFT, {})] * 12)
    decided = _population_mask(con, 5)
    assert decided.cell(views.population_key("failures")).shown == "small"


def test_each_centres_patients_are_its_distinct_patients(bilateral):
    """Patients aged 50 or less: 77 limbs (at least 39 patients: not counted), 13 to 31 a
    centre, each count's patients counted."""
    young = parse_pairs(["age_max=50"])
    comparison = views.centres_view(bilateral, young, 12.0)
    where, params = cohort_where(young)
    months, event = "tte_primary_months", "tte_primary_event"
    for count, predicate in (
        ("patients", "true"), ("at risk", f"{months} >= 12"),
        ("events", f"{event} AND {months} < 12"), ("censored", f"NOT {event} AND {months} < 12"),
    ):  # fmt: skip
        sql = (
            f"SELECT center, count(DISTINCT patient_key) FROM {SUMMARY_TABLE} "
            f"WHERE ({where}) AND {predicate} AND center IS NOT NULL GROUP BY ALL"
        )
        expected = dict(bilateral.execute(sql, params).fetchall())
        found = {c: comparison.people[(c, count)] for c in comparison.centres["centre"]}
        assert found == {c: expected.get(c, 0) for c in found}, count
    assert (None, "patients") not in comparison.people
    patients = {c: comparison.people[(c, "patients")] for c in comparison.centres["centre"]}
    assert sum(patients.values()) < comparison.centres["patients"].sum()  # pairs in it


def _centres_mask(con: duckdb.DuckDBPyConnection, k: int):
    header = views.header_view(con, CohortFilter())
    comparison = views.centres_view(con, CohortFilter(), 12.0)
    return mask(views.header_ledger(header) | views.centres_ledger(comparison), k)


def test_a_centre_of_eight_limbs_of_eight_patients_shows_at_k_5(blank):
    small, large = {"lesion_side": "left", "center": "A"}, {"lesion_side": "left", "center": "B"}
    con = bilateral_registry(blank, *[(small, None)] * 8, *[(large, {})] * 12)
    decided = _centres_mask(con, 5)
    assert not decided.hidden(views.centre_key("A", "patients"))


def test_a_centre_of_six_limbs_of_three_patients_is_fewer_than_k_5(blank):
    small, large = {"lesion_side": "left", "center": "A"}, {"lesion_side": "left", "center": "B"}
    con = bilateral_registry(blank, *[(small, {})] * 3, *[(large, {})] * 12)
    assert _centres_mask(con, 5).cell(views.centre_key("A", "patients")).shown == "small"


def test_table1s_limb_rows_carry_their_distinct_patients(bilateral):
    """Patients aged 50 or less: 77 limbs of 69 patients; rows of fewer than 39 limbs have
    their patients counted, a person-level row (sex) none: it counts people."""
    young = parse_pairs(["age_max=50"])
    found = views.tables_view(bilateral, young).baseline
    rows = {
        ("lesion_side", "rest"): "lesion_side = 'right'",
        ("aetiology", "level", "non_thrombotic"): "aetiology = 'non_thrombotic'",
        ("seg_ivc",): "seg_ivc",
        ("stent_design", "level", "braided"): "stent_design = 'braided'",
        ("inflow",): "inflow = 'poor'",
    }
    for name, predicate in rows.items():
        assert found.patients[name] == distinct_patients(bilateral, young, predicate), name
    assert not [name for name in found.patients if name[0] == "sex"]
    assert any(found.patients[n] < limb_count(bilateral, young, p) for n, p in rows.items())


def _table1_mask(con: duckdb.DuckDBPyConnection, k: int):
    view = views.tables_view(con, CohortFilter())
    return mask(views.baseline_ledger(view.baseline), k)


NIVL = {"lesion_side": "left", "aetiology": "non_thrombotic"}
AETIOLOGY = views.table1_key("aetiology", "level", "non_thrombotic")


def test_a_table1_row_of_eight_limbs_of_eight_patients_shows_at_k_5(blank):
    con = bilateral_registry(blank, *[(NIVL, None)] * 8, *[(LEFT, {})] * 12)
    assert not _table1_mask(con, 5).hidden(AETIOLOGY)


def test_a_table1_row_of_six_limbs_of_three_patients_is_fewer_than_k_5(blank):
    con = bilateral_registry(blank, *[(NIVL, {})] * 3, *[(LEFT, {})] * 12)
    assert _table1_mask(con, 5).cell(AETIOLOGY).shown == "small"


def test_the_filters_complements_carry_their_distinct_patients(bilateral):
    """Patients aged 45 or more: the analysed limbs of younger patients are left out (34
    limbs), the technical failures are many (41 limbs: at least 21 patients, not
    counted)."""
    older = parse_pairs(["age_min=45"])
    header = views.header_view(bilateral, older)
    analysed = CohortFilter()
    younger = distinct_patients(bilateral, analysed, "NOT coalesce(age_years >= 45, false)")
    assert header.left_out_people == younger
    assert younger < header.analysed - header.limbs  # a patient with both limbs left out
    assert header.not_analysed_people is None


def test_limbs_left_out_by_the_filters_of_eight_patients_show_at_k_5(blank):
    """8 limbs of 8 patients of centre A outside a filter of centre B's 12 patients with
    both legs treated."""
    con = bilateral_registry(
        blank, *[({**LEFT, "center": "A"}, None)] * 8, *[({**LEFT, "center": "B"}, {})] * 12
    )
    header = views.header_view(con, parse_pairs(["center=B"]))
    assert (header.analysed - header.limbs, header.left_out_people) == (8, 8)
    assert not mask(views.header_ledger(header), 5).hidden(views.LEFT_OUT)


def test_limbs_left_out_by_the_filters_of_three_patients_are_fewer_than_k_5(blank):
    """6 limbs of 3 patients with both legs, outside a filter of centre B's 12 patients."""
    con = bilateral_registry(
        blank, *[({**LEFT, "center": "A"}, {})] * 3, *[({**LEFT, "center": "B"}, {})] * 12
    )
    header = views.header_view(con, parse_pairs(["center=B"]))
    assert (header.analysed - header.limbs, header.left_out_people) == (6, 3)
    assert mask(views.header_ledger(header), 5).cell(views.LEFT_OUT).shown == "small"


@pytest.mark.parametrize("side", [[], ["lesion_side=right"]])
def test_a_curves_counts_between_months_carry_their_distinct_patients(bilateral, side):
    """Primary patency's events and censored between two table months, across a month
    between, and after the last: each count of limbs carries the patients behind it, as
    SQL counts them. Uncounted, 6 limbs between months 6 and 12 of 6 patients (one right
    limb each) were judged as 3, fewer than k = 5."""
    chosen = parse_pairs(side)
    view = views.patency_view(bilateral, chosen)
    shown = views.patency_ledger(view)
    curve = view.survival[views.PRIMARY].overall
    key = view.keys(views.PRIMARY, curve)
    months = views.curve_months(curve)
    event = {"events": "tte_primary_event", "censored": "NOT tte_primary_event"}
    checked = 0
    for count, (between, after) in views.GROWING.items():
        for i, j in [(0, 1), (1, 2), (1, 3), (2, 4)]:
            name = between if j == i + 1 else f"{between} since {months[i]}"
            when = f"tte_primary_months >= {months[i]} AND tte_primary_months < {months[j]}"
            rows = f"technical_success AND {event[count]} AND {when}"
            assert shown.counts[key(name, months[j])] == limb_count(bilateral, chosen, rows)
            assert shown.patients_of(key(name, months[j])) == distinct_patients(
                bilateral, chosen, rows
            ), (name, months[j])
            checked += 1
        rows = f"technical_success AND {event[count]} AND tte_primary_months >= {months[-1]}"
        assert shown.patients_of(key(after, months[-1])) == distinct_patients(
            bilateral, chosen, rows
        )
    assert checked == 8
