"""The benchmark runs end to end and the engine agrees with patient rows (it times; it does
not judge speed)."""

from __future__ import annotations

import re

import pytest

from analytics.filters import CohortFilter
from tests.cohorts import retinopathy_registry
from tools.bench import CHECKS, PAGES, engine_safety, naive_safety, run_bench


def test_bench_prints_every_view_and_check_with_matching_results(registry_path):
    lines: list[str] = []
    run_bench(registry_path, runs=1, naive_runs=1, out=lines.append, report_runs=1)
    text = "\n".join(lines)
    for check in CHECKS:
        (line,) = [row for row in lines if row.startswith(check.name)]
        assert line.endswith("True"), line  # the engine and lifelines/SciPy give the same numbers
    for name in PAGES:
        assert re.search(rf"^{re.escape(name)}\s+\d+\.\d", text, re.MULTILINE), name
    assert re.search(r"^every page on a new filter, one after another\s+\d+\.\d", text, re.M)
    for name in PAGES:  # with each page's first view (its codes read once)
        if not name.startswith(("Report", "Deck")):
            assert re.search(rf"^{re.escape(name)}.*met\s+\d+\.\d$", text, re.M)
    assert re.search(r"peak memory: \d+ MiB", text)
    # both models fitted on the 3,000-patient registry (its last filter is one centre)
    assert re.search(r"^5 baseline covariates.*\s[\d,]+\s+\d+\.\d\s+(met|NOT met)$", text, re.M)
    assert re.search(r"^recurrent DVT \(time-varying\).*\s+\d+\.\d\s+(met|NOT met)$", text, re.M)
    assert re.search(r"ratio \d+\.\d\d$", lines[-1])


def test_the_naive_safety_check_counts_each_patient_once_on_a_bilateral_registry():
    """R's retinopathy as limbs: 394 limbs of 197 patients. The Safety page counts people,
    so the naive way's exact upper limits are over 197 patients, not 394 limbs."""
    con = retinopathy_registry()
    for cohort_filter in (CohortFilter(), CohortFilter(lesion_side="left")):
        engine, naive = engine_safety(con, cohort_filter), naive_safety(con, cohort_filter)
        assert engine == pytest.approx(naive, rel=1e-9, nan_ok=True)
