"""Small-count suppression, so that a small subgroup cannot be singled out.

In privacy mode a count of 1 to k-1 patients, limbs or events is shown as "<k"
(k = 5 by default), and so is every value derived from it in the same place (its
percentage, an interval or an estimate over so few), which would give the count away.
Zero stays zero: it singles nobody out. The rule lives here once; the formatting
module (analytics.present.format) applies it to values as they become text, so every
table, CSV export, chart label, hover text, slide and the sidebar's n follow it.
"""

from __future__ import annotations

import math

DEFAULT_K = 5
MIN_K = 2
MAX_K = 20
# Columns whose values point at a person or a calendar date: never shown on a screen.
IDENTIFYING_COLUMNS = ("patient_id", "procedure_date")


def is_small(count: float | None, k: int | None) -> bool:
    """True when ``count`` would single out fewer than k people (privacy on)."""
    if k is None or count is None or (isinstance(count, float) and math.isnan(count)):
        return False
    return 0 < count < k


def masked(k: int | None) -> str:
    """What a suppressed value shows instead."""
    return f"<{k}"
