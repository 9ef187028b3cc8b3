"""What each surface says it counts, on a registry where a tenth of the patients have both
legs treated (the ``bilateral_path`` fixture: ``synth --limbs 600 --centers 4 --seed 1``),
and that the demo (one limb per patient) reads as before.

A limb result counts limbs and compares its groups by the robust score test clustered by
patient (R's ``coxph(..., cluster = patient_id)``; its values are tested against R in
tests/unit/test_bilateral_views.py and test_bilateral_stats.py); a patient's result (the
safety events, recurrent DVT) counts patients. The expected counts here come from the
file's own rows (SQL on ``limbs`` and ``events``), not from the views under test.
"""

from __future__ import annotations

from pptx.util import Pt

from analytics import views
from analytics.filters import CohortFilter
from analytics.glossary import (
    CEAP_REGRESSION,
    CEAP_SEPARATE_SHIFTS,
    CLINICAL_TWO_LIMBS,
    MARGINAL_HOMOGENEITY,
    NOT_COMPUTABLE,
    TABLE3_NOT_PUBLISHED,
)
from analytics.present.deck import (
    CAPTION_SIZES,
    CHARACTER,
    caption_size,
    forest_key,
    slide_table3,
    subgroup_lines,
    table_split,
    table_widths,
)
from analytics.present.figures.subgroups import forest_plot
from analytics.present.masking import exact
from analytics.present.report import report_text
from analytics.present.tables import (
    comparison_table,
    subgroup_display,
    table2,
    table3,
    table3_notes,
    time_summary_table,
)
from analytics.present.tiles import headline_tiles

SUCCESSES = "technical_success"  # the default population: technical successes


def _rows(con, sql: str) -> tuple:
    return con.execute(sql).fetchone()


def _analysed(con) -> tuple[int, int, int]:
    """Technical-success limbs, the patients they belong to, and every limb: the file's rows."""
    return _rows(
        con,
        f"select count(*) filter (where {SUCCESSES}), "
        f"count(distinct patient_id) filter (where {SUCCESSES}), count(*) from limbs",
    )


def _overview_tiles(con):
    header = views.header_view(con, CohortFilter())
    overview = views.overview_view(con, CohortFilter())
    shown = (
        views.header_ledger(header)
        | views.population_ledger(overview.population, False)
        | views.safety_ledger(overview.safety)
        | views.clinical_ledger(overview.clinical)
        | views.patency_ledger(overview.patency, header.limbs)
    )
    return headline_tiles(overview, exact(shown))


def test_the_overview_counts_limbs_in_patients_where_a_patient_has_two(bilateral):
    limbs, patients, enrolled = _analysed(bilateral)
    analysed, success = _overview_tiles(bilateral)[0][:2]
    assert (analysed.label, analysed.value) == ("Limbs analysed", str(limbs))
    assert analysed.note == f"in {patients} patients"
    assert success.note == f"of {enrolled} limbs enrolled"


def test_the_demo_overview_still_counts_patients(demo):
    analysed, success = _overview_tiles(demo)[0][:2]
    assert (analysed.label, analysed.value, analysed.note) == ("Patients analysed", "34", None)
    assert success.note == "of 37 enrolled"


def _tables_mask(con, view: views.TablesView):
    """The Tables page's counts, privacy off (pages/5_Tables.py)."""
    header = views.header_view(con, CohortFilter())
    return exact(
        views.header_ledger(header)
        | views.baseline_ledger(view.baseline)
        | views.population_ledger(view.population, view.analysed_all)
        | views.safety_ledger(view.safety)
        | views.clinical_ledger(view.clinical)
        | views.patency_ledger(view.patency, header.limbs)
    )


def _safety_patients(con, event: str) -> int:
    return _rows(
        con,
        "select count(distinct e.patient_id) from events e join patients p using (patient_id) "
        f"where e.event = '{event}' and exists (select 1 from limbs l where "
        f"l.patient_id = p.patient_id and l.{SUCCESSES})",
    )[0]


def test_table2_gives_safety_events_as_shares_of_patients_and_says_what_rows_count(bilateral):
    """Recurrent DVT is a patient's event: 83 of 511 patients is 16.2%; divided by the 559
    limbs it read 14.8%."""
    patients = _analysed(bilateral)[1]
    view = views.tables_view(bilateral, CohortFilter())
    table = table2(view, _tables_mask(bilateral, view)).set_index("Outcome")
    for event, label in (("recurrent_dvt", "Recurrent DVT"), ("death", "Death")):
        count = _safety_patients(bilateral, event)
        assert table.loc[f"{label}, crude %", "Value"] == f"{count} ({100 * count / patients:.1f}%)"
        assert table.loc[f"{label}, crude %", "Counts"] == "patients"
    assert table.loc["Technical success", "Counts"] == "limbs"
    assert table.loc["PTS at last visit", "Counts"] == "limbs"


def test_the_demo_table2_is_the_papers(demo):
    view = views.tables_view(demo, CohortFilter())
    table = table2(view, _tables_mask(demo, view))
    assert list(table.columns) == ["Outcome", "Value"]
    rows = table.set_index("Outcome")["Value"]
    assert rows["Recurrent DVT, crude %"] == "7 (20.6%)"  # 7 of the 34 (Table 2)
    assert rows["Minor bleeding (ecchymosis or haematoma), crude %"] == "4 (11.8%)"


def test_subgroups_of_limbs_name_the_robust_score_test_and_count_limbs(bilateral):
    view = views.subgroups_view(bilateral, CohortFilter())
    shown = subgroup_display(view)
    assert {"Limbs", "Robust score test p"} <= set(shown.columns)
    assert not {"Patients", "Log-rank p"} & set(shown.columns)
    side = shown[shown["Factor"] == "Lesion side"]
    assert side["Limbs"].sum() == _analysed(bilateral)[0]
    texts = [str(t) for trace in forest_plot(view).data for t in (trace.text or ())]
    assert any(t.startswith("robust score p") for t in texts)
    assert not any("log-rank" in t for t in texts)
    lines = subgroup_lines(view)
    assert lines and all("robust score p" in line for line in lines)
    assert "robust score p and n (limbs) / events" in forest_key(view.month, "robust_score")


def test_subgroups_of_a_patients_endpoint_stay_log_rank_of_patients(bilateral):
    view = views.subgroups_view(bilateral, CohortFilter(), "recurrent_dvt")
    shown = subgroup_display(view)
    assert {"Patients", "Log-rank p"} <= set(shown.columns)
    assert all("log-rank p" in line for line in subgroup_lines(view))


def test_the_patency_tables_count_limbs_where_they_are_clustered(bilateral, demo):
    compared = views.patency_view(bilateral, CohortFilter(), by="lesion_side")
    assert list(comparison_table(compared).columns)[:3] == ["Group", "Limbs", "Events"]
    summary = time_summary_table(compared)
    assert summary["Limbs"].astype(int).sum() == _analysed(bilateral)[0]
    demo_view = views.patency_view(demo, CohortFilter(), by="lesion_side")
    assert list(comparison_table(demo_view).columns)[:2] == ["Group", "Patients"]
    assert "Patients" in time_summary_table(demo_view).columns


def test_the_report_says_each_sections_unit(bilateral):
    limbs = _analysed(bilateral)[0]
    text = report_text(views.report_view(bilateral, CohortFilter()))
    assert "Primary patency (Kaplan-Meier %, 95% CI log-log; limbs, clustered by patient)" in text
    assert "Freedom from recurrent DVT (Kaplan-Meier %, 95% CI log-log; patients)" in text
    assert f"of {limbs} limbs (exact McNemar" in text
    assert "  CEAP (limbs) before: " in text


def test_a_slides_caption_keeps_to_one_line():
    """The bilateral registry's caption took two lines at 14 pt, the second under the chart."""
    long = (
        "Synthetic registry: 600 limbs in 547 patients (53 bilateral), 4 centres, seed 1 · "
        "technical successes · n = 559 limbs in 511 patients"
    )
    assert caption_size(long) < CAPTION_SIZES[0]
    assert caption_size("Demo cohort · technical successes · n = 34") == CAPTION_SIZES[0]


def test_table3_says_its_paired_tests_count_a_patients_two_limbs(bilateral, demo):
    """Under Table 3 on the Tables page and its slide (the Clinical page says it too)."""
    assert table3_notes(views.clinical_view(bilateral, CohortFilter())) == [CLINICAL_TWO_LIMBS]
    assert table3_notes(views.clinical_view(demo, CohortFilter()), True) == [
        TABLE3_NOT_PUBLISHED,
        CEAP_REGRESSION,
    ]


def test_table_slides_keep_the_unit_column_and_table3_clear_of_its_note(bilateral, demo):
    """On the bilateral registry's deck Table 2's Counts column wrapped "patients" into
    "patient / s", and Table 3 (a CEAP test's reason six lines tall in its test column)
    ran under its note: the reason stands under the table."""
    view = views.tables_view(bilateral, CohortFilter())
    table = table2(view, _tables_mask(bilateral, view))
    split, size = table_split(table)
    counts = list(table.columns).index("Counts")
    word = (len("patients") + 1) * Pt(size) * CHARACTER
    assert all(widths[counts] >= word for widths in table_widths(table, split, size))
    change = views.clinical_view(bilateral, CohortFilter())
    shown, notes = slide_table3(table3(change, exact(views.clinical_ledger(change))))
    row = shown.set_index("Measure").loc[MARGINAL_HOMOGENEITY]
    assert row["Test"] == NOT_COMPUTABLE
    assert notes == [f"{MARGINAL_HOMOGENEITY}: {NOT_COMPUTABLE}: {CEAP_SEPARATE_SHIFTS}."]
    demo_change = views.clinical_view(demo, CohortFilter())
    demo_table = table3(demo_change, exact(views.clinical_ledger(demo_change)), True)
    assert slide_table3(demo_table)[1] == []  # the demo's tests are computable: as before
