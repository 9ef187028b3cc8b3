"""Benchmark: what each view costs on a registry and on the demo, against the naive way.

``python -m analytics bench [--limbs N | --patients N | --db PATH]`` times every view a page, the
report or the deck computes (analytics.views), on the registry and on the 37-patient
demo in the same run, each run on a different filter (so no run repeats the one before),
and prints the median milliseconds against the targets (under 100 ms per page on a
million patients, Subgroups under 150 ms; under 20 ms on the demo). It then checks the
counts engine against the naive way, patient rows into lifelines and SciPy (Cox with
lifelines' tolerance tightened), and prints whether both give the same numbers, the
peak memory, and the whole ``report`` process on both cohorts. A benchmark prints
figures; it asserts nothing and is not a test.
"""

from __future__ import annotations

import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import numpy.polynomial.polynomial as P
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from scipy import stats

from analytics import views
from analytics.cohort.db import open_cohort
from analytics.cohort.demo import build_demo
from analytics.cohort.summary import endpoint_columns
from analytics.cohort.synth import cohort_size
from analytics.cohort.tallies import forget_selections
from analytics.filters import CohortFilter, cohort_sql, has_bilateral
from analytics.glossary import SAFETY_EVENTS
from analytics.groups import grouping
from analytics.present.format import filter_words

MONTHS = (6, 12, 24, 36)
BY = "thrombophilia"
REPORT_ARGS = ("--where", "lesion_side=left", "--by", BY)
PAGE_TARGET_MS, SUBGROUPS_TARGET_MS, DEMO_TARGET_MS = 100, 150, 20
BASELINE_MODEL = ("age_years", "bmi", "symptom_duration_months", "thrombophilia", "lesion_side")
TIME_VARYING_MODEL = ("symptom_duration_months", "recurrent_dvt")
MODEL_TARGET_S, TIME_VARYING_TARGET_S = 20, 60
TIGHT = {"precision": 1e-12, "r_precision": 1e-15, "max_steps": 200}
Work = Callable[[duckdb.DuckDBPyConnection, CohortFilter], Any]


def filters_for(con: duckdb.DuckDBPyConnection) -> list[CohortFilter]:
    """Filters of different selectivity, cycled over the runs."""
    centre = con.execute("SELECT min(center) FROM patients").fetchall()[0][0]
    chosen = [
        CohortFilter(),
        CohortFilter(lesion_side="left"),
        CohortFilter(age_min=60).with_risk("thrombophilia", False),
        CohortFilter(segments=("CIV", "EIV"), segment_match="all", sex="F"),
    ]
    return chosen + ([CohortFilter(center=centre)] if centre else [])


# Everything one page computes for a filter: its view (and the header every page shows).
PAGES: dict[str, Work] = {
    "Overview": lambda con, f: (views.header_view(con, f), views.overview_view(con, f)),
    "Patency (three patencies)": lambda con, f: views.patency_view(con, f),
    f"Patency (by {BY})": lambda con, f: views.patency_view(con, f, BY),
    "Clinical outcomes": views.clinical_view,
    "Safety": views.safety_view,
    "Subgroups": views.subgroups_view,
    "Tables": views.tables_view,
    "Centres": views.centres_view,
    "Report (by thrombophilia)": lambda con, f: views.report_of(
        con, f, views.ReportRequest(BY, pages=False)
    ),
    "Deck (its numbers, not its pictures)": lambda con, f: views.deck_view(con, f, BY, pages=False),
    # in privacy mode a deck also reads the dashboard's pages it is masked beside
    "Deck in privacy mode (and its pages)": lambda con, f: views.deck_view(con, f, BY),
}


def _target(name: str) -> float | None:
    if name.startswith(("Report", "Deck")):
        return None
    return SUBGROUPS_TARGET_MS if name == "Subgroups" else PAGE_TARGET_MS


# The engine against the naive way: one row per patient into lifelines and SciPy.
def _rows(con: duckdb.DuckDBPyConnection, f: CohortFilter, columns: str) -> pd.DataFrame:
    cohort, params = cohort_sql(f)
    return con.execute(f"SELECT {columns} FROM ({cohort})", params).df()


def engine_km(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> list[float]:
    view = views.patency_view(con, f)
    return [float(view.survival[e].overall.estimates.estimate[1]) for e in view.survival]


def naive_km(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> list[float]:
    estimates = []
    for endpoint in ("primary", "assisted_primary", "secondary"):
        months, event = endpoint_columns(endpoint)
        rows = _rows(con, f, f"{months} AS months, {event} AS event")
        kmf = KaplanMeierFitter().fit(rows["months"], rows["event"])
        estimates.append(float(kmf.survival_function_at_times(12).iloc[0]))
    return estimates


def engine_compare(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> list[float]:
    """The Cox HR, and the log-rank statistic where the view computes one (in a registry
    with bilateral patients it computes the robust score test, which lifelines lacks)."""
    comparison = views.patency_view(con, f, BY).compared.comparison
    if comparison.logrank is None:
        return [np.nan, np.nan]
    statistic = [comparison.logrank.statistic] if comparison.logrank.test == "logrank" else []
    return [comparison.hazard_ratios[0].hr, *statistic]


def naive_compare(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> list[float]:
    months, event = endpoint_columns("primary")
    rows = _rows(con, f, f"{months} AS months, {event}::INT AS event, {grouping(BY).sql} AS g")
    if rows["g"].nunique() < 2:
        return [np.nan, np.nan]
    logrank = multivariate_logrank_test(rows["months"], rows["g"], rows["event"])
    design = rows.assign(g=rows["g"].astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cox = CoxPHFitter().fit(design, "months", "event", fit_options=TIGHT)
    statistic = [] if has_bilateral(con) else [float(logrank.test_statistic)]
    return [float(cox.hazard_ratios_["g"]), *statistic]


def engine_clinical(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> list[float]:
    change = views.clinical_view(con, f)
    return [change.severity_score.p, change.villalta.p, change.pts.p, change.reflux.p]


def naive_clinical(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> list[float]:
    rows = _rows(con, f, "ceap_before, ceap_after, villalta_before, villalta_after, "
                         "pts_before, pts_after, reflux_before, reflux_after")  # fmt: skip
    ps = []
    for score in ("ceap", "villalta"):
        both = rows.dropna(subset=[f"{score}_before", f"{score}_after"])
        difference = both[f"{score}_after"] - both[f"{score}_before"]
        nonzero = difference[difference != 0]
        if len(nonzero) < 50 and nonzero.abs().duplicated().any():
            ps.append(_sign_flip_p(nonzero.to_numpy(float)))
            continue
        method = "exact" if len(nonzero) < 50 else "approx"
        ps.append(stats.wilcoxon(difference, correction=False, method=method).pvalue)
    for flag in ("pts", "reflux"):
        both = rows.dropna(subset=[f"{flag}_before", f"{flag}_after"])
        before, after = both[f"{flag}_before"].astype(bool), both[f"{flag}_after"].astype(bool)
        new, gone = int((~before & after).sum()), int((before & ~after).sum())
        ps.append(stats.binomtest(new, new + gone).pvalue if new + gone else np.nan)
    return [float(p) for p in ps]


def _sign_flip_p(nonzero: np.ndarray) -> float:
    """The exact signed-rank p with tied mid-ranks (coin's), from the generating function
    of the positive doubled mid-rank sum: the product of (1 + x^(2r)) / 2 over the ranks."""
    doubled = (2 * stats.rankdata(np.abs(nonzero))).astype(int)
    probability = np.array([1.0])
    for score in doubled:
        probability = P.polymul(probability, np.r_[0.5, np.zeros(score - 1), 0.5])
    observed, mean = int(doubled[nonzero > 0].sum()), doubled.sum() / 2
    far = np.abs(np.arange(probability.size) - mean) >= abs(observed - mean)
    return 1.0 if observed == mean else float(min(1.0, probability[far].sum()))


def engine_safety(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> list[float]:
    table = views.safety_view(con, f).safety.table
    return [*table["patients"], *table["ci_upper"]]


def naive_safety(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> list[float]:
    """Safety counts people: each patient's first limb in the filter (the lowest limb key),
    kept here by pandas from every limb row."""
    limbs = _rows(con, f, "patient_key, limb_key, " + ", ".join(f"n_{e}" for e in SAFETY_EVENTS))
    rows = limbs.sort_values("limb_key").drop_duplicates("patient_key")
    counts = [int((rows[f"n_{e}"] > 0).sum()) for e in SAFETY_EVENTS]
    upper = [
        stats.binomtest(k, len(rows)).proportion_ci(method="exact").high if len(rows) else np.nan
        for k in counts
    ]
    return [*counts, *upper]


@dataclass(frozen=True)
class Check:
    name: str
    engine: Work
    naive: Work


CHECKS = [
    Check("Kaplan-Meier, three patencies at 12 months", engine_km, naive_km),
    Check(f"Cox HR (and log-rank) by {BY} (Efron, limbs)", engine_compare, naive_compare),
    Check("signed-rank and McNemar p, four measures", engine_clinical, naive_clinical),
    Check("safety counts and exact upper limits", engine_safety, naive_safety),
]


def every_page(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> None:
    """Each page of PAGES (not the report or the deck) on one filter, as a user touring the
    dashboard: what the tallies keep of a file must hold every page's codes at once."""
    for name, work in PAGES.items():
        if _target(name) is not None:
            work(con, cohort_filter)


def median_ms(
    work: Work, con: duckdb.DuckDBPyConnection, filters: Sequence[CohortFilter], runs: int
) -> tuple[float, list[Any]]:
    """Median wall time of ``runs`` calls, each on the next filter as if never read before
    (its selected rows forgotten; the file's codes are kept, as a dashboard keeps them),
    and their results."""
    times, results = [], []
    for run in range(runs):
        f = filters[run % len(filters)]
        forget_selections()
        start = time.perf_counter()
        results.append(work(con, f))
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), results


def peak_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def same(a: Any, b: Any) -> bool:
    """Equal to 1e-6 relative (NaN where both have none)."""
    return bool(np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-6,
                            atol=1e-12, equal_nan=True))  # fmt: skip


def bench_models(
    con: duckdb.DuckDBPyConnection, filters: Sequence[CohortFilter], out: Callable[[str], None]
) -> None:
    """One fit of each adjusted model (seconds: a fit is too long to repeat), against its
    target: the baseline model on the whole registry, the time-varying one on the women of
    one centre (the last filter; on the million, 46,000 patients, near the limit of
    rules.TIME_VARYING_MAX_PATIENTS above which it is refused)."""
    out(f"{'adjusted models, one fit on patient rows':<58}{'patients':>10}{'s':>7}{'target':>8}")
    for name, covariates, chosen, target in (
        ("5 baseline covariates, crude fits and the PH test", BASELINE_MODEL, filters[0],
         MODEL_TARGET_S),
        ("recurrent DVT (time-varying) + DVT duration", TIME_VARYING_MODEL,
         replace(filters[-1], sex="F"), TIME_VARYING_TARGET_S),
    ):  # fmt: skip
        start = time.perf_counter()
        model = views.models_view(con, chosen, "primary", covariates)
        seconds = time.perf_counter() - start
        met = ("met" if seconds < target else "NOT met") if model.terms else "refused"
        out(f"{name:<58}{model.patients:>10,}{seconds:>7.1f}{met:>8}")
        if not model.terms:
            out(f"  {'; '.join(model.notes)}")


def report_seconds(cohorts: Sequence[Path], runs: int) -> list[float]:
    """Median wall time of the whole ``report`` process (start-up, imports, output) per cohort.

    The cohorts take turns, run after run, so a slow spell of a shared machine falls on
    all of them rather than on whichever ran during it.
    """
    times: list[list[float]] = [[] for _ in cohorts]
    for _ in range(runs):
        for db, spent in zip(cohorts, times, strict=True):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "analytics", "report", "--db", str(db), *REPORT_ARGS],
                check=True,
                capture_output=True,
            )
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def run_bench(
    db: Path,
    runs: int,
    naive_runs: int,
    out: Callable[[str], None] = print,
    report_runs: int = 5,
) -> None:
    """Print the benchmark of cohort file ``db`` beside the demo."""
    with tempfile.TemporaryDirectory() as folder:
        demo_path = build_demo(Path(folder) / "demo.duckdb")
        big, demo = open_cohort(db), open_cohort(demo_path)
        patients, limbs, bilateral = big.execute(
            "SELECT count(DISTINCT patient_id), count(*), count_if(patient_limbs > 1) "
            "FROM limb_summary"
        ).fetchall()[0]
        filters, demo_filters = filters_for(big), filters_for(demo)
        out(f"# bench {date.today()} on {platform.node()}: "
            f"{platform.processor() or platform.machine()}")  # fmt: skip
        out(f"cohort {db}: {limbs:,} limbs in {patients:,} patients ({bilateral / 2:,.0f} "
            f"with both legs treated, {bilateral / 2 / patients:.1%}), and the demo; "
            f"{runs} runs per view (naive {naive_runs}), filters cycled:")  # fmt: skip
        for f in filters:
            out(f"  - {filter_words(f)}")
        views.overview_view(demo, demo_filters[0])  # warm up imports
        big.execute("SELECT count(*) FROM limb_summary").fetchall()  # and DuckDB's catalogue
        out("")
        out("first: a page's first view of the file, which codes the columns it reads that no")
        out("page before it read (analytics.cohort.tallies: once per file)")
        out(f"{'view (everything the page computes)':<42}{'registry ms':>12}{'target':>8}"
            f"{'demo ms':>9}{'target':>8}{'first ms':>10}")  # fmt: skip
        for name, work in PAGES.items():
            first_ms, _ = median_ms(work, big, filters[:1], 1)
            big_ms, _ = median_ms(work, big, filters, runs)
            demo_ms, _ = median_ms(work, demo, demo_filters, runs)
            target = _target(name)
            met = "" if target is None else ("met" if big_ms < target else "NOT met")
            demo_met = "" if target is None else ("met" if demo_ms < DEMO_TARGET_MS else "NOT met")
            out(f"{name:<42}{big_ms:>12.1f}{met:>8}{demo_ms:>9.1f}{demo_met:>8}{first_ms:>10.1f}")
        tour_ms, _ = median_ms(every_page, big, filters, runs)
        demo_tour_ms, _ = median_ms(every_page, demo, demo_filters, runs)
        out(f"{'every page on a new filter, one after another':<42}{tour_ms:>12.1f}{'':>8}"
            f"{demo_tour_ms:>9.1f}")  # fmt: skip
        engine_peak = peak_mib()
        out("")
        out(f"{'the engine against patient rows':<50}{'engine ms':>10}{'naive ms':>10}"
            f"{'ratio':>8}  same result")  # fmt: skip
        for check in CHECKS:
            engine_ms, ours = median_ms(check.engine, big, filters, runs)
            naive_ms, theirs = median_ms(check.naive, big, filters, naive_runs)
            agree = all(same(a, b) for a, b in zip(ours, theirs, strict=False))
            out(f"{check.name:<50}{engine_ms:>10.1f}{naive_ms:>10.1f}"
                f"{naive_ms / engine_ms:>8.1f}  {agree}")  # fmt: skip
        out("")
        out(f"peak memory: {engine_peak:.0f} MiB for the views; {peak_mib():.0f} MiB once the "
            "naive way has run")  # fmt: skip
        out("")
        bench_models(big, filters, out)
        big.close()
        demo.close()
        registry_s, demo_s = report_seconds([db, demo_path], report_runs)
    command = f"report {' '.join(REPORT_ARGS)}"
    out(f"whole process `{command}`: {registry_s:.2f} s here, {demo_s:.2f} s on the 37-patient "
        f"demo, ratio {registry_s / demo_s:.2f}")  # fmt: skip


def bench(size: tuple[str, int], db: Path | None, runs: int, naive_runs: int) -> None:
    """Bench ``db``, or a synthetic registry of ``size`` (``("--limbs", n)`` or
    ``("--patients", n)``, synth's option) written to a temporary folder."""
    if db is not None:
        run_bench(db, runs, naive_runs)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "registry.duckdb"
        start = time.perf_counter()
        subprocess.run(  # in its own process, so its memory is not counted below
            [sys.executable, "-m", "analytics", "synth", size[0], str(size[1]),
             "--out", str(path)],
            check=True, capture_output=True,
        )  # fmt: skip
        with open_cohort(path) as con:
            written = cohort_size(con)
        print(f"synthetic registry of {written.limbs:,} limbs in {written.patients:,} patients "
              f"({100 * written.bilateral_share:.1f}% of them bilateral) written in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        run_bench(path, runs, naive_runs)
