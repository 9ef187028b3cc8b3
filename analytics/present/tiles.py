"""The headline figures of a view as tiles: what the Overview page and the presenting
view's first screen both show, worded and masked once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from analytics.glossary import (
    ALL_PATIENTS,
    COUNT_COLUMNS,
    CRUDE_OVER_FOLLOW_UP,
    DEFINITIONS,
    LIMB,
    PATIENT,
    SAFETY_EVENTS,
    UNRELIABLE,
)
from analytics.present import format as fmt
from analytics.present.masking import Mask
from analytics.present.tables import estimate_shown
from analytics.rules import SE_UNRELIABLE
from analytics.views import (
    PEOPLE,
    WHEN,
    N,
    OverviewView,
    binary_key,
    curve_key,
    people_key,
    population_key,
    safety_key,
)

HEADLINE_MONTHS = (12, 36)
HEADLINE_EVENTS = ("recurrent_dvt", "pulmonary_embolism", "death")


@dataclass(frozen=True)
class Tile:
    """One headline figure: its label, value, an optional line under it, a definition."""

    label: str
    value: str
    note: str | None = None
    definition: str | None = None


def headline_tiles(view: OverviewView, mask: Mask) -> tuple[list[Tile], list[Tile]]:
    """Two rows of four: patients (limbs, with the patients they belong to, in a file where
    a patient may have two treated limbs), technical success, primary patency at 12 and
    36 months (with the 95% CI, and the SE mark past 10%); PTS before and after, and three
    safety events (crude percentages of patients, said so under each). ``mask`` is the
    Overview's: n, the population (views.population_ledger) and the safety events
    (views.safety_ledger) as it decides them, with the curves and the clinical outcomes
    (the Overview's whole view)."""
    population = view.population
    successes, enrolled = population_key("successes"), population_key("enrolled")
    n = view.safety.patients
    bilateral = view.safety.bilateral
    unit = LIMB if bilateral else PATIENT
    enrolled_count = fmt.cell(mask.cell(enrolled))
    if bilateral:
        enrolled_count += f" {COUNT_COLUMNS[LIMB].lower()}"
    first = [
        Tile(
            f"{COUNT_COLUMNS[unit]} analysed",
            fmt.cell(mask.cell(N)),
            f"in {fmt.patients(mask.cell(PEOPLE))}" if bilateral else None,
            DEFINITIONS["Technical success"],
        ),
        Tile(
            "Technical success",
            fmt.cell_share(
                mask.cell(successes),
                population.successes / population.enrolled if population.enrolled else None,
                mask.hidden(successes, enrolled),
            ),
            f"of {enrolled_count} enrolled",
            DEFINITIONS["Technical success"],
        ),
        *(_patency_tile(view, month, mask) for month in HEADLINE_MONTHS),
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
                fmt.cell_share(
                    mask.cell(safety_key(event, "patients")),
                    int(safety.loc[event, "patients"]) / n if n else None,
                    mask.hidden(safety_key(event, "patients"), people_key(view.safety.bilateral)),
                ),
                CRUDE_OVER_FOLLOW_UP,
                DEFINITIONS["Crude percentage"],
            )
            for event in HEADLINE_EVENTS
        ),
    ]
    return first, second


def _patency_tile(view: OverviewView, month: int, mask: Mask) -> Tile:
    """Primary patency at ``month``: withheld, as on the Patency page, for a curve of
    fewer than k patients or where the mask hides its estimate (tables.estimate_shown)."""
    primary = view.patency.survival["primary"].overall
    e = primary.estimates
    at = list(e.month).index(month)
    label = f"Primary patency, {month} months"
    key = partial(curve_key, "primary", ALL_PATIENTS)
    if mask.few(key("patients")):
        return Tile(
            label, fmt.cell(mask.cell(key("patients"))), definition=DEFINITIONS["Primary patency"]
        )
    if not estimate_shown(mask, key, primary)[float(month)]:
        return Tile(label, fmt.SUPPRESSED, definition=DEFINITIONS["Primary patency"])
    unreliable = f" · {UNRELIABLE}" if e.se[at] > SE_UNRELIABLE else ""
    return Tile(
        label,
        fmt.percent(e.estimate[at]),
        f"95% CI {fmt.ci(e.ci_lower[at], e.ci_upper[at])}{unreliable}",
        DEFINITIONS["Primary patency"],
    )
