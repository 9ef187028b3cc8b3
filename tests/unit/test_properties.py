"""Property tests: any filter on any small cohort gives numbers or a clear message.

Cohorts of 0-3 patients (one group, no events, everyone censored, technical failures,
missing visits) and filters drawn from the whole filter space go through every view,
the tables every page shows, the report (text and JSON) and, in the slow test, the
deck. Nothing may raise but a defined error (CohortError, FilterError), and the JSON
report is strict JSON (no NaN). The deck test draws no pictures: kaleido is replaced
by a blank PNG, so it needs no chromium and runs in a second per example.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pptx import Presentation

from analytics import views
from analytics.filters import (
    FILTER_KEYS,
    MATCH_MODES,
    SEGMENT_LABELS,
    SEGMENT_PATTERNS,
    CohortFilter,
    cohort_sql,
    parse_filter,
    parse_filter_lenient,
    to_params,
)
from analytics.glossary import ENDPOINTS, GROUPINGS, POPULATIONS, RISK_FACTORS
from analytics.present import tables
from analytics.present.figures import clinical, safety
from analytics.present.figures.centres import funnel_plot
from analytics.present.figures.patency import patency_figure
from analytics.present.figures.subgroups import forest_plot
from analytics.present.masking import mask
from analytics.present.report import report_json, report_text
from analytics.present.tiles import headline_tiles
from tests.cohorts import CENTRES, build, patient
from tests.masks import overview_mask, safety_mask, tables_mask

K = st.none() | st.integers(2, 20)


@st.composite
def cohorts(draw: st.DrawFn) -> list[dict]:
    size = draw(st.integers(0, 3))
    return [draw(patient(i)) for i in range(size)]


@st.composite
def filters(draw: st.DrawFn) -> CohortFilter:
    """Any filter the sidebar, a link or --where can describe, valid values only."""
    age = st.none() | st.integers(18, 110)
    bmi = st.none() | st.sampled_from([12.0, 24.5, 30.0, 70.0])
    risks = draw(st.dictionaries(st.sampled_from(list(RISK_FACTORS)), st.booleans(), max_size=3))
    segments = draw(st.sets(st.sampled_from(SEGMENT_LABELS), max_size=2))  # in the parser's order
    return CohortFilter(
        population=draw(st.sampled_from(list(POPULATIONS))),
        lesion_side=draw(st.sampled_from([None, "left", "right"])),
        sex=draw(st.sampled_from([None, "F", "M"])),
        segments=tuple(label for label in SEGMENT_LABELS if label in segments),
        segment_match=draw(st.sampled_from(MATCH_MODES)),
        segment_pattern=draw(st.none() | st.sampled_from(SEGMENT_PATTERNS)),
        risk_factors=tuple(sorted(risks.items())),
        age_min=draw(age), age_max=draw(age), bmi_min=draw(bmi), bmi_max=draw(bmi),
        center=draw(st.sampled_from([None, *CENTRES, "elsewhere"])),
    )  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(cohort_filter=filters())
def test_a_filter_survives_its_link(cohort_filter):
    """The link (and --where) a filter writes reads back as the same filter."""
    assert parse_filter(to_params(cohort_filter)) == cohort_filter


LINK_TEXT = st.text(max_size=12) | st.sampled_from(["nan", "inf", "-1", "1e309", "yes", "IVC,"])


@settings(max_examples=200, deadline=None)
@given(params=st.dictionaries(st.sampled_from([*FILTER_KEYS, "patient_id"]), LINK_TEXT))
def test_any_link_text_gives_a_filter_or_a_notice_per_bad_item(params):
    cohort_filter, problems = parse_filter_lenient(params)
    assert isinstance(cohort_filter, CohortFilter) and len(problems) <= len(params)
    assert all(problem.split("=")[0].split(":")[0] in params for problem in problems)
    cohort_sql(cohort_filter)  # and every accepted value becomes a bound parameter


BY = st.none() | st.sampled_from(list(GROUPINGS))
ENDPOINT = st.sampled_from(list(ENDPOINTS))
FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip


@FAST
@given(cohort=cohorts(), cohort_filter=filters(), by=BY, endpoint=ENDPOINT, k=K)
def test_every_view_and_table_gives_numbers_for_any_filter(cohort, cohort_filter, by, endpoint, k):
    with build(cohort) as con:
        views.header_view(con, cohort_filter)
        overview = views.overview_view(con, cohort_filter)
        analysed_all = cohort_filter.population == "all"
        headline_tiles(overview, overview_mask(overview, k, analysed_all))
        patency = views.patency_view(con, cohort_filter, by, endpoint)
        tables.estimates_table(patency, mask(views.patency_ledger(patency), k))
        tables.unreliable_note(patency)
        if patency.compared is not None:
            tables.comparison_lines(patency)
            if patency.compared.comparison is not None:
                tables.comparison_table(patency, mask(views.patency_ledger(patency), k))
        change = views.clinical_view(con, cohort_filter)
        clinical = mask(views.clinical_ledger(change), k)
        tables.table3(change, clinical)
        tables.ceap_shift_table(change.ceap_shift, clinical)
        safety_view = views.safety_view(con, cohort_filter)
        tables.safety_display(safety_view.safety, safety_mask(safety_view.safety, k))
        subgroups = views.subgroups_view(con, cohort_filter, endpoint)
        tables.subgroup_display(subgroups, mask(views.subgroups_ledger(subgroups), k))
        tables_view = views.tables_view(con, cohort_filter)
        tables.table1(tables_view.baseline, tables_mask(tables_view, k))
        tables.table2(tables_view, tables_mask(tables_view, k))
        centres = views.centres_view(con, cohort_filter)
        tables.centres_display(centres, centres.centres, mask(views.centres_ledger(centres), k))


@FAST
@given(cohort=cohorts(), cohort_filter=filters(), by=BY)
def test_the_report_is_text_and_strict_json_for_any_filter(cohort, cohort_filter, by):
    with build(cohort) as con:
        view = views.report_view(con, cohort_filter, by)
    assert report_text(view)
    report = json.loads(json.dumps(report_json(view), allow_nan=False))
    assert report["n_patients"] == view.safety.patients
    assert report["n_limbs"] == view.header.limbs


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohort=cohorts(), cohort_filter=st.just(CohortFilter()) | filters(), by=BY, k=K)
def test_every_pages_figures_are_drawn_for_any_filter(cohort, cohort_filter, by, k):
    """As the pages draw them: only for a filter that keeps patients, the forest plot when
    a factor has two groups, the funnel plot for two centres or more."""
    with build(cohort) as con:
        if views.header_view(con, cohort_filter).limbs == 0:
            return
        for unreliable in ("dotted", "cut"):
            patency = views.patency_view(con, cohort_filter, by)
            patency_figure(
                patency, mask=mask(views.patency_ledger(patency), k), unreliable=unreliable
            )
        change = views.clinical_view(con, cohort_filter)
        shown = mask(views.clinical_ledger(change), k)
        clinical.ceap_sankey(change.ceap_shift, shown)
        clinical.ceap_bars(change.ceap_shift, change.severity_score, shown)
        clinical.villalta_pairs(change.villalta_pairs, change.villalta, shown)
        clinical.pts_severity_bars(change.pts_severity, change.pts, shown)
        safety_view = views.safety_view(con, cohort_filter)
        page = safety_mask(safety_view.safety, k, safety_view.timeline)
        safety.safety_bars(safety_view.safety, page)
        safety.event_timeline(safety_view.timeline, page)
        subgroups = views.subgroups_view(con, cohort_filter)
        if not subgroups.table.empty:
            forest_plot(subgroups, mask(views.subgroups_ledger(subgroups), k))
        comparison = views.centres_view(con, cohort_filter)
        if len(comparison.centres) >= 2:
            funnel_plot(comparison, mask(views.centres_ledger(comparison), k))


def blank_png(*_: object, **__: object) -> bytes:
    """A 1x1 white PNG: the deck's pictures without kaleido or chromium."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))  # fmt: skip


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohort=cohorts(), cohort_filter=st.just(CohortFilter()) | filters(), by=BY,
       endpoint=ENDPOINT, k=K)  # fmt: skip
def test_a_deck_is_built_for_any_filter(cohort, cohort_filter, by, endpoint, k):
    with build(cohort) as con:
        view = views.deck_view(con, cohort_filter, by, endpoint)
    with mock.patch("analytics.present.deck.render", blank_png):
        deck = Presentation(io.BytesIO(_deck(view, k)))
    assert len(deck.slides) >= 1


def _deck(view: views.DeckView, k: int | None) -> bytes:
    from analytics.present.deck import build_deck

    return build_deck(view, k)
