"""Subgroup splits: an allow-list of SQL expressions, one per grouping key.

A user names a grouping by key (``--by thrombophilia``, a dashboard select box);
the expression comes from this table, never from the user's text.
"""

from __future__ import annotations

from analytics.filters import PATTERN_SQL, FilterError
from analytics.glossary import GROUPINGS, RISK_FACTORS, SEGMENTS, boolean_label

AGE_BANDS = ("< 60", "60-74", ">= 75")
DURATION_BANDS = ("<= 12 months", "> 12 months")


def _yes_no(column: str) -> str:
    return (
        f"CASE WHEN {column} THEN '{boolean_label(True)}' "
        f"WHEN NOT {column} THEN '{boolean_label(False)}' END"
    )


GROUP_SQL = {
    "lesion_side": "lesion_side",
    "sex": "sex",
    "age_band": (
        f"CASE WHEN age_years < 60 THEN '{AGE_BANDS[0]}' "
        f"WHEN age_years < 75 THEN '{AGE_BANDS[1]}' ELSE '{AGE_BANDS[2]}' END"
    ),
    **{column: _yes_no(column) for column in (*SEGMENTS, *RISK_FACTORS)},
    "segment_pattern": PATTERN_SQL,
    "urokinase": _yes_no("urokinase"),
    "symptom_duration_band": (
        f"CASE WHEN symptom_duration_months <= 12 THEN '{DURATION_BANDS[0]}' "
        f"ELSE '{DURATION_BANDS[1]}' END"
    ),
    "center": "center",
    "technical_success": _yes_no("technical_success"),
}
# Levels in display order where order has meaning; others sort alphabetically.
LEVEL_ORDER = {
    "age_band": AGE_BANDS,
    "symptom_duration_band": DURATION_BANDS,
    "lesion_side": ("left", "right"),
    "sex": ("F", "M"),
}
assert GROUP_SQL.keys() == GROUPINGS.keys(), "every grouping needs a label and an expression"


def group_sql(key: str) -> str:
    """The SQL expression for a grouping key; an unknown key is an error naming it."""
    try:
        return GROUP_SQL[key]
    except KeyError:
        raise FilterError(
            f"cannot group by {key!r}; choose one of {', '.join(GROUP_SQL)}"
        ) from None


def order_levels(key: str, levels: list[str]) -> list[str]:
    """Levels in display order; the first is the reference for hazard ratios.

    Booleans put 'no' first, so a hazard ratio reads as 'with the factor vs without'.
    """
    if set(levels) <= {boolean_label(False), boolean_label(True)}:
        wanted = (boolean_label(False), boolean_label(True))
    else:
        wanted = LEVEL_ORDER.get(key, ())
    known = [level for level in wanted if level in levels]
    return known + sorted(level for level in levels if level not in known)
