"""Small-count suppression, so that a small subgroup cannot be singled out: the
deployment's setting and k, and which statistics a masked view withholds.

In privacy mode a count of 1 to k-1 patients or events, or of the limbs of 1 to k-1
patients, is shown as "<k" (k = 5 by default). Zero stays zero: it singles nobody out. Which
other counts are withheld beside a small one, so that it cannot be worked out by arithmetic,
is decided once over the whole view (analytics.present.masking, over the sums the view
declares in analytics.views); the rules here say which values derived from the counts go
with them (a test or mean over hidden or few counts, a model's ratios: model_mask), so every
table, CSV export, chart label, hover text, slide and JSON key renders the one decision.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import pandas as pd

from analytics.glossary import CEAP_CLASSES
from analytics.rules import LARGEST_K
from analytics.stats.models import GLOBAL, AdjustedModel
from analytics.views import (
    WHEN,
    binary_key,
    ceap_class_key,
    change_keys,
    clinical_key,
    model_key,
    pairs_key,
)

if TYPE_CHECKING:  # masking decides with is_small: a type here, not an import
    from analytics.partitions import Key
    from analytics.present.masking import Cell, Mask

DEFAULT_K = 5
MIN_K = 3  # "<2" would say the count is 1
MAX_K = LARGEST_K
# Columns whose values point at a person or a calendar date: never shown on a screen.
IDENTIFYING_COLUMNS = ("patient_id", "limb_id", "procedure_date")
MODE_ENV, K_ENV = "COHORT_PRIVACY", "COHORT_PRIVACY_K"
MODES = ("off", "on", "enforced")


class PrivacyError(ValueError):
    """A k outside MIN_K..MAX_K, below the k a deployment enforces, or a deployment
    setting (COHORT_PRIVACY, COHORT_PRIVACY_K) that is none of the values it may take."""


@dataclass(frozen=True)
class Setting:
    """The deployment's privacy mode (``COHORT_PRIVACY``: off, on, or enforced: on, and k
    a floor no user can lower) and k (``COHORT_PRIVACY_K``)."""

    mode: str
    k: int

    @property
    def enforced(self) -> bool:
        return self.mode == "enforced"


def setting() -> Setting:
    """The deployment's mode and k, failing closed: a value that is none of those a setting
    may take raises PrivacyError naming the setting, the value and the values allowed, so a
    mistyped mode ("enforce", "yes") never serves exact counts and a k outside MIN_K..MAX_K
    ("50", "1", "5.5") never runs as another. Case and surrounding spaces are ignored; an
    empty value is read as unset (mode off, k DEFAULT_K), as a shell's ``VAR=`` means."""
    mode_text, k_text = (os.environ.get(name, "") for name in (MODE_ENV, K_ENV))
    mode, k = mode_text.strip().lower() or "off", k_text.strip() or str(DEFAULT_K)
    if mode not in MODES:
        raise PrivacyError(
            f"{MODE_ENV}={mode_text!r} is not a privacy mode: use {', '.join(MODES[:-1])} "
            f"or {MODES[-1]}"
        )
    if k not in {str(n) for n in range(MIN_K, MAX_K + 1)}:  # int() also reads "1_0", "+5"
        raise PrivacyError(
            f"{K_ENV}={k_text!r} is not a privacy k: use a whole number from {MIN_K} to {MAX_K}"
        )
    return Setting(mode, int(k))


def checked_k(k: int, deployment: Setting) -> int:
    """``k`` when it is one a user may choose: MIN_K..MAX_K and, under enforcement, at
    least the deployment's."""
    if not MIN_K <= k <= MAX_K:
        raise PrivacyError(f"expected a whole number from {MIN_K} to {MAX_K}")
    if deployment.enforced and k < deployment.k:
        raise PrivacyError(f"below the k = {deployment.k} this deployment enforces")
    return k


def requested_k(k: int | None, deployment: Setting) -> int | None:
    """The k an export uses: the one asked for (checked), else the deployment's when its
    privacy mode is on or enforced, else None (no suppression)."""
    if k is not None:
        return checked_k(k, deployment)
    return deployment.k if deployment.mode != "off" else None


def is_small(count: float | None, k: int | None) -> bool:
    """True when ``count`` would single out fewer than k people (privacy on)."""
    if k is None or count is None or (isinstance(count, float) and math.isnan(count)):
        return False
    return 0 < count < k


def masked(k: int | None) -> str:
    """What a small count shows instead."""
    return f"<{k}"


SUPPRESSED = "hidden"  # withheld so that a small count cannot be worked out from it
SUPPRESSED_NOTE = f"'{SUPPRESSED}': withheld so that a count below k cannot be worked out from it"


def hidden_statistic(mask: Mask, *keys: Key) -> bool:
    """Whether a statistic over the counts ``keys`` of a masked view is withheld: any of
    them is not shown exactly (it would give them away), or is one the view does not
    show that is small: a test or estimate on few gives their number (an exact
    signed-rank p of 2 changed pairs, a median change that is their mean change,
    Bowker's chi-square over limbs that all moved one way is their number)."""
    return mask.hidden(*keys) or any(is_small(mask.patients_of(key), mask.k) for key in keys)


def hidden_shift_tests(shift: pd.DataFrame, mask: Mask) -> bool:
    """Whether the CEAP shift tests are withheld: they are statistics of the shift matrix
    (its cells, and the classes before and after that are its margins), so with any of
    those hidden or, not shown, small (hidden_statistic)."""
    classes = list(shift.index)
    keys = [clinical_key("ceap", "shift", f"C{b}", f"C{a}") for b in classes for a in classes]
    keys += [ceap_class_key(when, c) for when in WHEN for c in classes]
    return hidden_statistic(mask, pairs_key("ceap"), *keys)


def hidden_change(measure: str, mask: Mask) -> bool:
    """Whether a score's signed-rank p and median change are withheld: statistics of its
    pairs and, zero differences dropped (as R), of the pairs that changed alone (2 of 10
    pairs changed: the median change is their mean change). ``measure``: "ceap" (the
    severity score) or "villalta"."""
    return hidden_statistic(mask, pairs_key(measure), change_keys(measure)[0])


def hidden_means(measure: str, when: str, mask: Mask) -> bool:
    """Whether a score's mean and SD ``when`` ("before", "after") are withheld: statistics
    of its pairs and, for the severity score, of the CEAP classes they are a mean of (a
    mean class beside a distribution with hidden classes solves for them)."""
    classes = [ceap_class_key(when, c) for c in CEAP_CLASSES] if measure == "ceap" else []
    return hidden_statistic(mask, pairs_key(measure), *classes)


def hidden_mcnemar(measure: str, mask: Mask) -> bool:
    """Whether a paired yes/no outcome's exact McNemar p is withheld: a statistic of its
    discordant pairs (resolved, new), which an exact p of few gives away, stated with a
    caution on few pairs (fmt.test_p) that would bound them when hidden."""
    keys = (pairs_key(measure), binary_key(measure, "resolved"), binary_key(measure, "new"))
    return hidden_statistic(mask, *keys)


@dataclass(frozen=True)
class ModelMask:
    """What privacy mode withholds of an adjusted model (analytics.stats.models), read off
    the one Mask of the view that shows it (model_mask).

    ``decided``: that view's mask, which holds views.model_ledger(model); ``everything``:
    the model's patients or events are fewer than k, all its ratios withheld; ``ratios``:
    the terms whose crude and adjusted HR, CI, p (and PH test) are withheld.
    """

    model: AdjustedModel
    decided: Mask
    everything: bool = False
    ratios: frozenset[str] = frozenset()

    @property
    def k(self) -> int | None:
        return self.decided.k

    def cell(self, *count: str) -> Cell:
        """A count of the model as the mask shows it (views.model_key names it)."""
        return self.decided.cell(model_key(self.model, *count))

    @property
    def global_test_hidden(self) -> bool:
        """Whether the global proportional-hazards test is withheld (ratio_hidden)."""
        return self.ratio_hidden(GLOBAL)

    def ratio_hidden(self, term: str) -> bool:
        """Whether ``term``'s ratios and PH test are withheld; the global PH test is with
        any term's (with one term it is that term's statistic)."""
        return self.everything or term in self.ratios or (term == GLOBAL and bool(self.ratios))


def model_mask(model: AdjustedModel, decided: Mask) -> ModelMask:
    """Which of ``model``'s ratios the view's mask ``decided`` withholds.

    A level's ratios (and PH test) are withheld when the mask says the level or its
    reference counts fewer than k patients (Mask.few): its hazard ratio would be a
    statistic of those few. The level's rest within the model (the reference and the
    other levels) holds the reference, at least one patient, so it is fewer than k only
    when the reference is. All are withheld when the model's patients or events are few,
    or the view can show none of its counts.
    """
    key = partial(model_key, model)
    few = {
        t.term
        for t in model.terms
        if t.at_level is not None
        and (
            decided.few(key(t.term, "patients"))
            or decided.few(key(t.covariate, "reference", "patients"))
        )
    }
    everything = decided.everything or decided.few(key("patients")) or decided.few(key("events"))
    return ModelMask(model, decided, everything, frozenset(few))
