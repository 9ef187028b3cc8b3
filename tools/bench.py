"""Benchmark: what each operation and each page costs on a registry, against the naive way.

``python -m analytics bench [--patients N | --db PATH]`` times every operation a page
asks for, over several runs that each use a different filter (so no run is a repeat
of the one before), and prints the median milliseconds of

- this path: DuckDB filters and aggregates the patient summary to counts, lifelines
  and scipy fit on those (survival.py, clinical.py, safety.py, tables.py);
- the naive path: the filtered patients' rows pulled into pandas, lifelines and
  scipy run on one row per patient;

their ratio, whether the two give the same numbers, and the process's peak memory.
It then times the whole ``report --where ... --by ...`` process on the registry and
on the demo. A benchmark prints figures; it asserts nothing and is not a test.
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
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from scipy import stats

from analytics.cohort.db import open_cohort
from analytics.cohort.demo import build_demo
from analytics.cohort.summary import MEASURES, endpoint_columns
from analytics.filters import CohortFilter, cohort_sql, describe
from analytics.glossary import ENDPOINTS, PATENCY_ENDPOINTS, RISK_FACTORS, SAFETY_EVENTS, SEGMENTS
from analytics.groups import group_sql
from analytics.present import tables
from analytics.stats import clinical, safety, subgroups, survival
from analytics.stats import funnel as centres

MONTHS = (6, 12, 24, 36)
BY = "thrombophilia"
REPORT_ARGS = ("--where", "lesion_side=left", "--by", BY)
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


# This path: the functions the pages call.
def km(endpoint: str) -> Work:
    def run(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> float:
        counts = survival.event_counts(con, f, endpoint)
        result = survival.kaplan_meier_by_group(counts, MONTHS)[survival.ALL_PATIENTS]
        return float(result.estimates.set_index("month").at[12, "estimate"])

    return run


def compare(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> float:
    ratios = survival.compare_groups(con, f, "primary", BY, MONTHS).hazard_ratios
    return float(ratios["hr"].iloc[0]) if len(ratios) else float("nan")


def ceap(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> list[int]:
    change = clinical.clinical_change(con, f)
    return change.ceap_shift.to_numpy().ravel().tolist()


def safety_counts(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> list[int]:
    return safety.safety_table(con, f)["patients"].tolist()


def table_one(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> tuple[int, float]:
    table = tables.table1(con, f).set_index("Characteristic")["Value"]
    age = table["Age, years, mean ± SD (range)"].split(" ")[0]
    return int(table["Patients"].replace(",", "")), float(age) if age != "-" else float("nan")


# The naive path: patient rows into pandas, lifelines and scipy on raw rows.
def _rows(con: duckdb.DuckDBPyConnection, f: CohortFilter, columns: str) -> pd.DataFrame:
    cohort, params = cohort_sql(f)
    return con.execute(f"SELECT {columns} FROM ({cohort})", params).df()


def naive_km(endpoint: str) -> Work:
    months, event = endpoint_columns(endpoint)

    def run(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> float:
        rows = _rows(con, f, f"{months} AS months, {event} AS event")
        kmf = KaplanMeierFitter().fit(rows["months"], rows["event"])
        _ = (
            kmf.confidence_interval_survival_function_,
            [
                ((rows["months"] >= m).sum(), rows.loc[rows["months"] <= m, "event"].sum())
                for m in MONTHS
            ],
        )  # the CI and the risk table: timed, not compared
        return float(kmf.survival_function_at_times(12).iloc[0])

    return run


def naive_compare(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> float:
    months, event = endpoint_columns("primary")
    rows = _rows(con, f, f"{months} AS months, {event}::INT AS event, ({group_sql(BY)}) AS g")
    if rows["g"].nunique() < 2:
        return float("nan")
    _ = [
        KaplanMeierFitter().fit(group["months"], group["event"]).confidence_interval_
        for _, group in rows.groupby("g")
    ]  # each group's curve, as compare_groups draws: timed, not compared
    multivariate_logrank_test(rows["months"], rows["g"], rows["event"])
    design = rows.assign(g=(rows["g"] == "yes").astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = CoxPHFitter().fit(design, "months", "event")
    return float(fitted.hazard_ratios_["g"])


def naive_ceap(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> list[int]:
    """The clinical page's work on patient rows: shift, two Wilcoxon, two McNemar, severity."""
    columns = [f"{m}_{when}" for m in MEASURES for when in ("before", "after")]
    rows = _rows(con, f, ", ".join(columns))
    pairs = rows.dropna(subset=["ceap_before", "ceap_after"])
    shift = pd.crosstab(pairs["ceap_before"], pairs["ceap_after"])
    shift = shift.reindex(index=range(7), columns=range(7), fill_value=0)
    for score in ("ceap", "villalta"):
        both = rows.dropna(subset=[f"{score}_before", f"{score}_after"])
        if (both[f"{score}_after"] != both[f"{score}_before"]).any():
            stats.wilcoxon(both[f"{score}_after"], both[f"{score}_before"])
    for flag in ("pts", "reflux"):
        both = rows.dropna(subset=[f"{flag}_before", f"{flag}_after"])
        before, after = both[f"{flag}_before"].astype(bool), both[f"{flag}_after"].astype(bool)
        new, gone = int((~before & after).sum()), int((before & ~after).sum())
        if new + gone:
            stats.binomtest(new, new + gone)
    _ = [rows[f"pts_severity_{when}"].value_counts() for when in ("before", "after")]
    return shift.to_numpy().ravel().tolist()


def naive_safety(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> list[int]:
    rows = _rows(con, f, ", ".join(f"n_{e}" for e in SAFETY_EVENTS))
    counts = [int((rows[f"n_{e}"] > 0).sum()) for e in SAFETY_EVENTS]
    if len(rows):
        _ = [stats.binomtest(k, len(rows)).proportion_ci(method="exact") for k in counts]
    return counts


def naive_table_one(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> tuple[int, float]:
    """Table 1's numbers from patient rows: means, SDs, ranges and counts in pandas."""
    rows = _rows(con, f, "* EXCLUDE (safety_events)")
    _ = (
        rows[["age_years", "bmi", "follow_up_months"]].agg(["mean", "std", "min", "max"]),
        rows[[*RISK_FACTORS, *SEGMENTS]].sum(),
    )  # the rest of Table 1: timed, not compared
    return len(rows), round(float(rows["age_years"].mean()), 1)


@dataclass(frozen=True)
class Operation:
    name: str
    fast: Work
    naive: Work | None


OPERATIONS = [
    *(Operation(f"KM + CI + risk table: {e}", km(e), naive_km(e)) for e in ENDPOINTS),
    Operation(f"KM per group, log-rank, Cox: {BY}", compare, naive_compare),
    Operation("CEAP shift, Villalta, PTS, reflux", ceap, naive_ceap),
    Operation("safety table", safety_counts, naive_safety),
    Operation("Table 1", table_one, naive_table_one),
]


# Everything one page computes for a filter (the calls its ui.data wrappers make).
def overview(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> None:
    safety.cohort_size(con, f)
    for endpoint in PATENCY_ENDPOINTS:
        km(endpoint)(con, f)
    clinical.clinical_change(con, f)
    safety.safety_table(con, f)


def patency_by_group(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> None:
    counts = survival.event_counts(con, f, "primary", BY)
    survival.kaplan_meier_by_group(counts, MONTHS, BY)
    compare(con, f)


def clinical_page(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> None:
    tables.table3(clinical.clinical_change(con, f))


def tables_page(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> None:
    """The paper's tables from nothing cached: the patency and safety they share included."""
    change = clinical.clinical_change(con, f)
    patency = {
        endpoint: survival.estimates_at(survival.event_counts(con, f, endpoint), MONTHS)
        for endpoint in PATENCY_ENDPOINTS
    }
    tables.table1(con, f)
    tables.table2(con, f, change, patency, safety.safety_table(con, f))
    tables.table3(change)


def safety_page(con: duckdb.DuckDBPyConnection, f: CohortFilter) -> None:
    safety.safety_table(con, f)
    safety.event_timeline(con, f)


PAGES: dict[str, Work] = {
    "Overview": overview,
    "Patency (three patencies)": lambda con, f: [km(e)(con, f) for e in PATENCY_ENDPOINTS],
    f"Patency (by {BY})": patency_by_group,
    "Clinical outcomes": clinical_page,
    "Safety": safety_page,
    "Subgroups": lambda con, f: subgroups.subgroup_table(con, f, "primary", 12),
    "Tables": tables_page,  # published vs reconstructed is computed once per cohort
    "Centres": lambda con, f: centres.centre_patency(con, f, 12.0),
}


def median_ms(
    work: Work, con: duckdb.DuckDBPyConnection, filters: Sequence[CohortFilter], runs: int
) -> tuple[float, list[Any]]:
    """Median wall time of ``runs`` calls, each on the next filter, and their results."""
    times, results = [], []
    for run in range(runs):
        f = filters[run % len(filters)]
        start = time.perf_counter()
        results.append(work(con, f))
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), results


def peak_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _same(a: Any, b: Any) -> bool:
    return bool(np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=5e-3, equal_nan=True))


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
    """Print the benchmark of cohort file ``db``."""
    con = open_cohort(db)
    patients = con.execute("SELECT count(*) FROM patients").fetchall()[0][0]
    filters = filters_for(con)
    out(
        f"# bench {date.today()} on {platform.node()}: {platform.processor() or platform.machine()}"
    )
    out(f"cohort {db}: {patients} patients; {runs} runs (naive {naive_runs}), filters cycled:")
    for f in filters:
        out(f"  - {describe(f)}")
    km("primary")(con, filters[0])  # warm up imports and DuckDB's catalogue
    out("")
    fast = {op.name: median_ms(op.fast, con, filters, runs) for op in OPERATIONS}
    pages = {name: median_ms(work, con, filters, runs)[0] for name, work in PAGES.items()}
    fast_peak = peak_mib()
    out(f"{'operation':<44}{'this path ms':>13}{'naive ms':>11}{'ratio':>8}  same result")
    for op in OPERATIONS:
        fast_ms, fast_results = fast[op.name]
        naive_ms, naive_results = median_ms(op.naive, con, filters, naive_runs)
        same = all(_same(a, b) for a, b in zip(fast_results, naive_results, strict=False))
        out(f"{op.name:<44}{fast_ms:>13.1f}{naive_ms:>11.1f}{naive_ms / fast_ms:>8.1f}  {same}")
    out("")
    out(f"{'page (everything it computes)':<44}{'this path ms':>13}")
    for name, page_ms in pages.items():
        out(f"{name:<44}{page_ms:>13.1f}")
    con.close()
    out("")
    out(f"peak memory: {fast_peak:.0f} MiB on this path; {peak_mib():.0f} MiB once the naive "
        "path has run")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        demo = build_demo(Path(folder) / "demo.duckdb")
        big, small = report_seconds([db, demo], report_runs)
    command = f"report {' '.join(REPORT_ARGS)}"
    out(f"whole process `{command}`: {big:.2f} s here, {small:.2f} s on the 37-patient demo, "
        f"ratio {big / small:.2f}")  # fmt: skip


def bench(patients: int, db: Path | None, runs: int, naive_runs: int) -> None:
    """Bench ``db``, or a synthetic registry of ``patients`` written to a temporary folder."""
    if db is not None:
        run_bench(db, runs, naive_runs)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "registry.duckdb"
        start = time.perf_counter()
        subprocess.run(  # in its own process, so its memory is not counted below
            [sys.executable, "-m", "analytics", "synth", "--patients", str(patients),
             "--out", str(path)],
            check=True, capture_output=True,
        )  # fmt: skip
        print(f"synthetic registry of {patients} patients written in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        run_bench(path, runs, naive_runs)
