"""The masks tests render safety, population and Table 1 surfaces with: each view's own
ledgers (analytics.views), masked with a privacy k (None: off), as the pages mask them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.glossary import SAFETY_EVENTS
from analytics.present.masking import Mask, mask
from analytics.rules import EARLY_EVENT_MONTHS
from analytics.stats.baseline import Baseline
from analytics.stats.safety import Safety, safety_table
from analytics.views import (
    OverviewView,
    TablesView,
    baseline_ledger,
    clinical_ledger,
    patency_ledger,
    population_ledger,
    safety_ledger,
)


def safety_mask(safety: Safety, k: int | None, timeline: pd.DataFrame | None = None) -> Mask:
    """The Safety page's mask (with its timeline), or the deck's and the report's (without)."""
    return mask(safety_ledger(safety, timeline, k), k)


def table1_mask(baseline: Baseline, k: int | None) -> Mask:
    return mask(baseline_ledger(baseline), k)


def tables_mask(view: TablesView, k: int | None) -> Mask:
    """The Tables page's counts: Table 1, the population, the curves, the clinical outcomes
    and the safety rows, as one view (pages/5_Tables.py)."""
    n = view.safety.patients
    return mask(
        baseline_ledger(view.baseline)
        | population_ledger(view.population, view.analysed_all)
        | safety_ledger(view.safety)
        | clinical_ledger(view.clinical)
        | patency_ledger(view.patency, n),
        k,
    )


def overview_mask(view: OverviewView, k: int | None, analysed_all: bool = False) -> Mask:
    """The Overview's counts: the population, the curves, the clinical outcomes and the
    safety events, as one view (app.py)."""
    n = view.safety.patients
    return mask(
        population_ledger(view.population, analysed_all)
        | safety_ledger(view.safety)
        | clinical_ledger(view.clinical)
        | patency_ledger(view.patency, n),
        k,
    )


def safety_of_timeline(timeline: pd.DataFrame, patients: int = 1000) -> Safety:
    """The safety events of a timeline alone: each event type's events those of its
    points, each in a patient of its own, of ``patients``."""
    counted = [timeline[timeline["event"] == e] for e in SAFETY_EVENTS]
    events = np.array([int(rows["events"].sum()) for rows in counted])
    early = np.array(
        [int(rows.loc[rows["month"] <= EARLY_EVENT_MONTHS, "events"].sum()) for rows in counted]
    )
    return Safety(patients, 100.0, safety_table(patients, 100.0, events, events, early))


def timeline_mask(timeline: pd.DataFrame, k: int | None, patients: int = 1000) -> Mask:
    """The Safety page's mask of a timeline alone (safety_of_timeline)."""
    return safety_mask(safety_of_timeline(timeline, patients), k, timeline)
