"""Numbers and labels become text here, and only here: tables, report, deck and figures.

Every function takes values, never formatted text, and none takes the privacy k: a
count privacy decides on comes as a Cell of the view's mask (analytics.present.masking),
which says whether it shows exactly, as "<k" (1 to k-1) or SUPPRESSED (withheld so that
it cannot be worked out); a value derived from counts comes with whether it is withheld.
Missing values show as MISSING.

Conventions: percentages with one decimal; standard errors in percentage points;
hazard ratios with two decimals (more where two would show a CI of one value); p with
three decimals or "< 0.001"; rates per 100 patient-years with one decimal; counts with
thousands separators.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from analytics.filters import CohortFilter, FilterParam, Part, set_parameters, value_text
from analytics.glossary import (
    COMPLETENESS_ENDS,
    COMPLETENESS_TO_PLANNED,
    COUNT_COLUMNS,
    ENDPOINTS,
    FEW_EVENTS_PER_VARIABLE,
    FEW_PAIRS,
    FILTER_PART_WORDS,
    FITS_ONE_AT_A_TIME,
    FITTING,
    LEVEL_NOT_REACHED,
    LIMB,
    NO_SPREAD,
    NOT_COMPUTABLE,
    NOT_REACHED,
    PATIENT,
    PLANNED_UNREADABLE,
    RMST_BEYOND,
    TOO_FEW_EVENTS,
    YES_NO,
)
from analytics.present.masking import Cell
from analytics.present.privacy import (
    SUPPRESSED,
    ModelMask,
    masked,
)
from analytics.rules import (
    CONFIDENCE,
    CONTROL_CHARACTER,
    MONTHS_PER_YEAR,
    PH_TEST_ALPHA,
    SMALL_SAMPLE,
)
from analytics.stats.clinical import TableTest
from analytics.stats.engine.cox import HazardRatio
from analytics.stats.engine.hodges_lehmann import HodgesLehmann
from analytics.stats.follow_up import DATA_LOCK_KEY, FollowUp, data_lock_date
from analytics.stats.models import GLOBAL, AdjustedModel, PHTest, Term
from analytics.variables import BUILTIN, Kind, Registry, Role

MISSING = "-"
RATIO_DIGITS, RATIO_MAX_DIGITS = 2, 6  # a hazard ratio's decimals, and as many as it may need


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(n: int | None) -> str:
    """A count, as it is: "1,234" (privacy decides on a count of patients as a Cell)."""
    return MISSING if _missing(n) else f"{int(n):,}"


def cell(shown: Cell) -> str:
    """A count of a masked view (analytics.present.masking): "1,234"; "<k" when small,
    SUPPRESSED when withheld."""
    if shown.shown == "small":
        return masked(shown.k)
    return SUPPRESSED if shown.shown == "withheld" else f"{int(shown.value):,}"


def cell_percent(shown: Cell, total: Cell) -> str:
    """A masked count with its share of a masked total: "25 (73.5%)"; the count alone when
    the total is not shown exactly (the share and the count would give it), "<k" or
    SUPPRESSED when the count is not."""
    if shown.hidden or total.hidden or not total.value:
        return cell(shown)
    return f"{cell(shown)} ({percent(shown.value / total.value)})"


def cell_share(shown: Cell, share: float | None, hidden: bool) -> str:
    """A masked count with its share of a total: "25 (73.5%)"; the count alone, as the
    mask shows it, where the share is withheld (``hidden``: it is a statistic over a
    hidden count: 0 of a hidden n gives n by its interval) or there is no total."""
    if shown.hidden or hidden or _missing(share):
        return cell(shown)
    return f"{cell(shown)} ({percent(share)})"


def cell_of(shown: Cell, total: Cell) -> str:
    """A masked count out of a masked total with its share: "34/37 (91.9%)"; the count
    alone, as the mask shows it, when either is not shown exactly."""
    if shown.hidden or total.hidden:
        return cell(shown)
    share = f" ({percent(shown.value / total.value)})" if total.value else ""
    return f"{cell(shown)}/{cell(total)}{share}"


def cell_of_total(shown: Cell, total: Cell) -> str:
    """A masked count "of" a masked total, with its share: "3 of 8 (37.5%)"; the two as
    the mask shows them, without the share, when either is not shown exactly."""
    text = f"{cell(shown)} of {cell(total)}"
    if shown.hidden or total.hidden or not total.value:
        return text
    return f"{text} ({percent(shown.value / total.value)})"


def percent(proportion: float | None, digits: int = 1) -> str:
    """A proportion (0-1) as a percentage: "73.5%"."""
    return MISSING if _missing(proportion) else f"{100 * proportion:.{digits}f}%"


def percent_number(proportion: float | None, digits: int = 1) -> str:
    """A proportion as a bare percentage number, for a column headed (%): "73.5"."""
    return MISSING if _missing(proportion) else f"{100 * proportion:.{digits}f}"


def number_cells(
    values: Iterable[float],
    digits: int = 1,
    hidden: Iterable[bool] | None = None,
    masked: bool = False,
) -> list[float] | list[str]:
    """A table column of numbers with fixed decimals: numbers for a spreadsheet, or, in a
    ``masked`` view (privacy on), text with the ``hidden`` cells SUPPRESSED (one type per
    column)."""
    values = list(values)
    if not masked:
        return [math.nan if _missing(v) else round(float(v), digits) for v in values]
    hidden = list(hidden) if hidden is not None else [False] * len(values)
    return [SUPPRESSED if h else number(v, digits) for v, h in zip(values, hidden, strict=True)]


def percent_cells(
    proportions: Iterable[float], hidden: Iterable[bool] | None = None, masked: bool = False
) -> list[float] | list[str]:
    """A table column of proportions as percentages, one decimal (see number_cells)."""
    return number_cells((100 * p for p in proportions), 1, hidden, masked)


def percent_points(se: float | None) -> str:
    """A standard error of a proportion in percentage points: "7.6"."""
    return percent_number(se)


def ci(lower: float | None, upper: float | None, hidden: bool = False) -> str:
    """A 95% CI of proportions in percent, "60.2-95.2", MISSING where none exists, or
    SUPPRESSED when ``hidden`` (a CI over few gives the count away)."""
    if hidden:
        return SUPPRESSED
    if _missing(lower) or _missing(upper):
        return MISSING
    return f"{100 * lower:.1f}-{100 * upper:.1f}"


def estimate_ci(estimate: float | None, lower: float | None, upper: float | None) -> str:
    """An estimate with its 95% CI: "73.5% (95% CI 55.3-85.6)"."""
    if _missing(estimate):
        return MISSING
    interval = ci(lower, upper)
    return percent(estimate) + ("" if interval == MISSING else f" (95% CI {interval})")


def incidence_ci(estimate: float, lower: float, upper: float, hidden: bool = False) -> str:
    """A cumulative incidence with its 95% CI in a table cell, "14.7% (5.4-28.5)";
    MISSING beyond follow-up, SUPPRESSED when ``hidden`` (its counts are)."""
    if hidden:
        return SUPPRESSED
    if _missing(estimate):
        return MISSING
    interval = ci(lower, upper)
    return percent(estimate) + ("" if interval == MISSING else f" ({interval})")


def patients(n: Cell) -> str:
    """A masked count of patients in words: "1 patient", "4 patients", "<5 patients",
    "hidden patients"."""
    shown = cell(n)
    return f"{shown} patient" + ("" if shown == "1" else "s")


def limbs(n: Cell) -> str:
    """A masked count of limbs in words: "1 limb", "4 limbs", "<5 limbs"."""
    shown = cell(n)
    return f"{shown} limb" + ("" if shown == "1" else "s")


def limbs_of(limbs: Cell, people: Cell) -> str:
    """Masked counts of limbs and their patients in words: "34 limbs in 31 patients",
    "1 limb in 1 patient", "<5 limbs in <5 patients"."""
    shown = cell(limbs)
    return f"{shown} limb{'' if shown == '1' else 's'} in {patients(people)}"


def mean_sd(mean: float | None, sd: float | None, digits: int = 1, hidden: bool = False) -> str:
    """A mean ± SD: "66.2 ± 14.5"; the mean alone without an SD; SUPPRESSED when
    ``hidden`` (a mean of fewer than k)."""
    if hidden:
        return SUPPRESSED
    if _missing(mean):
        return MISSING
    return f"{mean:.{digits}f}" + ("" if _missing(sd) else f" ± {sd:.{digits}f}")


def number(value: float | None, digits: int = 1) -> str:
    """A number with fixed decimals: "2.91"."""
    return MISSING if _missing(value) else f"{value:.{digits}f}"


def number_range(low: float | None, high: float | None) -> str:
    """A range of values as recorded: "37-86"."""
    return MISSING if _missing(low) or _missing(high) else f"{low:g}-{high:g}"


def mean_and_range(mean: float | None, low: float | None, high: float | None) -> str:
    """A mean and the range of values: "36.5 (36-45.5)"."""
    return f"{number(mean)} ({number_range(low, high)})"


def rate(value: float | None) -> str:
    """Events per 100 patient-years, one decimal."""
    return number(value, 1)


def compact(value: float) -> str:
    """A number as short as it can be written: "0.5", "2", "10" (axis ticks)."""
    return f"{value:g}"


def months(value: float) -> str:
    """A month on the time axis: "36", "4.5"."""
    return f"{value:g}"


def years(months: float) -> str:
    """A month on a time axis in years: 18 months is "1.5", 3 months "0.25"."""
    return f"{months / MONTHS_PER_YEAR:g}"


def p_value(p: float | None) -> str:
    """A p-value as clinicians read it: three decimals, or < 0.001."""
    if _missing(p):
        return MISSING
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_statement(p: float | None) -> str:
    """A p-value in a sentence: "p = 0.238", "p < 0.001", or "p -" when there is none."""
    text = p_value(p)
    return f"p {text}" if text.startswith("<") or text == MISSING else f"p = {text}"


def test_p(p: float | None, pairs: int, hidden: bool = False) -> str:
    """A paired test's p in a sentence, with a caution below SMALL_SAMPLE pairs; "p
    hidden" when ``hidden`` (privacy: an exact p of few changed pairs gives their number)."""
    if hidden:
        return f"p {SUPPRESSED}"
    caution = f" ({FEW_PAIRS})" if 0 < pairs < SMALL_SAMPLE else ""
    return p_statement(p) + caution


def median_change(change: HodgesLehmann | None, hidden: bool = False) -> str:
    """A median paired change with its 95% CI, two decimals: "-6.50 (95% CI -7.50 to
    -5.50)"; the estimate alone, saying why, where no 95% interval exists; SUPPRESSED
    when ``hidden`` (fewer than k pairs)."""
    if hidden:
        return SUPPRESSED
    if change is None:
        return MISSING
    if _missing(change.ci_lower):
        return f"{change.estimate:.2f} (no CI: {NO_SPREAD})"
    if change.level < CONFIDENCE:
        return f"{change.estimate:.2f} (no 95% CI: {LEVEL_NOT_REACHED})"
    return difference_ci(change.estimate, change.ci_lower, change.ci_upper)


def chi_square(test: TableTest, hidden: bool = False) -> str:
    """A chi-square statistic and its df: "χ² = 30.00 on 3 df"; NOT_COMPUTABLE and why;
    SUPPRESSED when ``hidden``."""
    if hidden:
        return SUPPRESSED
    if test.reason:
        return f"{NOT_COMPUTABLE}: {test.reason}"
    return f"χ² = {statistic(test.statistic)} on {test.df} df"


def statistic(value: float | None) -> str:
    """A test statistic (chi-square, z), two decimals."""
    return number(value, 2)


def ratio_ci(ratio: float, lower: float, upper: float) -> str:
    """A ratio with its 95% CI: "0.59 (0.42-0.82)"; with more decimals, up to
    RATIO_MAX_DIGITS, where two would show a CI of one value ("1.00 (1.00-1.00)" for
    1.0012 (1.0003-1.0021)): "1.001 (1.000-1.002)"."""
    digits = RATIO_DIGITS
    while digits < RATIO_MAX_DIGITS and f"{lower:.{digits}f}" == f"{upper:.{digits}f}":
        digits += 1
    return f"{ratio:.{digits}f} ({lower:.{digits}f}-{upper:.{digits}f})"


def not_estimable(reason: str) -> str:
    """Why a hazard ratio has no number: "too few events: ..." as it stands (analytics.rules.
    MIN_EVENTS_FOR_HR), any other reason after "not estimable: "."""
    return reason if reason.startswith(TOO_FEW_EVENTS) else f"not estimable: {reason}"


def not_estimable_short(reason: str) -> str:
    """A table cell's word for a hazard ratio without a number: TOO_FEW_EVENTS or "not
    estimable"."""
    return TOO_FEW_EVENTS if reason.startswith(TOO_FEW_EVENTS) else "not estimable"


def hazard_ratio(ratio: HazardRatio) -> str:
    """A hazard ratio with its 95% CI, "0.59 (0.42-0.82)", or why it is not estimable."""
    if not ratio.estimable:
        return not_estimable(ratio.reason)
    return ratio_ci(ratio.hr, ratio.ci_lower, ratio.ci_upper)


def hazard_ratio_line(
    ratio: HazardRatio, by: str, hidden: bool = False, variables: Registry = BUILTIN
) -> str:
    """One line for a chart, slide or report: "Cox HR (95% CI) Yes vs No: 2.66 (0.92-7.70),
    p = 0.072"; SUPPRESSED for a group of fewer than k (``hidden``); levels in the words of
    the cohort's ``variables``."""
    versus = f"{level(by, ratio.level, variables)} vs {level(by, ratio.reference, variables)}"
    if hidden:
        return f"Cox HR {versus}: {SUPPRESSED}"
    if not ratio.estimable:
        return f"Cox HR {versus}: {not_estimable(ratio.reason)}"
    return f"Cox HR (95% CI) {versus}: {hazard_ratio(ratio)}, {p_statement(ratio.p)}"


def term(term: Term | PHTest, variables: Registry = BUILTIN) -> str:
    """A model term in words: "Thrombophilia: Yes vs No", "DVT duration (per 12 months)",
    "All terms" for the global test; labels from the covariates of ``variables``."""
    if term.term == GLOBAL:
        return "All terms (global)"
    covariate, _, value = term.term.partition("=")
    label = _words(variables).covariates[covariate]
    if not value:
        return label
    reference = term.reference if isinstance(term, Term) else None
    versus = f" vs {level(covariate, reference, variables)}" if reference else ""
    return f"{label}: {level(covariate, value, variables)}{versus}"


def term_ratio(term: Term, hidden: bool = False) -> str:
    """A model term's hazard ratio, 95% CI and Wald p: "1.09 (1.04-1.14), p < 0.001";
    SUPPRESSED when ``hidden`` (privacy.model_mask)."""
    if hidden:
        return SUPPRESSED
    if not term.estimable:
        return TOO_FEW_EVENTS
    return f"{ratio_ci(term.hr, term.ci_lower, term.ci_upper)}, {p_statement(term.p)}"


def term_ci(term: Term, hidden: bool = False) -> str:
    """A model term's hazard ratio with its 95% CI, "1.09 (1.04-1.14)", SUPPRESSED, or
    TOO_FEW_EVENTS for a level (or reference) of fewer than rules.MIN_EVENTS_FOR_HR."""
    if hidden:
        return SUPPRESSED
    if not term.estimable:
        return TOO_FEW_EVENTS
    return ratio_ci(term.hr, term.ci_lower, term.ci_upper)


def term_p(term: Term | PHTest, hidden: bool = False) -> str:
    """A model term's p (Wald, or of its PH test) for a table cell, SUPPRESSED, or MISSING
    for a term of too few events (its Wald p is a statistic of those few)."""
    if hidden:
        return SUPPRESSED
    return MISSING if isinstance(term, Term) and not term.estimable else p_value(term.p)


def level_patients(term: Term, mask: ModelMask) -> str:
    """The patients at a term's level as the model's mask shows them, MISSING for a
    continuous covariate."""
    return MISSING if term.at_level is None else cell(mask.cell(term.term, "patients"))


def level_events(term: Term, mask: ModelMask) -> str:
    """The endpoint events at a term's level, as level_patients."""
    return MISSING if term.at_level is None else cell(mask.cell(term.term, "events"))


def events_per_variable(model: AdjustedModel, mask: ModelMask) -> str:
    """Events per coefficient in words: "7.0 events per coefficient (14 events, 2
    coefficients)"; withheld with the events when the mask does not show them exactly
    (their quotient by the coefficients shown gives them)."""
    events = mask.cell("events")
    per = SUPPRESSED if events.hidden else number(model.events_per_variable)
    return (
        f"{per} events per coefficient ({cell(events)} events, "
        f"{count(len(model.terms))} coefficient{'' if len(model.terms) == 1 else 's'})"
    )


def events_per_variable_sentence(model: AdjustedModel, mask: ModelMask) -> str:
    """The events per variable as a sentence, with the warning under
    MIN_EVENTS_PER_VARIABLE: "7.0 events per coefficient (...): fewer than 10 ..."."""
    epv = events_per_variable(model, mask)
    return f"{epv}: {FEW_EVENTS_PER_VARIABLE}." if model.few_events_per_variable else f"{epv}."


def model_counts(mask: ModelMask, clustered: bool = False) -> str:
    """Whom a model was fitted on: "Cox model (Efron ties) on 34 patients with 14 events;
    0 patients left out for a missing covariate (complete cases)", counts as the model's
    mask shows them (privacy.model_mask); limbs where they are ``clustered`` by patient
    (AdjustedModel.clustered: one row per limb)."""
    counted = limbs if clustered else patients
    return (
        f"Cox model (Efron ties) on {counted(mask.cell('patients'))} with "
        f"{cell(mask.cell('events'))} events; "
        f"{counted(mask.cell('excluded'))} left out for a missing covariate (complete cases)"
    )


def hidden_ratios_note(model: AdjustedModel, mask: ModelMask) -> str | None:
    """Which of a model's hazard ratios privacy mode withholds, and why; None if none."""
    k = mask.k
    if mask.everything:
        return f"Hazard ratios {SUPPRESSED}: the model has fewer than {k} patients or events"
    if not mask.ratios:
        return None
    names = "; ".join(term(t, model.variables) for t in model.terms if t.term in mask.ratios)
    return (
        f"Hazard ratios {SUPPRESSED} for {names}: the level, its reference or the rest of "
        f"the model's patients has fewer than {k} patients, so the ratio would describe "
        "those few"
    )


def hidden_terms_mark(mask: ModelMask) -> str:
    """Under a forest plot, what a term's SUPPRESSED ratios mean (one short line)."""
    if mask.everything:
        return f"{SUPPRESSED}: not drawn, as the model has under {mask.k} patients or events"
    return (
        f"{SUPPRESSED}: not drawn, as a level, its reference or the rest has under {mask.k} "
        "patients"
    )


def model_reading(model: AdjustedModel, mask: ModelMask) -> list[str]:
    """An adjusted model in lines of text (the deck's notes): whom it was fitted on, each
    term's crude and adjusted HR (95% CI) with p, the events per variable (and the warning
    under MIN_EVENTS_PER_VARIABLE), the PH test read, the notes; privacy by ``mask``."""
    lines = [f"{ENDPOINTS[model.endpoint]}: {model_counts(mask, model.clustered)}."]
    unit = COUNT_COLUMNS[LIMB if model.clustered else PATIENT].lower()
    if not model.terms:
        return [*lines, *(f"Note: {note}." for note in model.notes)]
    lines.append(events_per_variable_sentence(model, mask))
    crude = {t.term: t for t in model.crude}
    for t in model.terms:
        hidden = mask.ratio_hidden(t.term)
        level = (
            ""
            if t.at_level is None
            else f" ({level_patients(t, mask)} {unit}, {level_events(t, mask)} events)"
        )
        lines.append(
            f"{term(t, model.variables)}{level}: crude HR (95% CI) "
            f"{term_ratio(crude[t.term], hidden)}; adjusted HR (95% CI) {term_ratio(t, hidden)}"
        )
    lines += [
        f"Proportional hazards, {term(test, model.variables)}: "
        + (SUPPRESSED if mask.ratio_hidden(test.term) else ph_reading(test))
        for test in model.ph_test
    ]
    note = hidden_ratios_note(model, mask)
    lines += [f"{note}."] if note else []
    return [*lines, *(f"Note: {note}." for note in model.notes)]


def ph_reading(test: PHTest) -> str:
    """The proportional-hazards test in plain words, with its p."""
    if _missing(test.p):
        return "not computed"
    if test.p < PH_TEST_ALPHA:
        return (
            f"{p_statement(test.p)}: the hazard ratio appears to change over follow-up, so a "
            "single hazard ratio misdescribes it; look at the curves, or split follow-up"
        )
    return (
        f"{p_statement(test.p)}: no evidence that the hazard ratio changes over follow-up "
        "(proportional hazards is plausible; with few events a change can go undetected)"
    )


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st."""
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def fit_place(place: int) -> str:
    """Where a model stands in the server's line of fits (ui.heavy.FitQueue.place): 1 is
    being fitted (or about to be), 2 is next."""
    if place <= 1:
        return f"{FITTING}…"
    return f"Your model is {ordinal(place)} in line: {FITS_ONE_AT_A_TIME}."


@dataclass(frozen=True)
class _Words:
    """A registry's labels as level, grouping and term words read them."""

    levels: Mapping[str, Mapping[str, str]]
    groupings: Mapping[str, str]
    covariates: Mapping[str, str]


@lru_cache(maxsize=16)  # per registry, hashed by its fingerprint: a table asks per cell
def _words(variables: Registry) -> _Words:
    return _Words(variables.level_labels(), variables.groupings(), variables.covariates())


# What no output shows of text from data: control characters (analytics.rules) and what
# XML 1.0 cannot hold beside them (U+FFFE, U+FFFF, a lone surrogate), each run at once.
UNSHOWABLE = re.compile(f"(?:{CONTROL_CHARACTER}|[\ufffe\uffff\ud800-\udfff])+")


def data_text(text: object) -> str:
    """Text from data (a centre, a level, a cohort's name) as every output shows it.

    Import refuses control characters, but a file written by an earlier version or by
    hand may hold them: the deck's XML cannot (a vertical tab fails the whole deck), a
    terminal runs an escape (``\\x1b[31m``), a line break starts a row or a block. Each run
    of them goes; a run holding a space-like one (a tab, a line break, a vertical tab)
    becomes one space, so words stay apart: "Centre\\x0b2" reads "Centre 2".
    """
    return UNSHOWABLE.sub(
        lambda run: " " if any(c.isspace() for c in run.group()) else "", str(text)
    )


def level(by: str | None, value: str, variables: Registry = BUILTIN) -> str:
    """A group's raw value in words: "Female", "Left", "Yes", "≥ 75"; others as they are,
    shown as data_text. A category's words are its declared levels' in ``variables``; any
    other's yes/no."""
    labels: Mapping[str, str] = _words(variables).levels.get(by or "", YES_NO)
    return data_text(labels.get(value, value)).replace(">=", "≥").replace("<=", "≤")


def reference_levels(variables: Registry = BUILTIN) -> str:
    """What each yes/no and category covariate of ``variables`` is compared with, its first
    level in display order: "'No'; Lesion side: Left; Sex: Female; Centre: the first"."""
    covariates = variables.with_role(Role.COVARIATE)
    flags = ["'No'"] if any(v.kind is Kind.YES_NO for v in covariates) else []
    categories = [
        f"{v.label}: {v.levels[0][1] if v.levels else 'the first'}"
        for v in covariates
        if v.kind in (Kind.CATEGORY, Kind.ORDERED)
    ]
    return "; ".join(flags + categories)


def group(by: str, value: str, variables: Registry = BUILTIN) -> str:
    """A group with its factor: "Thrombophilia: Yes"."""
    return f"{_words(variables).groupings[by]}: {level(by, value, variables)}"


def filter_word(param: FilterParam, value: object) -> str:
    """One filter setting in a caption, in the style of its part.

    A category's declared level shows alone ("Left", "Female"), an ordered category's
    after its label; a yes/no flag and a level from the data show their raw text after
    the label ("Thrombophilia: yes", "Centre: C01"); a measure's bounds read "Age from:
    60"; a segment set's parts their own words ("Segments: CIV,EIV · matching: all").
    """
    variable, text = param.variable, data_text(value_text(value))
    if param.part is Part.LEVEL:
        shown = dict(variable.levels)[str(value)]
        return shown if variable.kind is Kind.CATEGORY else f"{variable.label}: {shown}"
    if param.part in (Part.MINIMUM, Part.MAXIMUM):
        return f"{variable.label} {FILTER_PART_WORDS[param.part]}: {text}"
    if param.part in (Part.SEGMENTS, Part.MATCH, Part.PATTERN):
        return f"{FILTER_PART_WORDS[param.part]}: {text}"
    return f"{variable.label}: {text}"


def scope_word(cohort_filter: CohortFilter, key: str, level: str, inside: bool) -> str:
    """A scope's condition (CohortFilter.scope) in a caption: "Centre: C01", or the other
    levels pooled, "Centre: other than C01"."""
    label = cohort_filter.variables.get(key).label
    return f"{label}: {'' if inside else 'other than '}{data_text(level)}"


def filter_words(cohort_filter: CohortFilter) -> str:
    """The filter in plain words, in the order its link writes them, the population last:
    "Left · Thrombophilia: yes · technical successes"."""
    words = [
        filter_word(param, value)
        for param, value in set_parameters(cohort_filter)
        if param.part is not Part.POPULATION
    ]
    words += [scope_word(cohort_filter, *condition) for condition in cohort_filter.scope]
    for variable in cohort_filter.variables.with_role(Role.FILTER):
        if variable.population:
            shown = dict(variable.population)[cohort_filter.population]
            words.append(shown.split(" (")[0].lower())
    return " · ".join(words)


def view_caption(
    name: str, cohort_filter: CohortFilter, n: Cell, people: Cell | None = None
) -> str:
    """What every chart and slide states under its title: cohort, filter, n (as the view's
    mask shows it); with ``people`` (a file where a patient may have two treated limbs),
    n's limbs in those patients: "n = 394 limbs in 197 patients"."""
    count = cell(n) if people is None else limbs_of(n, people)
    return f"{data_text(name)} · {filter_words(cohort_filter)} · n = {count}"


def anonymised_caption(name: str, cohort_filter: CohortFilter, own: str) -> str:
    """A centre's user's funnel under its title: cohort, filter, and whose centre is named;
    no n, which beside their centre's exact count would give the others' by subtraction."""
    words = filter_words(cohort_filter)
    return f"{data_text(name)} · {words} · centre {data_text(own)} named, the others anonymised"


def months_ci(
    estimate: float | None, lower: float | None, upper: float | None, unit: str = ""
) -> str:
    """A time in months with its 95% CI, a bound not reached in words:
    "31.0 (95% CI 13.0 to not reached)"; an estimate and lower bound both not reached
    say "not reached" alone (a CI "not reached to not reached" tells nothing more).
    ``unit`` ("months") follows the CI only when there is a number to carry it."""

    def one(value: float | None) -> str:
        return NOT_REACHED if _missing(value) else f"{value:.1f}"

    if _missing(estimate) and _missing(lower):
        return NOT_REACHED
    text = f"{one(estimate)} (95% CI {one(lower)} to {one(upper)})"
    return f"{text} {unit}" if unit else text


def mean_se(mean: float | None, se: float | None) -> str:
    """A mean time with its standard error, two decimals: "25.96 (SE 2.33)"."""
    return MISSING if _missing(mean) else f"{mean:.2f} (SE {number(se, 2)})"


def difference_ci(difference: float | None, lower: float | None, upper: float | None) -> str:
    """A difference with its 95% CI, two decimals: "-6.27 (95% CI -15.36 to 2.82)"."""
    if _missing(difference):
        return MISSING
    return f"{difference:.2f} (95% CI {lower:.2f} to {upper:.2f})"


def follow_up(follow_up: FollowUp, n: Cell) -> str:
    """Median follow-up and completeness in one line, saying what completeness is
    measured to: "Median follow-up (reverse Kaplan-Meier) 36.0 (95% CI 36.0 to 36.0)
    months · completeness (Clark's C) 100.0%, to the earlier of the latest contact and
    the protocol's planned 36 months"; both SUPPRESSED over fewer than k patients (``n``
    as the view's mask has it: "<k", or withheld as part of such a count), MISSING over
    none (and nothing measured to)."""
    median = follow_up.median
    if not n.value:
        length, complete = MISSING, MISSING
    elif n.few:
        length, complete = SUPPRESSED, SUPPRESSED
    else:
        length = months_ci(median.estimate, median.ci_lower, median.ci_upper, "months")
        complete = percent(follow_up.completeness)
    line = f"Median follow-up (reverse Kaplan-Meier) {length} · completeness (Clark's C) {complete}"
    return f"{line}, {completeness_to(follow_up)}" if n.value else line


def completeness_to(follow_up: FollowUp) -> str:
    """What Clark's C is measured to: "to the data lock", "to the latest contact", or "to
    the earlier of the data lock and the protocol's planned 36 months"; and why a planned
    follow-up in the metadata was not used."""
    end = COMPLETENESS_ENDS[follow_up.data_lock_date]
    planned = follow_up.planned
    if planned.months is None:
        text = f"to {end}"
    else:
        text = COMPLETENESS_TO_PLANNED.format(end=end, months=months(planned.months))
    return f"{text} ({PLANNED_UNREADABLE})" if planned.unreadable else text


def data_lock(meta: Mapping[str, str]) -> str:
    """Where follow-up completeness is counted to: the metadata's data-lock date, else
    the latest last contact. Neither date is shown: no calendar date reaches a screen."""
    if data_lock_date(meta):
        return "data lock: the data-lock date in the cohort's metadata"
    if meta.get(DATA_LOCK_KEY):
        return (
            "data lock: the latest last contact in the cohort (its metadata's data_lock_date "
            "is not a date written YYYY-MM-DD, so it is not used)"
        )
    return "data lock: the latest last contact in the cohort (no data-lock date in its metadata)"


def rmst_beyond(group: str, horizon: float, last: float) -> str:
    """Why a group has no restricted mean: followed for less than the horizon."""
    return RMST_BEYOND.format(horizon=months(horizon), group=group, last=months(last))


def days_ago(days: int) -> str:
    """How long ago something happened, in whole days ("today", "yesterday", "3 days
    ago"): when a file was imported, without a calendar date (none reaches a screen)."""
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{count(days)} days ago"


def days_until(days: int) -> str:
    """How soon something happens, in whole days ("today", "tomorrow", "in 3 days")."""
    return "today" if days <= 0 else "tomorrow" if days == 1 else f"in {count(days)} days"
