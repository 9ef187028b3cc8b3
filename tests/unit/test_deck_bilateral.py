"""The deck of a registry where every patient has two treated limbs (R's ``retinopathy``
as limbs: tests.cohorts.retinopathy_registry; R's values and calls in
tests/unit/test_bilateral_views.py): it counts limbs in patients and names the robust
score test where a file of one limb per patient names the log-rank test."""

from __future__ import annotations

import io

import pytest
from pptx import Presentation

from analytics.filters import CohortFilter
from analytics.glossary import CLUSTERED_BY_PATIENT, DEFINITIONS, ROBUST_SCORE_TEST
from analytics.present.deck import build_deck
from analytics.views import deck_view
from tests.cohorts import retinopathy_registry
from tests.unit.test_deck import notes, titled


@pytest.fixture(scope="module")
def deck():
    con = retinopathy_registry()
    try:
        view = deck_view(con, CohortFilter(), by="lesion_side")
    finally:
        con.close()
    return Presentation(io.BytesIO(build_deck(view)))


def test_the_title_slide_counts_limbs_in_patients_clustered(deck):
    text = deck.slides[0].placeholders[1].text
    assert f"n = 394 limbs in 197 patients. {CLUSTERED_BY_PATIENT}" in text
    slide = titled(deck, "Primary patency by lesion side")
    texts = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
    assert "Retinopathy as limbs · technical successes · n = 394 limbs in 197 patients" in texts


def test_the_comparison_slide_names_the_robust_score_test(deck):
    """R: summary(coxph(Surv(futime, status) ~ side, cluster = id))$robscore p 2.86e-07."""
    slide = titled(deck, "Primary patency by lesion side")
    assert notes(slide).startswith("Robust score test p < 0.001\n")
    assert "Log-rank" not in notes(slide)
    side = [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
    assert any(text.startswith("Robust score test p < 0.001") for text in side)


def test_the_definitions_define_the_robust_score_test(deck):
    definitions = [
        notes(slide) for slide in deck.slides if slide.shapes.title.text.startswith("Definitions")
    ]
    assert any(
        f"{ROBUST_SCORE_TEST}. {DEFINITIONS[ROBUST_SCORE_TEST]}" in text for text in definitions
    )


def test_the_definitions_say_how_limbs_are_counted_and_their_variance_clustered(deck):
    """Kaplan-Meier's definition gave Greenwood's standard error only, the number at risk
    and the hazard ratio counted patients: on limbs clustered by patient they say so."""
    text = "\n".join(
        notes(slide) for slide in deck.slides if slide.shapes.title.text.startswith("Definitions")
    )
    assert "the standard error clustered by patient, as R's survfit(..., cluster = " in text
    assert "a patient may have two treated limbs counts limbs" in text
    assert "its interval and p from the robust variance clustered by patient" in text
