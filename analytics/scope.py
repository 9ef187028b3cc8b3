"""Centre scope: what a user tied to one centre may see, decided once on the server.

A user whose token names a centre (analytics.access, ``center_claim``) sees two scopes and
never the registry: **their centre** (exactly, as their role gives it) or **the other
centres**, pooled, with privacy enforced at the deployment's k (at least DEFAULT_K)
whatever their role. The scope is a condition of the filter the server adds
(CohortFilter.scope), which no link or widget can remove; the centre variable is neither a
comparison nor a covariate for them (it would split the pool into its centres). On the
Centres page the funnel names their centre and anonymises the others
(:func:`anonymised`). A user without a centre sees the registry, as without login.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, replace
from enum import StrEnum

import pandas as pd

from analytics.filters import CohortFilter
from analytics.partitions import Key, Ledger, Sum, ledger
from analytics.present.privacy import DEFAULT_K, Setting
from analytics.stats.funnel import CentreComparison
from analytics.views import N, centre_key, centres_ledger

CENTRE = "center"  # the variable (and filter key) a centre's scope conditions
POOL: Key = ("other centres",)  # the funnel's patients but the user's centre's (never shown)


class Choice(StrEnum):
    """The two scopes a centre's user chooses between; the value is the link's text."""

    MINE = "mine"
    OTHERS = "others"


@dataclass(frozen=True)
class CentreScope:
    """Whom a session sees: ``centre`` None is the registry; else the user's centre, with
    ``choice`` their centre or the other centres pooled."""

    centre: str | None = None
    choice: Choice = Choice.MINE

    @property
    def scoped(self) -> bool:
        return self.centre is not None

    @property
    def pooled(self) -> bool:
        """Whether the session sees the other centres pooled (privacy enforced)."""
        return self.scoped and self.choice is Choice.OTHERS

    def filter(self, cohort_filter: CohortFilter) -> CohortFilter:
        """``cohort_filter`` within the scope: the centre filter set aside for a centre's
        user (their scope is the centre condition), the scope's own condition added."""
        if self.centre is None:
            return cohort_filter
        inside = self.choice is Choice.MINE
        return replace(cohort_filter, center=None, scope=((CENTRE, self.centre, inside),))

    def privacy(self, setting: Setting) -> Setting:
        """The privacy the scope runs under: the other centres' pool enforced at the
        deployment's k, at least DEFAULT_K; otherwise ``setting`` (the role's)."""
        if not self.pooled:
            return setting
        return Setting("enforced", max(setting.k, DEFAULT_K))

    def funnel_filter(self, cohort_filter: CohortFilter) -> CohortFilter:
        """The Centres page's filter: for a centre's user every centre (the funnel
        anonymises the others: :meth:`funnel`), otherwise ``cohort_filter``."""
        return replace(cohort_filter, scope=()) if self.scoped else cohort_filter

    def funnel(self, comparison: CentreComparison) -> CentreComparison:
        """The Centres page's comparison as the session may see it: the others anonymised
        for a centre's user."""
        return comparison if self.centre is None else anonymised(comparison, self.centre)

    def funnel_k(self, k: int | None, setting: Setting) -> int | None:
        """The Centres page's privacy k: for a centre's user the other centres' cells are
        masked at the pool's k (:meth:`privacy`) whatever they chose; otherwise ``k``."""
        if not self.scoped:
            return k
        return max(k or 0, setting.k, DEFAULT_K)

    def funnel_view(self, comparison: CentreComparison) -> Ledger:
        """The funnel's counts to mask (views.centres_ledger). For a centre's user their
        centre's counts are theirs to know (exactly, where their role allows), so n less
        them, the other centres' pool, is what they know of the rest: the others are
        masked as parts of the pool, which counts as known (public: never withheld to
        protect them), so none follows from n by subtraction; no n is shown."""
        view = centres_ledger(comparison)
        own = centre_key(self.centre, "patients") if self.centre else None
        if own not in view.counts:
            return view  # a registry's user, or a centre with none in the filter: n is the pool
        (total,) = [s for s in view.sums if s.total == N]
        counts = {key: c for key, c in view.counts.items() if key != N}
        counts[POOL] = view.counts[N] - view.counts[own]
        patients = {key: p for key, p in view.patients.items() if key != N}
        if N in view.patients and own in view.patients:
            patients[POOL] = view.patients[N] - view.patients[own]
        sums = [s for s in view.sums if s is not total]
        sums.append(Sum(POOL, tuple(part for part in total.parts if part != own)))
        return ledger(counts, sums, public=[POOL], paired=view.paired, patients=patients)

    def allows(self, variable: str) -> bool:
        """Whether the session may compare by, or adjust for, ``variable``: a centre's user
        not by centre, which would show the pool's centres one by one."""
        return not (self.scoped and variable == CENTRE)


def anonymised(comparison: CentreComparison, own: str) -> CentreComparison:
    """The comparison with every centre but ``own`` renamed "Centre A", "Centre B", ... by
    size, largest first (ties by estimate, then events: nothing of the real codes' order),
    so that the funnel, its tables and exports name the user's centre alone. Their centre
    comes first, then the others in the order of their names."""
    centres = comparison.centres
    others = centres[centres["centre"] != own].sort_values(
        ["patients", "estimate", "events"], ascending=False, kind="stable"
    )
    names = {code: anonymous_name(i) for i, code in enumerate(others["centre"])}
    ordered = pd.concat([centres[centres["centre"] == own], others], ignore_index=True)
    ordered["centre"] = ordered["centre"].map(lambda code: names.get(code, code))
    people = {
        (names.get(code, code) if code is not None else None, count): n
        for (code, count), n in comparison.people.items()
    }
    return replace(comparison, centres=ordered, people=people)


def anonymous_name(index: int) -> str:
    """ "Centre A" .. "Centre Z", then "Centre AA", "Centre AB", ..."""
    letters = string.ascii_uppercase
    word = letters[index % 26]
    while index >= 26:
        index = index // 26 - 1
        word = letters[index % 26] + word
    return f"Centre {word}"
