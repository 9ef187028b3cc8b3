"""The Models page through AppTest: covariates picked, the EPV warning, baseline recurrent
DVT refused, and the same numbers as the model fitted directly (tests/unit/test_models.py
holds the R references)."""

from __future__ import annotations

from analytics.cohort.db import open_cohort
from analytics.filters import DEFAULT_FILTER
from analytics.stats.models import adjusted_model
from tests.conftest import plotly_figures, unescaped

PAGE = "pages/8_Models.py"


def test_the_paper_claim_by_default_with_few_events_per_variable(page_test):
    at = page_test(PAGE)
    assert not at.exception
    assert at.multiselect(key="model_covariates").value == ["symptom_duration_months"]
    assert at.radio(key="model_recurrent_dvt").value == "time-varying"
    (forest,) = plotly_figures(at)
    assert forest["layout"]["title"]["text"].startswith("Primary patency: crude and adjusted")
    table = at.dataframe[0].value
    assert table["Term"].tolist() == ["DVT duration (per month)", "Recurrent DVT (time-varying)"]
    assert table["Adjusted HR (95% CI)"].tolist() == ["1.08 (1.03-1.12)", "8.55 (0.53-136.94)"]
    (warning,) = at.warning
    assert warning.value.startswith("7.0 events per coefficient (14 events, 2 coefficients)")
    assert any("a reconstruction cannot confirm the paper" in c.value for c in at.caption)
    assert any("no proportional-hazards test" in unescaped(c.value) for c in at.caption)


def test_picked_covariates_give_the_fitted_model_and_its_ph_test(page_test, demo_path):
    at = page_test(PAGE)
    at.multiselect(key="model_covariates").set_value(["symptom_duration_months", "thrombophilia"])
    at.radio(key="model_recurrent_dvt").set_value("not in the model").run()
    assert not at.exception
    with open_cohort(demo_path) as con:
        model = adjusted_model(
            con, DEFAULT_FILTER, "primary", ["symptom_duration_months", "thrombophilia"]
        )
    terms, ph = (frame.value for frame in at.dataframe)
    assert terms["Term"].tolist() == ["DVT duration (per month)", "Thrombophilia: Yes vs No"]
    assert terms["Adjusted p"].tolist() == ["< 0.001", f"{model.terms[1].p:.3f}"]
    assert ph["Term"].tolist()[-1] == "All terms (global)"
    assert ph["p"].tolist()[-1] == f"{model.ph_test[-1].p:.3f}"
    assert any("no evidence that the hazard ratio changes" in m.value for m in at.markdown)
    assert any("0 patients left out for a missing covariate" in c.value for c in at.caption)


def test_baseline_recurrent_dvt_is_refused_saying_why(page_test):
    at = page_test(PAGE)
    at.radio(key="model_recurrent_dvt").set_value("baseline yes/no").run()
    assert not at.exception
    (error,) = at.error
    assert "immortal-time bias" in error.value
    assert "time-varying covariate" in error.value
    table = at.dataframe[0].value
    assert table["Term"].tolist() == ["DVT duration (per month)"]  # fitted without it


def test_enough_events_per_variable_shows_no_warning(page_test):
    at = page_test(PAGE)
    at.radio(key="model_recurrent_dvt").set_value("not in the model").run()
    assert not at.exception
    assert not at.warning
    assert any(c.value.startswith("14.0 events per coefficient") for c in at.caption)


def test_no_covariate_asks_for_one(page_test):
    at = page_test(PAGE)
    at.multiselect(key="model_covariates").set_value([])
    at.radio(key="model_recurrent_dvt").set_value("not in the model").run()
    assert not at.exception
    assert any("Pick one or more covariates" in info.value for info in at.info)
    assert plotly_figures(at) == []


def test_a_large_registry_fits_only_when_asked(page_test, monkeypatch):
    """Opening the page on a million patients must not start a minute-long fit."""
    from analytics import rules

    monkeypatch.setattr(rules, "MODEL_ASK_PATIENTS", 10)
    at = page_test("pages/8_Models.py")
    assert not at.exception
    assert [b.label for b in at.button if b.label.startswith("Fit the model")] == [
        "Fit the model on 34 patients"
    ]
    assert not at.dataframe  # nothing fitted yet
