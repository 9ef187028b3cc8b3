"""The registry's lesion, stent and therapy fields as variables, and Table 1 per unit.

On tests.cohorts.device_registry: 6 limbs of 4 patients, A and B treated on both legs.
Every expected number is worked by hand from its rows (tests.cohorts.DEVICE_*):

limb patient sex thromb. age aetiology  stents design  length diam. below inflow IVUS therapy
A-L  A       F   yes     50  post       2      braided 150    16    yes   good   yes  doac
A-R  A       F   yes     51  non        1      laser    80    14    no    poor   no   doac
B-L  B       F   no      60  acute      2      mixed   180    16    yes   -      yes  vka, AP
B-R  B       F   no      61  post       1 (*)  -        -     -     -     good   -    vka, AP
C    C       M   no      70  not rec.   -      -        -     -     -     -      -    -
D    D       M   no      80  post       1      laser   100    14    no    good   no   none

(*) given by the limb, no stent listed; AP antiplatelet; C has no therapy recorded. A
person-level row reads each patient once, from their first limb in the filter (the
earliest procedure): ages 50, 60, 70, 80.
"""

from __future__ import annotations

import math
import statistics

import pytest

from analytics.filters import (
    CohortFilter,
    cohort_sql,
    parse_filter,
    patient_sql,
    to_params,
)
from analytics.groups import data_levels, decode, grouping
from analytics.partitions import Ledger
from analytics.present.masking import mask
from analytics.present.tables import table1
from analytics.stats.baseline import baseline
from analytics.variables import BUILTIN, Level
from analytics.views import PEOPLE, N, PatencyRequest, baseline_ledger, patency_of, table1_key
from tests.cohorts import device_registry


@pytest.fixture(scope="module")
def registry():
    con = device_registry()
    yield con
    con.close()


def limbs_and_people(con, cohort_filter: CohortFilter) -> tuple[int, int]:
    query, params = cohort_sql(cohort_filter, "count(*), count(DISTINCT patient_id)")
    return con.execute(query, params).fetchone()


# filter text -> the limbs it keeps and their patients
FILTERS = {
    "aetiology=post_thrombotic": ({"A-L", "B-R", "D"}, 3),
    "aetiology=not_recorded": ({"C"}, 1),
    "stent_design=laser_cut": ({"A-R", "D"}, 2),
    "stent_design=mixed": ({"B-L"}, 1),
    "stent_brand=Venovo": ({"A-R", "D"}, 2),
    "below_inguinal_ligament=yes": ({"A-L", "B-L"}, 2),
    "below_inguinal_ligament=no": ({"A-R", "D"}, 2),
    "inflow=poor": ({"A-R"}, 1),
    "ivus=yes": ({"A-L", "B-L"}, 2),
    "therapy_at_procedure=combination": ({"B-L", "B-R"}, 1),
    "therapy_at_procedure=none": ({"D"}, 1),
}


@pytest.mark.parametrize("text", FILTERS)
def test_each_new_field_filters_limbs_and_round_trips_its_link(registry, text):
    key, _, value = text.partition("=")
    cohort_filter = parse_filter({key: value})
    assert parse_filter(to_params(cohort_filter)) == cohort_filter
    assert to_params(cohort_filter) == {key: value}
    query, params = cohort_sql(cohort_filter, "limb_id")
    kept = {row[0] for row in registry.execute(query, params).fetchall()}
    limbs, people = FILTERS[text]
    assert kept == limbs
    assert limbs_and_people(registry, cohort_filter) == (len(limbs), people)


def test_a_level_a_field_cannot_hold_is_refused_naming_it():
    with pytest.raises(ValueError, match="aetiology='chronic': expected one of post_thrombotic"):
        parse_filter({"aetiology": "chronic"})


def test_stent_brands_are_levels_from_the_data_of_the_limbs(registry):
    assert dict(data_levels(registry, BUILTIN))["stent_brand"] == ("Venovo", "Wallstent", "mixed")


# grouping key -> limbs per group (None: not recorded)
GROUPS = {
    "aetiology": {"post_thrombotic": 3, "non_thrombotic": 1, "acute_thrombotic": 1,
                  "not_recorded": 1},
    "stent_design": {"braided": 1, "laser_cut": 2, "mixed": 1, None: 2},
    "stent_brand": {"Wallstent": 1, "Venovo": 2, "mixed": 1, None: 2},
    "below_inguinal_ligament": {"yes": 2, "no": 2, None: 2},
    "inflow": {"good": 3, "poor": 1, None: 2},
    "ivus": {"yes": 2, "no": 2, None: 2},
    "therapy_at_procedure": {"doac": 2, "combination": 2, "none": 1, "not_recorded": 1},
}  # fmt: skip


@pytest.mark.parametrize("key", GROUPS)
def test_each_new_field_groups_limbs_by_its_levels(registry, key):
    split = grouping(key)
    rows = registry.execute(
        f"SELECT {split.sql} AS code, count(*) FROM limb_summary GROUP BY 1"
    ).fetchall()
    found = {None if code is None else str(decode(key, [code])[0]): n for code, n in rows}
    assert found == GROUPS[key]


def test_each_built_in_says_whether_a_patient_or_a_limb_is_its_unit():
    people = {v.key for v in BUILTIN.variables if v.level is Level.PATIENT}
    assert people == {
        "sex", "age_years", "bmi", "center", "recurrent_dvt", "malignancy", "smoking",
        "immobilization", "thrombophilia", "recent_surgery", "trauma", "diabetes",
    }  # fmt: skip


def test_table1_counts_people_for_a_persons_rows_and_limbs_for_a_limbs(registry):
    numbers = baseline(registry, CohortFilter())
    assert (numbers.limbs, numbers.people) == (6, 4)
    assert numbers.female == 2  # A and B, not their 4 limbs
    assert numbers.risk_factors["thrombophilia"] == 1  # A, not A's 2 limbs
    assert numbers.left == 3  # A-L, B-L, C
    assert numbers.age.n == 4
    assert numbers.age.mean == pytest.approx(65.0)  # 50, 60, 70, 80: each first procedure
    assert numbers.age.sd == pytest.approx(statistics.stdev([50, 60, 70, 80]))
    assert numbers.levels["aetiology"] == {
        "post_thrombotic": 3, "non_thrombotic": 1, "acute_thrombotic": 1, "not_recorded": 1,
    }  # fmt: skip
    stents = numbers.spreads["stents"]
    assert (stents.n, stents.mean) == (5, pytest.approx(1.4))
    assert stents.sd == pytest.approx(statistics.stdev([2, 1, 2, 1, 1]))
    length = numbers.spreads["stented_length_mm"]
    assert (length.n, length.mean, length.minimum, length.maximum) == (4, 127.5, 80, 180)
    assert numbers.spreads["max_diameter_mm"].mean == pytest.approx(15.0)
    assert numbers.shares["below_inguinal_ligament"] == 2
    assert numbers.shares["inflow"] == 1
    assert numbers.shares["ivus"] == 2


def test_a_persons_row_reads_the_first_of_their_limbs_in_the_filter(registry):
    """Right legs only: A-R, B-R and D, one each of three patients, aged 51, 61, 80."""
    numbers = baseline(registry, CohortFilter(lesion_side="right"))
    assert (numbers.limbs, numbers.people) == (3, 3)
    assert numbers.age.mean == pytest.approx((51 + 61 + 80) / 3)
    assert numbers.female == 2
    query, params = patient_sql(CohortFilter(lesion_side="right"), "sum(age_years)")
    assert registry.execute(query, params).fetchone()[0] == 51 + 61 + 80


def test_the_tables_table1_says_limbs_in_patients_and_what_each_row_counts(registry):
    numbers = baseline(registry, CohortFilter())
    table = table1(numbers, mask(baseline_ledger(numbers), None)).set_index("Characteristic")
    assert table.loc["Limbs and patients", "Value"] == "6 limbs in 4 patients"
    rows = table["Value"].to_dict()
    counts = table["Counts"].to_dict()
    assert rows["Age, years, mean ± SD (range)"] == "65.0 ± 12.9 (50-80)"
    assert (rows["Female"], counts["Female"]) == ("2 (50.0%)", "patients")
    assert (rows["Thrombophilia"], counts["Thrombophilia"]) == ("1 (25.0%)", "patients")
    assert (rows["Lesion side: left"], counts["Lesion side: left"]) == ("3 (50.0%)", "limbs")
    assert rows["Aetiology: Post-thrombotic"] == "3 (50.0%)"
    assert rows["Aetiology: Non-thrombotic (NIVL)"] == "1 (16.7%)"
    assert rows["Aetiology: Not recorded"] == "1 (16.7%)"
    assert rows["Stents per limb, mean ± SD (range)"] == "1.4 ± 0.5 (1-2)"
    assert rows["Stent design: Laser-cut"] == "2 (33.3%)"
    assert rows["Stent design: Mixed designs"] == "1 (16.7%)"
    assert "Stent design: Hybrid" not in rows  # no limb has it
    assert rows["Stented length, mm, mean ± SD (range)"] == "128 ± 46 (80-180)"
    assert rows["Largest stent diameter, mm, mean ± SD (range)"] == "15.0 ± 1.2 (14-16)"
    assert rows["Stented below the inguinal ligament"] == "2 (33.3%)"
    assert rows["Poor inflow"] == "1 (16.7%)"
    assert rows["IVUS used"] == "2 (33.3%)"
    assert rows["Antithrombotic at the procedure: DOAC"] == "2 (33.3%)"
    assert rows["Antithrombotic at the procedure: Combination"] == "2 (33.3%)"
    assert rows["Antithrombotic at the procedure: None"] == "1 (16.7%)"
    assert counts["Antithrombotic at the procedure: None"] == "limbs"


def test_table1_ledger_adds_persons_rows_to_the_patients_and_limbs_rows_to_the_limbs(registry):
    numbers = baseline(registry, CohortFilter())
    declared: Ledger = baseline_ledger(numbers)
    totals = {s.parts: s.total for s in declared.sums}
    assert totals[(table1_key("sex"), table1_key("sex", "rest"))] == PEOPLE
    assert totals[(table1_key("lesion_side"), table1_key("lesion_side", "rest"))] == N
    assert (declared.counts[N], declared.counts[PEOPLE]) == (6, 4)
    for each in declared.sums:
        assert declared.counts[each.total] == sum(declared.counts[p] for p in each.parts), each


def test_a_small_count_of_people_is_hidden_though_its_limbs_are_k_or_more(registry):
    """k = 5: 6 limbs, but 4 patients; no count of 1 to 4 shows, of people or limbs."""
    numbers = baseline(registry, CohortFilter())
    decided = mask(baseline_ledger(numbers), 5)
    assert decided.hidden(PEOPLE)
    for text in table1(numbers, decided)["Value"]:
        first = str(text).split(" ")[0]
        assert not (first.isdigit() and 0 < int(first) < 5), text


def test_a_registry_without_the_fields_has_no_empty_rows_for_them(demo):
    """The demo records aetiology (post-thrombotic, the paper's chronic DVT) and a stent
    count per limb, no device, inflow, IVUS or therapy: its Table 1 has no row for those."""
    numbers = baseline(demo, CohortFilter())
    rows = list(table1(numbers, mask(baseline_ledger(numbers), None))["Characteristic"])
    assert "Aetiology: Post-thrombotic" in rows
    assert not any(
        r.startswith(("Aetiology: Non", "Aetiology: Acute", "Aetiology: Not")) for r in rows
    )
    absent = ("Stent design", "Stented length", "Largest stent", "Stented below", "Poor inflow",
              "IVUS", "Antithrombotic")  # fmt: skip
    assert not any(r.startswith(absent) for r in rows)
    assert not numbers.bilateral and rows[0] == "Patients"


def test_an_empty_view_keeps_every_number_row_saying_there_is_none(registry):
    numbers = baseline(registry, CohortFilter(age_min=100))
    assert numbers.limbs == 0
    assert math.isnan(numbers.spreads["stents"].mean)
    assert numbers.shows(BUILTIN.get("stents"))


@pytest.mark.parametrize("by", ["stent_design", "stent_brand", "ivus", "inflow"])
def test_comparing_by_a_field_no_limb_has_recorded_gives_the_whole_curve_and_no_group(demo, by):
    """The demo records no device, inflow or IVUS: by any of them there is no group to
    compare (the limbs not recorded are no group), only the overall curve."""
    view = patency_of(demo, CohortFilter(), PatencyRequest(by=by))
    survival = view.survival["primary"]
    assert survival.groups == ()
    assert survival.comparison.levels == () and survival.comparison.logrank is None
    assert survival.overall.estimates.estimate[1] == pytest.approx(25 / 34)  # at 12 months
