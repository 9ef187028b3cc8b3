"""Clinical change within patients: CEAP, severity score, Villalta, PTS and reflux.

Each measure is paired within patients between the assessment before the
procedure (month 0) and the patient's last later assessment of that measure
(the before/after columns of the patient summary, analytics.cohort.summary).
DuckDB returns only counts per (before, after) pair; the tests expand those
counts, so nothing patient-level leaves the database.

Tests, as the source paper (SPSS): the Wilcoxon signed-rank test for scores (the
counts engine, analytics.stats.engine.signed_rank: zero differences dropped, exact for
few untied pairs, else normal with tie correction) and the exact McNemar test (binomial
on the discordant pairs) for yes/no outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy.special import bdtr

from analytics.cohort.summary import MEASURES, measure_columns
from analytics.filters import CohortFilter, cohort_sql
from analytics.glossary import CEAP_CLASSES, PTS_SEVERITY
from analytics.rules import SEVERITY_SCORE_OFFSET
from analytics.stats.engine.signed_rank import SignedRank, signed_rank


@dataclass(frozen=True)
class ScoreChange:
    """A paired score: mean and SD before and after, the signed-rank test, number of pairs.

    ``test`` is None when no pair changed (nothing to test).
    """

    n: int
    mean_before: float
    sd_before: float
    mean_after: float
    sd_after: float
    test: SignedRank | None

    @property
    def p(self) -> float | None:
        return self.test.p if self.test else None


@dataclass(frozen=True)
class BinaryChange:
    """A paired yes/no outcome: counts before and after, discordant pairs, exact McNemar p."""

    n: int
    before: int
    after: int
    resolved: int  # yes before, no after
    new: int  # no before, yes after
    p: float | None


@dataclass(frozen=True)
class ClinicalChange:
    """Everything the clinical-outcomes view and Table 3 show, for one filter."""

    ceap_shift: pd.DataFrame  # before x after counts, C0..C6 both ways
    severity_score: ScoreChange
    villalta: ScoreChange
    villalta_pairs: pd.DataFrame  # before, after, patients
    pts: BinaryChange
    pts_severity: pd.DataFrame  # severity, before, after
    reflux: BinaryChange

    def ceap_counts(self, when: str) -> dict[str, int]:
        """CEAP class counts before or after, keyed C0..C6."""
        axis = 1 if when == "before" else 0
        totals = self.ceap_shift.sum(axis=axis)
        return {f"C{c}": int(totals[c]) for c in CEAP_CLASSES}


def pair_counts(
    con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter
) -> dict[str, pd.DataFrame]:
    """Patients per (before, after) value of every measure, complete pairs only.

    One scan, cross-classifying every measure's pair: the values are few (classes,
    scores, yes/no), so even a million patients fall into a few thousand combinations,
    which numpy sums per measure (half the time of a grouping set per measure).
    """
    columns = {measure: measure_columns(measure) for measure in MEASURES}
    cohort, params = cohort_sql(cohort_filter)
    rows = con.execute(
        f"""
        SELECT {", ".join(f"{b}, {a}" for b, a in columns.values())}, count(*) AS patients
        FROM ({cohort}) GROUP BY ALL
        """,
        params,
    ).fetchnumpy()
    patients = np.asarray(rows["patients"], dtype=np.int64)
    return {
        measure: _pairs(rows[before], rows[after], patients)
        for measure, (before, after) in columns.items()
    }


def _pairs(before: np.ndarray, after: np.ndarray, patients: np.ndarray) -> pd.DataFrame:
    """Patients per distinct (before, after), sorted, rows with a missing value dropped."""
    known = ~np.ma.getmaskarray(before) & ~np.ma.getmaskarray(after)
    before, after = np.asarray(before)[known], np.asarray(after)[known]
    patients = patients[known]
    order = np.lexsort((after, before))
    before, after, patients = before[order], after[order], patients[order]
    new = np.ones(order.size, dtype=bool)
    new[1:] = (before[1:] != before[:-1]) | (after[1:] != after[:-1])
    starts = np.flatnonzero(new)
    summed = np.add.reduceat(patients, starts) if starts.size else patients[:0]
    return pd.DataFrame({"before": before[starts], "after": after[starts], "patients": summed})


def score_change(pairs: pd.DataFrame, offset: int = 0) -> ScoreChange:
    """Mean/SD (sample SD) before and after and the signed-rank test of a paired score.

    Means and SDs are weighted by the pair counts (numpy's frequency weights); the test
    takes the table of differences and their counts.
    """
    patients = pairs["patients"].to_numpy(int)
    n = int(patients.sum())
    if n == 0:
        return ScoreChange(0, np.nan, np.nan, np.nan, np.nan, None)
    before = pairs["before"].to_numpy(float) - offset
    after = pairs["after"].to_numpy(float) - offset
    return ScoreChange(
        n,
        float(np.average(before, weights=patients)),
        _sd(before, patients),
        float(np.average(after, weights=patients)),
        _sd(after, patients),
        signed_rank(after - before, patients),
    )


def _sd(values: np.ndarray, patients: np.ndarray) -> float:
    """Sample standard deviation (n - 1) of values repeated ``patients`` times, as SPSS."""
    return float(np.sqrt(np.cov(values, fweights=patients))) if patients.sum() > 1 else np.nan


def binary_change(pairs: pd.DataFrame) -> BinaryChange:
    """Counts and the exact McNemar p (two-sided binomial test on the discordant pairs)."""
    before = pairs["before"].to_numpy(dtype=bool)
    after = pairs["after"].to_numpy(dtype=bool)
    patients = pairs["patients"].to_numpy(dtype=np.int64)
    both, resolved, new = (
        int(patients[mask].sum()) for mask in (before & after, before & ~after, ~before & after)
    )
    return BinaryChange(
        n=int(patients.sum()),
        before=both + resolved,
        after=both + new,
        resolved=resolved,
        new=new,
        p=exact_mcnemar(resolved, new),
    )


def exact_mcnemar(resolved: int, new: int) -> float | None:
    """Two-sided exact McNemar p: binomial test of ``new`` of the discordant pairs at 1/2.

    The binomial at 1/2 is symmetric, so the two-sided p (the outcomes no likelier than
    the one seen, as SciPy's binomtest sums them) is twice the smaller tail, at most 1.
    None without discordant pairs.
    """
    discordant = resolved + new
    if not discordant:
        return None
    return float(min(1.0, 2 * bdtr(min(resolved, new), discordant, 0.5)))


def ceap_shift(pairs: pd.DataFrame) -> pd.DataFrame:
    """The full C0..C6 by C0..C6 shift matrix (rows before, columns after)."""
    classes = list(CEAP_CLASSES)
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(
        matrix,
        (pairs["before"].to_numpy(dtype=int), pairs["after"].to_numpy(dtype=int)),
        pairs["patients"].to_numpy(dtype=np.int64),
    )
    return pd.DataFrame(matrix, index=classes, columns=classes)


def severity_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """PTS severity categories before and after, in clinical order."""
    patients = pairs["patients"].to_numpy(dtype=np.int64)

    def counts(column: str) -> list[int]:
        values = pairs[column].to_numpy(dtype=object)
        return [int(patients[values == severity].sum()) for severity in PTS_SEVERITY]

    return pd.DataFrame(
        {"severity": PTS_SEVERITY, "before": counts("before"), "after": counts("after")}
    )


def clinical_change(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> ClinicalChange:
    """Paired before/after analysis of every clinical measure for the filtered cohort."""
    pairs = pair_counts(con, cohort_filter)
    return ClinicalChange(
        ceap_shift=ceap_shift(pairs["ceap"]),
        severity_score=score_change(pairs["ceap"], offset=SEVERITY_SCORE_OFFSET),
        villalta=score_change(pairs["villalta"]),
        villalta_pairs=pairs["villalta"],
        pts=binary_change(pairs["pts"]),
        pts_severity=severity_table(pairs["pts_severity"]),
        reflux=binary_change(pairs["reflux"]),
    )
