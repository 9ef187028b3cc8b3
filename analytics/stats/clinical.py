"""Clinical change within patients: CEAP, severity score, Villalta, PTS and reflux.

Each measure is paired within patients between the assessment before the
procedure (month 0) and the patient's last later assessment of that measure
(the before/after columns of the patient summary, analytics.cohort.summary).
DuckDB returns only counts per (before, after) pair; the tests expand those
counts, so nothing patient-level leaves the database.

Tests, as the source paper (SPSS): the Wilcoxon signed-rank test for scores (the
counts engine, analytics.stats.engine.signed_rank: zero differences dropped, exact
conditional on ties below 50 non-zero differences, else normal with tie correction) and
the exact McNemar test (binomial on the discordant pairs) for yes/no outcomes. Beside
them, the median paired change of a score (Hodges-Lehmann,
analytics.stats.engine.hodges_lehmann, as R's wilcox.test) and, on the CEAP shift
matrix, Stuart-Maxwell's test of marginal homogeneity and Bowker's test of symmetry
(statsmodels' SquareTable, computed by the counts engine:
analytics.stats.engine.square_table).

Pairs are limbs: where the filter holds a patient's two limbs, each limb is a pair of its
own and the tests treat them as independent (no paired test here has a clustered form);
the result says so (``notes``: glossary.CLINICAL_TWO_LIMBS).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy.special import bdtr

from analytics.cohort.summary import CODED_COLUMNS, MEASURES, measure_columns
from analytics.cohort.tallies import tally
from analytics.filters import (
    CohortFilter,
    both_limbs,
    cohort_where,
    has_bilateral,
)
from analytics.glossary import (
    CEAP_CLASSES,
    CEAP_NO_PAIRS,
    CEAP_NO_SHIFT,
    CEAP_SEPARATE_SHIFTS,
    CLINICAL_TWO_LIMBS,
    PTS_SEVERITY,
)
from analytics.rules import CONFIDENCE, SEVERITY_SCORE_OFFSET
from analytics.stats.engine.hodges_lehmann import HodgesLehmann, hodges_lehmann
from analytics.stats.engine.signed_rank import SignedRank, signed_rank
from analytics.stats.engine.square_table import bowker, stuart_maxwell


@dataclass(frozen=True)
class ScoreChange:
    """A paired score: mean and SD before and after, the signed-rank test, the median
    change (Hodges-Lehmann, after - before), number of pairs.

    ``test`` and ``median_change`` are None when no pair changed (nothing to test).
    """

    n: int
    mean_before: float
    sd_before: float
    mean_after: float
    sd_after: float
    test: SignedRank | None
    median_change: HodgesLehmann | None

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
class TableTest:
    """A chi-square test on the CEAP shift matrix; when it cannot be computed the numbers
    are None and ``reason`` says why."""

    statistic: float | None
    df: int | None
    p: float | None
    reason: str = ""


@dataclass(frozen=True)
class ClinicalChange:
    """Everything the clinical-outcomes view and Table 3 show, for one filter."""

    ceap_shift: pd.DataFrame  # before x after counts, C0..C6 both ways
    ceap_homogeneity: TableTest  # Stuart-Maxwell: are the classes before and after alike?
    ceap_symmetry: TableTest  # Bowker: as many limbs moved from i to j as from j to i?
    severity_score: ScoreChange
    villalta: ScoreChange
    villalta_pairs: pd.DataFrame  # before, after, patients
    pts: BinaryChange
    pts_severity: pd.DataFrame  # severity, before, after
    reflux: BinaryChange
    patients: int  # in the filter, with a pair of some measure or none (the view's n)
    notes: tuple[str, ...] = ()  # CLINICAL_TWO_LIMBS where a patient has two limbs in it

    @property
    def ceap_pairs(self) -> int:
        """Limbs with a CEAP class before and after: the shift tests' sample."""
        return int(self.ceap_shift.to_numpy().sum())

    def ceap_counts(self, when: str) -> dict[str, int]:
        """CEAP class counts before or after, keyed C0..C6."""
        axis = 1 if when == "before" else 0
        totals = self.ceap_shift.sum(axis=axis)
        return {f"C{c}": int(totals[c]) for c in CEAP_CLASSES}


def pair_counts(
    con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter
) -> dict[str, pd.DataFrame]:
    """Patients per (before, after) value of every measure, complete pairs only."""
    return _pair_scan(con, cohort_filter)[0]


def _pair_scan(
    con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter
) -> tuple[dict[str, pd.DataFrame], int]:
    """Every measure's pairs (pair_counts) and the patients in the filter.

    One tally, cross-classifying every measure's pair: the values are few (classes,
    scores, yes/no), so even a million patients fall into a few thousand combinations,
    which numpy sums per measure. PTS is
    not read: it is its severity other than none, both taken from the same visit (one
    assessment per limb and month, data/schema.sql; summary.PTS_SQL and
    PTS_SEVERITY_SQL), so it adds no combination, only two columns to code.
    """
    columns = {measure: measure_columns(measure) for measure in MEASURES}
    # the ENUMs read as text: numpy gets an ENUM's NULL as NaN, a text column's as masked
    read = [
        (column, f"{column}::VARCHAR" if column in CODED_COLUMNS else column)
        for measure, pair in columns.items()
        if measure != "pts"
        for column in pair
    ]
    rows = tally(con, read, *cohort_where(cohort_filter))
    rows["patients"] = rows.pop("n")
    for pts, severity in zip(columns["pts"], columns["pts_severity"], strict=True):
        rows[pts] = _has_pts(rows[severity])
    patients = np.asarray(rows["patients"], dtype=np.int64)
    pairs = {
        measure: _pairs(rows[before], rows[after], patients)
        for measure, (before, after) in columns.items()
    }
    return pairs, int(patients.sum())


def _has_pts(severity: np.ma.MaskedArray) -> np.ma.MaskedArray:
    """PTS (yes/no) from its severity: any but the first (none); missing where it is."""
    has = np.asarray(severity) != PTS_SEVERITY[0]
    return np.ma.masked_array(has, mask=np.ma.getmaskarray(severity))


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
    """Mean/SD (sample SD) before and after, the signed-rank test and the median change
    of a paired score.

    Means and SDs are weighted by the pair counts (numpy's frequency weights); the test
    and the median change take the table of differences and their counts.
    """
    patients = pairs["patients"].to_numpy(int)
    n = int(patients.sum())
    if n == 0:
        return ScoreChange(0, np.nan, np.nan, np.nan, np.nan, None, None)
    before = pairs["before"].to_numpy(float) - offset
    after = pairs["after"].to_numpy(float) - offset
    return ScoreChange(
        n,
        float(np.average(before, weights=patients)),
        _sd(before, patients),
        float(np.average(after, weights=patients)),
        _sd(after, patients),
        signed_rank(after - before, patients),
        hodges_lehmann(after - before, patients, CONFIDENCE),
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


def _moved(shift: pd.DataFrame) -> np.ndarray:
    """The shift matrix over the classes some limb entered or left.

    A class whose limbs all stayed has equal margins by construction and no discordant
    pair: it says nothing about change, and would make Stuart-Maxwell's covariance
    singular.
    """
    matrix = shift.to_numpy()
    moved = np.flatnonzero((matrix.sum(axis=0) + matrix.sum(axis=1) - 2 * np.diag(matrix)) > 0)
    return matrix[np.ix_(moved, moved)]


def _not_computable(shift: pd.DataFrame, moved: np.ndarray) -> str:
    """Why neither test can be computed, or "" when they can."""
    if not shift.to_numpy().sum():
        return CEAP_NO_PAIRS
    return "" if moved.size else CEAP_NO_SHIFT


def marginal_homogeneity(shift: pd.DataFrame) -> TableTest:
    """Stuart-Maxwell's test that the classes before and after have the same distribution
    (chi-square on k - 1 df over the k classes limbs moved between).

    Its covariance is singular when those classes fall into groups no limb moved between
    (say C4 to C3 and C6 to C5 only): then it is not computed.
    """
    moved = _moved(shift)
    reason = _not_computable(shift, moved)
    if reason:
        return TableTest(None, None, None, reason)
    result = stuart_maxwell(moved)
    if result is None:
        return TableTest(None, None, None, CEAP_SEPARATE_SHIFTS)
    return TableTest(result.statistic, result.df, result.p)


def symmetry(shift: pd.DataFrame) -> TableTest:
    """Bowker's test that as many limbs moved from class i to j as from j to i, for every
    pair of the classes limbs moved between (chi-square on k (k - 1) / 2 df).

    A pair of classes no limb moved between adds nothing to the statistic and keeps its
    degree of freedom (statsmodels, and Fagerland, Lydersen and Laake 2017); R's
    mcnemar.test gives NaN there.
    """
    moved = _moved(shift)
    reason = _not_computable(shift, moved)
    if reason:
        return TableTest(None, None, None, reason)
    result = bowker(moved)
    return TableTest(result.statistic, result.df, result.p)


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
    pairs, patients = _pair_scan(con, cohort_filter)
    shift = ceap_shift(pairs["ceap"])
    return ClinicalChange(
        ceap_shift=shift,
        ceap_homogeneity=marginal_homogeneity(shift),
        ceap_symmetry=symmetry(shift),
        severity_score=score_change(pairs["ceap"], offset=SEVERITY_SCORE_OFFSET),
        villalta=score_change(pairs["villalta"]),
        villalta_pairs=pairs["villalta"],
        pts=binary_change(pairs["pts"]),
        pts_severity=severity_table(pairs["pts_severity"]),
        reflux=binary_change(pairs["reflux"]),
        patients=patients,
        notes=(CLINICAL_TWO_LIMBS,) if holds_two_limbs(con, cohort_filter) else (),
    )


def holds_two_limbs(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> bool:
    """Whether the filter holds both limbs of some patient (filters.both_limbs: the
    filter's rows of patients with two limbs, paired by their keys), and none in a file
    without them."""
    if not has_bilateral(con):
        return False
    where, params = cohort_where(cohort_filter)
    return both_limbs(con, where, params, ["true"])[0] > 0
