"""Small-count suppression, so that a small subgroup cannot be singled out.

In privacy mode a count of 1 to k-1 patients, limbs or events is shown as "<k"
(k = 5 by default), and so is a percentage of such a count, which would give the
count away. Zero stays zero: it singles nobody out. The rule lives here once; the
dashboard applies it to every table (and so every CSV export), every count
written on a chart and the sidebar's n.
"""

from __future__ import annotations

import re

import pandas as pd

DEFAULT_K = 5
MIN_K = 2
MAX_K = 20

# Display columns that hold counts, in the tables of analytics.present.tables and the pages.
COUNT_COLUMNS = frozenset(
    {
        "Patients", "Events", "At risk", "Censored", "Within 30 days", "Later", "Total",
        "C0 after", "C1 after", "C2 after", "C3 after", "C4 after", "C5 after", "C6 after",
    }
)  # fmt: skip
# Columns that reveal the count named in their row (a rate of it, or an estimate over
# so few patients), hidden with it.
DERIVED_COLUMNS = {
    "Percent": "Patients",
    "95% CI (%)": "Patients",
    "Estimate (%)": "Patients",
    "Per 100 patient-years": "Events",
    "95% limits (%)": "Patients",  # a centre's control limits are a function of its size
    "99.8% limits (%)": "Patients",
    "z-score": "Patients",
}
# Text columns whose cells read "N", "N (p%)", "N/M (p%)" or contain "at risk N".
TEXT_COLUMNS = frozenset({"Value", "Before", "After", "Reconstructed", "Published"})
# Columns whose values point at a person or a calendar date: never shown on a screen.
IDENTIFYING_COLUMNS = ("patient_id", "procedure_date")
NUMBER = r"\d+(?:,\d{3})*"  # a count, thousands separated or not: 7, 1234, 1,234
WHOLE_COUNT = re.compile(rf"({NUMBER})(/{NUMBER})?( \(.*\))?")
AT_RISK = re.compile(rf"at risk ({NUMBER})")


def is_small(count: float | None, k: int | None) -> bool:
    """True when ``count`` would single out fewer than k people (privacy on)."""
    return k is not None and count is not None and not pd.isna(count) and 0 < count < k


def count_text(count: int, k: int | None) -> str:
    """A count as shown: "<k" when small, else the number with thousands separated."""
    return f"<{k}" if is_small(count, k) else f"{count:,}"


def mask_text(text: str, k: int | None) -> str:
    """Hide the small counts in a formatted cell ("3 (8.8%)", "at risk 4", "2/37 (5.4%)")."""
    if k is None or not isinstance(text, str):
        return text
    whole = WHOLE_COUNT.fullmatch(text)
    if whole:
        return f"<{k}" if is_small(_number(whole.group(1)), k) else text
    return AT_RISK.sub(lambda m: f"at risk {count_text(_number(m.group(1)), k)}", text)


def _number(text: str) -> int:
    """A count as written in a cell, thousands separators included ("1,234")."""
    return int(text.replace(",", ""))


def mask_table(frame: pd.DataFrame, k: int | None) -> pd.DataFrame:
    """A display table with its small counts, and the rates that reveal them, hidden.

    Masked columns become text (one type per column, as Arrow and CSV readers want).
    """
    if k is None:
        return frame
    masked = frame.copy()
    for column, source in DERIVED_COLUMNS.items():
        if column in masked.columns and source in masked.columns:
            small = masked[source].map(lambda n: _is_count(n) and is_small(n, k))
            masked[column] = masked[column].map(_as_text).where(~small, f"<{k}")
    for column in COUNT_COLUMNS & set(masked.columns):
        masked[column] = masked[column].map(
            lambda n: f"<{k}" if _is_count(n) and is_small(n, k) else _as_text(n)
        )
    for column in TEXT_COLUMNS & set(masked.columns):
        masked[column] = masked[column].map(lambda text: mask_text(text, k))
    return masked


def _as_text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _is_count(value: object) -> bool:
    return isinstance(value, int | float) and not pd.isna(value) and float(value).is_integer()
