"""The scriptable report: a report view (analytics.views) as JSON, or as text for a person.

``python -m analytics report`` prints it; researchers script against the JSON keys
(documented in the README), so they keep their names and types; ``report_version``
says which conventions the numbers follow. Version 2: in each row of ``overall`` and
``groups``, ``events`` and ``censored`` count patients whose event or censoring came
before the month (KMunicate), so at_risk + events + censored is the curve's patients.
"""

from __future__ import annotations

import math
from typing import Any

from analytics.filters import to_params
from analytics.glossary import (
    DEMO_NOTICE,
    ENDPOINTS,
    PTS,
    REFLUX,
    SAFETY_EVENTS,
    SEVERITY_SCORE,
    UNRELIABLE,
)
from analytics.present import format as fmt
from analytics.rules import SE_UNRELIABLE
from analytics.stats.clinical import BinaryChange, ScoreChange
from analytics.stats.engine.kaplan_meier import AtMonths
from analytics.stats.models import AdjustedModel
from analytics.stats.survival import EndpointSurvival
from analytics.views import ReportView

REPORT_VERSION = 2
ROW_KEYS = ("month", "estimate", "ci_lower", "ci_upper", "se", "at_risk", "events", "censored")
SAFETY_KEYS = ("patients", "percent", "ci_lower", "ci_upper", "events", "per_100_patient_years")


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


def _rows(estimates: AtMonths) -> list[dict[str, Any]]:
    columns = [getattr(estimates, key).tolist() for key in ROW_KEYS]
    return [dict(zip(ROW_KEYS, values, strict=True)) for values in zip(*columns, strict=True)]


def _endpoint(result: EndpointSurvival) -> dict[str, Any]:
    entry: dict[str, Any] = {"overall": _rows(result.overall.estimates)}
    comparison = result.comparison
    if comparison is None:
        return entry
    test = comparison.logrank
    return entry | {
        "groups": {group.level: _rows(group.estimates) for group in result.groups},
        "logrank_statistic": test.statistic if test else None,
        "logrank_p": test.p if test else None,
        "hazard_ratios": [
            {
                "group": ratio.level, "reference": ratio.reference, "hr": ratio.hr,
                "ci_lower": ratio.ci_lower, "ci_upper": ratio.ci_upper, "p": ratio.p,
                "estimable": ratio.estimable, "reason": ratio.reason,
            }
            for ratio in comparison.hazard_ratios
        ],
        "notes": [] if test else ["fewer than two groups in this cohort: nothing to compare"],
    }  # fmt: skip


def _score(score: ScoreChange, when: str) -> dict[str, float]:
    return {"mean": getattr(score, f"mean_{when}"), "sd": getattr(score, f"sd_{when}")}


def _binary(name: str, change: BinaryChange) -> dict[str, Any]:
    return {
        f"{name}_before": change.before,
        f"{name}_after": change.after,
        f"{name}_p": change.p,
        f"{name}_pairs": change.n,
    }


def report_json(view: ReportView) -> dict[str, Any]:
    """Everything the report prints, as one JSON-ready dict (keys in the README)."""
    change, safety = view.clinical, view.safety
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "cohort": {
            "name": view.name,
            "is_reconstruction": view.is_reconstruction,
            "filter": to_params(view.cohort_filter),
            "by": view.by,
        },
        "n_patients": safety.patients,
        "patient_years": safety.patient_years,
        "patency": {endpoint: _endpoint(result) for endpoint, result in view.survival.items()},
        "clinical": {
            "ceap_before": change.ceap_counts("before"),
            "ceap_after": change.ceap_counts("after"),
            "severity_score_before": _score(change.severity_score, "before"),
            "severity_score_after": _score(change.severity_score, "after"),
            "severity_score_p": change.severity_score.p,
            "villalta_before": _score(change.villalta, "before"),
            "villalta_after": _score(change.villalta, "after"),
            "villalta_p": change.villalta.p,
            **_binary("pts", change.pts),
            **_binary("reflux", change.reflux),
        },
        "safety": {
            row["event"]: {
                "patients": row["patients"],
                "percent": 100 * row["proportion"],
                "ci_lower": 100 * row["ci_lower"],
                "ci_upper": 100 * row["ci_upper"],
                "events": row["events"],
                "per_100_patient_years": row["per_100_patient_years"],
            }
            for row in safety.table.to_dict("records")
        },
    }
    for endpoint, model in view.adjusted.items():
        report["patency"][endpoint] |= _adjusted(model)
    return _clean(report)


def report_text(view: ReportView) -> str:
    """The report for a person: aligned tables, plain words."""
    lines = [f"Cohort: {view.name}"]
    if view.is_reconstruction:
        lines.append(DEMO_NOTICE)
    lines += [
        f"Filter: {fmt.filter_words(view.cohort_filter)}",
        f"Patients: {fmt.count(view.safety.patients)}",
        "",
    ]
    for endpoint, result in view.survival.items():
        lines.append(f"{ENDPOINTS[endpoint]} (Kaplan-Meier %, 95% CI log-log)")
        lines += _estimate_lines("all", result.overall.estimates)
        for group in result.groups:
            lines += _estimate_lines(fmt.group(view.by, group.level), group.estimates)
        comparison = result.comparison
        if comparison is not None and comparison.logrank is not None:
            lines.append(
                f"  log-rank chi2 = {fmt.statistic(comparison.logrank.statistic)}, "
                f"{fmt.p_statement(comparison.logrank.p)}"
            )
            lines += [f"  {fmt.hazard_ratio_line(r, view.by)}" for r in comparison.hazard_ratios]
        lines.append("")
    lines += _adjusted_lines(view)
    lines += ["Clinical outcomes, before the procedure vs last visit", *_clinical_lines(view)]
    lines += ["", "Safety"]
    width = max(len(label) for label in SAFETY_EVENTS.values())
    for row in view.safety.table.itertuples():
        lines.append(
            f"  {SAFETY_EVENTS[row.event]:<{width}} {fmt.count(row.patients):>9} patients  "
            f"{fmt.percent(row.proportion):>6} (95% CI {fmt.ci(row.ci_lower, row.ci_upper)})  "
            f"{fmt.rate(row.per_100_patient_years)} per 100 patient-years"
        )
    return "\n".join(lines) + "\n"


def _clinical_lines(view: ReportView) -> list[str]:
    change = view.clinical

    def classes(counts: dict[str, int]) -> str:
        return ", ".join(f"{c} {fmt.count(n)}" for c, n in counts.items() if n) or "none"

    def score(score: ScoreChange, label: str) -> str:
        if not score.n:
            return f"  {label}: no paired assessments"
        return (
            f"  {label}: {fmt.mean_sd(score.mean_before, score.sd_before, 2)} -> "
            f"{fmt.mean_sd(score.mean_after, score.sd_after, 2)} "
            f"(Wilcoxon signed-rank {fmt.p_statement(score.p)})"
        )

    def binary(change: BinaryChange, label: str) -> str:
        return (
            f"  {label}: {fmt.count(change.before)} -> {fmt.count(change.after)} of "
            f"{fmt.count(change.n)} (exact McNemar {fmt.p_statement(change.p)})"
        )

    return [
        f"  CEAP before: {classes(change.ceap_counts('before'))}; "
        f"after: {classes(change.ceap_counts('after'))}",
        score(change.severity_score, SEVERITY_SCORE),
        score(change.villalta, "Villalta"),
        binary(change.pts, PTS),
        binary(change.reflux, REFLUX),
    ]


def _estimate_lines(label: str, estimates: AtMonths) -> list[str]:
    lines = [f"  {label}"]
    for i, month in enumerate(estimates.month):
        interval = fmt.ci(estimates.ci_lower[i], estimates.ci_upper[i])
        flag = f"  {UNRELIABLE}: unreliable" if estimates.se[i] > SE_UNRELIABLE else ""
        lines.append(
            f"    {fmt.months(month):>4} months: {fmt.percent(estimates.estimate[i]):>6} "
            f"({'no CI' if interval == fmt.MISSING else interval})  "
            f"at risk {fmt.count(estimates.at_risk[i]):>9}  "
            f"events before {fmt.count(estimates.events[i]):>9}  "
            f"censored before {fmt.count(estimates.censored[i]):>9}{flag}"
        )
    return lines


TERM_KEYS = ("term", "hr", "ci_lower", "ci_upper", "p")


def _adjusted(model: AdjustedModel) -> dict[str, Any]:
    """An endpoint's adjusted model (``--adjust``): the README's ``adjusted`` keys."""
    return {
        "adjusted": [{key: getattr(t, key) for key in TERM_KEYS} for t in model.terms],
        "crude": [{key: getattr(t, key) for key in TERM_KEYS} for t in model.crude],
        "adjusted_patients": model.patients,
        "adjusted_events": model.events,
        "adjusted_excluded": model.excluded,
        "events_per_variable": model.events_per_variable,
        "ph_test": [{"term": t.term, "statistic": t.statistic, "p": t.p} for t in model.ph_test],
        "adjusted_notes": list(model.notes),
    }


def _adjusted_lines(view: ReportView) -> list[str]:
    """Each endpoint's adjusted model: crude and adjusted HR per term, EPV, the PH test."""
    lines = []
    for endpoint, model in view.adjusted.items():
        lines.append(f"{ENDPOINTS[endpoint]}: Cox model (Efron ties), crude | adjusted HR (95% CI)")
        lines.append(
            f"  {fmt.count(model.patients)} patients, {fmt.count(model.excluded)} left out for a "
            f"missing covariate; {fmt.events_per_variable(model)}"
        )
        crude = {t.term: t for t in model.crude}
        for term in model.terms:
            lines.append(
                f"  {fmt.term(term)}: {fmt.term_ratio(crude[term.term])} | {fmt.term_ratio(term)}"
            )
        lines += [f"  PH test, {fmt.term(t)}: {fmt.ph_reading(t)}" for t in model.ph_test]
        lines += [f"  note: {note}" for note in model.notes]
        lines.append("")
    return lines
