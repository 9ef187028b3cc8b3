"""Four things a vascular surgeon reading a bilateral registry's pages would challenge:
healed ulcers counted among all limbs, a median "not reached (95% CI not reached to not
reached)", the landmark's words saying patients where limbs are counted, and recurrent DVT
split by a limb's variable without saying where a bilateral patient went. References: the
source paper (Table 2 and the text: 3 of the 8 C6 limbs healed by 3 months) and the files'
own rows."""

from __future__ import annotations

from pptx import Presentation

from analytics import views
from analytics.cli import _parser
from analytics.filters import CohortFilter
from analytics.glossary import DEFINITIONS, FIRST_LIMB_GROUP, NOT_REACHED
from analytics.partitions import fewest_patients
from analytics.present import format as fmt
from analytics.present.deck import _patency_slide
from analytics.present.masking import exact, mask
from analytics.present.report import report_text
from analytics.present.tables import first_limb_group, paper_table, table2, time_summary_table

HEALED = "Ulcers healed by 3 months, of limbs with an active ulcer (C6) before"


def _tables_ledger(con, view: views.TablesView):
    """The Tables page's counts (pages/5_Tables.py)."""
    header = views.header_view(con, CohortFilter())
    return (
        views.header_ledger(header)
        | views.baseline_ledger(view.baseline)
        | views.population_ledger(view.population, view.analysed_all)
        | views.safety_ledger(view.safety)
        | views.clinical_ledger(view.clinical)
        | views.patency_ledger(view.patency, header.limbs)
    )


def test_the_demo_heals_3_of_its_8_active_ulcers_as_the_paper_says(demo):
    """Paper: CEAP C6 before = 8 (Table 3), "three patients with active venous ulcers healed
    approximately 3 months" (text, Table 2); the row read "3 (8.8%)", a share of all 34."""
    view = views.tables_view(demo, CohortFilter())
    rows = table2(view, exact(_tables_ledger(demo, view))).set_index("Outcome")["Value"]
    assert rows[HEALED] == "3 of 8 (37.5%)"
    published = paper_table(views.paper_view(demo)).set_index("Item")
    row = published.loc["Ulcers healed by 3 months"]
    assert (row["Published"], row["Reconstructed"], row["Same"]) == ("3", "3", "yes")


def test_healed_ulcers_count_the_registrys_active_ulcer_limbs_judged_by_patients(bilateral):
    """The denominator from the file's rows: technical-success limbs whose month-0 CEAP is
    C6; the healed, those of them with an ulcer_healed event by month 3. In this file a
    patient may have two limbs: privacy judges both counts by the fewest patients they
    can be (half their limbs), never by the limbs."""
    active, healed = bilateral.execute(
        """
        select count(*), count(*) filter (where limb_id in (select limb_id from events
                   where event = 'ulcer_healed' and month <= 3))
        from limbs l join assessments a using (limb_id)
        where l.technical_success and a.month = 0 and a.ceap_c = 6
        """
    ).fetchone()
    view = views.tables_view(bilateral, CohortFilter())
    ledger = _tables_ledger(bilateral, view)
    rows = table2(view, exact(ledger)).set_index("Outcome")["Value"]
    assert rows[HEALED] == f"{healed} of {active} ({100 * healed / active:.1f}%)"
    key, healed_key = views.population_key("active ulcers"), views.population_key("ulcers healed")
    assert (ledger.counts[key], ledger.counts[healed_key]) == (active, healed)
    assert ledger.paired
    assert (ledger.patients_of(key), ledger.patients_of(healed_key)) == (
        fewest_patients(active),
        fewest_patients(healed),
    )


def test_few_active_ulcers_and_their_healed_are_hidden_in_privacy_mode(demo):
    """k = 10: the demo's 8 active ulcers are fewer than k patients, and the 3 healed of
    them are not shown either (nor any share that would give them)."""
    view = views.tables_view(demo, CohortFilter())
    decided = mask(_tables_ledger(demo, view), 10)
    rows = table2(view, decided).set_index("Outcome")["Value"]
    healed = decided.cell(views.population_key("ulcers healed"))
    assert healed.hidden
    assert rows[HEALED] == f"{fmt.cell(healed)} of <10"
    assert not any(digit in rows[HEALED] for digit in "38%")


def test_a_median_and_lower_bound_not_reached_read_not_reached_alone():
    assert fmt.months_ci(None, None, None) == NOT_REACHED
    assert fmt.months_ci(float("nan"), float("nan"), float("nan"), "months") == NOT_REACHED
    assert fmt.months_ci(None, 13.0, None) == "not reached (95% CI 13.0 to not reached)"
    assert fmt.months_ci(31.0, 13.0, None, "months") == "31.0 (95% CI 13.0 to not reached) months"


def test_the_demos_secondary_patency_median_is_not_reached_on_every_surface(demo):
    """No secondary patency curve of the demo falls to 50%: nor does its lower limit."""
    text = report_text(views.report_view(demo, CohortFilter()))
    assert "to not reached to" not in text and "CI not reached" not in text
    assert "    all: median not reached; restricted mean 33.74 (SE 1.29) months" in text
    summary = time_summary_table(views.patency_view(demo, CohortFilter()))
    assert NOT_REACHED in summary["Median, months (95% CI)"].tolist()
    assert not any("CI not reached" in cell for cell in summary["Median, months (95% CI)"])


def test_the_landmark_words_name_the_unit_of_either_kind_of_file():
    """They said "among the patients", where a bilateral file's patency counts limbs."""
    help_text = _parser().format_help() + next(
        action.choices["report"].format_help()
        for action in _parser()._actions
        if getattr(action, "choices", None) and "report" in action.choices
    )
    words = " ".join(help_text.split())
    assert "among the patients whose time" not in words
    assert "where a patient may have two, the limbs" in words
    definition = DEFINITIONS["Landmark"]
    assert "among the patients" not in definition and "a patient who is still patent" not in (
        definition
    )
    assert "one treated limb per patient" in definition and "the limbs" in definition


def test_recurrent_dvt_by_a_limbs_variable_says_where_a_bilateral_patient_counts(bilateral, demo):
    variables = CohortFilter().variables
    assert first_limb_group("recurrent_dvt", "lesion_side", variables, True) == FIRST_LIMB_GROUP
    assert first_limb_group("recurrent_dvt", "sex", variables, True) is None  # a person's
    assert first_limb_group("primary", "lesion_side", variables, True) is None  # a limb's
    assert first_limb_group("recurrent_dvt", "lesion_side", variables, False) is None
    text = report_text(views.report_view(bilateral, CohortFilter(), by="lesion_side"))
    section = text.split("Freedom from recurrent DVT", 1)[1].split("\n\n", 1)[0]
    assert f"  Note: {FIRST_LIMB_GROUP}" in section
    assert FIRST_LIMB_GROUP not in report_text(views.report_view(bilateral, CohortFilter()))
    assert FIRST_LIMB_GROUP not in report_text(
        views.report_view(demo, CohortFilter(), by="lesion_side")
    )


def test_the_compared_slide_carries_the_first_limb_note(bilateral):
    compared = views.patency_view(
        bilateral, CohortFilter(), by="lesion_side", endpoint="recurrent_dvt"
    )
    deck = Presentation()
    decided = exact(views.patency_ledger(compared))
    _patency_slide(deck, compared, "caption", decided, False, FIRST_LIMB_GROUP)
    slide = deck.slides[0]
    assert FIRST_LIMB_GROUP in slide.notes_slide.notes_text_frame.text.splitlines()
    side = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
    assert any(FIRST_LIMB_GROUP in text for text in side)
