"""Subgroup splits: an allow-list of SQL expressions, one per grouping key.

A user names a grouping by key (``--by thrombophilia``, a dashboard select box); the
expression comes from this table, never from the user's text. Most expressions give a
small code (a boolean, a band number), which groups fastest; :func:`decode` turns the
codes DuckDB returns into the group's raw value (``yes``, ``F``, ``< 60``), which JSON
and links keep and analytics.present.format shows in words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analytics.filters import SEGMENT_MASK_SQL, SEGMENT_PATTERN_OF_MASK, FilterError
from analytics.glossary import GROUPINGS, NO, ORDERED_GROUPINGS, RISK_FACTORS, SEGMENTS, YES
from analytics.rules import AGE_BAND_CUTS, DURATION_BAND_CUT

YOUNG, OLD = AGE_BAND_CUTS
AGE_BANDS = (f"< {YOUNG}", f"{YOUNG}-{OLD - 1}", f">= {OLD}")
DURATION_BANDS = (f"<= {DURATION_BAND_CUT} months", f"> {DURATION_BAND_CUT} months")


@dataclass(frozen=True)
class Grouping:
    """How to split by one key: an SQL expression and, for a coded one, each code's value.

    ``values[code]`` is the raw value of a code (a boolean counts as 0 or 1); without
    ``values`` the expression gives the raw value itself (a centre's label).
    """

    sql: str
    values: tuple[str, ...] | None = None


YES_NO = (NO, YES)
GROUPS = {
    "lesion_side": Grouping("lesion_side = 'right'", ("left", "right")),
    "sex": Grouping("sex = 'M'", ("F", "M")),
    "age_band": Grouping(
        f"CASE WHEN age_years < {YOUNG} THEN 0 WHEN age_years < {OLD} THEN 1 "
        "WHEN age_years IS NOT NULL THEN 2 END",
        AGE_BANDS,
    ),
    **{column: Grouping(column, YES_NO) for column in (*SEGMENTS, *RISK_FACTORS)},
    "segment_pattern": Grouping(SEGMENT_MASK_SQL, SEGMENT_PATTERN_OF_MASK),
    "urokinase": Grouping("urokinase", YES_NO),
    "symptom_duration_band": Grouping(
        f"symptom_duration_months > {DURATION_BAND_CUT}", DURATION_BANDS
    ),
    "center": Grouping("center"),
    "technical_success": Grouping("technical_success", YES_NO),
}
# Levels in display order where order has meaning; others sort alphabetically.
LEVEL_ORDER = {
    "age_band": AGE_BANDS,
    "symptom_duration_band": DURATION_BANDS,
    "lesion_side": ("left", "right"),
    "sex": ("F", "M"),
}
assert GROUPS.keys() == GROUPINGS.keys(), "every grouping needs a label and an expression"
assert set(ORDERED_GROUPINGS) <= LEVEL_ORDER.keys(), "an ordered split needs its order"


def grouping(key: str) -> Grouping:
    """The split for a grouping key; an unknown key is an error naming it."""
    try:
        return GROUPS[key]
    except KeyError:
        raise FilterError(f"cannot group by {key!r}; choose one of {', '.join(GROUPS)}") from None


def decode(key: str, codes: np.ndarray) -> np.ndarray:
    """The raw group values (text) of the codes DuckDB returned for ``key``."""
    values = grouping(key).values
    codes = np.asarray(codes)
    if values is None:
        return codes.astype(str)
    return np.asarray(values)[codes.astype(int)]


def order_levels(key: str | None, levels: list[str]) -> list[str]:
    """Levels in display order; the first is the reference for hazard ratios.

    Booleans put 'no' first, so a hazard ratio reads as 'with the factor vs without'.
    """
    if set(levels) <= {NO, YES}:
        wanted: tuple[str, ...] = (NO, YES)
    else:
        wanted = LEVEL_ORDER.get(key or "", ())
    known = [level for level in wanted if level in levels]
    return known + sorted(level for level in levels if level not in known)
