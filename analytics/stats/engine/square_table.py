"""Tests on a square table of paired counts (rows before, columns after): Bowker's test of
symmetry and Stuart-Maxwell's test of marginal homogeneity.

Both are statsmodels' ``SquareTable(table).symmetry("bowker")`` and
``.homogeneity("stuart_maxwell")`` (tests/unit/test_clinical.py checks them against it and
against R), written here on the counts because importing statsmodels with SciPy's
statistics takes 0.7 s of every ``report`` process, which reads these two numbers on
every run:

- Bowker: sum over i < j of (n_ij - n_ji)^2 / (n_ij + n_ji), a pair with no limb moved
  adding 0, on k (k - 1) / 2 df;
- Stuart-Maxwell: d' S^-1 d over the first k - 1 classes, d the column minus row margins,
  S_ii = n_i. + n_.i - 2 n_ii and S_ij = -(n_ij + n_ji), on k - 1 df. S is singular when
  the classes fall into groups no limb moved between: then there is no statistic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.stats.engine.normal import chi_square_p


@dataclass(frozen=True)
class ChiSquare:
    """A chi-square test: its statistic, degrees of freedom and upper-tail p."""

    statistic: float
    df: int
    p: float


def bowker(table: np.ndarray) -> ChiSquare:
    """Symmetry: as many moved from class i to j as from j to i, for every pair."""
    table = np.asarray(table, dtype=float)
    upper = np.triu_indices(table.shape[0], 1)
    above, below = table[upper], table.T[upper]
    moved = above + below
    statistic = float(np.sum((above - below) ** 2 / np.where(moved > 0, moved, 1.0)))
    df = table.shape[0] * (table.shape[0] - 1) // 2
    return ChiSquare(statistic, df, chi_square_p(statistic, df))


def stuart_maxwell(table: np.ndarray) -> ChiSquare | None:
    """None when the classes fall into separate groups (S singular)."""
    table = np.asarray(table, dtype=float)
    k = table.shape[0]
    if k < 2 or not _connected(table + table.T > 0):
        return None
    rows, columns = table.sum(axis=1)[:-1], table.sum(axis=0)[:-1]
    covariance = -(table + table.T)[:-1, :-1]
    np.fill_diagonal(covariance, rows + columns - 2 * np.diag(table)[:-1])
    difference = columns - rows
    statistic = float(difference @ np.linalg.solve(covariance, difference))
    return ChiSquare(statistic, k - 1, chi_square_p(statistic, k - 1))


def _connected(linked: np.ndarray) -> bool:
    """Every class reaches every other through classes limbs moved between."""
    reached = np.zeros(linked.shape[0], dtype=bool)
    reached[0] = True
    for _ in range(linked.shape[0]):
        reached = reached | linked[reached].any(axis=0)
    return bool(reached.all())
