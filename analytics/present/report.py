"""The scriptable report: every headline result for one filter, as JSON or text.

``python -m analytics report`` prints it; researchers script against the JSON keys
(documented in the README), so they are stable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

from analytics.cohort.db import is_reconstruction, metadata
from analytics.filters import CohortFilter, to_params
from analytics.glossary import DEMO_NOTICE, ENDPOINTS, GROUPINGS
from analytics.present.tables import p_statement
from analytics.stats.clinical import BinaryChange, ScoreChange, clinical_change
from analytics.stats.safety import cohort_size, safety_table
from analytics.stats.survival import compare_groups, estimates_at, event_counts

ROW_KEYS = ("month", "estimate", "ci_lower", "ci_upper", "se", "at_risk", "events", "censored")


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


def _rows(table: pd.DataFrame) -> list[dict]:
    return [{key: row[key] for key in ROW_KEYS} for row in table.to_dict("records")]


def _score(score: ScoreChange, when: str) -> dict[str, float]:
    return {"mean": getattr(score, f"mean_{when}"), "sd": getattr(score, f"sd_{when}")}


def _binary(name: str, change: BinaryChange) -> dict[str, Any]:
    return {
        f"{name}_before": change.before,
        f"{name}_after": change.after,
        f"{name}_p": change.p,
        f"{name}_pairs": change.n,
    }


def build_report(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    by: str | None = None,
    months: Sequence[float] = (6, 12, 24, 36),
) -> dict[str, Any]:
    """Everything the report prints, as one JSON-ready dict."""
    n, patient_years = cohort_size(con, cohort_filter)
    meta = metadata(con)
    report: dict[str, Any] = {
        "cohort": {
            "name": meta.get("name", ""),
            "is_reconstruction": is_reconstruction(meta),
            "filter": to_params(cohort_filter),
            "by": by,
        },
        "n_patients": n,
        "patient_years": patient_years,
        "patency": {},
    }
    for endpoint in ENDPOINTS:
        result: dict[str, Any] = {
            "overall": _rows(estimates_at(event_counts(con, cohort_filter, endpoint), months))
        }
        if by:
            comparison = compare_groups(con, cohort_filter, endpoint, by, months)
            result |= {
                "groups": {level: _rows(t) for level, t in comparison.estimates.items()},
                "logrank_statistic": comparison.logrank_statistic,
                "logrank_p": comparison.logrank_p,
                "hazard_ratios": comparison.hazard_ratios.to_dict("records"),
                "notes": comparison.notes,
            }
        report["patency"][endpoint] = result
    change = clinical_change(con, cohort_filter)
    report["clinical"] = {
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
    }
    report["safety"] = {
        row["event"]: {
            key: row[key]
            for key in (
                "patients",
                "percent",
                "ci_lower",
                "ci_upper",
                "events",
                "per_100_patient_years",
            )
        }
        for row in safety_table(con, cohort_filter).to_dict("records")
    }
    return _clean(report)


def _pct(value: float | None) -> str:
    return "  -  " if value is None else f"{100 * value:5.1f}"


def render_text(report: dict[str, Any]) -> str:
    """The report for a person: aligned tables, plain words."""
    cohort = report["cohort"]
    lines = [f"Cohort: {cohort['name']}"]
    if cohort["is_reconstruction"]:
        lines.append(DEMO_NOTICE)
    filters = ", ".join(f"{k}={v}" for k, v in cohort["filter"].items())
    lines += [
        f"Filter: {filters or 'technical successes, no filter'}",
        f"Patients: {report['n_patients']:,}",
        "",
    ]
    for endpoint, result in report["patency"].items():
        lines.append(f"{ENDPOINTS[endpoint]} (Kaplan-Meier %, 95% CI log-log)")
        lines += _estimate_lines("all", result["overall"])
        for level, rows in result.get("groups", {}).items():
            lines += _estimate_lines(f"{GROUPINGS[cohort['by']]}={level}", rows)
        if result.get("logrank_p") is not None:
            lines.append(
                f"  log-rank chi2 = {result['logrank_statistic']:.2f}, "
                f"{p_statement(result['logrank_p'])}"
            )
            lines += [f"  {_hazard_ratio_line(hr)}" for hr in result["hazard_ratios"]]
        lines.append("")
    lines += [
        "Clinical outcomes, before the procedure vs last visit",
        *_clinical_lines(report["clinical"]),
    ]
    lines += ["", "Safety"]
    for event, row in report["safety"].items():
        lines.append(
            f"  {event:<20} {row['patients']:>9,} patients  {row['percent'] or 0:5.1f}% "
            f"(95% CI {row['ci_lower'] or 0:.1f}-{row['ci_upper'] or 0:.1f})  "
            f"{row['per_100_patient_years'] or 0:.2f} per 100 patient-years"
        )
    return "\n".join(lines) + "\n"


def _hazard_ratio_line(hr: dict[str, Any]) -> str:
    if not hr["estimable"]:
        return f"{hr['group']} vs {hr['reference']}: HR not estimable ({hr['reason']})"
    return (
        f"{hr['group']} vs {hr['reference']}: HR {hr['hr']:.2f} "
        f"(95% CI {hr['ci_lower']:.2f}-{hr['ci_upper']:.2f}), {p_statement(hr['p'])}"
    )


def _clinical_lines(clinical: dict[str, Any]) -> list[str]:
    def classes(counts: dict[str, int]) -> str:
        return ", ".join(f"{c} {n}" for c, n in counts.items() if n) or "none"

    def score(name: str, label: str) -> str:
        before, after = clinical[f"{name}_before"], clinical[f"{name}_after"]
        if before["mean"] is None:
            return f"  {label}: no paired assessments"
        return (
            f"  {label}: {before['mean']:.2f} ± {before['sd'] or 0:.2f} -> "
            f"{after['mean']:.2f} ± {after['sd'] or 0:.2f} "
            f"(Wilcoxon signed-rank {p_statement(clinical[f'{name}_p'])})"
        )

    def binary(name: str, label: str) -> str:
        return (
            f"  {label}: {clinical[f'{name}_before']} -> {clinical[f'{name}_after']} of "
            f"{clinical[f'{name}_pairs']} (exact McNemar {p_statement(clinical[f'{name}_p'])})"
        )

    return [
        f"  CEAP before: {classes(clinical['ceap_before'])}; "
        f"after: {classes(clinical['ceap_after'])}",
        score("severity_score", "Clinical severity score (CEAP C - 2)"),
        score("villalta", "Villalta"),
        binary("pts", "PTS (Villalta >= 5 or ulcer)"),
        binary("reflux", "Reflux >= 0.5 s"),
    ]


def _estimate_lines(label: str, rows: list[dict]) -> list[str]:
    lines = [f"  {label}"]
    for r in rows:
        ci = (
            "no CI"
            if r["ci_lower"] is None
            else f"{_pct(r['ci_lower'])}-{_pct(r['ci_upper']).strip()}"
        )
        flag = "  SE > 10%: unreliable" if (r["se"] or 0) > 0.10 else ""
        lines.append(
            f"    {r['month']:>4g} months: {_pct(r['estimate'])}% ({ci})  "
            f"at risk {r['at_risk']:>9,}  events {r['events']:>9,}  censored {r['censored']:>9,}"
            f"{flag}"
        )
    return lines
