"""Centre scope, the pure rule: which claim scopes a user to a centre, the condition each
scope adds to the filter (counted against SQL written here), the privacy it runs under,
what it may compare by, and the funnel a centre's user sees (their centre named, the
others anonymised and masked knowing the user's own counts)."""

from __future__ import annotations

import pickle
from dataclasses import replace
from urllib.parse import parse_qs

import duckdb
import numpy as np
import pytest

from analytics.access import AccessError, access_rule
from analytics.audit import filter_text
from analytics.cohort.summary import SUMMARY_TABLE, create_summary
from analytics.filters import CohortFilter, FilterError, cohort_sql, parse_filter, to_params
from analytics.present import format as fmt
from analytics.present.masking import mask
from analytics.present.privacy import Setting
from analytics.scope import CENTRE, POOL, CentreScope, Choice, anonymised, anonymous_name
from analytics.stats.engine.counts import Counts
from analytics.stats.funnel import compare_centres
from analytics.views import N, centre_key, centres_ledger, header_view
from tests.conftest import add_patient

ACCESS = {"role_claim": "groups", "roles": {"vs-analysts": "analyst"}}
RULE = access_rule({**ACCESS, "center_claim": "center"})
MINE, OTHERS = CentreScope("C02", Choice.MINE), CentreScope("C02", Choice.OTHERS)


# ---- the claim ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "centre"),
    [({"center": "C02"}, "C02"), ({"center": [" C02 "]}, "C02"), ({}, None),
     ({"center": None}, None)],
)  # fmt: skip
def test_the_centre_claim_names_the_users_centre_or_none_for_the_registry(claims, centre):
    assert RULE.centre_of({"groups": ["vs-analysts"], **claims}) == centre


def test_without_a_centre_claim_configured_every_user_sees_the_registry():
    assert access_rule(ACCESS).centre_of({"center": "C02"}) is None


@pytest.mark.parametrize("held", [["C01", "C02"], [], 7, "  ", [3]])
def test_a_claim_that_names_no_one_centre_is_refused_never_read_as_the_registry(held):
    with pytest.raises(AccessError, match="'center' claim of this account does not name one"):
        RULE.centre_of({"center": held})


@pytest.mark.parametrize("claim", ["", "  ", 3, ["center"]])
def test_a_centre_claim_setting_that_names_no_claim_stops_the_dashboard(claim):
    with pytest.raises(AccessError, match="center_claim must name the claim"):
        access_rule({**ACCESS, "center_claim": claim})


# ---- the filter -----------------------------------------------------------------------------


@pytest.fixture
def centres(blank: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Nine patients: four in C01, three in C02, two with no centre recorded."""
    for i, centre in enumerate(["C01"] * 4 + ["C02"] * 3 + [None] * 2):
        add_patient(blank, f"p{i}", center=centre)
    create_summary(blank)
    return blank


def count(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> int:
    sql, params = cohort_sql(cohort_filter, "count(*)")
    return con.execute(sql, params).fetchone()[0]


def by_sql(con: duckdb.DuckDBPyConnection, where: str) -> int:
    return con.execute(f"SELECT count(*) FROM {SUMMARY_TABLE} WHERE {where}").fetchone()[0]


def test_my_centre_is_the_centre_and_the_others_every_other_patient_none_recorded_too(centres):
    everyone = CohortFilter(population="all")
    assert count(centres, MINE.filter(everyone)) == by_sql(centres, "center = 'C02'") == 3
    others = by_sql(centres, "center <> 'C02' OR center IS NULL")
    assert count(centres, OTHERS.filter(everyone)) == others == 6


def test_a_scope_overrides_a_centre_filter_rather_than_combining_with_it(centres):
    """A centre chosen by a link or a widget is set aside: the scope is the centre."""
    other_centre = CohortFilter(population="all", center="C01")
    assert count(centres, MINE.filter(other_centre)) == 3
    assert count(centres, OTHERS.filter(other_centre)) == 6


def test_the_registry_scope_leaves_the_filter_as_it_is():
    chosen = CohortFilter(center="C01", age_min=60)
    assert CentreScope().filter(chosen) is chosen


def test_a_scope_is_never_written_to_a_link_nor_read_from_one():
    scoped = OTHERS.filter(CohortFilter(lesion_side="left"))
    assert to_params(scoped) == {"lesion_side": "left"}
    with pytest.raises(FilterError, match="scope: unknown filter"):
        parse_filter({"scope": "center"})


def test_a_scope_survives_copies_and_pickling_for_the_fit_worker():
    scoped = OTHERS.filter(CohortFilter())
    assert replace(scoped, sex="F").scope == scoped.scope
    assert scoped.with_risk("smoking", True).scope == scoped.scope
    assert pickle.loads(pickle.dumps(scoped)) == scoped
    assert scoped != CohortFilter() and not scoped.is_default


def test_the_sidebars_totals_are_the_scopes_not_the_registrys(centres):
    header = header_view(centres, MINE.filter(CohortFilter(population="all")))
    assert (header.limbs, header.analysed, header.total) == (3, 3, 3)


def test_a_caption_says_which_scope_it_shows():
    assert fmt.filter_words(MINE.filter(CohortFilter())).startswith("Centre: C02")
    assert fmt.filter_words(OTHERS.filter(CohortFilter())).startswith("Centre: other than C02")


# ---- privacy and comparisons ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["off", "on", "enforced"])
def test_the_other_centres_run_enforced_at_the_deployments_k_at_least_five(mode):
    assert OTHERS.privacy(Setting(mode, 3)) == Setting("enforced", 5)
    assert OTHERS.privacy(Setting(mode, 8)) == Setting("enforced", 8)


@pytest.mark.parametrize("scope", [MINE, CentreScope()])
def test_my_centre_and_the_registry_keep_the_roles_privacy(scope):
    assert scope.privacy(Setting("off", 5)) == Setting("off", 5)


def test_a_centres_user_compares_by_and_adjusts_for_anything_but_centre():
    assert not MINE.allows(CENTRE) and not OTHERS.allows(CENTRE)
    assert MINE.allows("sex") and CentreScope().allows(CENTRE)


def test_the_funnel_is_masked_at_least_at_five_for_a_centres_user():
    assert MINE.funnel_k(None, Setting("off", 3)) == 5
    assert MINE.funnel_k(10, Setting("off", 5)) == 10
    assert CentreScope().funnel_k(None, Setting("off", 5)) is None


# ---- the funnel -----------------------------------------------------------------------------


def counts(groups: dict[str, list[tuple[float, int, int]]]) -> Counts:
    """(months, events, censored) rows per group, as the engine takes them."""
    levels = tuple(groups)
    rows = [(i, *row) for i, level in enumerate(levels) for row in groups[level]]
    group, months, events, censored = (np.array(column) for column in zip(*rows, strict=True))
    return Counts(levels, group.astype(int), months.astype(float), events, censored)


@pytest.fixture
def four_centres():
    """C01: 20 patients, none loses patency; C02 (the user's): 3; C03: 30, all lose it at
    month 3; C04: 4, followed 36 months. Pooled: every patient."""
    rows = {"C01": [(36.0, 0, 20)], "C02": [(36.0, 0, 3)], "C03": [(3.0, 30, 0)],
            "C04": [(36.0, 0, 4)]}  # fmt: skip
    overall = counts({"all": [row for centre in rows.values() for row in centre]})
    return compare_centres(counts(rows), overall, 12.0)


def test_the_others_are_named_by_size_largest_first_and_the_user_centre_comes_first(
    four_centres,
):
    seen = anonymised(four_centres, "C02").centres
    assert list(seen["centre"]) == ["C02", "Centre A", "Centre B", "Centre C"]
    assert list(seen["patients"]) == [3, 30, 20, 4]
    assert not set(seen["centre"]) & {"C01", "C03", "C04"}


def test_anonymous_names_run_past_z():
    assert [anonymous_name(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "Centre A", "Centre Z", "Centre AA", "Centre AB", "Centre ZZ", "Centre AAA",
    ]  # fmt: skip


def test_the_others_are_masked_as_parts_of_their_pool_not_of_n(four_centres):
    """The user knows their centre's 3 (their own pages show it): with n, the pool of
    the others follows, so the others are masked as parts of it. Centre C's 4 shows
    "<5", and of the pool's other parts one is withheld (else 57 less them gives 4)."""
    seen = MINE.funnel(four_centres)
    view = MINE.funnel_view(seen)
    assert N not in view.counts and view.counts[POOL] == 54
    decided = mask(view, 5)
    assert decided.cell(centre_key("Centre C", "patients")).shown == "small"
    parts = [centre_key(name, "patients") for name in ("Centre A", "Centre B")]
    assert any(decided.cell(key).shown == "withheld" for key in parts)


def test_a_registry_users_funnel_is_masked_with_n_as_before(four_centres):
    assert CentreScope().funnel_view(four_centres) == centres_ledger(four_centres)


def test_the_audit_trail_records_which_scope_was_seen():
    assert parse_qs(filter_text(MINE.filter(CohortFilter(lesion_side="left")))) == {
        "lesion_side": ["left"], "scope": ["center=C02"],
    }  # fmt: skip
    assert parse_qs(filter_text(OTHERS.filter(CohortFilter()))) == {"scope": ["center!=C02"]}
    assert filter_text(CohortFilter(lesion_side="left")) == "lesion_side=left"
