"""The scriptable report: a report view (analytics.views) as JSON, or as text for a person.

``python -m analytics report`` prints it; researchers script against the JSON keys
(documented in the README), so they keep their names and types; ``report_version``
says which conventions the numbers follow. Version 2: in each row of ``overall`` and
``groups``, ``events`` and ``censored`` count patients whose event or censoring came
before the month (KMunicate), so at_risk + events + censored is the curve's patients.
Version 3: registries where a patient may have two treated limbs. ``n_limbs`` beside
``n_patients`` (the patients), a ``unit`` (``limb`` or ``patient``) in each section, and
the comparison's test by name (``comparison_test``: ``logrank``, or ``robust_score`` where
limbs are clustered by patient), ``logrank_*`` staying the log-rank test's (null there).

With a privacy k (analytics.present.privacy's rules) a small count is the string "<k",
a count withheld beside it or a value derived from hidden counts is null, and the
top-level ``privacy = {k, suppressed}`` lists the paths of every value so hidden.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from analytics.filters import to_params
from analytics.glossary import (
    CEAP_CLASSES,
    CEAP_REGRESSION,
    CLUSTERED_BY_PATIENT,
    COMPARISON_TESTS,
    COUNT_COLUMNS,
    DEMO_NOTICE,
    ENDPOINTS,
    LIMB,
    MARGINAL_HOMOGENEITY,
    PATENCY_ENDPOINTS,
    PATENCY_ROWS_SWAPPED,
    PATIENT,
    PTS,
    REFLUX,
    SAFETY_EVENTS,
    SAFETY_INCIDENCE_TITLE,
    SECTION_UNITS,
    SEVERITY_SCORE,
    SYMMETRY,
    TREND_TESTS,
    UNRELIABLE,
    small_counts,
)
from analytics.partitions import Key, Ledger
from analytics.present import format as fmt
from analytics.present.masking import (
    Cell,
    Mask,
    dashboard_mask,
    export_mask,
    mask,
    shown_by_pages,
    shown_elsewhere,
)
from analytics.present.privacy import (
    SUPPRESSED,
    SUPPRESSED_NOTE,
    hidden_change,
    hidden_mcnemar,
    hidden_means,
    hidden_shift_tests,
    masked,
    model_mask,
)
from analytics.present.tables import (
    comparison_withheld,
    estimate_shown,
    first_limb_group,
    incidence_shown,
    summary_withheld,
)
from analytics.rules import CONFIDENCE, SE_UNRELIABLE
from analytics.stats.clinical import BinaryChange, ClinicalChange, ScoreChange, TableTest
from analytics.stats.engine.logrank import LOGRANK, LogRank
from analytics.stats.models import AdjustedModel, Term
from analytics.stats.safety import SafetyIncidence
from analytics.stats.survival import Comparison, EndpointSurvival, GroupSurvival
from analytics.variables import OWN_SECTION, Registry
from analytics.views import (
    CURVE_COUNTS,
    PEOPLE,
    PRIMARY,
    WHEN,
    N,
    PatencyView,
    ReportView,
    binary_key,
    ceap_class_key,
    clinical_ledger,
    curve_key,
    header_ledger,
    incidence_key,
    incidence_ledger,
    model_curve_ledger,
    model_ledger,
    pairs_key,
    patency_ledger,
    people_key,
    safety_key,
    safety_ledger,
    unit_ledger,
)

REPORT_VERSION = 3
ROW_KEYS = ("month", "estimate", "ci_lower", "ci_upper", "se", "at_risk", "events", "censored")
SAFETY_KEYS = ("patients", "percent", "ci_lower", "ci_upper", "events", "per_100_patient_years")
# follow_up.data_lock: whether the data lock is the metadata's date or the latest contact.
DATA_LOCKS = {True: "data_lock_date", False: "latest_contact"}


def _clean(value: Any) -> Any:
    """JSON-safe: NaN becomes null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def report_mask(view: ReportView, k: int | None) -> Mask:
    """The report's counts (n, every curve and the deaths its cumulative incidence stands
    on, the clinical outcomes, the safety events, each endpoint's adjusted model, its
    events beside its curve's) as one view, masked once with privacy ``k``. With ``--by``,
    what the report without it shows is public (masking.shown_elsewhere): it prints the
    same overall curves. Beside the dashboard's pages for the same filter and grouping
    (view.pages), whose counts shown exactly are public (masking.shown_by_pages): a reader
    holding the report and the pages learns no more from the two than from either."""
    shown = report_ledger(view)
    if k is None:
        return mask(shown, k)
    header = header_ledger(view.header)
    decision = dashboard_mask(header, view.pages.defaults(k) if view.pages else (), k)
    # the report without --by stands beside the pages without the comparison
    pages = shown_by_pages(decision, (), k)
    if view.by is not None:
        overall = {e: _overall(r) for e, r in view.survival.items()}
        plain = report_ledger(replace(view, by=None, survival=overall))
        shown |= shown_elsewhere(plain, export_mask(plain, pages, k))
        pages |= shown_by_pages(decision, view.pages.controlled() if view.pages else (), k)
    return export_mask(shown, pages, k)


def _overall(result: EndpointSurvival) -> EndpointSurvival:
    """An endpoint's curves without the comparison (the report without ``--by``)."""
    landmark = result.landmark
    if landmark is not None:
        landmark = replace(landmark, survival=_overall(landmark.survival))
    return replace(result, by=None, groups=(), comparison=None, landmark=landmark)


def report_ledger(view: ReportView) -> Ledger:
    """The counts the report prints and their sums (report_mask masks them beside the
    pages): n is the filter's limbs, the patients they belong to beside it
    (views.unit_ledger)."""
    n = view.header.limbs
    curves = PatencyView(view.by, PRIMARY, view.months, view.survival, view.horizon,
                         view.risk_months, view.cohort_filter.variables)  # fmt: skip
    shown = unit_ledger(view.header) | safety_ledger(view.safety) | clinical_ledger(view.clinical)
    for model in view.adjusted.values():
        shown |= model_ledger(model) | model_curve_ledger(
            model, view.survival[model.endpoint].overall
        )
    return shown | unit_ledger(view.header) | patency_ledger(curves, n) | incidence_ledger(curves)


@dataclass
class _Suppression:
    """Applies the report's mask to its values and records the path of each one hidden."""

    k: int | None
    mask: Mask
    paths: list[str] = field(default_factory=list)

    def cell(self, path: str, shown: Cell) -> Any:
        """A count of a masked view: itself, "<k" when small, None when withheld."""
        if shown.shown == "small":
            self.paths.append(path)
            return masked(shown.k)
        return self.derived(path, shown.value, shown.hidden)

    def derived(self, path: str, value: Any, hidden: bool) -> Any:
        """A value computed from counts: None when they are hidden."""
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        if self.k is not None and hidden and not missing:
            self.paths.append(path)
            return None
        return value


def _rows(
    curve: GroupSurvival, path: str, key: Callable[..., Key], privacy: _Suppression
) -> list[dict]:
    """One row per month of the curve's estimates: its KMunicate counts as the report's
    mask shows them (``key(count, month)``: the curve's names, views.curve_key), its
    estimate where the mask lets it show (tables.estimate_shown)."""
    decided = privacy.mask
    estimates = curve.estimates
    shown = estimate_shown(decided, key, curve)
    rows = []
    for i, month in enumerate(estimates.month.tolist()):
        where = f"{path}[{i}]"
        column = [key(count, month) for count in CURVE_COUNTS]
        hidden = not shown[float(month)]
        row: dict[str, Any] = {"month": float(month)}
        for name in ("estimate", "ci_lower", "ci_upper", "se"):
            row[name] = privacy.derived(
                f"{where}.{name}", float(getattr(estimates, name)[i]), hidden
            )
        for name, count in zip(("at_risk", "events", "censored"), column, strict=True):
            row[name] = privacy.cell(f"{where}.{name}", decided.cell(count))
        rows.append(row)
    return rows


def _curve(view: ReportView, endpoint: str, group: GroupSurvival, since: float | None = None):
    """The names of a curve's counts in the report's mask (views.curve_key)."""
    return partial(curve_key, endpoint, group.level, since=since, by=view.by)


def _withheld_groups(
    view: ReportView, endpoint: str, result: EndpointSurvival, decided: Mask
) -> set[str]:
    """The compared groups whose summaries privacy withholds: a comparison with one of
    them is withheld too (tables.comparison_withheld)."""
    return {
        g.level for g in result.groups
        if comparison_withheld(decided, [_curve(view, endpoint, g)])
    }  # fmt: skip


def _endpoint(
    view: ReportView, endpoint: str, result: EndpointSurvival, privacy: _Suppression
) -> dict[str, Any]:
    path = f"patency.{endpoint}"
    overall = result.overall
    entry: dict[str, Any] = {
        "unit": LIMB if endpoint in PATENCY_ENDPOINTS else PATIENT,
        "overall": _rows(overall, f"{path}.overall", _curve(view, endpoint, overall), privacy),
    }
    comparison = result.comparison
    if comparison is None:
        return entry
    test = comparison.logrank
    withheld = _withheld_groups(view, endpoint, result, privacy.mask)
    ratios = []
    for i, ratio in enumerate(comparison.hazard_ratios):
        hidden = ratio.level in withheld or ratio.reference in withheld
        where = f"{path}.hazard_ratios[{i}]"
        ratios.append(
            {"group": ratio.level, "reference": ratio.reference}
            | {key: privacy.derived(f"{where}.{key}", getattr(ratio, key), hidden)
               for key in ("hr", "ci_lower", "ci_upper", "p")}
            | {"estimable": ratio.estimable, "reason": ratio.reason}
        )  # fmt: skip
    return entry | {
        "groups": {
            group.level: _rows(
                group, f"{path}.groups.{group.level}",
                _curve(view, endpoint, group), privacy,
            )
            for group in result.groups
        },
        **_tests(test, path, bool(withheld), privacy),
        "hazard_ratios": ratios,
        "notes": [] if test else ["fewer than two groups in this cohort: nothing to compare"],
    }  # fmt: skip


def _tests(
    test: LogRank | None, path: str, withheld: bool, privacy: _Suppression
) -> dict[str, Any]:
    """A comparison's test: ``comparison_test`` names it (LogRank.test: the log-rank test,
    or the robust score test where limbs are clustered by patient), ``comparison_statistic``
    and ``comparison_p`` are its; ``logrank_statistic`` and ``logrank_p`` the log-rank
    test's as in version 2, null where the comparison is the robust score test. All hidden
    where a compared group's summaries are (``withheld``: tables.comparison_withheld)."""
    logrank = test if test is not None and test.test == LOGRANK else None

    def hidden(name: str, result: LogRank | None) -> dict[str, Any]:
        return {
            f"{name}_{key}": privacy.derived(
                f"{path}.{name}_{key}", getattr(result, key) if result else None, withheld
            )
            for key in ("statistic", "p")
        }

    return {
        **hidden("logrank", logrank),
        "comparison_test": test.test if test else None,
        **hidden("comparison", test),
    }


def _score(
    name: str, measure: str, score: ScoreChange, clinical: Mask, privacy: _Suppression
) -> dict[str, Any]:
    """A paired score's means and SDs before and after (privacy.hidden_means), and its
    test's p (privacy.hidden_change)."""
    entry: dict[str, Any] = {
        f"{name}_{when}": {
            key: privacy.derived(f"clinical.{name}_{when}.{key}", getattr(score, f"{key}_{when}"),
                                 hidden_means(measure, when, clinical))
            for key in ("mean", "sd")
        }
        for when in WHEN
    }  # fmt: skip
    hidden = hidden_change(measure, clinical)
    return entry | {
        f"{name}_p": privacy.derived(f"clinical.{name}_p", score.p, hidden),
        f"{name}_change": _median_change(f"clinical.{name}_change", score, hidden, privacy),
    }


def _median_change(
    path: str, score: ScoreChange, hidden: bool, privacy: _Suppression
) -> dict[str, Any]:
    """The Hodges-Lehmann change and its 95% CI (null where there is none, or where few
    pairs reach only a lower level), ``hidden`` with the score's p (privacy.hidden_change)."""
    change = score.median_change
    values: dict[str, Any] = dict.fromkeys(("hodges_lehmann", "ci_lower", "ci_upper", "test"))
    if change is not None:
        interval = change.level >= CONFIDENCE
        values = {
            "hodges_lehmann": change.estimate,
            "ci_lower": change.ci_lower if interval else None,
            "ci_upper": change.ci_upper if interval else None,
            "test": change.method,
        }
    return {key: privacy.derived(f"{path}.{key}", value, hidden) for key, value in values.items()}


def _table_test(
    path: str, test: TableTest, change: ClinicalChange, clinical: Mask, privacy: _Suppression
) -> dict[str, Any]:
    """A CEAP shift test's statistic, df and p: null when not computable, hidden with the
    shift matrix (privacy.hidden_shift_tests)."""
    few = hidden_shift_tests(change.ceap_shift, clinical)
    values = {"statistic": test.statistic, "df": test.df, "p": test.p}
    return {key: privacy.derived(f"{path}.{key}", value, few) for key, value in values.items()}


def _binary(
    name: str, change: BinaryChange, clinical: Mask, privacy: _Suppression
) -> dict[str, Any]:
    path = f"clinical.{name}"
    return {
        **{
            f"{name}_{when}": privacy.cell(f"{path}_{when}", clinical.cell(binary_key(name, when)))
            for when in WHEN
        },
        f"{name}_p": privacy.derived(f"{path}_p", change.p, hidden_mcnemar(name, clinical)),
        f"{name}_pairs": privacy.cell(f"{path}_pairs", clinical.cell(pairs_key(name))),
    }


def _classes(when: str, clinical: Mask, privacy: _Suppression) -> dict[str, Any]:
    """CEAP class counts ``when``, as the clinical view's mask shows them."""
    return {
        f"C{c}": privacy.cell(f"clinical.ceap_{when}.C{c}", clinical.cell(ceap_class_key(when, c)))
        for c in CEAP_CLASSES
    }


def _safety(view: ReportView, privacy: _Suppression, decided: Mask) -> dict[str, Any]:
    """Each safety event's counts as ``decided`` (views.safety_ledger) shows them, its
    percentage and interval withheld with its patients or n, its rate with its events."""
    safety = view.safety
    entries = {}
    for row in safety.table.to_dict("records"):
        event = row["event"]
        path, patients = f"safety.{event}", safety_key(event, "patients")
        hidden = decided.hidden(patients, people_key(safety.bilateral))
        entries[event] = {
            "patients": privacy.cell(f"{path}.patients", decided.cell(patients)),
            **{
                key: privacy.derived(f"{path}.{key}", 100 * row[column], hidden)
                for key, column in (
                    ("percent", "proportion"), ("ci_lower", "ci_lower"), ("ci_upper", "ci_upper")
                )
            },
            "events": privacy.cell(f"{path}.events", decided.cell(safety_key(event, "events"))),
            "per_100_patient_years": privacy.derived(
                f"{path}.per_100_patient_years", row["per_100_patient_years"],
                decided.hidden(safety_key(event, "events")),
            ),
            "unit": PATIENT,
        }  # fmt: skip
    for result in safety.incidence:
        entries[result.event]["cumulative_incidence"] = _safety_incidence(
            result, privacy, decided, people_key(safety.bilateral)
        )
    return entries


def _safety_incidence(
    result: SafetyIncidence, privacy: _Suppression, decided: Mask, people: Key
) -> list[dict[str, Any]]:
    """A safety event's cumulative incidence with death competing, a row per month (0-100);
    withheld at a month where ``decided`` hides its patients with a first event by then
    (also when those without one are few) or n."""
    path = f"safety.{result.event}.cumulative_incidence"
    rows = []
    for i, month in enumerate(result.at.month.tolist()):
        hidden = decided.hidden(incidence_key(result.event, month, "by"), people)
        rows.append(
            {"month": month}
            | {
                key: privacy.derived(
                    f"{path}[{i}].{key}", 100 * float(getattr(result.at, field)[i]), hidden
                )
                for key, field in (
                    ("percent", "estimate"), ("ci_lower", "ci_lower"), ("ci_upper", "ci_upper")
                )
            }
        )  # fmt: skip
    return rows


def report_json(view: ReportView, k: int | None = None) -> dict[str, Any]:
    """Everything the report prints, as one JSON-ready dict (keys in the README); with a
    privacy ``k``, small counts hidden and listed under ``privacy``; every text in it (a
    key or a value: a centre, a level, the cohort's name) shown as format.data_text."""
    return _shown(_report_values(view, report_mask(view, k)))


def _shown(value: Any) -> Any:
    """``value`` with every key and text as format.data_text shows it: no control character."""
    if isinstance(value, dict):
        return {fmt.data_text(k): _shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return fmt.data_text(value) if isinstance(value, str) else value


def _report_values(view: ReportView, decided: Mask) -> dict[str, Any]:
    """report_json's values keyed by the data's own levels, as the text report reads them;
    privacy as ``decided`` (report_mask: the whole report's counts, decided together)."""
    change, safety = view.clinical, view.safety
    k = decided.k
    privacy = _Suppression(k, decided)
    clinical = decided
    # one limb per patient: the patients are n's limbs, as version 2 counted and masked them
    people = PEOPLE if view.header.bilateral_file else N
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "cohort": {
            "name": view.name,
            "is_reconstruction": view.is_reconstruction,
            "filter": to_params(view.cohort_filter),
            "by": view.by,
            "notes": _paper_readings(view),
            "variables": own_dictionary(view.cohort_filter.variables),
        },
        "n_patients": privacy.cell("n_patients", decided.cell(people)),
        "n_limbs": privacy.cell("n_limbs", decided.cell(N)),
        "patient_years": privacy.derived("patient_years", safety.patient_years, decided.hidden(N)),
        "patency": {
            endpoint: _endpoint(view, endpoint, result, privacy)
            for endpoint, result in view.survival.items()
        },
        "clinical": {
            "unit": LIMB,
            **{f"ceap_{when}": _classes(when, clinical, privacy) for when in WHEN},
            "ceap_marginal_homogeneity": _table_test(
                "clinical.ceap_marginal_homogeneity", change.ceap_homogeneity, change, clinical,
                privacy,
            ),
            "ceap_symmetry": _table_test(
                "clinical.ceap_symmetry", change.ceap_symmetry, change, clinical, privacy
            ),
            **_score("severity_score", "ceap", change.severity_score, clinical, privacy),
            **_score("villalta", "villalta", change.villalta, clinical, privacy),
            **_binary("pts", change.pts, clinical, privacy),
            **_binary("reflux", change.reflux, clinical, privacy),
            "notes": list(change.notes),
        },
        "safety": _safety(view, privacy, decided),
    }  # fmt: skip
    report = _with_time_summaries(report, view, privacy)
    report = _with_comparisons(report, view, privacy)
    for endpoint, model in view.adjusted.items():
        report["patency"][endpoint] |= _adjusted(model, f"patency.{endpoint}", privacy)
    if k is not None:
        report["privacy"] = {"k": k, "suppressed": privacy.paths}
    return _clean(report)


def own_dictionary(variables: Registry) -> dict[str, dict[str, Any]]:
    """The registry's own variables (its dictionary, cohort format 7) by their raw keys, as
    the JSON's filters, groups and terms name them: label, whether a patient's or a limb's,
    kind, unit, levels (raw -> shown) and the bands a number is grouped by; {} without."""
    return {
        v.key: {
            "label": v.label,
            "level": str(v.level),
            "kind": str(v.kind),
            "unit": v.unit,
            "levels": dict(v.levels),
            "bands": list(v.bands.levels) if v.bands else [],
        }
        for v in variables.variables
        if v.section == OWN_SECTION
    }


def _paper_readings(view: ReportView) -> list[str]:
    """On the demo, how it reads the paper where the paper contradicts itself: the
    patency rows read as swapped, the CEAP regression reproduced (both shown here)."""
    return [PATENCY_ROWS_SWAPPED, CEAP_REGRESSION] if view.is_reconstruction else []


def report_text(view: ReportView, k: int | None = None) -> str:
    """The report for a person: aligned tables, plain words; written from report_json's
    values, so privacy hides the same numbers here as in the JSON."""
    decided = report_mask(view, k)
    data = _report_values(view, decided)
    text = _Text(set(data.get("privacy", {}).get("suppressed", ())))
    variables = view.cohort_filter.variables
    lines = [f"Cohort: {fmt.data_text(view.name)}"]
    if view.is_reconstruction:
        lines.append(DEMO_NOTICE)
    lines += [f"Note: {note}" for note in data["cohort"]["notes"]]
    lines += [
        f"Filter: {fmt.filter_words(view.cohort_filter)}",
        _n_line(view, data, text),
    ]
    if k is not None:
        lines.append(f"Privacy mode: {small_counts(k)}; {SUPPRESSED_NOTE}")
    lines.append("")
    for endpoint, result in view.survival.items():
        entry, path = data["patency"][endpoint], f"patency.{endpoint}"
        unit = f"; {SECTION_UNITS[entry['unit']]}" if view.header.bilateral_file else ""
        lines.append(f"{ENDPOINTS[endpoint]} (Kaplan-Meier %, 95% CI log-log{unit})")
        first_limb = first_limb_group(endpoint, view.by, variables, view.header.bilateral_file)
        lines += [f"  Note: {first_limb}"] if first_limb else []
        lines += _estimate_lines("all", entry["overall"], f"{path}.overall", text)
        for group in result.groups:
            rows, where = entry["groups"][group.level], f"{path}.groups.{group.level}"
            lines += _estimate_lines(fmt.group(view.by, group.level, variables), rows, where, text)
        comparison = result.comparison
        if comparison is not None and comparison.logrank is not None:
            statistic = (
                SUPPRESSED if f"{path}.comparison_statistic" in text.suppressed
                else fmt.statistic(entry["comparison_statistic"])
            )  # fmt: skip
            p = (
                f"p {SUPPRESSED}" if f"{path}.comparison_p" in text.suppressed
                else fmt.p_statement(entry["comparison_p"])
            )  # fmt: skip
            name = COMPARISON_TESTS[entry["comparison_test"]].lower()
            lines.append(f"  {name} chi2 = {statistic}, {p}")
            for i, ratio in enumerate(comparison.hazard_ratios):
                hidden = f"{path}.hazard_ratios[{i}].hr" in text.suppressed
                line = fmt.hazard_ratio_line(ratio, view.by, hidden, variables)
                lines.append(f"  {line}")
        lines.append("")
    lines += _time_summary_lines(view, data, text)
    lines += _comparison_lines(view, data, text)
    lines += _adjusted_lines(view, decided)
    lines += ["Clinical outcomes, before the procedure vs last visit"]
    lines += _clinical_lines(view, data["clinical"], text)
    lines += ["", "Safety"]
    width = max(len(label) for label in SAFETY_EVENTS.values())
    for event, row in data["safety"].items():
        path = f"safety.{event}"
        patients = text.count(f"{path}.patients", row["patients"])
        percent = text.number(f"{path}.percent", row["percent"], "%")
        interval = text.interval(f"{path}.ci_lower", row["ci_lower"], row["ci_upper"], True)
        rate = text.number(f"{path}.per_100_patient_years", row["per_100_patient_years"])
        lines.append(
            f"  {SAFETY_EVENTS[event]:<{width}} {patients:>9} patients  {percent:>6} "
            f"(95% CI {interval})  {rate} per 100 patient-years"
        )
    lines += _safety_incidence_lines(data["safety"], text)
    return "\n".join(lines) + "\n"


def _n_line(view: ReportView, data: dict[str, Any], text: _Text) -> str:
    """The report's n: its patients, in a file of one treated limb per patient; else its
    limbs and the patients they belong to ("n = 394 limbs in 197 patients"), and that
    limb estimates are clustered by patient."""
    patients = text.count("n_patients", data["n_patients"])
    if not view.header.bilateral_file:
        return f"Patients: {patients}"
    limbs = text.count("n_limbs", data["n_limbs"])
    return (
        f"n = {limbs} limb{'' if limbs == '1' else 's'} in {patients} "
        f"patient{'' if patients == '1' else 's'}\n{CLUSTERED_BY_PATIENT}"
    )


def _safety_incidence_lines(safety: dict[str, Any], text: _Text) -> list[str]:
    """The cumulative incidence with death competing under the crude percentages above."""
    lines = []
    for event, row in safety.items():
        if "cumulative_incidence" not in row:
            continue
        path = f"safety.{event}.cumulative_incidence"
        cells = []
        for i, r in enumerate(row["cumulative_incidence"]):
            where = f"{path}[{i}]"
            percent = text.number(f"{where}.percent", r["percent"], "%")
            cell = f"{fmt.months(r['month'])} months {percent}"
            if r["ci_lower"] is not None or f"{where}.ci_lower" in text.suppressed:
                interval = text.interval(f"{where}.ci_lower", r["ci_lower"], r["ci_upper"], True)
                cell += f" (95% CI {interval})"
            cells.append(cell)
        lines.append(f"  {SAFETY_EVENTS[event]}: {'; '.join(cells)}")
    if lines:
        lines.insert(0, f"  {SAFETY_INCIDENCE_TITLE}; the percentages above are crude:")
    return lines


@dataclass(frozen=True)
class _Text:
    """Report values as text: "<k" as it is, a hidden value SUPPRESSED, a missing one
    MISSING."""

    suppressed: set[str]

    def _absent(self, path: str, value: Any) -> str | None:
        if isinstance(value, str):
            return value
        if value is None:
            return SUPPRESSED if path in self.suppressed else fmt.MISSING
        return None

    def count(self, path: str, value: Any) -> str:
        return self._absent(path, value) or fmt.count(value)

    def number(self, path: str, value: Any, unit: str = "") -> str:
        return self._absent(path, value) or f"{fmt.number(value)}{unit}"

    def proportion(self, path: str, value: Any) -> str:
        return self._absent(path, value) or fmt.percent(value)

    def interval(self, path: str, lower: Any, upper: Any, percent: bool = False) -> str:
        """A CI of proportions, or of percentages (``percent``)."""
        if path in self.suppressed:
            return SUPPRESSED
        if lower is None or upper is None:
            return "no CI"
        scale = 100 if percent else 1
        return fmt.ci(lower / scale, upper / scale)


def _clinical_lines(view: ReportView, clinical: dict[str, Any], text: _Text) -> list[str]:
    def classes(when: str) -> str:
        counts = clinical[f"ceap_{when}"]
        shown = [
            f"{c} {text.count(f'clinical.ceap_{when}.{c}', n)}" for c, n in counts.items() if n != 0
        ]
        return ", ".join(shown) or "none"

    def score(name: str, score: ScoreChange, label: str) -> str:
        if not score.n:
            return f"  {label}: no paired assessments"
        means = {when: clinical[f"{name}_{when}"] for when in WHEN}
        before, after = (
            SUPPRESSED if f"clinical.{name}_{when}.mean" in text.suppressed
            else fmt.mean_sd(means[when]["mean"], means[when]["sd"], 2)
            for when in WHEN
        )  # fmt: skip
        hidden_p = f"clinical.{name}_p" in text.suppressed
        p = f"p {SUPPRESSED}" if hidden_p else fmt.p_statement(clinical[f"{name}_p"])
        change_hidden = f"clinical.{name}_change.hodges_lehmann" in text.suppressed
        if before == after == SUPPRESSED and hidden_p and change_hidden:
            return f"  {label}: {SUPPRESSED} (fewer than k pairs, or counts privacy hides)"
        return (
            f"  {label}: {before} -> {after} "
            f"(Wilcoxon signed-rank {p}); median change "
            + fmt.median_change(score.median_change, change_hidden)
        )

    def shift_test(name: str, test: TableTest, label: str) -> str:
        path = f"clinical.{name}"
        if f"{path}.p" in text.suppressed:
            return f"  {label}: {SUPPRESSED} (it would give a count below k away)"
        result = fmt.chi_square(test)
        if not test.reason:
            result += f", {fmt.p_statement(clinical[name]['p'])}"
        return f"  {label}: {result}"

    def binary(name: str, label: str) -> str:
        path = f"clinical.{name}"
        p = clinical[f"{name}_p"]
        return (
            f"  {label}: {text.count(f'{path}_before', clinical[f'{name}_before'])} -> "
            f"{text.count(f'{path}_after', clinical[f'{name}_after'])} of "
            f"{text.count(f'{path}_pairs', clinical[f'{name}_pairs'])}{limbs} (exact McNemar "
            f"{SUPPRESSED if f'{path}_p' in text.suppressed else fmt.p_statement(p)})"
        )

    change = view.clinical
    bilateral = view.header.bilateral_file  # the counts are of limbs: said so
    limbs = f" {COUNT_COLUMNS[LIMB].lower()}" if bilateral else ""
    ceap = f"CEAP ({COUNT_COLUMNS[LIMB].lower()})" if bilateral else "CEAP"
    return [
        f"  {ceap} before: {classes('before')}; after: {classes('after')}",
        shift_test("ceap_marginal_homogeneity", change.ceap_homogeneity, MARGINAL_HOMOGENEITY),
        shift_test("ceap_symmetry", change.ceap_symmetry, SYMMETRY),
        score("severity_score", change.severity_score, SEVERITY_SCORE),
        score("villalta", change.villalta, "Villalta"),
        binary("pts", PTS),
        binary("reflux", REFLUX),
        *(f"  {note}" for note in change.notes),
    ]


def _estimate_lines(label: str, rows: list[dict], path: str, text: _Text) -> list[str]:
    lines = [f"  {label}"]
    for i, row in enumerate(rows):
        where = f"{path}[{i}]"
        se = row["se"]
        flag = f"  {UNRELIABLE}: unreliable" if se is not None and se > SE_UNRELIABLE else ""
        lines.append(
            f"    {fmt.months(row['month']):>4} months: "
            f"{text.proportion(f'{where}.estimate', row['estimate']):>6} "
            f"({text.interval(f'{where}.ci_lower', row['ci_lower'], row['ci_upper'])})  "
            f"at risk {text.count(f'{where}.at_risk', row['at_risk']):>9}  "
            f"events before {text.count(f'{where}.events', row['events']):>9}  "
            f"censored before {text.count(f'{where}.censored', row['censored']):>9}{flag}"
        )
    return lines


# ---- medians, restricted means, cumulative incidence with death competing, follow-up --------
# (issue 14, parts 1 and 2: keys added to the report; nothing above changes)

INCIDENCE_KEYS = ("month", "estimate", "ci_lower", "ci_upper")


def _median(group: GroupSurvival, path: str, few: bool, privacy: _Suppression) -> dict[str, Any]:
    """The median and its CI; hidden for a group of fewer than k (``few``: it is one
    patient's time)."""
    median = group.median
    return {
        key: privacy.derived(f"{path}.median.{key}", getattr(median, key), few)
        for key in ("estimate", "ci_lower", "ci_upper")
    }


def _rmst(group: GroupSurvival, path: str, few: bool, privacy: _Suppression) -> dict[str, Any]:
    rmst = group.rmst
    return {"horizon": rmst.horizon} | {
        key: privacy.derived(f"{path}.rmst.{key}", getattr(rmst, key), few)
        for key in ("estimate", "se")
    }


def _incidence(
    group: GroupSurvival, path: str, names: Callable[..., Key], privacy: _Suppression
) -> list[dict[str, Any]]:
    """The cumulative incidence at the report's months; in privacy mode hidden where
    tables.incidence_shown says (with the Kaplan-Meier estimate of the same month, the
    curve's summaries, or its deaths before the month). ``names``: the curve's counts'."""
    incidence = group.incidence_at
    shown = incidence_shown(privacy.mask, names, group)
    rows = []
    for i, month in enumerate(incidence.month.tolist()):
        rows.append(
            {"month": month}
            | {
                key: privacy.derived(
                    f"{path}.cumulative_incidence[{i}].{key}",
                    float(getattr(incidence, key)[i]),
                    not shown[float(month)],
                )
                for key in INCIDENCE_KEYS
                if key != "month"
            }
        )
    return rows


def _rmst_notes(result: EndpointSurvival) -> list[str]:
    return [
        fmt.rmst_beyond(group.level, group.rmst.horizon, group.curve.last_time)
        for group in (result.overall, *result.groups)
        if group.rmst.beyond_follow_up and group.patients
    ]


def _with_time_summaries(
    report: dict[str, Any], view: ReportView, privacy: _Suppression
) -> dict[str, Any]:
    """The report with each endpoint's ``median``, ``rmst``, ``cumulative_incidence`` (and,
    compared, ``group_summary`` and ``rmst_differences``), its notes, and ``follow_up``."""
    for endpoint, result in view.survival.items():
        path = f"patency.{endpoint}"
        entry = report["patency"][endpoint]
        overall = result.overall
        few = summary_withheld(privacy.mask, _curve(view, endpoint, overall))
        entry |= {
            "median": _median(overall, path, few, privacy),
            "rmst": _rmst(overall, path, few, privacy),
            "cumulative_incidence": _incidence(
                overall, path, _curve(view, endpoint, overall), privacy
            ),
            "notes": [*entry.get("notes", []), *_rmst_notes(result)],
        }
        if result.comparison is None:
            continue
        summary = {}
        for group in result.groups:
            where = f"{path}.group_summary.{group.level}"
            key = _curve(view, endpoint, group)
            few = summary_withheld(privacy.mask, key)
            summary[group.level] = {
                "patients": privacy.cell(f"{where}.patients", privacy.mask.cell(key("patients"))),
                "events": privacy.cell(f"{where}.events", privacy.mask.cell(key("events"))),
                "median": _median(group, where, few, privacy),
                "rmst": _rmst(group, where, few, privacy),
                "cumulative_incidence": _incidence(group, where, key, privacy),
            }
        entry["group_summary"] = summary
        small = {g.level for g in result.groups
                 if summary_withheld(privacy.mask, _curve(view, endpoint, g))}  # fmt: skip
        entry["rmst_differences"] = [
            {"group": d.level, "reference": d.reference}
            | {
                key: privacy.derived(
                    f"{path}.rmst_differences[{i}].{key}", getattr(d, key),
                    d.level in small or d.reference in small,
                )
                for key in ("difference", "ci_lower", "ci_upper")
            }
            for i, d in enumerate(result.comparison.rmst_differences)
        ]  # fmt: skip
    median, few = view.follow_up.median, privacy.mask.few(N)
    report["follow_up"] = {
        "median_months": privacy.derived("follow_up.median_months", median.estimate, few),
        "ci_lower": privacy.derived("follow_up.ci_lower", median.ci_lower, few),
        "ci_upper": privacy.derived("follow_up.ci_upper", median.ci_upper, few),
        "completeness": privacy.derived("follow_up.completeness", view.follow_up.completeness, few),
        "planned_follow_up_months": view.follow_up.planned.months,
        "data_lock": DATA_LOCKS[view.follow_up.data_lock_date],
        "unit": LIMB,
    }
    return report


def _time_summary_lines(view: ReportView, data: dict[str, Any], text: _Text) -> list[str]:
    """The text report's section for the same numbers, from report_json's values."""
    variables = view.cohort_filter.variables

    def months_ci(values: dict[str, Any], estimate_path: str) -> str:
        # a median "not reached" is null as a withheld one is: any part hidden hides all
        base = estimate_path.removesuffix(".estimate")
        parts = {estimate_path, f"{base}.ci_lower", f"{base}.ci_upper"}
        if parts & text.suppressed:
            return SUPPRESSED
        return fmt.months_ci(values["estimate"], values["ci_lower"], values["ci_upper"], "months")

    follow_up = data["follow_up"]
    median_follow_up = {
        "estimate": follow_up["median_months"], "ci_lower": follow_up["ci_lower"],
        "ci_upper": follow_up["ci_upper"],
    }  # fmt: skip
    completeness = text.proportion("follow_up.completeness", follow_up["completeness"])
    lines = [
        f"Median time, restricted mean to {fmt.months(view.horizon)} months, cumulative "
        "incidence with death competing (Aalen-Johansen %, 95% CI log-log)",
        f"  median follow-up (reverse Kaplan-Meier): "
        f"{months_ci(median_follow_up, 'follow_up.median_months')}; "
        f"completeness (Clark's C) {completeness}, {fmt.completeness_to(view.follow_up)}",
    ]
    for endpoint, result in view.survival.items():
        entry, path = data["patency"][endpoint], f"patency.{endpoint}"
        lines.append(f"  {ENDPOINTS[endpoint]}")
        groups = [("all", entry, path)] + [
            (fmt.group(view.by, group.level, variables), entry["group_summary"][group.level],
             f"{path}.group_summary.{group.level}")
            for group in result.groups
        ]  # fmt: skip
        for label, values, where in groups:
            rmst = values["rmst"]
            mean = (
                SUPPRESSED
                if f"{where}.rmst.estimate" in text.suppressed
                else fmt.mean_se(rmst["estimate"], rmst["se"]) + " months"
            )
            incidence = "; ".join(
                f"{fmt.months(row['month'])} months "
                + (
                    SUPPRESSED
                    if f"{where}.cumulative_incidence[{i}].estimate" in text.suppressed
                    else fmt.estimate_ci(row["estimate"], row["ci_lower"], row["ci_upper"])
                )
                for i, row in enumerate(values["cumulative_incidence"])
            )
            lines += [
                f"    {label}: median {months_ci(values['median'], f'{where}.median.estimate')}; "
                f"restricted mean {mean}",
                f"      cumulative incidence: {incidence}",
            ]
        for i, d in enumerate(entry.get("rmst_differences", [])):
            difference = (
                SUPPRESSED
                if f"{path}.rmst_differences[{i}].difference" in text.suppressed
                else fmt.difference_ci(d["difference"], d["ci_lower"], d["ci_upper"])
            )
            lines.append(
                f"    restricted mean {fmt.group(view.by, d['group'], variables)} minus "
                f"{fmt.group(view.by, d['reference'], variables)}: {difference} months"
            )
        lines += [f"    {note}" for note in _rmst_notes(result)]
    return [*lines, ""]


TERM_KEYS = ("term", "hr", "ci_lower", "ci_upper", "p")


def _estimable(term: Term, value: Any) -> Any:
    """A model term's value, or None for a term of too few events (models.Term.reason)."""
    return value if term.estimable else None


def _adjusted(model: AdjustedModel, path: str, privacy: _Suppression) -> dict[str, Any]:
    """An endpoint's adjusted model (``--adjust``): the README's ``adjusted`` keys, its
    counts as the report's mask shows them (views.model_ledger is part of report_mask), the
    ratios (and PH test) privacy.model_mask withholds (a level or reference of fewer than
    k patients, a model of fewer than k patients or events) null."""
    mask = model_mask(model, privacy.mask)

    def terms(name: str, fitted: Sequence[Any]) -> list[dict[str, Any]]:
        return [
            {"term": t.term}
            | {key: _estimable(t, privacy.derived(f"{path}.{name}[{i}].{key}", getattr(t, key),
                                                  mask.ratio_hidden(t.term)))
               for key in TERM_KEYS[1:]}
            | {"estimable": t.estimable, "reason": t.reason}
            for i, t in enumerate(fitted)
        ]  # fmt: skip

    def level(i: int, t: Any) -> dict[str, Any]:
        where = f"{path}.adjusted_levels[{i}]"
        return {
            "term": t.term,
            "patients": privacy.cell(f"{where}.patients", mask.cell(t.term, "patients")),
            "events": privacy.cell(f"{where}.events", mask.cell(t.term, "events")),
        }

    events = mask.cell("events")
    return {
        "adjusted": terms("adjusted", model.terms),
        "crude": terms("crude", model.crude),
        "adjusted_levels": [
            level(i, t) for i, t in enumerate(t for t in model.terms if t.at_level is not None)
        ],
        "adjusted_patients": privacy.cell(f"{path}.adjusted_patients", mask.cell("patients")),
        "adjusted_events": privacy.cell(f"{path}.adjusted_events", events),
        "adjusted_excluded": privacy.cell(f"{path}.adjusted_excluded", mask.cell("excluded")),
        "events_per_variable": privacy.derived(
            f"{path}.events_per_variable", model.events_per_variable, events.hidden
        ),
        "ph_test": [
            {"term": t.term}
            | {
                key: privacy.derived(
                    f"{path}.ph_test[{i}].{key}", getattr(t, key), mask.ratio_hidden(t.term)
                )
                for key in ("statistic", "p")
            }
            for i, t in enumerate(model.ph_test)
        ],
        "adjusted_notes": list(model.notes),
    }


def _adjusted_lines(view: ReportView, decided: Mask) -> list[str]:
    """Each endpoint's adjusted model as the deck's notes read it (format.model_reading),
    privacy as the report's mask ``decided``."""
    lines = []
    for model in view.adjusted.values():
        reading = fmt.model_reading(model, model_mask(model, decided))
        lines += [reading[0], *(f"  {line}" for line in reading[1:]), ""]
    return lines


# ---- pairwise log-rank, the test for trend, the landmark ------------------------------------
# (issue 14, part 5: keys added to the report; nothing above changes)


def _pairwise(
    comparison: Comparison, path: str, small: set[str], privacy: _Suppression
) -> list[dict[str, Any]]:
    """Each pair's log-rank p and Holm p; in privacy mode hidden for a pair with a group
    whose summaries are withheld (``small``: tables.comparison_withheld)."""
    return [
        {"group": pair.group, "other": pair.other}
        | {key: privacy.derived(f"{path}.pairwise[{i}].{key}", getattr(pair, key),
                                pair.group in small or pair.other in small)
           for key in ("p", "p_holm")}
        for i, pair in enumerate(comparison.pairwise)
    ]  # fmt: skip


def _trend(
    comparison: Comparison, path: str, small: set[str], privacy: _Suppression
) -> dict[str, Any]:
    """The test for trend; in privacy mode hidden when any group's summaries are withheld
    (``small``: tables.comparison_withheld)."""
    test = comparison.trend
    return {
        key: privacy.derived(f"{path}.trend.{key}", getattr(test, key) if test else None,
                             bool(small))
        for key in ("statistic", "p")
    }  # fmt: skip


def _with_comparisons(
    report: dict[str, Any], view: ReportView, privacy: _Suppression
) -> dict[str, Any]:
    """The report with, compared, each endpoint's ``pairwise`` (more than two groups) and
    ``trend`` (an ordered split), and with ``--landmark`` each endpoint's ``landmark``."""
    for endpoint, result in view.survival.items():
        path, entry = f"patency.{endpoint}", report["patency"][endpoint]
        comparison = result.comparison
        if comparison is not None:
            small = _withheld_groups(view, endpoint, result, privacy.mask)
            if len(comparison.levels) > 2:
                entry["pairwise"] = _pairwise(comparison, path, small, privacy)
                entry["pairwise_test"] = _test_name(comparison)
            if comparison.ordered:
                entry["trend"] = _trend(comparison, path, small, privacy)
                entry["trend_test"] = comparison.trend.test if comparison.trend else None
        if result.landmark is not None:
            overall = result.landmark.survival.overall
            where = f"{path}.landmark.overall"
            since = _curve(view, endpoint, overall, result.landmark.month)
            entry["landmark"] = {
                "month": result.landmark.month,
                "overall": _rows(overall, where, since, privacy),
            }
    return report


def _test_name(comparison: Comparison) -> str | None:
    """The test of a comparison's pairs: the test across its groups' (the robust score
    test where limbs are clustered by patient, each pair's too); None where the groups
    could not be compared."""
    return comparison.logrank.test if comparison.logrank is not None else None


def _comparison_lines(view: ReportView, data: dict[str, Any], text: _Text) -> list[str]:
    """The text report's pairwise tests, tests for trend and landmark estimates, from
    report_json's values."""
    variables = view.cohort_filter.variables

    def p(path: str, value: Any) -> str:
        return SUPPRESSED if path in text.suppressed else fmt.p_statement(value)

    lines = []
    for endpoint in view.survival:
        entry, path = data["patency"][endpoint], f"patency.{endpoint}"
        heading = [ENDPOINTS[endpoint]]
        for i, pair in enumerate(entry.get("pairwise", [])):
            where = f"{path}.pairwise[{i}]"
            name = COMPARISON_TESTS[entry["pairwise_test"] or LOGRANK].lower()
            heading.append(
                f"  {name} {fmt.group(view.by, pair['group'], variables)} vs "
                f"{fmt.level(view.by, pair['other'], variables)}: {p(f'{where}.p', pair['p'])}, "
                f"Holm-adjusted {p(f'{where}.p_holm', pair['p_holm'])}"
            )
        if "trend" in entry:
            trend = entry["trend"]
            hidden = f"{path}.trend.statistic" in text.suppressed
            statistic = SUPPRESSED if hidden else fmt.statistic(trend["statistic"])
            name = TREND_TESTS[entry["trend_test"] or LOGRANK].lower()
            heading.append(
                f"  {name} (scores 1..k in display order): chi2 = "
                f"{statistic}, {p(f'{path}.trend.p', trend['p'])}"
            )
        if "landmark" in entry:
            month = fmt.months(entry["landmark"]["month"])
            heading.append(
                f"  landmark at {month} months (patients with time > {month}; months since it)"
            )
            heading += _estimate_lines(
                "all", entry["landmark"]["overall"], f"{path}.landmark.overall", text
            )[1:]
        if len(heading) > 1:
            lines += [*heading, ""]
    return lines
