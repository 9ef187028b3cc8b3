"""The source paper's Tables 1-3, recomputed for any filter, ready to show and export.

Each table is a data frame of formatted text (what a clinician reads and pastes),
built from the numeric results of the other modules; nothing is computed here
that another module already computes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import duckdb
import pandas as pd

from analytics.filters import PATTERN_SQL, CohortFilter, cohort_sql
from analytics.glossary import (
    CEAP_CLASSES,
    DEFAULT_MONTHS,
    ENDPOINTS,
    PAPER_SEGMENT_ROWS,
    PATENCY_ENDPOINTS,
    RISK_FACTORS,
    SAFETY_EVENTS,
    SEGMENTS,
)
from analytics.stats.clinical import BinaryChange, ClinicalChange, ScoreChange
from analytics.stats.survival import GroupComparison

ULCER_HEALING_MONTHS = 3


def baseline_stats(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> dict:
    """Table 1's numbers: n, age, sex, BMI, side, risk factors, segments, follow-up."""
    cohort, params = cohort_sql(cohort_filter)
    risk = ", ".join(f"count_if({c}) AS {c}" for c in RISK_FACTORS)
    segments = ", ".join(f"count_if({c}) AS {c}" for c in SEGMENTS)
    row = con.execute(
        f"""
        SELECT count(*) AS n,
               avg(age_years) AS age_mean, stddev_samp(age_years) AS age_sd,
               min(age_years) AS age_min, max(age_years) AS age_max,
               count_if(sex = 'F') AS female,
               avg(bmi) AS bmi_mean, stddev_samp(bmi) AS bmi_sd,
               count_if(lesion_side = 'left') AS left,
               {risk}, {segments},
               avg(follow_up_months) AS follow_up_mean,
               min(follow_up_months) AS follow_up_min, max(follow_up_months) AS follow_up_max
        FROM ({cohort})
        """,
        params,
    ).df()
    stats = row.iloc[0].to_dict()
    # count the segment combinations first: the pattern's text is then built per combination
    # (16 at most), not per patient
    patterns = con.execute(
        f"""
        SELECT {PATTERN_SQL} AS pattern, sum(n)::INT
        FROM (SELECT {", ".join(SEGMENTS)}, count(*) AS n FROM ({cohort}) GROUP BY ALL)
        GROUP BY 1 ORDER BY 1
        """,
        params,
    ).fetchall()
    stats["patterns"] = dict(patterns)
    stats["segment_rows"] = segment_rows(stats["patterns"])
    return stats


def segment_rows(patterns: Mapping[str, int]) -> dict[str, int]:
    """Count each lesion in every widest published pattern it contains (the paper's rows).

    A lesion's published rows are the rows contained in it that no other contained
    row extends: IVC+CIV+EIV+CFV counts as IVC+CIV and as CIV+EIV+CFV, which is how
    the paper's rows add up to 36 for 34 patients. Lesions matching no row are 'other'.
    """
    rows = {row: 0 for row in PAPER_SEGMENT_ROWS} | {"other": 0}
    for pattern, count in patterns.items():
        lesion = set(pattern.split("+"))
        inside = [row for row in PAPER_SEGMENT_ROWS if set(row.split("+")) <= lesion]
        widest = [
            r for r in inside if not any(set(r.split("+")) < set(o.split("+")) for o in inside)
        ]
        for row in widest or ["other"]:
            rows[row] += count
    return rows


def _pct(count: int, n: int) -> str:
    return f"{count:,} ({100 * count / n:.1f}%)" if n else f"{count:,}"


def _mean_sd(mean: float, sd: float, digits: int = 1) -> str:
    if pd.isna(mean):
        return "-"
    return f"{mean:.{digits}f} ± {sd:.{digits}f}" if not pd.isna(sd) else f"{mean:.{digits}f}"


def format_p(p: float | None) -> str:
    """A p-value as clinicians read it: three decimals, or < 0.001."""
    if p is None or pd.isna(p):
        return "-"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_statement(p: float | None) -> str:
    """A p-value in a sentence: "p = 0.238", "p < 0.001", or "p -" when there is none."""
    text = format_p(p)
    return f"p {text}" if text.startswith("<") or text == "-" else f"p = {text}"


def table1(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> pd.DataFrame:
    """Demographic and clinical characteristics (the paper's Table 1)."""
    s = baseline_stats(con, cohort_filter)
    n = int(s["n"])
    rows = [
        ("Patients", f"{n:,}"),
        (
            "Age, years, mean ± SD (range)",
            f"{_mean_sd(s['age_mean'], s['age_sd'])} ({_range(s, 'age')})",
        ),
        ("Female", _pct(int(s["female"]), n)),
        ("Body mass index, mean ± SD", _mean_sd(s["bmi_mean"], s["bmi_sd"], 2)),
        ("Lesion side: left", _pct(int(s["left"]), n)),
        *((label, _pct(int(s[column]), n)) for column, label in RISK_FACTORS.items()),
        *(
            (f"Segments (paper's rows): {row}", _pct(count, n))
            for row, count in s["segment_rows"].items()
            if row != "other" or count
        ),
        *(
            (f"Segment involved: {label}", _pct(int(s[column]), n))
            for column, label in SEGMENTS.items()
        ),
        (
            "Follow-up, months, mean (range)",
            f"{s['follow_up_mean']:.1f} ({_range(s, 'follow_up')})" if n else "-",
        ),
    ]
    return pd.DataFrame(rows, columns=["Characteristic", "Value"])


def _range(stats: dict, prefix: str) -> str:
    low, high = stats[f"{prefix}_min"], stats[f"{prefix}_max"]
    return "-" if pd.isna(low) else f"{low:g}-{high:g}"


def table2(
    con: duckdb.DuckDBPyConnection,
    cohort_filter: CohortFilter,
    change: ClinicalChange,
    patency: Mapping[str, pd.DataFrame],
    safety: pd.DataFrame,
    months: tuple[int, ...] = DEFAULT_MONTHS,
) -> pd.DataFrame:
    """Intervention, patency, clinical and safety outcomes (the paper's Table 2).

    The filter's results the other pages show come in computed: ``change`` (its clinical
    change, shared with Table 3), ``patency`` (each patency endpoint's estimates,
    survival.estimates_at, at ``months`` or more) and ``safety`` (safety.safety_table).
    """
    everyone, _ = _counts(con, replace(cohort_filter, population="all"))
    successes, stented = _counts(con, replace(cohort_filter, population="technical_success"))
    n = successes if cohort_filter.population == "technical_success" else everyone
    rows = [
        (
            "Technical success",
            f"{successes:,}/{everyone:,}"
            + (f" ({100 * successes / everyone:.1f}%)" if everyone else ""),
        ),
        ("Stent implanted (technical successes)", f"{stented:,}"),
    ]
    for endpoint in PATENCY_ENDPOINTS:
        table = patency[endpoint]
        for r in table[table["month"].isin(months)].itertuples():
            value = (
                "-"
                if pd.isna(r.estimate)
                else (
                    f"{100 * r.estimate:.1f}% "
                    f"(95% CI {format_ci(r.ci_lower, r.ci_upper)}); at risk {r.at_risk:,}"
                )
            )
            rows.append((f"{ENDPOINTS[endpoint]} at {r.month} months", value))
    rows += [
        ("Reflux >= 0.5 s at last visit", _pct(change.reflux.after, change.reflux.n)),
        ("PTS at last visit", _pct(change.pts.after, change.pts.n)),
        (
            "Villalta at last visit, mean ± SD",
            _mean_sd(change.villalta.mean_after, change.villalta.sd_after, 2),
        ),
        (
            f"Ulcers healed by {ULCER_HEALING_MONTHS} months",
            _pct(ulcers_healed(con, cohort_filter), n),
        ),
    ]
    patients = safety.set_index("event")["patients"]
    rows += [(SAFETY_EVENTS[e], _pct(int(patients[e]), n)) for e in SAFETY_EVENTS]
    return pd.DataFrame(rows, columns=["Outcome", "Value"])


def _counts(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> tuple[int, int]:
    cohort, params = cohort_sql(cohort_filter)
    n, stented = con.execute(
        "SELECT count(*), count_if(coalesce(stents, 1) >= 1 AND technical_success) "
        f"FROM ({cohort})",
        params,
    ).fetchall()[0]
    return int(n), int(stented)


def ulcers_healed(con: duckdb.DuckDBPyConnection, cohort_filter: CohortFilter) -> int:
    """Patients whose ulcer healed within the paper's 3 months."""
    cohort, params = cohort_sql(cohort_filter)
    return con.execute(
        f"SELECT count_if(ulcer_healed_months <= ?) FROM ({cohort})",
        [ULCER_HEALING_MONTHS, *params],
    ).fetchall()[0][0]


def table3(change: ClinicalChange) -> pd.DataFrame:
    """Clinical outcomes before the procedure and at the last visit (the paper's Table 3)."""
    before, after = change.ceap_counts("before"), change.ceap_counts("after")
    n = change.ceap_shift.to_numpy().sum()
    rows = [_score_row("Clinical severity score (CEAP C - 2), mean ± SD", change.severity_score, 2)]
    rows += [
        (CEAP_CLASSES[c], _pct(before[f"C{c}"], n), _pct(after[f"C{c}"], n), "", "")
        for c in CEAP_CLASSES
        if before[f"C{c}"] or after[f"C{c}"]
    ]
    rows += [
        _binary_row("Reflux >= 0.5 s", change.reflux),
        _binary_row("PTS (Villalta >= 5 or ulcer)", change.pts),
        _score_row("Villalta score, mean ± SD", change.villalta, 2),
    ]
    return pd.DataFrame(rows, columns=["Measure", "Before", "After", "P value", "Test"])


def _score_row(label: str, score: ScoreChange, digits: int) -> tuple[str, str, str, str, str]:
    return (
        label,
        _mean_sd(score.mean_before, score.sd_before, digits),
        _mean_sd(score.mean_after, score.sd_after, digits),
        format_p(score.p),
        "Wilcoxon signed-rank",
    )


def _binary_row(label: str, change: BinaryChange) -> tuple[str, str, str, str, str]:
    return (
        label,
        _pct(change.before, change.n),
        _pct(change.after, change.n),
        format_p(change.p),
        "McNemar (exact)",
    )


def format_ci(lower: float, upper: float) -> str:
    """A 95% CI of proportions as percent, or "-" where none exists (estimate 0 or 100%)."""
    if pd.isna(lower) or pd.isna(upper):
        return "-"
    return f"{100 * lower:.1f}-{100 * upper:.1f}"


def format_cis(lower: pd.Series, upper: pd.Series) -> list[str]:
    """``format_ci`` for each row of two columns of limits."""
    return [format_ci(lo, hi) for lo, hi in zip(lower, upper, strict=True)]


def estimates_table(estimates: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Estimates at months for several curves, formatted for a table and its CSV export."""
    rows = []
    for label, table in estimates.items():
        for r in table.itertuples():
            missing = pd.isna(r.estimate)
            rows.append(
                {
                    "Curve": label,
                    "Month": r.month,
                    "Estimate (%)": None if missing else round(100 * r.estimate, 1),
                    "95% CI (%)": format_ci(r.ci_lower, r.ci_upper),
                    "SE (%)": None if missing else round(100 * r.se, 1),
                    "At risk": r.at_risk,
                    "Events": r.events,
                    "Censored": r.censored,
                    "Reliable (SE <= 10%)": "-" if missing else ("no" if r.unreliable else "yes"),
                }
            )
    return pd.DataFrame(rows)


def comparison_note(comparison: GroupComparison) -> str:
    """One line for a chart: the log-rank p and each hazard ratio against the reference."""
    if comparison.logrank_p is None:
        return "; ".join(comparison.notes)
    parts = [f"Log-rank {p_statement(comparison.logrank_p)}"]
    for row in comparison.hazard_ratios.itertuples():
        if row.estimable:
            parts.append(
                f"HR {row.group} vs {row.reference}: {row.hr:.2f} "
                f"({row.ci_lower:.2f}-{row.ci_upper:.2f})"
            )
        else:
            parts.append(f"HR {row.group}: not estimable ({row.reason})")
    return "<br>".join(parts)


def ceap_shift_table(shift: pd.DataFrame) -> pd.DataFrame:
    """The shift matrix as a labelled table (rows before, columns last visit), used classes."""
    rows = [c for c in CEAP_CLASSES if shift.loc[c].sum() > 0]
    cols = [c for c in CEAP_CLASSES if shift[c].sum() > 0]
    table = shift.loc[rows, cols].copy()
    table.index = [f"C{c} before" for c in rows]
    table.columns = [f"C{c} after" for c in cols]
    table["Total"] = table.sum(axis=1)
    return table.astype(int)


def safety_display(table: pd.DataFrame) -> pd.DataFrame:
    """The safety table with clinicians' column names and rounded figures."""
    return pd.DataFrame(
        {
            "Event": table["label"],
            "Patients": table["patients"],
            "Percent": table["percent"].round(1),
            "95% CI (%)": [
                f"{lo:.1f}-{hi:.1f}"
                for lo, hi in zip(table["ci_lower"], table["ci_upper"], strict=True)
            ],
            "Events": table["events"],
            "Within 30 days": table["events_within_30_days"],
            "Later": table["events_later"],
            "Per 100 patient-years": table["per_100_patient_years"].round(2),
        }
    )


def estimate_columns(table: pd.DataFrame) -> dict[str, pd.Series | list[str]]:
    """Patients, events, and the estimate with its 95% CI, as every group table shows them."""
    return {
        "Patients": table["patients"],
        "Events": table["events"],
        "Estimate (%)": (100 * table["estimate"]).round(1),
        "95% CI (%)": format_cis(table["ci_lower"], table["ci_upper"]),
    }


def subgroup_display(table: pd.DataFrame) -> pd.DataFrame:
    """The subgroup table with clinicians' column names, for showing and CSV export."""

    def ratio(row: pd.Series) -> str:
        if row["is_reference"]:
            return "reference"
        if not row["estimable"]:
            return f"not estimable: {row['reason']}"
        return f"{row['hr']:.2f} ({row['hr_lower']:.2f}-{row['hr_upper']:.2f})"

    return pd.DataFrame(
        {
            "Factor": table["factor_label"],
            "Group": table["level"],
            **estimate_columns(table),
            "Hazard ratio (95% CI)": table.apply(ratio, axis=1),
            "Log-rank p": table["logrank_p"].map(format_p),
            "Unstable (< 10 patients or < 5 events)": table["unstable"].map(
                {True: "yes", False: ""}
            ),
        }
    )
