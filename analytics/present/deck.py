"""A PowerPoint deck of one view: the same filter, the same numbers as the screen.

Slides: title (cohort, provenance, filter, n); patency curves with the at-risk
table; CEAP shift; Villalta and PTS; safety; subgroup forest plot; Table 1 as a
native, editable table. Each chart slide carries the chart as a picture (rendered
by analytics.present.render) and its key numbers as text; the speaker notes hold the
estimates, intervals, tests and p-values, taken from the report (analytics.present.report)
so the deck, the report and the screen agree.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import duckdb
import plotly.graph_objects as go
from pptx import Presentation
from pptx.util import Inches, Pt

from analytics.cohort.db import is_reconstruction, metadata
from analytics.filters import CohortFilter, describe
from analytics.glossary import (
    DEFAULT_MONTHS,
    DEMO_NOTICE,
    ENDPOINTS,
    GROUPINGS,
    PATENCY_ENDPOINTS,
    RISK_TABLE_MONTHS,
    SAFETY_EVENTS,
)
from analytics.present.figures import clinical as clinical_figures
from analytics.present.figures.patency import CurveSpec, endpoint_specs, km_figure
from analytics.present.figures.safety import safety_bars
from analytics.present.figures.subgroups import forest_plot
from analytics.present.figures.theme import group_colour, presentation_style
from analytics.present.privacy import count_text, mask_table
from analytics.present.render import SLIDE_SIZE, render
from analytics.present.report import build_report
from analytics.present.tables import p_statement, table1
from analytics.stats.clinical import clinical_change
from analytics.stats.safety import safety_table
from analytics.stats.subgroups import subgroup_table
from analytics.stats.survival import ALL_PATIENTS, event_counts, kaplan_meier_by_group

SLIDE_WIDTH, SLIDE_HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.4)
SUBGROUP_MONTH = 12
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


@dataclass(frozen=True)
class View:
    """What the deck shows: the filter, an optional comparison, privacy k."""

    cohort_filter: CohortFilter
    by: str | None = None
    k: int | None = None


def build_deck(con: duckdb.DuckDBPyConnection, view: View) -> bytes:
    """The .pptx bytes for ``view`` of the cohort behind ``con``."""
    report = build_report(con, view.cohort_filter, by=view.by, months=DEFAULT_MONTHS)
    meta = metadata(con)
    caption = _caption(meta, view, report["n_patients"])
    deck = Presentation()
    deck.slide_width, deck.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    _title_slide(deck, meta, view, report)
    if report["n_patients"] == 0:
        return _save(deck)
    change = clinical_change(con, view.cohort_filter)
    for title, figure, text, notes in (
        _patency(con, view, report),
        (
            "CEAP clinical class before and at the last visit",
            clinical_figures.ceap_sankey(change.ceap_shift, view.k),
            _ceap_text(report["clinical"]),
            _ceap_text(report["clinical"]),
        ),
        (
            "Villalta score and post-thrombotic syndrome",
            clinical_figures.villalta_pairs(change.villalta_pairs, change.villalta, view.k),
            _pts_text(report["clinical"], view.k),
            _clinical_notes(report["clinical"], view.k),
        ),
        (
            "Safety",
            safety_bars(safety_table(con, view.cohort_filter), view.k),
            _safety_text(report["safety"], view.k),
            _safety_text(report["safety"], view.k),
        ),
        _subgroups(con, view),
    ):
        _chart_slide(deck, title, presentation_style(figure, caption), text, notes)
    _table_slide(
        deck,
        "Table 1: baseline characteristics",
        mask_table(table1(con, view.cohort_filter), view.k),
    )
    return _save(deck)


def _caption(meta: dict[str, str], view: View, n: int) -> str:
    name = meta.get("name", "Cohort")
    by = f" · by {GROUPINGS[view.by].lower()}" if view.by else ""
    return f"{name} · {describe(view.cohort_filter)}{by} · n = {count_text(n, view.k)}"


def _save(deck: Any) -> bytes:
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def _title_slide(deck: Any, meta: dict[str, str], view: View, report: dict) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text = f"Venous stent outcomes: {meta.get('name', 'cohort')}"
    provenance = DEMO_NOTICE if is_reconstruction(meta) else meta.get("source", "")
    lines = [
        provenance,
        f"Filter: {describe(view.cohort_filter)}"
        + (f"; compared by {GROUPINGS[view.by].lower()}" if view.by else ""),
        f"n = {count_text(report['n_patients'], view.k)} patients",
    ]
    if view.k:
        lines.append(f"Privacy mode: counts below {view.k} shown as <{view.k}")
    slide.placeholders[1].text = "\n".join(lines)
    slide.notes_slide.notes_text_frame.text = "\n".join(lines)


def _chart_slide(deck: Any, title: str, figure: go.Figure, text: str, notes: str) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
    slide.shapes.title.text = title
    slide.shapes.title.text_frame.paragraphs[0].font.size = Pt(30)
    top = Inches(1.3)
    picture_width = Inches(9.2)
    picture = io.BytesIO(render(figure, "png", SLIDE_SIZE))
    slide.shapes.add_picture(picture, MARGIN, top, width=picture_width)
    box = slide.shapes.add_textbox(
        MARGIN + picture_width + Inches(0.2), top, SLIDE_WIDTH - picture_width - 2.6 * MARGIN,
        SLIDE_HEIGHT - top - MARGIN,
    )  # fmt: skip
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(text.splitlines()):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.text = line
        paragraph.font.size = Pt(14)
    slide.notes_slide.notes_text_frame.text = notes


def _table_slide(deck: Any, title: str, table: Any) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = title
    rows, cols = len(table) + 1, len(table.columns)
    shape = slide.shapes.add_table(
        rows, cols, MARGIN, Inches(1.3), SLIDE_WIDTH - 2 * MARGIN, Inches(0.3) * rows
    )
    grid = shape.table
    for j, column in enumerate(table.columns):
        grid.cell(0, j).text = str(column)
    for i, row in enumerate(table.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            grid.cell(i, j).text = str(value)
    for cell in (grid.cell(i, j) for i in range(rows) for j in range(cols)):
        for paragraph in cell.text_frame.paragraphs:
            paragraph.font.size = Pt(12)
    slide.notes_slide.notes_text_frame.text = table.to_csv(index=False)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _estimate_line(label: str, row: dict, k: int | None) -> str:
    if row["estimate"] is None:
        return f"{label} at {row['month']:g} months: not estimable (no one followed)"
    ci = (
        "no CI"
        if row["ci_lower"] is None
        else f"95% CI {_pct(row['ci_lower'])}-{_pct(row['ci_upper'])}"
    )
    return (
        f"{label} at {row['month']:g} months: {_pct(row['estimate'])} ({ci}); "
        f"at risk {count_text(row['at_risk'], k)}"
    )


def _patency(con: duckdb.DuckDBPyConnection, view: View, report: dict) -> tuple:
    patency = report["patency"]
    if view.by is None:
        results = {
            e: kaplan_meier_by_group(event_counts(con, view.cohort_filter, e), RISK_TABLE_MONTHS)[
                ALL_PATIENTS
            ]
            for e in PATENCY_ENDPOINTS
        }
        figure = km_figure(endpoint_specs(results), RISK_TABLE_MONTHS, title="Patency", k=view.k)
        rows = {ENDPOINTS[e]: patency[e]["overall"] for e in PATENCY_ENDPOINTS}
        text = "\n".join(
            _estimate_line(label, r, view.k)
            for label, rs in rows.items()
            for r in rs
            if r["month"] in (12, 36)
        )
        notes = "\n".join(
            _estimate_line(label, r, view.k) for label, rs in rows.items() for r in rs
        )
        return "Primary, assisted primary and secondary patency", figure, text, notes
    endpoint = "primary"
    counts = event_counts(con, view.cohort_filter, endpoint, view.by)
    results = kaplan_meier_by_group(counts, RISK_TABLE_MONTHS, view.by)
    specs = [
        CurveSpec(f"{GROUPINGS[view.by]}: {level}", group_colour(i), r.curve, r.risk)
        for i, (level, r) in enumerate(results.items())
    ]
    comparison = _comparison_lines(patency[endpoint])
    figure = km_figure(
        specs, RISK_TABLE_MONTHS, title=f"Primary patency by {GROUPINGS[view.by].lower()}",
        note=comparison[0], k=view.k,
    )  # fmt: skip
    groups = patency[endpoint]["groups"]
    lines = [_estimate_line(str(level), r, view.k) for level, rs in groups.items() for r in rs]
    text = "\n".join(comparison + [line for line in lines if " 12 months" in line])
    return (
        f"Primary patency by {GROUPINGS[view.by].lower()}",
        figure,
        text,
        "\n".join(comparison + lines),
    )


def _comparison_lines(endpoint_report: dict) -> list[str]:
    lines = [f"Log-rank {p_statement(endpoint_report['logrank_p'])}"]
    for hr in endpoint_report["hazard_ratios"]:
        if hr["estimable"]:
            lines.append(
                f"HR {hr['group']} vs {hr['reference']}: {hr['hr']:.2f} "
                f"(95% CI {hr['ci_lower']:.2f}-{hr['ci_upper']:.2f}), {p_statement(hr['p'])}"
            )
        else:
            lines.append(f"HR {hr['group']} vs {hr['reference']}: not estimable ({hr['reason']})")
    return lines


def _ceap_text(clinical: dict) -> str:
    before = ", ".join(f"{c} {n}" for c, n in clinical["ceap_before"].items() if n)
    after = ", ".join(f"{c} {n}" for c, n in clinical["ceap_after"].items() if n)
    sb, sa = clinical["severity_score_before"], clinical["severity_score_after"]
    return (
        f"Before: {before}\nLast visit: {after}\n"
        f"Clinical severity score (C - 2): {sb['mean']:.2f} ± {sb['sd']:.2f} → "
        f"{sa['mean']:.2f} ± {sa['sd']:.2f}; "
        f"Wilcoxon signed-rank {p_statement(clinical['severity_score_p'])}"
    )


def _pts_text(clinical: dict, k: int | None) -> str:
    vb, va = clinical["villalta_before"], clinical["villalta_after"]
    return (
        f"Villalta {vb['mean']:.2f} ± {vb['sd']:.2f} → {va['mean']:.2f} ± {va['sd']:.2f}; "
        f"Wilcoxon signed-rank {p_statement(clinical['villalta_p'])}\n"
        f"PTS {count_text(clinical['pts_before'], k)} → {count_text(clinical['pts_after'], k)}; "
        f"exact McNemar {p_statement(clinical['pts_p'])}"
    )


def _clinical_notes(clinical: dict, k: int | None) -> str:
    return _pts_text(clinical, k) + (
        f"\nReflux ≥ 0.5 s {count_text(clinical['reflux_before'], k)} → "
        f"{count_text(clinical['reflux_after'], k)}; "
        f"exact McNemar {p_statement(clinical['reflux_p'])}"
    )


def _safety_text(safety: dict, k: int | None) -> str:
    lines = []
    for event, row in safety.items():
        if row["patients"] and k and row["patients"] < k:
            lines.append(f"{SAFETY_EVENTS[event]}: <{k} patients")
            continue
        lines.append(
            f"{SAFETY_EVENTS[event]}: {row['patients']} patients, {row['percent']:.1f}% "
            f"(95% CI {row['ci_lower']:.1f}-{row['ci_upper']:.1f}), "
            f"{row['per_100_patient_years']:.2f} per 100 patient-years"
        )
    return "\n".join(lines)


def _subgroups(con: duckdb.DuckDBPyConnection, view: View) -> tuple:
    table = subgroup_table(con, view.cohort_filter, "primary", SUBGROUP_MONTH)
    figure = forest_plot(table, SUBGROUP_MONTH, ENDPOINTS["primary"], view.k)
    estimable = table[table["estimable"] & ~table["is_reference"]]
    lines = [
        f"{row.factor_label} {row.level}: HR {row.hr:.2f} ({row.hr_lower:.2f}-{row.hr_upper:.2f}), "
        f"log-rank {p_statement(row.logrank_p)}" + (" (unstable)" if row.unstable else "")
        for row in estimable.itertuples()
    ]
    note = "Unadjusted, one factor at a time: hypotheses, not findings."
    return "Subgroups: primary patency", figure, note, "\n".join([note, *lines])
