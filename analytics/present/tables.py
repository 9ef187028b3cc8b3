"""Every table a clinician reads or downloads, built from a view through the formatter.

Each function takes a view (analytics.views) or one of its parts and the privacy k,
and returns a data frame of display values: numbers where a column holds numbers,
text where the formatter wrote it. In privacy mode count columns become text, since a
masked cell ("<5") is text (one type per column, as Arrow and CSV readers want).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from analytics.cohort import published
from analytics.glossary import (
    ALL_PATIENTS,
    CEAP_CLASSES,
    CEAP_REGRESSION,
    COMPARISON_TESTS,
    COMPARISON_WITHHELD,
    COUNT_COLUMNS,
    CRUDE_PERCENT,
    ENDPOINTS,
    FEW_PAIRS,
    FIRST_LIMB_GROUP,
    LIMB,
    MARGINAL_HOMOGENEITY,
    MEDIAN_CHANGE,
    MEDIAN_CHANGE_METHODS,
    NOT_COMPUTABLE,
    NOT_PUBLISHED_COMPUTED,
    PATENCY_ENDPOINTS,
    PATIENT,
    PTS,
    READ_AS_PRINTED,
    READ_AS_SWAPPED,
    REFLUX,
    RELIABLE,
    RISK_FACTORS,
    SAFETY_EVENTS,
    SEVERITY_SCORE,
    SHORT_TEST_LABELS,
    SMALL_GROUPS,
    SYMMETRY,
    TABLE1_BILATERAL_N,
    TABLE1_UNIT_COLUMN,
    TABLE1_UNITS,
    TABLE3_NOT_PUBLISHED,
    TREND_TESTS,
    ULCERS_HEALED,
    UNRELIABLE,
    UNSTABLE,
    VILLALTA,
    WILCOXON_METHODS,
    few_at_risk,
)
from analytics.partitions import Key
from analytics.present import format as fmt
from analytics.present.masking import Cell, Mask, exact
from analytics.present.privacy import (
    SUPPRESSED,
    ModelMask,
    hidden_change,
    hidden_mcnemar,
    hidden_means,
    hidden_shift_tests,
)
from analytics.rules import DEFAULT_MONTHS, SE_UNRELIABLE, SMALL_SAMPLE, ULCER_HEALING_MONTHS
from analytics.stats.baseline import OTHER_PATTERN, Baseline, Spread
from analytics.stats.clinical import BinaryChange, ClinicalChange, ScoreChange, TableTest
from analytics.stats.engine.kaplan_meier import Curve
from analytics.stats.engine.logrank import LOGRANK
from analytics.stats.engine.robust_score import ROBUST_SCORE
from analytics.stats.funnel import NOT_ESTIMABLE, CentreComparison
from analytics.stats.models import AdjustedModel
from analytics.stats.safety import Safety
from analytics.stats.survival import GroupSurvival
from analytics.variables import Kind, Level, Registry, Role, Variable, table1_labels
from analytics.views import (
    COMPETING,
    CURVE_COUNTS,
    PEOPLE,
    WHEN,
    N,
    PaperView,
    PatencyView,
    SubgroupsView,
    TablesView,
    binary_key,
    ceap_class_key,
    centre_key,
    curve_key,
    curve_months,
    incidence_key,
    pairs_key,
    patency_ledger,
    people_key,
    population_key,
    safety_key,
    subgroups_ledger,
    table1_key,
    table1_total,
)

WILCOXON, MCNEMAR = "Wilcoxon signed-rank", "McNemar (exact)"


DECIMALS = "decimals"  # frame.attrs key: decimals of each number column, for the screen


def with_decimals(frame: pd.DataFrame, decimals: dict[str, int]) -> pd.DataFrame:
    """Say how many decimals each number column shows (a screen drops trailing zeros)."""
    frame.attrs[DECIMALS] = decimals
    return frame


def cells_text(frame: pd.DataFrame) -> pd.DataFrame:
    """A table's cells as the screen shows them, for text (the deck): each number column
    with its decimals (with_decimals), counts with separators; text cells as they are."""
    decimals = frame.attrs.get(DECIMALS, {})
    text = frame.copy()
    for column in frame.columns:
        if column in decimals and pd.api.types.is_numeric_dtype(frame[column]):
            text[column] = [fmt.number(v, decimals[column]) for v in frame[column]]
        elif pd.api.types.is_integer_dtype(frame[column]):
            text[column] = [fmt.count(v) for v in frame[column]]
    return text.astype(str)


def count_cells(mask: Mask, keys: Iterable[Key]) -> list[int] | list[str]:
    """A column of a masked view's counts: numbers with privacy off (a spreadsheet's), else
    text with the small ones "<k" and the withheld ones hidden."""
    cells = [mask.cell(key) for key in keys]
    return [c.value for c in cells] if mask.k is None else [fmt.cell(c) for c in cells]


def table1(baseline: Baseline, mask: Mask) -> pd.DataFrame:
    """Demographic and clinical characteristics (the paper's Table 1): the patients, then
    each Table 1 row its registry declares, in the declared order, labelled and summarised
    as declared (Table1Row); a variable with nothing recorded in the view has no row, nor
    a level no limb or patient is at.

    In a file with a patient of two limbs the first row reads "34 limbs in 31 patients"
    and a column says what each row counts: a person-level row its patients (each once,
    Baseline), a limb-level row its limbs; each row's percentage is of its own unit.

    ``mask`` is the view's (views.baseline_ledger): a share shows as it decides, with its
    percentage withheld with it or with its total; in privacy mode no range is shown (its
    ends are two units' values), and a mean and SD is withheld with its known values or
    its total.
    """
    variables = baseline.variables.with_role(Role.TABLE1)
    if not baseline.bilateral:
        rows = [("Patients", fmt.cell(mask.cell(N)))]
        for variable in variables:
            rows += _table1_rows(variable, baseline, mask)
        return pd.DataFrame(rows, columns=["Characteristic", "Value"])
    units = dict(zip((False, True), TABLE1_UNITS, strict=True))
    rows = [(TABLE1_BILATERAL_N, fmt.limbs_of(mask.cell(N), mask.cell(PEOPLE)), "")]
    for variable in variables:
        unit = units[baseline.counts_people(variable)]
        rows += [(*row, unit) for row in _table1_rows(variable, baseline, mask)]
    return pd.DataFrame(rows, columns=["Characteristic", "Value", TABLE1_UNIT_COLUMN])


def _table1_rows(variable: Variable, baseline: Baseline, mask: Mask) -> list[tuple[str, str]]:
    """A variable's Table 1 rows: a segment set's one per published pattern (and 'other'
    where a lesion matches none), a share's count and percent, a level's count and percent
    per level at which some are, a number's summary (" (range)" added to the label where
    the range shows); none where nothing is recorded (Baseline.shows)."""
    if not baseline.shows(variable):
        return []
    row, n, total = variable.table1, baseline.total(variable), table1_total(baseline, variable)

    def share(key: Key, count: int) -> str:
        return fmt.cell_share(mask.cell(key), count / n if n else None, mask.hidden(key, total))

    if variable.kind is Kind.SEGMENT_SET:
        counts = baseline.pattern_rows[variable.key]
        return [
            (f"{row.row}: {pattern}", share(table1_key(variable.key, "row", pattern), count))
            for pattern, count in counts.items()
            if pattern != OTHER_PATTERN or count
        ]
    if row.summary == "levels":
        found = baseline.levels[variable.key]
        return [
            (label, share(table1_key(variable.key, "level", raw), found[raw]))
            for (raw, _), label in zip(variable.levels, table1_labels(variable), strict=True)
            if found[raw]
        ]
    if row.summary == "share":
        return [(row.row, share(table1_key(variable.key), baseline.shares[variable.key]))]
    values = baseline.spreads[variable.key]
    few = mask.hidden(total, table1_key(variable.key, "values"))
    ranged = mask.k is None and row.summary != "mean_sd"
    label = row.row + (" (range)" if ranged else "")
    if row.summary == "mean_range":
        return [(label, _mean_range(values, few, ranged))]
    shown = fmt.mean_sd(values.mean, values.sd, row.digits, few)
    if ranged and shown != fmt.MISSING:
        shown += f" ({fmt.number_range(values.minimum, values.maximum)})"
    return [(label, shown)]


def _mean_range(values: Spread, hidden: bool, ranged: bool) -> str:
    """A mean with its range (follow-up); the mean alone without the range (privacy mode),
    SUPPRESSED when ``hidden`` (over few values, or a hidden n)."""
    if not values.n:
        return fmt.MISSING
    if hidden:
        return fmt.SUPPRESSED
    if not ranged:
        return fmt.number(values.mean)
    return fmt.mean_and_range(values.mean, values.minimum, values.maximum)


def table2(view: TablesView, mask: Mask, months: Sequence[int] = DEFAULT_MONTHS) -> pd.DataFrame:
    """Intervention, patency, clinical and safety outcomes (the paper's Table 2).

    The safety rows are shares of the patients (Safety.patients); in a file with a
    patient of two limbs a column says what each row counts, as Table 1's does (the
    limb outcomes their limbs, the safety events their patients).

    ``mask`` is the Tables page's: the population, the curves (views.patency_ledger), the
    clinical outcomes and the safety events, decided as one view, so a count shows here
    as on every other surface of the filter (an at risk the Overview hides is hidden)."""
    change = view.clinical
    successes, enrolled, stented, healed, active = (
        mask.cell(population_key(c))
        for c in ("successes", "enrolled", "stented", "ulcers healed", "active ulcers")
    )
    rows = [
        ("Technical success", fmt.cell_of(successes, enrolled)),
        ("Stent implanted (technical successes)", fmt.cell(stented)),
    ]
    for endpoint in PATENCY_ENDPOINTS:
        estimates = view.patency.survival[endpoint].overall.estimates
        for i, month in enumerate(estimates.month):
            if month not in months:
                continue
            key = partial(curve_key, endpoint, ALL_PATIENTS, month=month)
            column = [key(count) for count in CURVE_COUNTS]
            overall = view.patency.survival[endpoint].overall
            curve = partial(curve_key, endpoint, ALL_PATIENTS)
            hidden = not estimate_shown(mask, curve, overall)[float(month)]
            value = fmt.estimate_ci(
                estimates.estimate[i], estimates.ci_lower[i], estimates.ci_upper[i]
            )
            if value != fmt.MISSING and hidden:
                value = f"{fmt.SUPPRESSED}; at risk {fmt.cell(mask.cell(column[0]))}"
            elif value != fmt.MISSING:
                value += f"; at risk {fmt.cell(mask.cell(column[0]))}"
                if estimates.se[i] > SE_UNRELIABLE:
                    value += f"; {UNRELIABLE}"
            rows.append((f"{ENDPOINTS[endpoint]} at {fmt.months(month)} months", value))
    clinical = mask  # the clinical rows' counts, as Table 3 beside them shows them
    rows += [
        (f"{REFLUX} at last visit", binary_metrics(change.reflux, "reflux", clinical).after),
        ("PTS at last visit", binary_metrics(change.pts, "pts", clinical).after),
        (
            "Villalta at last visit, mean ± SD",
            fmt.mean_sd(
                change.villalta.mean_after,
                change.villalta.sd_after,
                2,
                hidden_means("villalta", "after", clinical),
            ),
        ),
        (ULCERS_HEALED.format(months=ULCER_HEALING_MONTHS), fmt.cell_of_total(healed, active)),
    ]  # fmt: skip
    limb_rows = len(rows)
    patients, people = view.safety.table.set_index("event")["patients"], view.safety.patients
    rows += [
        (
            f"{SAFETY_EVENTS[e]}, {CRUDE_PERCENT.lower()}",
            fmt.cell_share(
                mask.cell(safety_key(e, "patients")),
                int(patients[e]) / people if people else None,
                mask.hidden(safety_key(e, "patients"), people_key(view.safety.bilateral)),
            ),
        )
        for e in SAFETY_EVENTS
    ]  # the share of all patients over unequal follow-up: said to be crude; fmt: skip
    table = pd.DataFrame(rows, columns=["Outcome", "Value"])
    if view.safety.bilateral:
        limbs, persons = TABLE1_UNITS
        table[TABLE1_UNIT_COLUMN] = [limbs] * limb_rows + [persons] * (len(rows) - limb_rows)
    return table


def table3(change: ClinicalChange, mask: Mask, reconstruction: bool = False) -> pd.DataFrame:
    """Clinical outcomes before the procedure and at the last visit (the paper's Table 3),
    as the clinical view's ``mask`` (views.clinical_ledger) shows its counts.

    ``reconstruction``: the demo cohort, whose per-limb changes are invented around the
    paper's margins; the results the paper does not publish and that rest on them (the
    median changes, the Stuart-Maxwell and Bowker tests) say so (NOT_PUBLISHED_COMPUTED).
    """
    pairs = mask.cell(pairs_key("ceap"))
    rows = [
        _score_row(f"{SEVERITY_SCORE}, mean ± SD", change.severity_score, "ceap", mask,
                   reconstruction)
    ]  # fmt: skip
    rows += [
        (
            CEAP_CLASSES[c],
            *(fmt.cell_percent(mask.cell(ceap_class_key(when, c)), pairs) for when in WHEN),
            "", "", "",
        )
        for c in ceap_classes_shown(mask)
    ]  # fmt: skip
    rows += _ceap_test_rows(change, mask, reconstruction)
    rows += [
        _binary_row(REFLUX, change.reflux, "reflux", mask),
        _binary_row(PTS, change.pts, "pts", mask),
        _score_row(f"{VILLALTA}, mean ± SD", change.villalta, "villalta", mask, reconstruction),
    ]
    return pd.DataFrame(
        rows, columns=["Measure", "Before", "After", MEDIAN_CHANGE, "P value", "Test"]
    )


def table3_notes(change: ClinicalChange, reconstruction: bool = False) -> list[str]:
    """The lines under Table 3 (page and slide): on the demo (``reconstruction``), which
    results the paper does not publish and that its CEAP regression is the paper's; where
    a patient has both limbs in the filter, that the paired tests count limbs and treat
    them as independent (ClinicalChange.notes)."""
    demo = [TABLE3_NOT_PUBLISHED, CEAP_REGRESSION] if reconstruction else []
    return [*demo, *change.notes]


def _not_published(cell: str, reconstruction: bool) -> str:
    """A Table 3 cell the paper does not publish, labelled so on the demo; one that shows
    no value (MISSING, SUPPRESSED) is left as it is."""
    shows_value = cell not in (fmt.MISSING, SUPPRESSED)
    return f"{cell}; {NOT_PUBLISHED_COMPUTED}" if reconstruction and shows_value else cell


def _ceap_tests(change: ClinicalChange) -> tuple[tuple[str, TableTest, str], ...]:
    """Each CEAP shift test with its label and the glossary term defining it."""
    return (
        (MARGINAL_HOMOGENEITY, change.ceap_homogeneity, "Stuart-Maxwell test"),
        (SYMMETRY, change.ceap_symmetry, "Bowker test"),
    )


def _ceap_test_rows(
    change: ClinicalChange, mask: Mask, reconstruction: bool
) -> list[tuple[str, ...]]:
    """Table 3's rows of the CEAP shift tests: p and statistic (or why it is not
    computable), hidden with the shift matrix (hidden_shift_tests), with a caution for few,
    and labelled not published on the demo."""
    few = hidden_shift_tests(change.ceap_shift, mask)
    caution = _caution(mask.cell(pairs_key("ceap")))
    return [
        (label, "", "", "", SUPPRESSED if few else fmt.p_value(test.p),
         _not_published(fmt.chi_square(test, few) + caution, reconstruction))
        for label, test, _ in _ceap_tests(change)
    ]  # fmt: skip


def ceap_test_metrics(change: ClinicalChange, mask: Mask) -> list[tuple[str, str, str, str]]:
    """The CEAP shift tests as metrics: short label, p in a sentence (or NOT_COMPUTABLE), the
    statistic (or why), glossary term; hidden with the shift matrix (hidden_shift_tests)."""
    few = hidden_shift_tests(change.ceap_shift, mask)
    metrics = []
    for label, test, term in _ceap_tests(change):
        if few:
            value, detail = SUPPRESSED, SUPPRESSED
        elif test.reason:
            value, detail = NOT_COMPUTABLE, test.reason
        else:
            value, detail = fmt.p_statement(test.p), fmt.chi_square(test)
        metrics.append((SHORT_TEST_LABELS[label], value, detail, term))
    return metrics


def wilcoxon_name(score: ScoreChange, pairs: Cell) -> str:
    """The signed-rank test and how it was computed, with a caution for few ``pairs``."""
    return _wilcoxon(score) + _caution(pairs)


def _wilcoxon(score: ScoreChange) -> str:
    """Which signed-rank test gave the p (exact below 50 non-zero pairs, else normal), and
    the median change's interval where R's rule chose the other method."""
    if score.test is None:
        return WILCOXON
    method = WILCOXON_METHODS[score.test.method]
    change = score.median_change
    if change is not None and change.method != score.test.method:
        method += f"; median change {MEDIAN_CHANGE_METHODS[change.method]}"
    return f"{WILCOXON} ({method})"


def score_change_line(label: str, score: ScoreChange, measure: str, mask: Mask) -> str:
    """A score's median change and its test in a sentence, for a caption or the notes:
    "Villalta score: median change -6.50 (95% CI -7.50 to -5.50); Wilcoxon signed-rank
    (normal approximation, tie-corrected) p < 0.001" (``measure``: its clinical keys)."""
    hidden = hidden_change(measure, mask)
    return (
        f"{label}: median change {fmt.median_change(score.median_change, hidden)}"
        f"; {_wilcoxon(score)} {fmt.test_p(score.p, score.n, hidden)}"
    )


def _caution(pairs: Cell) -> str:
    """The caution on a test of few pairs, none when privacy hides how many (it would
    say that they are fewer than SMALL_SAMPLE)."""
    return f"; {FEW_PAIRS}" if not pairs.hidden and 0 < pairs.value < SMALL_SAMPLE else ""


def _score_row(
    label: str, score: ScoreChange, measure: str, mask: Mask, reconstruction: bool
) -> tuple[str, ...]:
    hidden = hidden_change(measure, mask)
    return (
        label,
        *(
            fmt.mean_sd(getattr(score, f"mean_{when}"), getattr(score, f"sd_{when}"), 2,
                        hidden_means(measure, when, mask))
            for when in WHEN
        ),
        _not_published(fmt.median_change(score.median_change, hidden), reconstruction),
        fmt.SUPPRESSED if hidden else fmt.p_value(score.p),
        wilcoxon_name(score, mask.cell(pairs_key(measure))),
    )  # fmt: skip


def _binary_row(label: str, change: BinaryChange, measure: str, mask: Mask) -> tuple[str, ...]:
    pairs = mask.cell(pairs_key(measure))
    return (
        label,
        *(fmt.cell_percent(mask.cell(binary_key(measure, when)), pairs) for when in WHEN),
        "",
        fmt.SUPPRESSED if hidden_mcnemar(measure, mask) else fmt.p_value(change.p),
        MCNEMAR + _caution(pairs),
    )


@dataclass(frozen=True)
class BinaryMetrics:
    """A paired yes/no outcome as metrics: before and after with their share of the pairs,
    the exact McNemar p in a sentence, the discordant pairs ("4 resolved, 1 new")."""

    before: str
    after: str
    p: str
    discordant: str


def binary_metrics(change: BinaryChange, measure: str, mask: Mask) -> BinaryMetrics:
    """``change`` as the clinical view's ``mask`` shows it (``measure``: "pts", "reflux")."""
    pairs = mask.cell(pairs_key(measure))
    before, after = (fmt.cell_percent(mask.cell(binary_key(measure, w)), pairs) for w in WHEN)
    resolved, new = (fmt.cell(mask.cell(binary_key(measure, c))) for c in ("resolved", "new"))
    p = f"p {SUPPRESSED}" if hidden_mcnemar(measure, mask) else fmt.p_statement(change.p)
    return BinaryMetrics(before, after, p, f"{resolved} resolved, {new} new")


def curve_label(view: PatencyView, curve: GroupSurvival, endpoint: str) -> str:
    """A curve's name in legends and tables: its endpoint, or its group in words."""
    return fmt.group(view.by, curve.level, view.variables) if view.by else ENDPOINTS[endpoint]


def curves(view: PatencyView) -> list[tuple[str, GroupSurvival]]:
    """The view's curves with their names, in display order."""
    if view.compared is not None:
        return [(curve_label(view, g, view.endpoint), g) for g in view.compared.groups]
    return [(ENDPOINTS[e], s.overall) for e, s in view.survival.items()]


def _withheld_groups(view: PatencyView, mask: Mask) -> set[str]:
    """The compared groups whose summaries privacy withholds (summary_withheld): a
    comparison with one of them is withheld too (comparison_withheld)."""
    return {
        g.level
        for g in view.compared.groups
        if comparison_withheld(mask, [view.keys(view.endpoint, g)])
    }


def comparison_test(view: PatencyView) -> str:
    """The name of the test the view's comparison used (LogRank.test: a key of
    glossary.COMPARISON_TESTS): the log-rank test, or, where limbs are clustered by
    patient (the compared curves carry their limbs), the robust score test, its pairs and
    its trend test too."""
    result = view.compared
    if result.comparison.logrank is not None:
        return result.comparison.logrank.test
    return ROBUST_SCORE if result.overall.limbs is not None else LOGRANK


def counts_limbs(view: PatencyView) -> bool:
    """Whether the view's curves count limbs clustered by patient (GroupSurvival.limbs):
    a limb endpoint in a file where a patient may have two treated limbs; a patient's
    endpoint (recurrent DVT) counts patients whatever the file."""
    return all(curve.limbs is not None for _, curve in curves(view))


def first_limb_group(
    endpoint: str, by: str | None, variables: Registry, bilateral_file: bool
) -> str | None:
    """FIRST_LIMB_GROUP where ``endpoint`` is a patient's (recurrent DVT) split by a limb's
    variable in a file where a patient may have two treated limbs: such a patient counts
    once, in the group of the first of their limbs in the filter (survival.endpoint_counts);
    None elsewhere (a patient's variable puts both limbs in one group)."""
    if not bilateral_file or by is None or endpoint in PATENCY_ENDPOINTS:
        return None
    return FIRST_LIMB_GROUP if variables.grouped(by).level is Level.LIMB else None


def count_column(curves: Sequence[GroupSurvival]) -> str:
    """The header of a count column over ``curves``: "Limbs" where each curve counts limbs
    clustered by patient (GroupSurvival.limbs: a file where a patient may have two treated
    limbs), "Patients" where each counts patients (one limb per patient, or a patient's
    endpoint), both words where they mix."""
    units = {PATIENT if curve.limbs is None else LIMB for curve in curves}
    if units == {LIMB}:
        return COUNT_COLUMNS[LIMB]
    if LIMB not in units:
        return COUNT_COLUMNS[PATIENT]
    return f"{COUNT_COLUMNS[LIMB]} or {COUNT_COLUMNS[PATIENT].lower()}"


def comparison_lines(view: PatencyView, mask: Mask | None = None) -> list[str]:
    """The view's comparison as lines: the test across the groups (comparison_test: the
    log-rank test, or the robust score test), then each group's Cox HR.

    A caution follows a test of groups of fewer than SMALL_SAMPLE patients; in privacy
    mode the test of groups one of which has its summaries withheld, and the HR of such a
    group (or against one), are hidden (comparison_withheld).
    """
    mask = mask or exact(patency_ledger(view))
    comparison = view.compared.comparison if view.compared else None
    if comparison is None or comparison.logrank is None:
        return ["fewer than two groups in this cohort: nothing to compare"]
    smallest = min(group.patients for group in view.compared.groups)
    caution = f" ({SMALL_GROUPS})" if smallest < SMALL_SAMPLE else ""
    withheld = _withheld_groups(view, mask)
    test = f"p {SUPPRESSED}" if withheld else fmt.p_statement(comparison.logrank.p)
    return [
        f"{COMPARISON_TESTS[comparison_test(view)]} {test}{caution}",
        *(
            fmt.hazard_ratio_line(
                ratio,
                view.by,
                ratio.level in withheld or ratio.reference in withheld,
                view.variables,
            )
            for ratio in comparison.hazard_ratios
        ),
    ]


def comparison_table(view: PatencyView, mask: Mask | None = None) -> pd.DataFrame:
    """Each group of a comparison: patients, events, Cox HR against the first, Wald p; in
    privacy mode the counts as the view's mask shows them and the HR of a group whose
    summaries are withheld (or against one) hidden (comparison_withheld)."""
    mask = mask or exact(patency_ledger(view))
    result = view.compared
    ratios = {ratio.level: ratio for ratio in result.comparison.hazard_ratios}
    picked = [ratios.get(group.level) for group in result.groups]
    withheld = _withheld_groups(view, mask)
    hidden = [
        ratio is not None and (ratio.level in withheld or ratio.reference in withheld)
        for ratio in picked
    ]
    key = partial(curve_key, view.endpoint, since=view.since, by=view.by)
    return pd.DataFrame(
        {
            "Group": [fmt.group(view.by, group.level, view.variables) for group in result.groups],
            count_column(result.groups): count_cells(
                mask, [key(g.level, "patients") for g in result.groups]
            ),
            "Events": count_cells(mask, [key(g.level, "events") for g in result.groups]),
            "Cox HR (95% CI)": [
                "reference" if ratio is None else fmt.SUPPRESSED if h else fmt.hazard_ratio(ratio)
                for ratio, h in zip(picked, hidden, strict=True)
            ],
            "Wald p": [
                "" if ratio is None else fmt.SUPPRESSED if h else fmt.p_value(ratio.p)
                for ratio, h in zip(picked, hidden, strict=True)
            ],
        }
    )


@dataclass(frozen=True)
class Unreliable:
    """Where a curve turns unreliable: from ``time`` (months), by ``rule`` (its words:
    UNRELIABLE, or glossary.few_at_risk)."""

    time: float
    rule: str


def unreliable_row(
    se: np.ndarray, remaining: np.ndarray, min_at_risk: int | None = None
) -> tuple[int, str] | None:
    """The row of a step curve from which it is unreliable, and the rule's words.

    Rows are a curve's steps from a first row at month 0 (SE 0, every patient remaining).
    By the SE rule, from the step of the first row whose SE exceeds 10%: that step is
    already unreliable. With ``min_at_risk``, after the step of the first row that leaves
    fewer patients remaining at risk (the step itself stood on enough). The earlier wins;
    None when neither applies before the last row.
    """
    flagged = np.flatnonzero(se > SE_UNRELIABLE)
    if min_at_risk is None:
        return (int(flagged[0]), UNRELIABLE) if flagged.size else None
    few = np.flatnonzero(remaining[:-1] < min_at_risk)
    if flagged.size and (not few.size or flagged[0] <= few[0]):
        return int(flagged[0]), UNRELIABLE
    return (int(few[0]), few_at_risk(min_at_risk)) if few.size else None


def unreliable_start(curve: Curve, min_at_risk: int | None = None) -> Unreliable | None:
    """Where a curve is drawn dotted (or cut) from, and by which rule (unreliable_row).

    With ``min_at_risk``, the time after which fewer patients are at risk than that (the
    KMunicate table would show fewer at any later month), month 0 for a curve of fewer.
    """
    time = np.concatenate([[0.0], curve.time])
    se = np.concatenate([[0.0], curve.se])
    remaining = np.concatenate([[curve.patients], curve.at_risk - curve.events - curve.censored])
    found = unreliable_row(se, remaining, min_at_risk)
    return None if found is None else Unreliable(float(time[found[0]]), found[1])


def unreliable_note(view: PatencyView, min_at_risk: int | None = None) -> str:
    """Where each curve turns unreliable and by which rule (unreliable_start): the last
    month shown reliably is before it."""
    starts = [(label, unreliable_start(c.curve, min_at_risk)) for label, c in curves(view)]
    return unreliable_words(starts, min_at_risk)


def unreliable_words(starts: Sequence[tuple[str, Unreliable | None]],
                     min_at_risk: int | None = None) -> str:  # fmt: skip
    """Each named curve's start of its unreliable stretch (None: it has none), grouped by
    rule, in a sentence a rule."""
    rules = [UNRELIABLE] + ([few_at_risk(min_at_risk)] if min_at_risk is not None else [])
    by_rule = {
        rule: [f"{label} from {fmt.months(s.time)} months" for label, s in starts
               if s is not None and s.rule == rule]
        for rule in rules
    }  # fmt: skip
    if not any(by_rule.values()):
        return f"No curve reaches {' or has '.join(rules)}."
    return " ".join(
        f"{rule[0].upper()}{rule[1:]}: " + "; ".join(times) + "."
        for rule, times in by_rule.items()
        if times
    )


def estimates_table(view: PatencyView, mask: Mask | None = None) -> pd.DataFrame:
    """Estimates at the view's months for every curve, for a table and its CSV export.

    The counts as the view's mask shows them; an estimate only where estimate_shown
    lets it show.
    """
    mask = mask or exact(patency_ledger(view))
    columns: dict[str, list] = {name: [] for name in ESTIMATE_HEADERS}
    for (label, curve), endpoint in curves_of_endpoints(view):
        e = curve.estimates
        key = view.keys(endpoint, curve)
        cells = [[key(count, m) for m in e.month] for count in CURVE_COUNTS]
        shown = estimate_shown(mask, key, curve)
        hidden = [not shown[float(m)] for m in e.month]
        columns["Curve"] += [label] * len(e.month)
        columns["Month"] += [fmt.months(m) for m in e.month]
        columns["Estimate (%)"] += fmt.percent_cells(e.estimate, hidden, mask.k is not None)
        columns["95% CI (%)"] += [
            fmt.ci(lo, hi, h) for lo, hi, h in zip(e.ci_lower, e.ci_upper, hidden, strict=True)
        ]
        columns["SE (%)"] += fmt.percent_cells(e.se, hidden, mask.k is not None)
        columns["At risk"] += count_cells(mask, cells[0])
        columns["Events"] += count_cells(mask, cells[1])
        columns["Censored"] += count_cells(mask, cells[2])
        columns[RELIABLE] += [
            fmt.MISSING if pd.isna(estimate) or h else ("no" if se > SE_UNRELIABLE else "yes")
            for estimate, se, h in zip(e.estimate, e.se, hidden, strict=True)
        ]
    return with_decimals(pd.DataFrame(columns), {"Estimate (%)": 1, "SE (%)": 1})


def estimate_shown(mask: Mask, key: Callable[..., Key], curve: GroupSurvival) -> dict[float, bool]:
    """Whether the curve's estimate (with its CI and SE) may show at each of its table
    months (views.curve_months), in the table and on the drawn curve alike.

    Not for a curve of fewer than k patients (its steps are single patients), nor where
    the month's events (before it) are not shown exactly: the estimate is a statistic of
    them, near enough their number (with no one censored it is 1 - E / N; each censoring
    before the events lowers it only a little), so it shows with them or not at all. Two
    estimates' ratio gives the events between their months, a count the ledger declares
    between any two months (views.GROWING): when it is small, one of the two months'
    events is withheld, so one of the estimates is.

    Its at risk and censored need not show: the estimate says of them only what
    views.estimate_bounds declares beside the view's sums (read while the events show),
    which masking weighs with them. Where the at risk and events show, the censored are
    their difference from the curve's patients, so the estimate gives nothing more;
    where a small censored count is hidden with its at risk, the estimate bounds it from
    below (those censored before the month's events make it lower), and masking withholds
    the events too where that, with the rest of the view, pins a count below k. So a
    month with one patient censored before it keeps its estimate. ``key(count, month)``
    names the curve's counts (PatencyView.keys).
    """
    few = mask.few(key("patients"))
    return {month: not (few or mask.hidden(key("events", month))) for month in curve_months(curve)}


def incidence_shown(mask: Mask, key: Callable[..., Key], curve: GroupSurvival) -> dict[float, bool]:
    """Whether the curve's cumulative incidence with death competing may show at each of
    its estimate months, in the table, the report and the drawn curve alike: where its
    Kaplan-Meier estimate may (estimate_shown), its summaries are not withheld
    (summary_withheld), and its deaths before the month and those censored alive show
    exactly (views.COMPETING, declared by views.incidence_ledger; undeclared, none shows
    beside a death). Beside 1 - Kaplan-Meier it is a statistic of those deaths:
    the gap times the at risk over 1 - Kaplan-Meier is a floor under them (50 patients,
    10 censored alive and 4 dead before 5 events, then 31 at risk: 3.1, so 4 deaths where
    the safety table says "<5")."""
    shown = estimate_shown(mask, key, curve)
    withheld = summary_withheld(mask, key)
    incidence = curve.incidence

    def deaths_shown(month: float) -> bool:
        if key("competing", month) not in mask.counts:  # undeclared (views.incidence_ledger)
            return mask.k is None or not incidence.competing[incidence.time < month].any()
        return not mask.hidden(*(key(count, month) for count in COMPETING))

    return {
        float(m): shown[float(m)] and not withheld and deaths_shown(float(m))
        for m in curve.incidence_at.month
    }


def curves_of_endpoints(view: PatencyView) -> list[tuple[tuple[str, GroupSurvival], str]]:
    """The view's curves (curves) with the endpoint each belongs to."""
    listed = curves(view)
    if view.by is None:
        return list(zip(listed, view.survival, strict=True))
    return [(curve, view.endpoint) for curve in listed]


def summary_withheld(mask: Mask, key: Callable[..., Key]) -> bool:
    """Whether a curve's median, restricted mean and cumulative incidence are withheld:
    for fewer than k patients (its steps are single patients), or beside its events not
    shown exactly (statistics of those events: 12 patients with "<5" events, a median CI
    from 3.5 months and a restricted mean of 28.2 bound them), or beside any count of its
    KMunicate table not shown exactly: a median and its CI are event times, and with the
    counts around them say how many fell before (16 patients, none censored, a CI from
    4.5 months was the 4th event, where the table said "<5" before month 12).
    ``key``: the curve's (PatencyView.keys)."""
    return _events_withheld(mask, key) or _table_withheld(mask, key)


def _events_withheld(mask: Mask, key: Callable[..., Key]) -> bool:
    """A curve of fewer than k patients, or whose events are not shown exactly."""
    return mask.few(key("patients")) or mask.hidden(key("events"))


def _table_withheld(mask: Mask, key: Callable[..., Key]) -> bool:
    """Whether a count of the curve's KMunicate table (at any month) is not shown exactly."""
    columns = {key(count) for count in CURVE_COUNTS}  # each count's name, less its month
    return any(hidden[:-1] in columns for hidden in mask.small | mask.withheld)


def comparison_withheld(mask: Mask, keys: Iterable[Callable[..., Key]]) -> bool:
    """Whether a comparison of curves (a log-rank test, a Cox hazard ratio with its CI and
    p, a test for trend) is withheld: when any curve it compares has fewer than k patients
    or its events are not shown exactly. It is a statistic of each curve's events: a Cox
    model's information is at most either group's events (each event adds p(1 - p) <= p,
    and the p add up to the group's events at the fit), so 1 / SE^2 from its CI is a
    floor under both (10 and 60 patients, "<6" events, 0.95 (0.37-2.40) says 5). No
    attacker has yet inverted one to a count hidden between two months, which alone does
    not withhold it. ``keys``: each curve's (PatencyView.keys, views.curve_key)."""
    return any(_events_withheld(mask, key) for key in keys)


def time_summary_table(view: PatencyView, mask: Mask | None = None) -> pd.DataFrame:
    """Each curve's median time (95% CI) and restricted mean to the view's horizon (SE);
    compared, each group's restricted mean minus the reference group's (95% CI).

    Patients and events as the view's mask shows them; a curve of fewer than k patients,
    or whose events are not shown exactly, (or a difference with one) shows no summary
    (summary_withheld).
    """
    mask = mask or exact(patency_ledger(view))
    listed = curves_of_endpoints(view)
    keys = [view.keys(e, c) for (_, c), e in listed]
    few = [summary_withheld(mask, key) for key in keys]
    horizon = fmt.months(view.horizon)
    columns = {
        "Curve": [label for (label, _), _ in listed],
        count_column([c for (_, c), _ in listed]): [
            fmt.cell(mask.cell(key("patients"))) for key in keys
        ],
        "Events": [fmt.cell(mask.cell(key("events"))) for key in keys],
        "Median, months (95% CI)": [
            fmt.SUPPRESSED if hidden else
            fmt.months_ci(c.median.estimate, c.median.ci_lower, c.median.ci_upper)
            for ((_, c), _), hidden in zip(listed, few, strict=True)
        ],
        f"Restricted mean to {horizon} months (SE)": [
            fmt.SUPPRESSED if hidden else fmt.mean_se(c.rmst.estimate, c.rmst.se)
            for ((_, c), _), hidden in zip(listed, few, strict=True)
        ],
    }  # fmt: skip
    if view.compared is not None and listed:
        comparison = view.compared.comparison
        differences = {d.level: d for d in comparison.rmst_differences}
        base = next(i for i, ((_, c), _) in enumerate(listed) if c.level == comparison.reference)
        columns[difference_header(view)] = [
            "reference" if i == base
            else fmt.SUPPRESSED if few[i] or few[base]
            else fmt.difference_ci(d.difference, d.ci_lower, d.ci_upper)
            for i, d in enumerate(differences.get(c.level) for (_, c), _ in listed)
        ]  # fmt: skip
    return pd.DataFrame(columns)


def against(view: PatencyView) -> str:
    """What the comparison's ratios and differences are against: "the first group", or
    the reference group chosen in words."""
    comparison = view.compared.comparison
    if comparison.reference in (None, *comparison.levels[:1]):
        return "the first group"
    return fmt.group(view.by, comparison.reference, view.variables)


def difference_header(view: PatencyView) -> str:
    """The restricted-mean difference column's name."""
    return f"Difference from {against(view)} (95% CI)"


def rmst_notes(view: PatencyView) -> list[str]:
    """Why a curve shows no restricted mean: followed for less than the horizon."""
    return [
        fmt.rmst_beyond(label, curve.rmst.horizon, curve.curve.last_time)
        for label, curve in curves(view)
        if curve.rmst.beyond_follow_up and curve.patients
    ]


ESTIMATE_HEADERS = (
    "Curve", "Month", "Estimate (%)", "95% CI (%)", "SE (%)", "At risk", "Events", "Censored",
    RELIABLE,
)  # fmt: skip


def ceap_classes_shown(mask: Mask) -> list[int]:
    """The CEAP classes a clinical surface lists: those with limbs before or at the last
    visit, and those the clinical view's ``mask`` hides (leaving a hidden class out would
    say that it is empty)."""
    cells = {c: [mask.cell(ceap_class_key(when, c)) for when in WHEN] for c in CEAP_CLASSES}
    return [c for c, shown in cells.items() if any(cell.value or cell.hidden for cell in shown)]


def ceap_shift_table(shift: pd.DataFrame, mask: Mask) -> pd.DataFrame:
    """The shift matrix as a labelled table (rows before, columns last visit), used classes.

    In privacy mode the classes before and at the last visit instead, as the clinical
    view's ``mask`` shows them: in a table counted both ways, hidden cells can be worked
    out from the row and column totals.
    """
    if mask.k is not None:
        used = ceap_classes_shown(mask)
        return pd.DataFrame(
            {
                title: count_cells(mask, [ceap_class_key(when, c) for c in used])
                for title, when in (("Before", "before"), ("Last visit", "after"))
            },
            index=[f"C{c}" for c in used],
        )
    rows = [c for c in CEAP_CLASSES if shift.loc[c].sum() > 0]
    cols = [c for c in CEAP_CLASSES if shift[c].sum() > 0]
    table = shift.loc[rows, cols].copy()
    table["Total"] = table.sum(axis=1)
    return pd.DataFrame(
        {**{f"C{c} after": table[c].tolist() for c in cols}, "Total": table["Total"].tolist()},
        index=[f"C{c} before" for c in rows],
    )


def ceap_shift_title(mask: Mask) -> str:
    """What the shift table shows, in or out of privacy mode."""
    if mask.k is not None:
        return "**CEAP classes** (limbs; the shift between classes is not shown in privacy mode)"
    return "**Shift matrix** (limbs; rows before, columns at the last visit)"


def safety_display(safety: Safety, mask: Mask) -> pd.DataFrame:
    """The safety table with clinicians' column names and formatted figures.

    ``mask`` is the view's (views.safety_ledger): an event's percentage and interval are
    withheld with its patients or n (0 of a hidden n gives n by its interval), its rate
    with its events (the patient-years are shown)."""
    table = safety.table
    events = table["event"].tolist()

    def keys(count: str) -> list[Key]:
        return [safety_key(e, count) for e in events]

    hidden = [mask.hidden(key, people_key(safety.bilateral)) for key in keys("patients")]
    few_events = [mask.hidden(key) for key in keys("events")]
    return with_decimals(
        pd.DataFrame(
            {
                "Event": [SAFETY_EVENTS[e] for e in events],
                "Patients": count_cells(mask, keys("patients")),
                CRUDE_PERCENT: fmt.percent_cells(table["proportion"], hidden, mask.k is not None),
                "95% CI (%)": [
                    fmt.ci(lo, hi, h)
                    for lo, hi, h in zip(table["ci_lower"], table["ci_upper"], hidden, strict=True)
                ],
                "Events": count_cells(mask, keys("events")),
                "Within 30 days": count_cells(mask, keys("early")),
                "Later": count_cells(mask, keys("later")),
                "Per 100 patient-years": fmt.number_cells(
                    table["per_100_patient_years"], 1, few_events, mask.k is not None
                ),
            }
        ),
        {CRUDE_PERCENT: 1, "Per 100 patient-years": 1},
    )


def safety_incidence_display(safety: Safety, mask: Mask) -> pd.DataFrame:
    """The cumulative incidence with death competing of each of SAFETY_INCIDENCE_EVENTS:
    one column per month, each cell "14.7% (5.4-28.5)" (estimate, 95% CI), MISSING after
    the last follow-up; withheld where ``mask`` hides the patients with a first event by
    that month or n (views.safety_ledger: also when those without one are few)."""
    months = safety.incidence[0].at.month if safety.incidence else []
    return pd.DataFrame(
        {
            "Event": [SAFETY_EVENTS[result.event] for result in safety.incidence],
            **{
                f"{fmt.months(month)} months": [
                    fmt.incidence_ci(
                        result.at.estimate[i], result.at.ci_lower[i], result.at.ci_upper[i],
                        mask.hidden(
                            incidence_key(result.event, month, "by"), people_key(safety.bilateral)
                        ),
                    )
                    for result in safety.incidence
                ]
                for i, month in enumerate(months)
            },
        }
    )  # fmt: skip


@dataclass(frozen=True)
class SubgroupCells:
    """What privacy mode shows of each subgroup row (in the table's order): patients and
    events as text, whether its estimate and its hazard ratio are hidden, and whether its
    factor's log-rank test is."""

    patients: list[str]
    events: list[str]
    estimate_hidden: list[bool]
    ratio_hidden: list[bool]
    test_hidden: list[bool]


def subgroup_cells(view: SubgroupsView, mask: Mask | None = None) -> SubgroupCells:
    """Each level's patients and events as the view's mask shows them (a factor's levels
    add up to the endpoint's patients and events: subgroups_ledger); an estimate is hidden
    with its group's patients or events (a statistic of them: 2/7 needs 7 patients, so it
    would bound a hidden size); a hazard ratio with the summaries of its group or its
    reference, a factor's log-rank test with those of any of its groups
    (comparison_withheld) (``mask`` None: privacy off)."""
    table = view.table
    mask = mask or exact(subgroups_ledger(view))
    key = [partial(curve_key, view.endpoint, row.level, by=row.factor)
           for row in table.itertuples()]  # fmt: skip
    withheld = [comparison_withheld(mask, [k]) for k in key]
    factors = table["factor"].tolist()
    withheld_reference = {
        factor for factor, reference, w in zip(factors, table["is_reference"], withheld,
                                               strict=True) if reference and w
    }  # fmt: skip
    withheld_test = {factor for factor, w in zip(factors, withheld, strict=True) if w}
    return SubgroupCells(
        patients=[fmt.cell(mask.cell(k("patients"))) for k in key],
        events=[fmt.cell(mask.cell(k("events"))) for k in key],
        estimate_hidden=[mask.hidden(k("patients"), k("events")) for k in key],
        ratio_hidden=[
            w or factor in withheld_reference for w, factor in zip(withheld, factors, strict=True)
        ],
        test_hidden=[factor in withheld_test for factor in factors],
    )


def subgroup_test(view: SubgroupsView) -> str:
    """The test that compared the factors' groups (a key of glossary.COMPARISON_TESTS):
    the robust score test where the endpoint's limbs are clustered by patient, else the
    log-rank test; one for every factor of a view (tests_of)."""
    return tests_of(view.table)


def tests_of(table: pd.DataFrame) -> str:
    """The test a subgroup table's factors were compared by (subgroups.COLUMNS'
    ``comparison_test``), read from the factors a test could compare (a factor with
    fewer than two groups expecting events has none); the log-rank test if none could."""
    tests = [test for test in table["comparison_test"] if test]
    return tests[0] if tests else LOGRANK


def subgroup_unit(view: SubgroupsView) -> str:
    """What a subgroup's n counts (LIMB or PATIENT): limbs where they are clustered by
    patient (the robust score test compared the groups), else patients."""
    return LIMB if subgroup_test(view) == ROBUST_SCORE else PATIENT


def subgroup_display(view: SubgroupsView, mask: Mask | None = None) -> pd.DataFrame:
    """The subgroup table with clinicians' column names, for showing and CSV export (the
    counts as the view's ``mask`` shows them; None: privacy off); the count column says
    what it counts and the p column which test gave it (subgroup_unit, subgroup_test)."""
    table, groupings = view.table, view.variables.groupings()
    cells = subgroup_cells(view, mask)

    def ratio(row: pd.Series, hidden: bool) -> str:
        if row["is_reference"]:
            return "reference"
        if not row["estimable"]:
            return fmt.not_estimable(row["reason"])
        return (
            fmt.SUPPRESSED if hidden else fmt.ratio_ci(row["hr"], row["hr_lower"], row["hr_upper"])
        )

    privacy = mask is not None and mask.k is not None
    shown = {
        COUNT_COLUMNS[subgroup_unit(view)]: (
            cells.patients if privacy else table["patients"].tolist()
        ),
        "Events": cells.events if privacy else table["events"].tolist(),
        "Estimate (%)": fmt.percent_cells(
            table["estimate"], cells.estimate_hidden, privacy
        ),
        "95% CI (%)": [
            fmt.ci(lo, hi, h)
            for lo, hi, h in zip(table["ci_lower"], table["ci_upper"], cells.estimate_hidden,
                                 strict=True)
        ],
    }  # fmt: skip
    return with_decimals(
        pd.DataFrame(
            {
                "Factor": [groupings[f] for f in table["factor"]],
                "Group": [
                    fmt.level(f, v, view.variables)
                    for f, v in zip(table["factor"], table["level"], strict=True)
                ],
                **shown,
                "Hazard ratio (95% CI)": [
                    ratio(row, h)
                    for (_, row), h in zip(table.iterrows(), cells.ratio_hidden, strict=True)
                ],
                f"{COMPARISON_TESTS[subgroup_test(view)]} p": [
                    fmt.SUPPRESSED if h else fmt.p_value(p)
                    for p, h in zip(table["logrank_p"], cells.test_hidden, strict=True)
                ],
                f"Unstable ({UNSTABLE})": table["unstable"].map({True: "yes", False: ""}).tolist(),
            }
        ),
        {"Estimate (%)": 1},
    )


def centres_display(
    comparison: CentreComparison, table: pd.DataFrame, mask: Mask, unit: str = PATIENT
) -> pd.DataFrame:
    """A centre table with clinicians' column names, for showing and CSV export; its size
    column counts ``unit`` (LIMB where a patient may have two treated limbs).

    A centre's estimate, limits and z-score are withheld with its patients or events
    (each is a statistic of those counts: the limits at a size give the size away).
    """
    names = table["centre"].tolist()
    hidden = [mask.hidden(centre_key(c, "patients"), centre_key(c, "events")) for c in names]
    limits = {
        f"{level}% limits (%)": [
            fmt.ci(lo, hi, h)
            for lo, hi, h in zip(table[f"lower_{key}"], table[f"upper_{key}"], hidden, strict=True)
        ]
        for level, key in (("95", "95"), ("99.8", "998"))
    }
    return with_decimals(
        pd.DataFrame(
            {
                "Centre": [fmt.data_text(c) for c in names],
                COUNT_COLUMNS[unit]: count_cells(mask, [centre_key(c, "patients") for c in names]),
                "Events": count_cells(mask, [centre_key(c, "events") for c in names]),
                "Estimate (%)": fmt.percent_cells(table["estimate"], hidden, mask.k is not None),
                "95% CI (%)": [
                    fmt.ci(lo, hi, h)
                    for lo, hi, h in zip(table["ci_lower"], table["ci_upper"], hidden, strict=True)
                ],
                "At risk": count_cells(mask, [centre_key(c, "at risk") for c in names]),
                **limits,
                "z-score": fmt.number_cells(table["z"], 2, hidden, mask.k is not None),
                "Position": [
                    centre_position(comparison, position, last)
                    for position, last in zip(
                        table["position"], table["last_follow_up"], strict=True
                    )
                ],
            }
        ),
        {"Estimate (%)": 1, "z-score": 2},
    )


def centre_position(comparison: CentreComparison, position: str, last_follow_up: float) -> str:
    """Where a centre lies, and why a centre has no place on the funnel."""
    if position != NOT_ESTIMABLE:
        return position
    month = fmt.months(comparison.month)
    if pd.isna(comparison.pooled):
        return f"{position}: the cohort's follow-up ends before {month} months: no pooled estimate"
    return f"{position}: followed up to {fmt.months(last_follow_up)} months only, not to {month}"


def _paper_row(
    item: str, published_value: str, recomputed: str, read_as: str = READ_AS_PRINTED
) -> dict[str, str]:
    return {
        "Item": item,
        "Published": published_value,
        "Read as": read_as,
        "Reconstructed": recomputed,
        "Same": "yes" if published_value == recomputed else "no",
    }


def paper_table(view: PaperView) -> pd.DataFrame:
    """Every published number of the paper's Tables 1-3 next to the demo cohort's value.

    Columns: ``Item`` (the paper's row label as printed), ``Published`` (the number as
    printed), ``Read as`` (how the demo reads the row: as printed, or, for Table 2's
    patency rows, as the other endpoint by the swap rule, published.PATENCY_READ_AS),
    ``Reconstructed`` (the demo's value of the row so read) and ``Same``.
    Recomputed values come from the same views every page shows, so this table is also a
    live check that the demo reproduces the paper (the tests assert it too).
    """
    t1, s, tables = published.TABLE1, view.tables.baseline, view.tables
    rows = [
        _paper_row(
            "Enrolled / technical success",
            f"{published.ENROLLED} / {published.TECHNICAL_SUCCESS}",
            f"{view.everyone.limbs} / {s.limbs}",
        ),
        _paper_row(
            "Age, mean ± SD",
            f"{t1['age_mean']} ± {t1['age_sd']}",
            f"{fmt.number(s.age.mean)} ± {fmt.number(s.age.sd)}",
        ),
        _paper_row(
            "Age range",
            f"{t1['age_min']}-{t1['age_max']}",
            fmt.number_range(s.age.minimum, s.age.maximum),
        ),
        _paper_row("Female", str(t1["female"]), str(s.female)),
        _paper_row(
            "BMI, mean ± SD",
            f"{t1['bmi_mean']} ± {t1['bmi_sd']}",
            f"{fmt.number(s.bmi.mean)} ± {fmt.number(s.bmi.sd, 2)}",
        ),
        _paper_row("Left-sided lesion", str(t1["left"]), str(s.left)),
        *(
            _paper_row(label, str(t1[c]), str(s.risk_factors[c]))
            for c, label in RISK_FACTORS.items()
        ),
        *(
            _paper_row(f"Segments {row}", str(n), str(s.segment_rows[row]))
            for row, n in t1["segments"].items()
        ),
        _paper_row(
            "Follow-up, mean (range), months",
            f"{t1['follow_up_mean']} ({t1['follow_up_min']}-{t1['follow_up_max']})",
            fmt.mean_and_range(s.follow_up.mean, s.follow_up.minimum, s.follow_up.maximum),
        ),
    ]
    for row, patent in published.PATENCY_PRINTED.items():
        endpoint = published.PATENCY_READ_AS[row]
        estimates = tables.patency.survival[endpoint].overall.estimates
        at_risk = dict(zip(estimates.month.tolist(), estimates.at_risk.tolist(), strict=True))
        read_as = READ_AS_SWAPPED.format(endpoint=ENDPOINTS[endpoint].lower())
        rows += [
            _paper_row(
                f"{published.PATENCY_PRINTED_LABELS[row]} at {month} months, patients patent",
                str(count),
                str(at_risk[month]),
                read_as,
            )
            for month, count in patent.items()
        ]
    rows += _paper_clinical_rows(tables.clinical)
    patients = tables.safety.table.set_index("event")["patients"]
    rows += [
        _paper_row(f"Safety: {SAFETY_EVENTS[event]}", str(n), str(int(patients[event])))
        for event, n in published.SAFETY.items()
    ]
    rows.append(
        _paper_row(
            "Ulcers healed by 3 months",
            str(published.ULCERS_HEALED_BY_3_MONTHS),
            str(tables.population.ulcers_healed),
        )
    )
    return pd.DataFrame(rows)


def _paper_score(
    item: str, published_value: tuple[float, float], score: ScoreChange, when: str
) -> dict:
    digits = len(str(published_value[0]).split(".")[1])
    mean, sd = getattr(score, f"mean_{when}"), getattr(score, f"sd_{when}")
    return _paper_row(
        item,
        f"{published_value[0]} ± {published_value[1]}",
        f"{fmt.number(mean, digits)} ± {fmt.number(sd, 2)}",
    )


def _paper_clinical_rows(change: ClinicalChange) -> list[dict[str, str]]:
    t3 = published.TABLE3
    before, after = change.ceap_counts("before"), change.ceap_counts("after")
    score, villalta, pts, reflux = change.severity_score, change.villalta, change.pts, change.reflux
    return [
        *(
            _paper_row(f"CEAP before {c}", str(n), str(before[c]))
            for c, n in t3["ceap_before"].items()
        ),
        *(
            _paper_row(f"CEAP at 36 months {c}", str(n), str(after[c]))
            for c, n in t3["ceap_after"].items()
        ),
        _paper_score("Severity score before", t3["severity_before"], score, "before"),
        _paper_score("Severity score after", t3["severity_after"], score, "after"),
        _paper_score("Villalta before", t3["villalta_before"], villalta, "before"),
        _paper_score("Villalta after", t3["villalta_after"], villalta, "after"),
        _paper_row(
            "PTS before → after",
            f"{t3['pts_before']} → {t3['pts_after']}",
            f"{pts.before} → {pts.after}",
        ),
        _paper_row("PTS p (exact McNemar)", fmt.number(t3["pts_p"], 3), fmt.number(pts.p, 3)),
        _paper_row(
            "Reflux before → after",
            f"{t3['reflux_before']} → {t3['reflux_after']}",
            f"{reflux.before} → {reflux.after}",
        ),
        _paper_row(
            "Reflux p (exact McNemar)", fmt.number(t3["reflux_p"], 3), fmt.number(reflux.p, 3)
        ),
    ]


def contradictions_table() -> pd.DataFrame:
    """Where the source paper contradicts itself, and the rule the demo follows."""
    return pd.DataFrame(published.CONTRADICTIONS, columns=["What", "Contradiction", "Rule applied"])


def validation_report(report: pd.DataFrame) -> pd.DataFrame:
    """The import's validation report as shown and downloaded: every cell text, a cell
    with nothing to say (a problem with the whole file has no row or column) "-"."""
    shown = report.astype(object).astype(str)
    return shown.where(report.notna(), fmt.MISSING)


MODEL_COLUMNS = (
    "Term", "Patients", "Events", "Crude HR (95% CI)", "Crude p", "Adjusted HR (95% CI)",
    "Adjusted p",
)  # fmt: skip


def model_table(model: AdjustedModel, mask: ModelMask) -> pd.DataFrame:
    """An adjusted Cox model's terms: the patients and events at each level (none for a
    continuous covariate: MISSING), crude and adjusted HR (95% CI) and Wald p side by side;
    in privacy mode a small level's ratios SUPPRESSED (``mask``: privacy.model_mask). The
    level counts are limbs where the model's limbs are clustered by patient."""
    crude = {t.term: t for t in model.crude}
    counted = COUNT_COLUMNS[LIMB if model.clustered else PATIENT]
    rows = []
    for term in model.terms:
        hidden = mask.ratio_hidden(term.term)
        rows.append({
            "Term": fmt.term(term, model.variables), counted: fmt.level_patients(term, mask),
            "Events": fmt.level_events(term, mask),
            "Crude HR (95% CI)": fmt.term_ci(crude[term.term], hidden),
            "Crude p": fmt.term_p(crude[term.term], hidden),
            "Adjusted HR (95% CI)": fmt.term_ci(term, hidden),
            "Adjusted p": fmt.term_p(term, hidden),
        })  # fmt: skip
    columns = [counted if column == MODEL_COLUMNS[1] else column for column in MODEL_COLUMNS]
    return pd.DataFrame(rows, columns=columns)


def ph_table(model: AdjustedModel, mask: ModelMask) -> pd.DataFrame:
    """The proportional-hazards test per term and globally, with a plain reading of each;
    a term whose ratios privacy hides has its test hidden too."""
    return pd.DataFrame(
        [
            {
                "Term": fmt.term(test, model.variables),
                "Chi-square": fmt.SUPPRESSED if hide else fmt.statistic(test.statistic),
                "df": test.df,
                "p": fmt.term_p(test, hide),
                "Reading": fmt.SUPPRESSED if hide else fmt.ph_reading(test),
            }
            for test, hide in ((t, mask.ratio_hidden(t.term)) for t in model.ph_test)
        ],
        columns=["Term", "Chi-square", "df", "p", "Reading"],
    )


def pairwise_table(view: PatencyView, mask: Mask | None = None) -> pd.DataFrame:
    """Each pair of groups' p (the log-rank test's, or the robust score test's where limbs
    are clustered: comparison_test, which names the column) and Holm-adjusted p (more
    than two groups); in
    privacy mode hidden for a pair with a group whose summaries are withheld, as that
    group's hazard ratio is (comparison_withheld)."""
    mask = mask or exact(patency_ledger(view))
    result = view.compared
    withheld = _withheld_groups(view, mask)
    pairs = result.comparison.pairwise
    hidden = [pair.group in withheld or pair.other in withheld for pair in pairs]
    return pd.DataFrame(
        {
            "Group": [fmt.group(view.by, pair.group, view.variables) for pair in pairs],
            "Other group": [fmt.group(view.by, pair.other, view.variables) for pair in pairs],
            f"{COMPARISON_TESTS[comparison_test(view)]} p": [
                fmt.SUPPRESSED if h else fmt.p_value(pair.p)
                for pair, h in zip(pairs, hidden, strict=True)
            ],
            "Holm p": [
                fmt.SUPPRESSED if h else fmt.p_value(pair.p_holm)
                for pair, h in zip(pairs, hidden, strict=True)
            ],
        }
    )


def trend_line(view: PatencyView, mask: Mask | None = None) -> str:
    """The test for trend across the view's ordered groups (the log-rank test's, or the
    robust score test's where limbs are clustered: comparison_test), in a sentence; hidden
    in privacy mode when any group's summaries are withheld (comparison_withheld)."""
    mask = mask or exact(patency_ledger(view))
    result = view.compared
    levels = result.comparison.levels
    order = ", ".join(fmt.level(view.by, level, view.variables) for level in levels)
    test = result.comparison.trend
    if _withheld_groups(view, mask):
        reading = f"{fmt.SUPPRESSED} ({COMPARISON_WITHHELD})"
    elif test is None:
        reading = "not computable (no event while two groups were at risk)"
    else:
        reading = f"chi-square {fmt.statistic(test.statistic)} on 1 df, {fmt.p_statement(test.p)}"
    name = TREND_TESTS[test.test if test is not None else comparison_test(view)]
    return f"{name}, scores 1 to {len(levels)} in the order {order}: {reading}"
