"""The vectorised scaled Schoenfeld residuals and the PH test equal lifelines' own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.statistics import proportional_hazard_test

from analytics.filters import CohortFilter
from analytics.stats import models
from analytics.stats.schoenfeld import scaled_schoenfeld_frame

SETS = [(300, 1.0), (300, 0.001), (2000, 6.0), (40, 12.0), (25, 0.0)]  # (patients, rounding)


def random_rows(patients: int, rounding: float, seed: int = 3) -> pd.DataFrame:
    """Exponential times driven by two of four covariates, rounded to ``rounding`` months
    (heavy ties at 6 or 12, none at 0.001 or unrounded), 70% events."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(patients, 3))
    group = rng.integers(0, 2, patients).astype(float)
    times = rng.exponential(20 * np.exp(-0.3 * x[:, 0] + 0.5 * group))
    if rounding:
        times = np.maximum(np.round(times / rounding), 1) * rounding
    return pd.DataFrame({"months": times, "event": rng.random(patients) < 0.7, "a": x[:, 0],
                         "b": x[:, 1], "c": x[:, 2], "g": group})  # fmt: skip


@pytest.mark.parametrize(("patients", "rounding"), SETS)
def test_residuals_equal_lifelines(patients, rounding):
    rows = random_rows(patients, rounding)
    fitter = CoxPHFitter().fit(rows, "months", "event")
    expected = fitter.compute_residuals(rows, kind="scaled_schoenfeld").to_numpy()
    got = scaled_schoenfeld_frame(fitter, rows, "months", "event").to_numpy()
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("patients", "rounding"), SETS[:3])
def test_ph_test_equals_lifelines_on_its_own_residuals(patients, rounding):
    rows = random_rows(patients, rounding).rename(columns={"event": models.EVENT})
    fitter = CoxPHFitter().fit(rows, "months", models.EVENT)
    own = proportional_hazard_test(fitter, rows, time_transform="km").summary
    tests = {test.term: test for test in models.ph_test(fitter, rows)}
    for term in fitter.params_.index:
        assert tests[term].statistic == pytest.approx(own.at[term, "test_statistic"], rel=1e-9)
        assert tests[term].p == pytest.approx(own.at[term, "p"], rel=1e-9)


def test_batch_and_per_row_efron_fits_agree():
    """The batch choice changes lifelines' speed, not its numbers."""
    rows = random_rows(2000, 6.0).rename(columns={"event": models.EVENT})
    assert models._batch(rows["months"])
    per_row = CoxPHFitter().fit(rows, "months", models.EVENT, batch_mode=False,
                                fit_options=models.TIGHT)  # fmt: skip
    batch = models._fit(rows, ["a", "b", "c", "g"], time_varying=False)
    assert batch.params_.to_numpy() == pytest.approx(per_row.params_.to_numpy(), rel=1e-9)
    assert not models._batch(random_rows(300, 0.0)["months"])


def test_the_demo_models_ph_test_is_unchanged_by_the_residuals(demo):
    """The demo's model (symptom duration), tested both ways."""
    model = models.adjusted_model(demo, CohortFilter(), "primary", ["symptom_duration_months"])
    rows = models.patient_rows(demo, CohortFilter(), "primary", ("symptom_duration_months",),
                               False).dropna()  # fmt: skip
    fitter = CoxPHFitter().fit(rows[["months", models.EVENT, "symptom_duration_months"]], "months",
                               models.EVENT, fit_options=models.TIGHT)  # fmt: skip
    own = proportional_hazard_test(fitter, rows, time_transform="km").summary
    term = model.ph_test[0]
    assert term.statistic == pytest.approx(own.at["symptom_duration_months", "test_statistic"],
                                           rel=1e-6)  # fmt: skip
