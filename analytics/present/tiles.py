"""The headline figures of a view as tiles: what the Overview page and the presenting
view's first screen both show, worded and masked once."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.glossary import CRUDE_OVER_FOLLOW_UP, DEFINITIONS, SAFETY_EVENTS, UNRELIABLE
from analytics.present import format as fmt
from analytics.present.masking import Mask
from analytics.present.privacy import is_small, masked
from analytics.rules import SE_UNRELIABLE
from analytics.views import WHEN, OverviewView, binary_key

HEADLINE_MONTHS = (12, 36)
HEADLINE_EVENTS = ("recurrent_dvt", "pulmonary_embolism", "death")


@dataclass(frozen=True)
class Tile:
    """One headline figure: its label, value, an optional line under it, a definition."""

    label: str
    value: str
    note: str | None = None
    definition: str | None = None


def headline_tiles(
    view: OverviewView, n: int, k: int | None, n_hidden: bool = False, *, mask: Mask
) -> tuple[list[Tile], list[Tile]]:
    """Two rows of four: patients, technical success, primary patency at 12 and 36 months
    (with the 95% CI, and the SE mark past 10%); PTS before and after, and three safety
    events (crude percentages, said so under each). ``n_hidden``: privacy hides n (the
    filters leave out fewer than k). ``mask``: the clinical view's
    (views.clinical_ledger), whose PTS cells the PTS chart shows too."""
    population = view.population
    first = [
        Tile(
            "Patients analysed",
            fmt.count(n, k, n_hidden),
            definition=DEFINITIONS["Technical success"],
        ),
        Tile(
            "Technical success",
            fmt.count_percent(population.successes, population.enrolled, k),
            f"of {fmt.count(population.enrolled, k)} enrolled",
            DEFINITIONS["Technical success"],
        ),
        *(_patency_tile(view, month, k) for month in HEADLINE_MONTHS),
    ]
    safety = view.safety.table.set_index("event")
    second = [
        Tile(
            "PTS before → after",
            " → ".join(fmt.cell(mask.cell(binary_key("pts", when))) for when in WHEN),
            definition=DEFINITIONS["PTS"],
        ),
        *(
            Tile(
                SAFETY_EVENTS[event],
                fmt.count_percent(int(safety.loc[event, "patients"]), n, k),
                CRUDE_OVER_FOLLOW_UP,
                DEFINITIONS["Crude percentage"],
            )
            for event in HEADLINE_EVENTS
        ),
    ]
    return first, second


def _patency_tile(view: OverviewView, month: int, k: int | None) -> Tile:
    primary = view.patency.survival["primary"].overall
    e = primary.estimates
    at = list(e.month).index(month)
    label = f"Primary patency, {month} months"
    if is_small(primary.patients, k):
        return Tile(label, masked(k), definition=DEFINITIONS["Primary patency"])
    unreliable = f" · {UNRELIABLE}" if e.se[at] > SE_UNRELIABLE else ""
    return Tile(
        label,
        fmt.percent(e.estimate[at]),
        f"95% CI {fmt.ci(e.ci_lower[at], e.ci_upper[at])}{unreliable}",
        DEFINITIONS["Primary patency"],
    )
