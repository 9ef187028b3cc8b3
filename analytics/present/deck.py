"""A PowerPoint deck of one view: the same filter, the same numbers as the screen.

Slides: title (cohort, provenance, filter, n); patency curves with the at-risk
table; the compared endpoint by group when the view compares; CEAP shift; Villalta and
PTS; safety; subgroup forest plot; Table 1 as a native, editable table. Each chart
slide carries the chart as a picture (rendered by analytics.present.render) and its key
numbers as text; the speaker notes hold the estimates, intervals, tests and p-values.
Everything comes from one deck view (analytics.views.DeckView) through the formatter,
the objects the report and the screen show, so the three agree.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from pptx import Presentation
from pptx.util import Inches, Pt

from analytics.cohort.db import is_reconstruction
from analytics.filters import CohortFilter
from analytics.glossary import DEMO_NOTICE, ENDPOINTS, GROUPINGS, PTS, REFLUX, SAFETY_EVENTS
from analytics.present import format as fmt
from analytics.present.figures import clinical as clinical_figures
from analytics.present.figures.patency import patency_figure
from analytics.present.figures.safety import safety_bars
from analytics.present.figures.subgroups import forest_plot
from analytics.present.figures.theme import presentation_style
from analytics.present.privacy import masked
from analytics.present.render import SLIDE_SIZE, render
from analytics.present.tables import comparison_lines, curves, table1
from analytics.stats.clinical import ClinicalChange
from analytics.stats.safety import Safety
from analytics.views import DeckView, PatencyView

SLIDE_WIDTH, SLIDE_HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.4)
KEY_MONTHS = (12, 36)  # the estimates a chart slide states beside the chart
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


@dataclass(frozen=True)
class DeckRequest:
    """What a deck shows: the filter, an optional comparison and its endpoint, privacy k."""

    cohort_filter: CohortFilter
    by: str | None = None
    endpoint: str = "primary"
    k: int | None = None


def build_deck(view: DeckView, k: int | None = None) -> bytes:
    """The .pptx bytes of ``view``; with privacy ``k``, small counts masked throughout."""
    report = view.report
    n = report.safety.patients
    caption = fmt.view_caption(view.meta.get("name", "Cohort"), report.cohort_filter, n, k)
    if report.by:
        caption += f" · by {GROUPINGS[report.by].lower()}"
    deck = Presentation()
    deck.slide_width, deck.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    _title_slide(deck, view, k)
    if n == 0:
        return _save(deck)
    change, safety = report.clinical, report.safety
    slides = [_patency_slide(view.patency, k)]
    if view.compared is not None:
        slides.append(_patency_slide(view.compared, k))
    slides += [
        (
            "CEAP clinical class before and at the last visit",
            clinical_figures.ceap_sankey(change.ceap_shift, k),
            _ceap_text(change, k),
            _ceap_text(change, k),
        ),
        (
            "Villalta score and post-thrombotic syndrome",
            clinical_figures.villalta_pairs(change.villalta_pairs, change.villalta, k),
            _pts_text(change, k),
            _clinical_notes(change, k),
        ),
        ("Safety", safety_bars(safety, k), _safety_text(safety, k), _safety_text(safety, k)),
        _subgroups_slide(view, k),
    ]
    for title, figure, text, notes in slides:
        _chart_slide(deck, title, presentation_style(figure, caption), text, notes)
    _table_slide(deck, "Table 1: baseline characteristics", table1(view.baseline, k))
    return _save(deck)


def _save(deck: Any) -> bytes:
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def _title_slide(deck: Any, view: DeckView, k: int | None) -> None:
    report, meta = view.report, view.meta
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text = f"Venous stent outcomes: {meta.get('name', 'cohort')}"
    provenance = DEMO_NOTICE if is_reconstruction(meta) else meta.get("source", "")
    compared = (
        f"; {ENDPOINTS[view.endpoint].lower()} compared by {GROUPINGS[report.by].lower()}"
        if report.by
        else ""
    )
    lines = [
        provenance,
        f"Filter: {fmt.filter_words(report.cohort_filter)}{compared}",
        f"n = {fmt.count(report.safety.patients, k)} patients",
    ]
    if k:
        lines.append(f"Privacy mode: counts below {k} shown as {masked(k)}")
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


def _table_slide(deck: Any, title: str, table: pd.DataFrame) -> None:
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


def estimate_lines(view: PatencyView, k: int | None, months: tuple[float, ...] | None) -> list[str]:
    """One line per curve and month: "Primary patency at 12 months: 73.5% (95% CI ...)"."""
    lines = []
    for label, curve in curves(view):
        e = curve.estimates
        for i, month in enumerate(e.month):
            if months is not None and month not in months:
                continue
            at = f"{label} at {fmt.months(month)} months"
            if pd.isna(e.estimate[i]):
                lines.append(f"{at}: not estimable (no one followed)")
            elif curve.patients and curve.patients < (k or 0):
                lines.append(f"{at}: {masked(k)} patients")
            else:
                estimate = fmt.estimate_ci(e.estimate[i], e.ci_lower[i], e.ci_upper[i])
                lines.append(f"{at}: {estimate}; at risk {fmt.count(e.at_risk[i], k)}")
    return lines


def _patency_slide(view: PatencyView, k: int | None) -> tuple:
    figure = patency_figure(view, show_ci=True, k=k)
    title = figure.layout.title.text
    comparison = comparison_lines(view) if view.by else []
    text = "\n".join(comparison + estimate_lines(view, k, KEY_MONTHS))
    notes = "\n".join(comparison + estimate_lines(view, k, None))
    return title, figure, text, notes


def _ceap_text(change: ClinicalChange, k: int | None) -> str:
    def classes(counts: dict[str, int]) -> str:
        return ", ".join(f"{c} {fmt.count(n, k)}" for c, n in counts.items() if n)

    score = change.severity_score
    return (
        f"Before: {classes(change.ceap_counts('before'))}\n"
        f"Last visit: {classes(change.ceap_counts('after'))}\n"
        f"Clinical severity score (C - 2): {fmt.mean_sd(score.mean_before, score.sd_before, 2)}"
        f" → {fmt.mean_sd(score.mean_after, score.sd_after, 2)}; "
        f"Wilcoxon signed-rank {fmt.p_statement(score.p)}"
    )


def _pts_text(change: ClinicalChange, k: int | None) -> str:
    villalta, pts = change.villalta, change.pts
    return (
        f"Villalta {fmt.mean_sd(villalta.mean_before, villalta.sd_before, 2)} → "
        f"{fmt.mean_sd(villalta.mean_after, villalta.sd_after, 2)}; "
        f"Wilcoxon signed-rank {fmt.p_statement(villalta.p)}\n"
        f"{PTS} {fmt.count(pts.before, k)} → {fmt.count(pts.after, k)}; "
        f"exact McNemar {fmt.p_statement(pts.p)}"
    )


def _clinical_notes(change: ClinicalChange, k: int | None) -> str:
    reflux = change.reflux
    return _pts_text(change, k) + (
        f"\n{REFLUX} {fmt.count(reflux.before, k)} → {fmt.count(reflux.after, k)}; "
        f"exact McNemar {fmt.p_statement(reflux.p)}"
    )


def _safety_text(safety: Safety, k: int | None) -> str:
    lines = []
    for row in safety.table.itertuples():
        label = SAFETY_EVENTS[row.event]
        if row.patients and k and row.patients < k:
            lines.append(f"{label}: {masked(k)} patients")
            continue
        lines.append(
            f"{label}: {fmt.count(row.patients)} patients, "
            f"{fmt.estimate_ci(row.proportion, row.ci_lower, row.ci_upper)}, "
            f"{fmt.rate(row.per_100_patient_years)} per 100 patient-years"
        )
    return "\n".join(lines)


def _subgroups_slide(view: DeckView, k: int | None) -> tuple:
    subgroups = view.subgroups
    table = subgroups.table
    estimable = table[table["estimable"] & ~table["is_reference"]]
    lines = [
        f"{fmt.group(row.factor, row.level)}: HR {fmt.ratio_ci(row.hr, row.hr_lower, row.hr_upper)}"
        f", log-rank {fmt.p_statement(row.logrank_p)}" + (" (unstable)" if row.unstable else "")
        for row in estimable.itertuples()
    ]
    note = "Unadjusted, one factor at a time: hypotheses, not findings."
    endpoint, month = ENDPOINTS[subgroups.endpoint].lower(), fmt.months(subgroups.month)
    title = f"Subgroups: {endpoint} at {month} months"
    return title, forest_plot(subgroups, k), note, "\n".join([note, *lines])
