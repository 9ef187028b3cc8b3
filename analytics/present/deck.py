"""A PowerPoint deck of one view: the same filter, the same numbers as the screen.

Slides, 16:9: title (cohort, provenance, filter, n); patency as a native, editable
chart of the step curves, their 95% CI bands and censor marks, with the KMunicate table
as a native table whose months are the axis's labels and stand under them;
the compared endpoint by group likewise when the view compares; the CEAP classes and the
safety events as native charts; Villalta and PTS and the subgroup forest plot (over as
many slides as its rows need) as pictures rendered by analytics.present.render; when the
view has an adjusted model (the Models page's, or ``deck --adjust``), its crude and
adjusted hazard ratios as the Models page's forest plot with the page's warnings; the
Tables page's Tables 1-3 as native tables; the definitions of the deck's terms. On the
demo every slide carries the reconstruction caveat. Each
chart slide states its key numbers beside the chart; the speaker notes hold the
estimates, intervals, tests and p-values. Everything comes from one deck
view (analytics.views.DeckView) through the formatter, the objects the report and the
screen show, so the three agree. A surgeon can restyle every native chart in PowerPoint;
in privacy mode their embedded workbooks hold only what the slide may show.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import (
    XL_CHART_TYPE,
    XL_LABEL_POSITION,
    XL_LEGEND_POSITION,
    XL_MARKER_STYLE,
    XL_TICK_MARK,
)
from pptx.enum.dml import MSO_LINE_DASH_STYLE
from pptx.enum.text import PP_ALIGN
from pptx.oxml.ns import qn
from pptx.oxml.xmlchemy import OxmlElement
from pptx.util import Emu, Inches, Pt

from analytics.cohort.db import is_reconstruction
from analytics.filters import CohortFilter
from analytics.glossary import (
    CEAP_CLASSES,
    CEAP_REGRESSION,
    CLUSTERED_BY_PATIENT,
    COMPARISON_TESTS_INLINE,
    COUNT_COLUMNS,
    CRUDE_NOT_A_RISK,
    CRUDE_PERCENT,
    DEFINITIONS,
    DEMO_NOTICE,
    ENDPOINTS,
    LIMB,
    MODEL_DEMO_CAVEAT,
    MODEL_NOT_IN_DECK,
    NOT_COMPUTABLE,
    PATENCY_ROWS_SWAPPED,
    PRIVACY_CURVE,
    PTS,
    REFLUX,
    ROBUST_SCORE_TEST,
    SAFETY_CRUDE_AXIS,
    SAFETY_EVENTS,
    SAFETY_INCIDENCE_NOTE,
    SAFETY_INCIDENCE_TITLE,
    TABLE1_NOT_PUBLISHED,
    UNRELIABLE,
    small_counts,
    undrawn_curves,
)
from analytics.partitions import Ledger
from analytics.present import format as fmt
from analytics.present.export import neutralise_text
from analytics.present.figures import clinical as clinical_figures
from analytics.present.figures.clinical import CEAP_COLOURS
from analytics.present.figures.models import model_forest_plot
from analytics.present.figures.patency import (
    COMPACT_ROWS,
    MAX_CENSOR_MARKS,
    CurveSpec,
    curve_specs,
    estimate_rows,
    split_unreliable,
)
from analytics.present.figures.subgroups import SLIDE_ROWS, forest_pages, forest_plot
from analytics.present.figures.theme import OKABE_ITO, TEXT_COLOUR, contrast, presentation_style
from analytics.present.masking import (
    Mask,
    dashboard_mask,
    exact,
    export_mask,
    mask,
    shown_by_pages,
)
from analytics.present.privacy import (
    SUPPRESSED_NOTE,
    ModelMask,
    hidden_change,
    hidden_mcnemar,
    hidden_means,
    model_mask,
)
from analytics.present.render import render
from analytics.present.tables import (
    ceap_classes_shown,
    cells_text,
    comparison_lines,
    curves_of_endpoints,
    estimate_shown,
    first_limb_group,
    safety_display,
    safety_incidence_display,
    subgroup_cells,
    subgroup_test,
    table1,
    table2,
    table3,
    table3_notes,
)
from analytics.rules import RISK_TABLE_MONTHS
from analytics.stats.clinical import ClinicalChange, ScoreChange
from analytics.stats.engine.logrank import LOGRANK
from analytics.stats.models import AdjustedModel
from analytics.stats.safety import Safety
from analytics.views import (
    CURVE_COUNTS,
    PEOPLE,
    WHEN,
    DeckView,
    N,
    PatencyView,
    SubgroupsView,
    baseline_ledger,
    binary_key,
    ceap_class_key,
    clinical_ledger,
    header_ledger,
    model_curve_ledger,
    model_groups_ledger,
    model_ledger,
    model_table1_ledger,
    pairs_key,
    patency_ledger,
    people_key,
    population_ledger,
    safety_key,
    safety_ledger,
    subgroups_ledger,
    unit_ledger,
)

SLIDE_WIDTH, SLIDE_HEIGHT = Inches(13.333), Inches(7.5)
DEFAULT_WIDTH = Inches(10)  # python-pptx's template is 4:3; its layouts are widened
MARGIN = Inches(0.4)
TITLE_TOP, TITLE_HEIGHT = Inches(0.25), Inches(0.75)
CAPTION_TOP, CAPTION_HEIGHT = Inches(0.95), Inches(0.35)
TOP = Inches(1.4)  # charts, pictures and tables start under the title and caption
BOTTOM = SLIDE_HEIGHT - Inches(0.3)
SIDE_WIDTH = Inches(3.4)  # the key numbers beside a chart
CHART_WIDTH = SLIDE_WIDTH - 3 * MARGIN - SIDE_WIDTH
FULL_WIDTH = SLIDE_WIDTH - 2 * MARGIN
KEY_MONTHS = (12, 36)  # the estimates a chart slide states beside the chart
PIXELS_PER_INCH = 96  # a picture is drawn at the size it has on a 1280-pixel-wide slide
SLIDE_SCALE = 1.3  # type in a picture: 14 px x 1.3 is 14 pt on the slide
TEXT_GREY = "#4D4D4D"  # captions: 8:1 on white
CHARACTER = 0.6  # a character's average width, in ems: room for the widest fallback font
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
TITLE_ONLY = 5


@dataclass(frozen=True)
class DeckRequest:
    """What a deck shows: the filter, an optional comparison and its endpoint, privacy k,
    the months of its KMunicate tables, the Models page's model (its covariates
    ``adjust``, none when no model was chosen, and its endpoint), and the comparison's
    reference group (None: the first)."""

    cohort_filter: CohortFilter
    by: str | None = None
    endpoint: str = "primary"
    k: int | None = None
    risk_months: tuple[float, ...] = RISK_TABLE_MONTHS
    adjust: tuple[str, ...] = ()
    model_endpoint: str = "primary"
    reference: str | None = None


def build_deck(view: DeckView, k: int | None = None) -> bytes:
    """The .pptx bytes of ``view``; with privacy ``k``, small counts masked throughout."""
    report = view.report
    n = report.safety.patients
    demo = is_reconstruction(view.meta)
    decided = deck_mask(view, k)
    people = decided.cell(PEOPLE) if report.header.bilateral_file else None
    caption = fmt.view_caption(
        view.meta.get("name", "Cohort"), report.cohort_filter, decided.cell(N), people
    )
    clinical = decided  # the clinical slides' counts, decided with the rest of the deck
    deck = Presentation()
    _widescreen(deck)
    _title_slide(deck, view, decided)
    if n == 0:
        return _save(deck)
    change, safety = report.clinical, report.safety
    _patency_slide(deck, view.patency, caption, decided, demo)
    if view.compared is not None:
        first_limb = first_limb_group(
            view.endpoint, report.by, report.cohort_filter.variables, report.header.bilateral_file
        )
        _patency_slide(deck, view.compared, caption, decided, demo, first_limb)
    _ceap_slide(deck, change, caption, clinical, demo)
    villalta = clinical_figures.villalta_pairs(change.villalta_pairs, change.villalta, clinical)
    slide = _slide(deck, "Villalta score and post-thrombotic syndrome", caption,
                   _clinical_notes(change, clinical))  # fmt: skip
    _picture(slide, villalta, MARGIN, CHART_WIDTH)
    _side_text(slide, _pts_text(change, clinical))
    _safety_slide(deck, safety, caption, decided)
    _subgroup_slides(deck, view, caption, decided)
    if view.model is not None:
        _model_slide(deck, view.model, caption, model_mask(view.model, decided), demo)
    notes = [TABLE1_NOT_PUBLISHED] if demo else []
    table = table1(view.baseline, decided)
    _table_slide(deck, "Table 1: baseline characteristics", table, caption, notes)
    notes = [PATENCY_ROWS_SWAPPED] if demo else []
    _table_slide(
        deck, "Table 2: outcomes", table2(view.tables, decided, report.months), caption, notes
    )
    table, reasons = slide_table3(table3(change, clinical, demo))
    _table3_slide(deck, table, caption, [*reasons, *table3_notes(change, demo)])
    _definition_slides(deck, caption, view.model is not None, report.header.bilateral_file)
    if demo:
        _demo_footers(deck)
    return _save(deck)


def deck_mask(view: DeckView, k: int | None) -> Mask:
    """The deck's counts (deck_ledger) masked once with privacy ``k``: every slide renders
    the one decision. Beside the dashboard's pages for the same filter and grouping
    (view.pages), whose counts shown exactly are public (masking.shown_by_pages): a reader
    holding the deck and the pages learns no more from the two than from either."""
    shown = deck_ledger(view)
    if k is None:
        return mask(shown, k)
    pages = view.pages
    decision = dashboard_mask(header_ledger(view.report.header),
                              pages.defaults(k) if pages is not None else (), k)  # fmt: skip
    controlled = pages.controlled() if pages is not None else ()
    return export_mask(shown, shown_by_pages(decision, controlled, k), k)


def deck_ledger(view: DeckView) -> Ledger:
    """The counts the deck's slides declare: n, the curves, subgroups, clinical outcomes,
    safety events, Tables 1 and 2's population and baseline, the adjusted model, its
    events beside its curve's and its level counts beside Table 1's and the subgroups'."""
    report = view.report
    n = report.header.limbs  # n counts limbs, the patients they belong to beside it
    shown = (
        unit_ledger(report.header)
        | patency_ledger(view.patency, n)
        | subgroups_ledger(view.subgroups, n)
        | clinical_ledger(report.clinical)
        | safety_ledger(report.safety)
        | baseline_ledger(view.baseline)
        | population_ledger(view.population, report.cohort_filter.population == "all")
    )
    if view.compared is not None:
        shown |= patency_ledger(view.compared, n)
    if view.model is not None:
        model = view.model
        shown |= model_ledger(model) | model_table1_ledger(model, view.baseline)
        shown |= model_groups_ledger(model, view.subgroups)
        shown |= model_curve_ledger(model, report.survival[model.endpoint].overall)
    return shown


def notice_deck(reason: str) -> bytes:
    """A one-slide deck saying why the view's deck could not be built: what the dashboard
    hands out instead, since a download that fails shows the user nothing."""
    deck = Presentation()
    _widescreen(deck)
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY])
    slide.shapes.title.text = "The deck could not be built"
    _text_box(slide, f"{reason}.", MARGIN, TOP, FULL_WIDTH, BOTTOM - TOP, size=20)
    return _save(deck)


def _widescreen(deck: Any) -> None:
    """A 16:9 deck: the slide 13.33 in wide, every placeholder that has its own position
    widened to match (the others inherit theirs from the master, widened once)."""
    deck.slide_width, deck.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    ratio = SLIDE_WIDTH / DEFAULT_WIDTH
    for holder in (deck.slide_master, *deck.slide_layouts):
        for shape in holder.placeholders:
            if shape._element.spPr.xfrm is not None:
                shape.left = Emu(round(shape.left * ratio))
                shape.width = Emu(round(shape.width * ratio))


def _save(deck: Any) -> bytes:
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def _slide(deck: Any, title: str, caption: str, notes: str) -> Any:
    """A slide with its title and, under it, the view's caption (cohort, filter, n)."""
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY])
    heading = slide.shapes.title
    heading.left, heading.top, heading.width, heading.height = (
        MARGIN,
        TITLE_TOP,
        FULL_WIDTH,
        TITLE_HEIGHT,
    )
    heading.text = title
    paragraph = heading.text_frame.paragraphs[0]
    paragraph.font.size, paragraph.alignment = Pt(26), PP_ALIGN.LEFT
    _text_box(slide, caption, MARGIN, CAPTION_TOP, FULL_WIDTH, CAPTION_HEIGHT,
              size=caption_size(caption), colour=TEXT_GREY)  # fmt: skip
    _notes(slide, notes)
    return slide


CAPTION_SIZES = (14, 12, 11, 10)  # pt, the caption's type from the largest


def caption_size(caption: str) -> int:
    """The largest of CAPTION_SIZES at which ``caption`` holds one line of the slide's
    width (CHARACTER ems a character): a second line would run under the chart or table
    below it (a registry's name with its limbs and patients, then n in limbs and
    patients, is longer than a line of 14 pt); the smallest where none does."""
    for size in CAPTION_SIZES:
        if wrapped_lines(caption, int(FULL_WIDTH / (Pt(size) * CHARACTER))) == 1:
            return size
    return CAPTION_SIZES[-1]


def _notes(slide: Any, text: str) -> None:
    """The speaker notes, one paragraph per line whatever its line ending: a carriage
    return set into the XML shows as a literal "_x000D_" in PowerPoint."""
    slide.notes_slide.notes_text_frame.text = "\n".join(text.splitlines())


FOOTER_TOP = BOTTOM + Inches(0.02)


def _demo_footers(deck: Any) -> None:
    """The reconstruction caveat at the foot of every slide after the title slide (which
    states it as its provenance)."""
    for slide in list(deck.slides)[1:]:
        _text_box(slide, DEMO_NOTICE, MARGIN, FOOTER_TOP, FULL_WIDTH, SLIDE_HEIGHT - FOOTER_TOP,
                  size=10, colour=TEXT_GREY)  # fmt: skip


def _text_box(
    slide: Any, text: str, left: int, top: int, width: int, height: int,
    size: int = 14, colour: str = TEXT_COLOUR,
) -> None:  # fmt: skip
    frame = slide.shapes.add_textbox(left, top, width, height).text_frame
    frame.word_wrap = True
    for i, line in enumerate(text.splitlines()):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.text = line
        paragraph.font.size = Pt(size)
        paragraph.font.color.rgb = _rgb(colour)
        paragraph.space_after = Pt(4)


def _side_text(slide: Any, text: str) -> None:
    """The key numbers in a column on the right of the slide, in the largest type at
    which they fit it."""
    left = SLIDE_WIDTH - MARGIN - SIDE_WIDTH
    size = side_size(text) or SIDE_SIZES[-1]
    _text_box(slide, text, left, TOP, SIDE_WIDTH, BOTTOM - TOP, size=size)


SIDE_SIZES = (14, 12, 11, 10)  # pt, the side column's type from the largest


def wrapped_lines(text: str, characters: int) -> int:
    """The lines ``text`` takes wrapped at spaces into lines of ``characters`` (a word
    longer than a line breaks where it must), as PowerPoint and LibreOffice wrap it."""
    characters = max(characters, 1)
    lines, used = 1, 0
    for word in text.split(" "):
        length = len(word)
        if used and used + 1 + length > characters:
            lines, used = lines + 1, 0
        if used:
            used += 1
        lines += (used + length - 1) // characters if used + length > characters else 0
        used = (used + length) % characters if used + length > characters else used + length
    return lines


def side_size(text: str) -> int | None:
    """The largest of SIDE_SIZES at which ``text`` fits the side column (each line
    wrapped at CHARACTER ems a character, 1.2 lines high, 4 pt after), None if none."""
    for size in SIDE_SIZES:
        per_line = max(1, int(SIDE_WIDTH / (Pt(size) * CHARACTER)))
        lines = sum(wrapped_lines(line, per_line) for line in text.splitlines())
        height = lines * Pt(size) * 1.2 + len(text.splitlines()) * Pt(4)
        if height <= BOTTOM - TOP:
            return size
    return None


def _picture(slide: Any, figure: go.Figure, left: int, width: int, height: int | None = None
             ) -> None:  # fmt: skip
    """A chart as a picture drawn at the size it takes on the slide, so its type reads
    at about 14 pt; the slide carries the title and caption, the picture neither."""
    height = height or BOTTOM - TOP
    pixels = (_pixels(width), _pixels(height))
    styled = presentation_style(figure, "", height=pixels[1], scale=SLIDE_SCALE, in_title=False)
    styled.update_layout(width=pixels[0], height=pixels[1])
    picture = io.BytesIO(render(styled, "png", pixels))
    slide.shapes.add_picture(picture, left, TOP, width=width, height=height)


def _pixels(length: int) -> int:
    return round(length / Inches(1) * PIXELS_PER_INCH)


def _title_slide(deck: Any, view: DeckView, decided: Mask) -> None:
    report, meta, k = view.report, view.meta, decided.k
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    title, body = slide.shapes.title, slide.placeholders[1]
    title.left, title.top, title.width, title.height = MARGIN, Inches(1.3), FULL_WIDTH, Inches(1.6)
    body.left, body.top, body.width, body.height = MARGIN, Inches(3.1), FULL_WIDTH, Inches(3.6)
    title.text = f"Venous stent outcomes: {fmt.data_text(meta.get('name', 'cohort'))}"
    title.text_frame.paragraphs[0].font.size = Pt(36)
    provenance = DEMO_NOTICE if is_reconstruction(meta) else fmt.data_text(meta.get("source", ""))
    groupings = report.cohort_filter.variables.groupings()
    compared = (
        f"; {ENDPOINTS[view.endpoint].lower()} compared by {groupings[report.by].lower()}"
        if report.by
        else ""
    )
    n = decided.cell(N)
    lines = [
        f"Filter: {fmt.filter_words(report.cohort_filter)}{compared}",
        f"n = {fmt.limbs_of(n, decided.cell(PEOPLE))}. {CLUSTERED_BY_PATIENT}"
        if report.header.bilateral_file
        else f"n = {fmt.cell(n)} patients",
    ]
    if k:
        lines.append(f"Privacy mode: {small_counts(k)}")
    if view.model_left_out:
        lines.append(MODEL_NOT_IN_DECK)
    lines.append(provenance)
    body.text = "\n".join(lines)
    for paragraph in body.text_frame.paragraphs:
        paragraph.font.size = Pt(20)
        paragraph.font.color.rgb = _rgb(TEXT_GREY)
        paragraph.space_after = Pt(8)
    _notes(slide, "\n".join([*lines, *([PATENCY_ROWS_SWAPPED] if is_reconstruction(meta) else [])]))


def _rgb(colour: str) -> RGBColor:
    return RGBColor.from_string(colour.lstrip("#"))


def _tint(colour: str, share: float) -> RGBColor:
    """``colour`` mixed with white: a CI band lighter than its curve."""
    channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return RGBColor(*(round(c + (255 - c) * share) for c in channels))


GRID_PER_MONTH = 8  # points a month of the native patency chart: a drop spans 1/8 month


@dataclass(frozen=True)
class GridSeries:
    """One series of the native patency chart, a value (or None: nothing drawn) at each
    point of its grid. ``kind``: "under" (the unfilled part a curve's CI band is stacked
    on), "band" (the 95% CI, filled), "estimate", "unreliable" (from the first time the
    SE exceeds 10%, dotted), "censored" (a mark at each censoring time) or "estimates"
    (privacy mode: a dot at each estimate the table shows)."""

    name: str
    colour: str
    kind: str
    values: list[float | None]


@dataclass(frozen=True)
class PatencyChart:
    """The native patency chart: a category axis of GRID_PER_MONTH points a month from 0 to
    ``end``, labelled only at the KMunicate table's ``ticks``; the CI bands a stacked area
    chart (each curve's band stacked on the unfilled gap from the band below), the curves
    and censor marks a line chart over it. A category chart, because PowerPoint fills
    areas only on one, and an XY chart only draws lines."""

    end: float
    ticks: tuple[float, ...]
    series: list[GridSeries]

    @property
    def grid(self) -> np.ndarray:
        return np.arange(round(self.end * GRID_PER_MONTH) + 1) / GRID_PER_MONTH

    @property
    def labels(self) -> list[str]:
        """The category names: a tick month's number at its point, else empty."""
        at = {round(month * GRID_PER_MONTH): fmt.months(month) for month in self.ticks}
        return [at.get(i, "") for i in range(len(self.grid))]

    def position(self, month: float) -> float:
        """Where ``month`` lies along the plot, 0 at its left edge, 1 at its right."""
        return month / self.end


def _sampled(frame: pd.DataFrame, column: str, grid: np.ndarray) -> np.ndarray:
    """A step function (steps()'s rows) read at each grid point: the value of the last
    step at or before it; NaN after the curve's last time."""
    index = np.searchsorted(frame["months"].to_numpy(), grid, side="right") - 1
    values = frame[column].to_numpy()[index]
    return np.where(grid <= frame["months"].iloc[-1], values, np.nan)


def _values(array: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 6) for v in array]


def patency_chart(specs: Sequence[CurveSpec], ticks: Sequence[float]) -> PatencyChart:
    """The native patency chart of ``specs`` (those privacy lets it draw: curve_specs),
    its axis labelled at the table's ``ticks``."""
    shown = list(specs)
    last = max((spec.curve.last_time for spec in shown), default=0.0)
    end = float(math.ceil(max(last, *ticks, 1.0)))
    grid = np.arange(round(end * GRID_PER_MONTH) + 1) / GRID_PER_MONTH
    bands: list[GridSeries] = []
    lines: list[GridSeries] = []
    top = np.zeros(grid.size)  # the stacked bands' top so far
    for spec in shown:
        frame = spec.steps()
        estimate = _sampled(frame, "estimate", grid)
        followed = ~np.isnan(estimate)
        lower, upper = (
            np.where(np.isnan(bound), estimate, bound)
            for bound in (_sampled(frame, "ci_lower", grid), _sampled(frame, "ci_upper", grid))
        )
        # where the curve has no height (a withheld month's break, after its end) its band
        # is empty, on the bands below it: an edge there would read as a level
        lower, upper = np.where(followed, lower, top), np.where(followed, upper, top)
        bands += [
            GridSeries(f"{spec.label}: under 95% CI", spec.colour, "under",
                       _values(np.round(lower - top, 6))),
            GridSeries(f"{spec.label}: 95% CI", spec.colour, "band",
                       _values(np.round(upper - lower, 6))),
        ]  # fmt: skip
        top = upper
        _, beyond = split_unreliable(frame)
        turn = grid.size if beyond.empty else int(np.searchsorted(grid, beyond["months"].iloc[0]))
        solid = np.where(np.arange(grid.size) < turn, estimate, np.nan)
        lines.append(GridSeries(spec.label, spec.colour, "estimate", _values(solid)))
        if not beyond.empty:
            dotted = np.where(np.arange(grid.size) >= turn - 1, estimate, np.nan)
            lines.append(GridSeries(f"{spec.label}: {UNRELIABLE}", spec.colour, "unreliable",
                                    _values(dotted)))  # fmt: skip
        if spec.masked is not None:  # a dot at each estimate drawn, as on screen
            drawn = spec.masked[estimate_rows(spec.masked)]
            dots = np.full(grid.size, np.nan)
            at = np.round(drawn["months"].to_numpy() * GRID_PER_MONTH).astype(int)
            dots[at] = drawn["estimate"].to_numpy()
            lines.append(GridSeries(f"{spec.label}: estimates", spec.colour, "estimates",
                                    _values(dots)))  # fmt: skip
        curve = spec.curve
        times = curve.time[curve.censored > 0]
        # privacy mode draws none: a mark would place a censoring between the table's months
        if spec.masked is None and 0 < times.size <= MAX_CENSOR_MARKS:  # beyond, a band
            marks = np.full(grid.size, np.nan)
            points = np.minimum(np.round(times * GRID_PER_MONTH).astype(int), grid.size - 1)
            marks[points] = curve.estimate[curve.censored > 0]
            lines.append(GridSeries(f"{spec.label}: censored", spec.colour, "censored",
                                    _values(marks)))  # fmt: skip
    return PatencyChart(end, tuple(float(m) for m in ticks), [*bands, *lines])


def patency_chart_data(chart: PatencyChart) -> CategoryChartData:
    """The chart's series over its labelled grid. A series name is a cell of the chart's
    workbook, so a group's name is neutralised (analytics.present.export)."""
    data = CategoryChartData(number_format="0.0%")
    data.categories = chart.labels
    for series in chart.series:
        data.add_series(neutralise_text(series.name), series.values)
    return data


def _patency_slide(
    deck: Any, view: PatencyView, caption: str, decided: Mask, demo: bool,
    first_limb: str | None = None,
) -> None:  # fmt: skip
    """The curves as a native chart (patency_chart), the KMunicate table as a native
    table under it, each month's column under that month on the axis; on the demo the
    notes say how it reads the paper's patency rows; ``first_limb`` (tables.first_limb_group)
    in the notes and the key, where a patient's outcome is split by a limb's variable."""
    specs = curve_specs(view, decided)
    title = (
        "Primary, assisted primary and secondary patency"
        if view.by is None
        else f"{ENDPOINTS[view.endpoint]} by {view.variables.groupings()[view.by].lower()}"
    )
    comparison = comparison_lines(view, decided) if view.by else []
    comparison += [first_limb] if first_limb else []
    notes = [
        *comparison, *estimate_lines(view, decided, None), *([PATENCY_ROWS_SWAPPED] if demo else [])
    ]  # fmt: skip
    slide = _slide(deck, title, caption, "\n".join(notes))
    months = [float(m) for m in specs[0].risk.month] if specs else []
    chart = patency_chart(specs, months)
    label_width = _label_width([spec.label for spec in specs])
    plot = _plot_box(label_width)
    centres = [MARGIN + plot[0] + round(chart.position(m) * plot[1]) for m in months]
    if decided.k is not None and not chart.series:  # privacy draws no curve of fewer than k
        message = f"No curve drawn: each has fewer than {decided.k} patients (privacy mode)."
        _text_box(slide, message, MARGIN, TOP, CHART_WIDTH, Inches(1), size=18)
        _side_text(slide, "\n".join([*comparison, *estimate_lines(view, decided, KEY_MONTHS)]))
        return
    table = risk_layout(risk_cells(specs), centres, label_width)
    chart_height = BOTTOM - TOP - sum(table.heights) - Inches(0.1)
    shape = slide.shapes.add_chart(
        XL_CHART_TYPE.AREA_STACKED, MARGIN, TOP, CHART_WIDTH, chart_height,
        patency_chart_data(chart),
    )  # fmt: skip
    legend = _legend_height([spec.label for spec in specs], plot[1])
    _style_patency(shape.chart, chart, plot, legend / chart_height)
    _risk_table(slide, table, TOP + chart_height + Inches(0.1))
    drawn_key = CURVE_KEY if decided.k is None else PRIVACY_CURVE_KEY
    undrawn = [s.label for s in specs if s.undrawn]
    if undrawn:
        drawn_key += f" {undrawn_curves(undrawn)}."
    key = [*comparison, *estimate_lines(view, decided, KEY_MONTHS), drawn_key]
    if side_size("\n".join(key)) is None:  # many groups: their last key month only
        key = [*comparison, *estimate_lines(view, decided, KEY_MONTHS[-1:]), drawn_key]
    _side_text(slide, "\n".join(key))


ROW = Inches(0.3)  # a row of a native table
CURVE_KEY = f"Shaded: 95% CI. +: censored. Dotted: {UNRELIABLE}."
PRIVACY_CURVE_KEY = f"Shaded: 95% CI. Dotted: {UNRELIABLE}. {PRIVACY_CURVE}."
PLOT_BOTTOM = 0.2  # the share of the chart's height under its plot: tick labels, axis title
LEGEND_ROW, LEGEND_SWATCH = Inches(0.3), Inches(0.7)  # a 14-pt legend's row and line key


def _legend_height(labels: Sequence[str], width: int) -> int:
    """The height over the plot that the legend takes: its entries packed in rows."""
    em, rows, used = Pt(14) * CHARACTER, 1, 0
    for label in labels:
        entry = LEGEND_SWATCH + len(label) * em
        if used and used + entry > width:
            rows, used = rows + 1, 0
        used += entry
    return rows * LEGEND_ROW + Inches(0.15)


PLOT_RIGHT = Inches(0.3)  # room right of the plot for the last month's column
COLUMN_HALF = Inches(0.5)  # the widest half-column of the KMunicate table


def _label_width(labels: Sequence[str]) -> int:
    """The KMunicate table's label column: its longest label at 12 pt, within limits."""
    longest = max((len(label) for label in labels), default=0)
    return min(max(Inches(0.09) * longest + Inches(0.2), Inches(1.2)), Inches(2.8))


def _plot_box(label_width: int) -> tuple[int, int]:
    """Where the plot lies in the chart frame: its left edge (the table's labels and the
    first month's half-column left of it) and its width."""
    left = label_width + COLUMN_HALF
    return left, CHART_WIDTH - left - PLOT_RIGHT


def _style_patency(
    chart: Any, drawn: PatencyChart, plot: tuple[int, int], legend_share: float
) -> None:
    """The bands filled in a tint of their curve (the gap under each unfilled), the curves
    in the screen's colours, dotted where the SE exceeds 10%, censor marks as "+"; the
    legend names each curve once; the x axis labelled at the table's months only; the plot
    placed where the table's columns expect it."""
    area = chart.plots[0]._element
    line_chart = OxmlElement("c:lineChart")
    grouping, vary = OxmlElement("c:grouping"), OxmlElement("c:varyColors")
    grouping.set("val", "standard")
    vary.set("val", "0")
    line_chart.extend([grouping, vary])
    kinds = [series.kind for series in drawn.series]
    for ser, kind in zip(list(area.iterchildren(qn("c:ser"))), kinds, strict=True):
        if kind not in ("under", "band"):
            line_chart.append(ser)
    marker = OxmlElement("c:marker")
    marker.set("val", "1")
    line_chart.append(marker)
    for ax_id in area.iterchildren(qn("c:axId")):
        copy = OxmlElement("c:axId")
        copy.set("val", ax_id.get("val"))
        line_chart.append(copy)
    area.addnext(line_chart)
    bands, lines = chart.plots[0].series, chart.plots[1].series
    for series, step in zip(bands, [s for s in drawn.series if s.kind in ("under", "band")],
                            strict=True):  # fmt: skip
        if step.kind == "band":
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = _tint(step.colour, 0.7)
            _alpha(series.format.fill, 45)
        else:
            series.format.fill.background()
        series.format.line.fill.background()
    for series, step in zip(lines, [s for s in drawn.series if s.kind not in ("under", "band")],
                            strict=True):  # fmt: skip
        series.smooth = False
        if step.kind == "censored":
            series.format.line.fill.background()
            series.marker.style = XL_MARKER_STYLE.PLUS
            series.marker.size = 7
            series.marker.format.line.color.rgb = _rgb(step.colour)
            series.marker.format.fill.background()
            continue
        if step.kind == "estimates":
            series.format.line.fill.background()
            series.marker.style = XL_MARKER_STYLE.CIRCLE
            series.marker.size = 8
            series.marker.format.fill.solid()
            series.marker.format.fill.fore_color.rgb = _rgb(step.colour)
            series.marker.format.line.color.rgb = _rgb(step.colour)
            continue
        series.marker.style = XL_MARKER_STYLE.NONE
        line = series.format.line
        line.color.rgb, line.width = _rgb(step.colour), Pt(2.75)
        if step.kind == "unreliable":
            line.dash_style = MSO_LINE_DASH_STYLE.ROUND_DOT
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.TOP
    chart.legend.include_in_layout = False
    chart.legend.font.size = Pt(14)
    order = [s for s in drawn.series if s.kind in ("under", "band")] + [
        s for s in drawn.series if s.kind not in ("under", "band")
    ]
    _hide_legend_entries(chart, [i for i, s in enumerate(order) if s.kind != "estimate"])
    value_axis, category_axis = chart.value_axis, chart.category_axis
    value_axis.minimum_scale, value_axis.maximum_scale = 0.0, 1.0
    value_axis.major_unit = 0.1
    value_axis.tick_labels.number_format = "0%"
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.has_major_gridlines = False
    category_axis.major_tick_mark = XL_TICK_MARK.NONE
    category_axis.has_title = True
    category_axis.axis_title.text_frame.text = "Months since the procedure"
    category_axis.axis_title.text_frame.paragraphs[0].font.size = Pt(14)
    skip = category_axis._element.find(qn("c:noMultiLvlLbl"))
    every = OxmlElement("c:tickLblSkip")
    every.set("val", "1")
    skip.addprevious(every)
    for axis in (value_axis, category_axis):
        axis.tick_labels.font.size = Pt(14)
    chart._chartSpace.chart.find(qn("c:dispBlanksAs")).set("val", "gap")
    _plot_layout(chart, plot, legend_share)


def _alpha(fill: Any, percent: int) -> None:
    """A solid fill's opacity (python-pptx has no API for a:alpha)."""
    colour = fill._xPr.find(qn("a:solidFill"))[0]
    alpha = OxmlElement("a:alpha")
    alpha.set("val", str(percent * 1000))
    colour.append(alpha)


def _plot_layout(chart: Any, plot: tuple[int, int], top: float) -> None:
    """The plot (inside its axes) placed at ``plot`` (left, width in the chart's frame),
    ``top`` (the legend's share) of the height over it and PLOT_BOTTOM under it
    (c:manualLayout)."""
    layout = chart._chartSpace.chart.plotArea.find(qn("c:layout"))
    manual = OxmlElement("c:manualLayout")
    shares = {"c:x": plot[0] / CHART_WIDTH, "c:y": top, "c:w": plot[1] / CHART_WIDTH,
              "c:h": 1 - top - PLOT_BOTTOM}  # fmt: skip
    values = (
        ("c:layoutTarget", "inner"), ("c:xMode", "edge"), ("c:yMode", "edge"),
        *((tag, str(round(share, 4))) for tag, share in shares.items()),  # XML, not display text
    )  # fmt: skip
    for tag, value in values:
        element = OxmlElement(tag)
        element.set("val", value)
        manual.append(element)
    layout.append(manual)


def _hide_legend_entries(chart: Any, indices: Sequence[int]) -> None:
    """Drop series from the legend (python-pptx has no API for it: c:legendEntry)."""
    legend = chart.legend._element
    anchor = legend.find(qn("c:legendPos"))
    for index in reversed(indices):
        entry = OxmlElement("c:legendEntry")
        idx, delete = OxmlElement("c:idx"), OxmlElement("c:delete")
        idx.set("val", str(index))
        delete.set("val", "1")
        entry.extend([idx, delete])
        anchor.addnext(entry)


def risk_cells(specs: Sequence[CurveSpec]) -> list[list[str]]:
    """The KMunicate table's text: a header of the months, then per curve its label and
    each month's "at risk (events, censored before)", as the view's mask shows them."""
    months = list(specs[0].risk.month) if specs else []
    rows = [[COMPACT_ROWS, *(fmt.months(month) for month in months)]]
    for spec in specs:
        at_risk, events, censored = ([fmt.cell(c) for c in row] for row in spec.table)
        rows.append(
            [
                spec.label,
                *(f"{a} ({e}, {c})" for a, e, c in zip(at_risk, events, censored, strict=True)),
            ]
        )
    return rows


@dataclass(frozen=True)
class RiskLayout:
    """The KMunicate table laid out: ``bounds`` the columns' edges (the first the labels'
    right edge, each month's column around its ``centres`` point on the axis), the type
    ``size`` and each row's height, so that every cell's text fits its column."""

    cells: list[list[str]]
    bounds: list[int]
    centres: list[int]
    size: int
    heights: list[int]


CELL_MARGIN = Inches(0.02)


def risk_layout(cells: list[list[str]], centres: Sequence[int], label_width: int) -> RiskLayout:
    """Each month's column from halfway to the month before to halfway to the one after,
    its text centred on the month; where months lie too close for their text (a cell of
    more than MAX_CELL_LINES lines), columns of equal width instead. The largest type (12
    or 10 pt) at which every cell fits on one line, else 10 pt with the rows as tall as
    their longest cell needs."""
    if not centres:  # no curve drawn: the header's label alone
        return RiskLayout(cells, [MARGIN, MARGIN + label_width], [], 12, [ROW] * len(cells))
    edges = [(a + b) // 2 for a, b in pairwise(centres)]
    halves = (edges[0] - centres[0], centres[-1] - edges[-1]) if edges else (COLUMN_HALF,) * 2
    left = max(MARGIN + label_width, centres[0] - halves[0])
    right = min(centres[-1] + halves[1], SLIDE_WIDTH - MARGIN - SIDE_WIDTH)
    aligned = _fitted(cells, [MARGIN, left, *edges, right], list(centres))
    if max(aligned.heights) <= _row_height(MAX_CELL_LINES, aligned.size):
        return aligned
    left, right, n = MARGIN + label_width, SLIDE_WIDTH - MARGIN - SIDE_WIDTH, len(centres)
    bounds = [MARGIN, *(left + (right - left) * i // n for i in range(n + 1))]
    return _fitted(cells, bounds, [(a + b) // 2 for a, b in pairwise(bounds[1:])])


MAX_CELL_LINES = 2  # lines of a cell of the KMunicate table, its columns under the months


def _row_height(lines: int, size: int) -> int:
    return max(ROW, round(lines * Pt(size) * 1.25 + 2 * CELL_MARGIN))


def _fitted(cells: list[list[str]], bounds: list[int], centres: list[int]) -> RiskLayout:
    """The table in columns ``bounds`` with each month's text centred on ``centres``: at
    12 pt if every cell fits one line, else at 10 pt, each row as tall as it needs."""

    def lines(size: int) -> list[int]:
        """Each row's lines at ``size``: its cell of the most lines."""
        em = Pt(size) * CHARACTER
        room = [b - a - 2 * CELL_MARGIN - abs(_shift(bounds, centres, j))
                for j, (a, b) in enumerate(pairwise(bounds))]  # fmt: skip
        return [max(wrapped_lines(text, int(width // em)) for text, width in
                    zip(row, room, strict=True)) for row in cells]  # fmt: skip

    size = 12 if max(lines(12)[1:], default=1) == 1 else 10
    return RiskLayout(cells, bounds, centres, size, [_row_height(n, size) for n in lines(size)])


def _shift(bounds: Sequence[int], centres: Sequence[int], column: int) -> int:
    """How far a column's text moves right of its cell's middle to centre on its month
    (the label column, 0, does not move)."""
    if column == 0:
        return 0
    centre, (a, b) = centres[column - 1], (bounds[column], bounds[column + 1])
    return (centre - a) - (b - centre)


def _risk_table(slide: Any, layout: RiskLayout, top: int) -> None:
    """The KMunicate table as a native table under the chart."""
    cells, bounds = layout.cells, layout.bounds
    grid = slide.shapes.add_table(len(cells), len(cells[0]), MARGIN, top, bounds[-1] - MARGIN,
                                  sum(layout.heights)).table  # fmt: skip
    for j, width in enumerate(b - a for a, b in pairwise(bounds)):
        grid.columns[j].width = width
    _table_text(grid, size=layout.size)
    for i, (row, height) in enumerate(zip(cells, layout.heights, strict=True)):
        grid.rows[i].height = height
        for j, text in enumerate(row):
            cell = grid.cell(i, j)
            cell.text = text
            paragraph = cell.text_frame.paragraphs[0]
            paragraph.font.size = Pt(layout.size)
            if j:  # text centred on its month, not its cell
                paragraph.alignment = PP_ALIGN.CENTER
                shift = _shift(bounds, layout.centres, j)
                cell.margin_left = CELL_MARGIN + max(shift, 0)
                cell.margin_right = CELL_MARGIN + max(-shift, 0)


def _table_text(grid: Any, size: int) -> None:
    for row in grid.rows:
        row.height = ROW
        for cell in row.cells:
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            for paragraph in cell.text_frame.paragraphs:
                paragraph.font.size = Pt(size)


def estimate_lines(
    view: PatencyView, decided: Mask | None, months: tuple[float, ...] | None
) -> list[str]:
    """One line per curve and month: "Primary patency at 12 months: 73.5% (95% CI ...)"."""
    decided = decided or exact(patency_ledger(view))
    lines = []
    for (label, curve), endpoint in curves_of_endpoints(view):
        e = curve.estimates
        key = view.keys(endpoint, curve)
        few = decided.few(key("patients"))
        shown = estimate_shown(decided, key, curve)
        for i, month in enumerate(e.month):
            if months is not None and month not in months:
                continue
            at = f"{label} at {fmt.months(month)} months"
            column = [key(count, month) for count in CURVE_COUNTS]
            if pd.isna(e.estimate[i]):
                lines.append(f"{at}: not estimable (no one followed)")
            elif few:
                lines.append(f"{at}: {fmt.cell(decided.cell(key('patients')))} patients")
            elif not shown[float(month)]:
                lines.append(f"{at}: {fmt.SUPPRESSED}")
            else:
                estimate = fmt.estimate_ci(e.estimate[i], e.ci_lower[i], e.ci_upper[i])
                lines.append(f"{at}: {estimate}; at risk {fmt.cell(decided.cell(column[0]))}")
    return lines


def ceap_chart_data(change: ClinicalChange, clinical: Mask) -> CategoryChartData:
    """Percent of limbs per CEAP class before and at the last visit; in privacy mode a
    class the clinical view's mask hides is blank, so the bar falls short of 100% by the
    hidden share."""
    pairs = clinical.cell(pairs_key("ceap"))
    data = CategoryChartData(number_format="0.0")
    data.categories = ["Before", "Last visit"]
    for c in ceap_classes_shown(clinical):
        cells = [clinical.cell(ceap_class_key(when, c)) for when in WHEN]
        shares = [None if not cell.value or cell.hidden or pairs.hidden
                  else round(100 * cell.value / pairs.value, 1) for cell in cells]  # fmt: skip
        data.add_series(f"C{c}", shares)
    return data


def _ceap_slide(
    deck: Any, change: ClinicalChange, caption: str, clinical: Mask, demo: bool
) -> None:
    """Stacked columns of the share of limbs per class, each labelled with its limbs; on
    the demo, beside them and in the notes, that its regression below C5 is the paper's."""
    text = _ceap_text(change, clinical) + (f"\n{CEAP_REGRESSION}" if demo else "")
    slide = _slide(deck, "CEAP clinical class before and at the last visit", caption, text)
    data = ceap_chart_data(change, clinical)
    shape = slide.shapes.add_chart(
        XL_CHART_TYPE.COLUMN_STACKED, MARGIN, TOP, CHART_WIDTH, BOTTOM - TOP, data
    )
    chart = shape.chart
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.RIGHT
    chart.legend.include_in_layout = False
    chart.legend.font.size = Pt(14)
    chart.plots[0].gap_width = 60
    for series in chart.plots[0].series:
        c = int(series.name[1:])
        colour = CEAP_COLOURS[c]
        series.format.fill.solid()
        series.format.fill.fore_color.rgb = _rgb(colour)
        label_colour = TEXT_COLOUR if contrast(TEXT_COLOUR, colour) >= 4.5 else "#FFFFFF"
        for point, when in zip(series.points, WHEN, strict=True):
            cell = clinical.cell(ceap_class_key(when, c))
            if cell.value and not cell.hidden:
                label = point.data_label
                label.position = XL_LABEL_POSITION.CENTER
                label.text_frame.text = fmt.cell(cell)
                label.font.size, label.font.color.rgb = Pt(14), _rgb(label_colour)
    axis = chart.value_axis
    axis.minimum_scale, axis.maximum_scale = 0, 100
    axis.has_major_gridlines = False
    axis.has_title = True
    axis.axis_title.text_frame.text = "Limbs (%)"
    for each in (axis, chart.category_axis):
        each.tick_labels.font.size = Pt(14)
    _side_text(slide, text)


def safety_chart_data(safety: Safety, decided: Mask) -> CategoryChartData:
    """Patients with each event (crude %), the count in the category's name; an event
    whose percentage the mask withholds (views.safety_ledger) has no bar, its name its
    patients as the mask shows them, as on the screen. Listed bottom up, so the chart
    reads top down in the screen's order."""
    table = safety.table.iloc[::-1]
    hidden = _safety_hidden(safety, decided)[::-1]
    n = safety.patients
    data = CategoryChartData(number_format="0.0")
    data.categories = [
        neutralise_text(
            f"{SAFETY_EVENTS[e]}: "
            + fmt.cell_share(decided.cell(safety_key(e, "patients")), p if n else None, hide)
        )
        for e, p, hide in zip(table["event"], table["proportion"], hidden, strict=True)
    ]
    data.add_series(
        SAFETY_CRUDE_AXIS,
        [None if hide else round(100 * p, 1)
         for hide, p in zip(hidden, table["proportion"], strict=True)],
    )  # fmt: skip
    return data


def _safety_hidden(safety: Safety, decided: Mask) -> list[bool]:
    """Which events' crude percentages the Safety table withholds (its patients or n)."""
    people = people_key(safety.bilateral)
    return [decided.hidden(safety_key(e, "patients"), people) for e in safety.table["event"]]


SAFETY_CHART_HEIGHT = Inches(3.4)  # the crude bars; the cumulative incidence under them
SAFETY_HEADING = Inches(0.9)  # the incidence table's title and what it shows


def _safety_slide(deck: Any, safety: Safety, caption: str, decided: Mask) -> None:
    """The Safety page's two views of the events: horizontal bars of the crude percentage
    with its exact 95% CI as whiskers (the counts in the labels) and, beside them, the
    Safety table's crude figures; under the bars the page's cumulative incidence with
    death competing at 12/24/36 months (safety_incidence_display). Privacy as on the page."""
    crude = safety_crude_text(safety, decided)
    incidence = safety_incidence_display(safety, decided)
    notes = [crude, SAFETY_INCIDENCE_TITLE, *table_lines(incidence)]
    slide = _slide(deck, "Safety events", caption, "\n".join(notes))
    shape = slide.shapes.add_chart(
        XL_CHART_TYPE.BAR_CLUSTERED, MARGIN, TOP, CHART_WIDTH, SAFETY_CHART_HEIGHT,
        safety_chart_data(safety, decided),
    )  # fmt: skip
    chart = shape.chart
    chart.has_legend = False
    chart.has_title = False
    series = chart.plots[0].series[0]
    series.format.fill.solid()
    series.format.fill.fore_color.rgb = _rgb(OKABE_ITO["vermillion"])
    chart.plots[0].gap_width = 60
    table = safety.table.iloc[::-1]
    hidden = _safety_hidden(safety, decided)[::-1]
    _error_bars(
        series,
        [0.0 if hide else 100 * (u - p) for hide, u, p in
         zip(hidden, table["ci_upper"], table["proportion"], strict=True)],
        [0.0 if hide else 100 * (p - lo) for hide, lo, p in
         zip(hidden, table["ci_lower"], table["proportion"], strict=True)],
    )  # fmt: skip
    axis = chart.value_axis
    shown = [u for hide, u in zip(hidden, table["ci_upper"], strict=True) if not hide]
    axis.minimum_scale, axis.maximum_scale = 0, 10 * math.ceil(10 * max(shown, default=0.1) + 1e-9)
    axis.has_title = True
    axis.axis_title.text_frame.text = SAFETY_CRUDE_AXIS
    axis.axis_title.text_frame.paragraphs[0].font.size = Pt(12)
    axis.has_major_gridlines = False
    for each in (axis, chart.category_axis):
        each.tick_labels.font.size = Pt(12)
    _side_text(slide, crude)
    top = TOP + SAFETY_CHART_HEIGHT
    _text_box(slide, f"{SAFETY_INCIDENCE_TITLE}\n{SAFETY_INCIDENCE_NOTE}", MARGIN, top,
              CHART_WIDTH, SAFETY_HEADING, size=12, colour=TEXT_GREY)  # fmt: skip
    _incidence_table(slide, incidence, top + SAFETY_HEADING)


def _incidence_table(slide: Any, table: pd.DataFrame, top: int) -> None:
    """The cumulative incidence table under the bars: the event, then a column a month."""
    rows, columns = len(table) + 1, len(table.columns)
    event = Inches(2.4)
    grid = slide.shapes.add_table(rows, columns, MARGIN, top, CHART_WIDTH, ROW * rows).table
    grid.columns[0].width = event
    for column in list(grid.columns)[1:]:
        column.width = (CHART_WIDTH - event) // (columns - 1)
    for j, name in enumerate(table.columns):
        grid.cell(0, j).text = str(name)
    for i, row in enumerate(table.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            grid.cell(i, j).text = str(value)
    _table_text(grid, size=12)


def safety_crude_text(safety: Safety, decided: Mask) -> str:
    """The Safety table's crude figures, a line an event, its cells as the page shows them
    (in privacy mode masked alike): under a heading that says they are crude."""
    table = cells_text(safety_display(safety, decided))[list(SAFETY_CRUDE_COLUMNS)]
    return "\n".join([CRUDE_NOT_A_RISK.capitalize(), *table_lines(table)])


SAFETY_CRUDE_COLUMNS = ("Event", "Patients", CRUDE_PERCENT, "95% CI (%)", "Per 100 patient-years")


def _error_bars(series: Any, plus: Sequence[float], minus: Sequence[float]) -> None:
    """Custom error bars on a bar series (python-pptx has no API for c:errBars)."""

    def values(tag: str, numbers: Sequence[float]) -> Any:
        holder, literal = OxmlElement(f"c:{tag}"), OxmlElement("c:numLit")
        count = OxmlElement("c:ptCount")
        count.set("val", str(len(numbers)))
        literal.append(count)
        for i, number in enumerate(numbers):
            point, value = OxmlElement("c:pt"), OxmlElement("c:v")
            point.set("idx", str(i))
            value.text = str(float(number))  # XML, not display text
            point.append(value)
            literal.append(point)
        holder.append(literal)
        return holder

    bars = OxmlElement("c:errBars")
    for tag, val in (("c:errBarType", "both"), ("c:errValType", "cust"), ("c:noEndCap", "0")):
        element = OxmlElement(tag)
        element.set("val", val)
        bars.append(element)
    bars.extend([values("plus", plus), values("minus", minus)])
    ser = series._element
    ser.find(qn("c:cat")).addprevious(bars)


def _subgroup_slides(deck: Any, view: DeckView, caption: str, decided: Mask) -> None:
    """The forest plot over as many slides as its rows need, each factor on one slide; the
    notes read that slide's hazard ratios, privacy's as on the plot (subgroup_cells)."""
    if view.subgroups.table.empty:
        return
    note = "Unadjusted, one factor at a time: hypotheses, not findings."
    endpoint = ENDPOINTS[view.subgroups.endpoint].lower()
    key = forest_key(view.subgroups.month, subgroup_test(view.subgroups))
    pages = forest_pages(view.subgroups, SLIDE_ROWS)
    for i, page in enumerate(pages, start=1):
        part = f" ({i} of {len(pages)})" if len(pages) > 1 else ""
        title = f"Subgroups, unadjusted: {endpoint}{part}"
        lines = subgroup_lines(page, decided)
        slide = _slide(deck, title, caption, "\n".join([key, note, *lines]))
        _picture(
            slide, forest_plot(page, decided), MARGIN, FULL_WIDTH, BOTTOM - TOP - FOREST_KEY_HEIGHT
        )
        _text_box(slide, key, MARGIN, BOTTOM - FOREST_KEY_HEIGHT, FULL_WIDTH, FOREST_KEY_HEIGHT,
                  size=12, colour=TEXT_GREY)  # fmt: skip


def subgroup_lines(view: SubgroupsView, decided: Mask | None = None) -> list[str]:
    """Each estimable group's hazard ratio against its reference and its factor's p, the
    test named (the log-rank test, or the robust score test where limbs are clustered by
    patient); in privacy mode those privacy withholds (tables.subgroup_cells) hidden, as
    the forest plot hides them."""
    table = view.table
    cells = subgroup_cells(view, decided)
    hidden = dict(zip(table.index, cells.ratio_hidden, strict=True))
    hidden_test = dict(zip(table.index, cells.test_hidden, strict=True))
    lines, name = [], COMPARISON_TESTS_INLINE[subgroup_test(view)]
    for row in table[table["estimable"] & ~table["is_reference"]].itertuples():
        ratio = (
            fmt.SUPPRESSED if hidden[row.Index]
            else fmt.ratio_ci(row.hr, row.hr_lower, row.hr_upper)
        )  # fmt: skip
        test = f"p {fmt.SUPPRESSED}" if hidden_test[row.Index] else fmt.p_statement(row.logrank_p)
        unstable = " (unstable)" if row.unstable else ""
        lines.append(
            f"{fmt.group(row.factor, row.level, view.variables)}: HR {ratio}, "
            f"{name} {test}{unstable}"
        )
    return lines


FOREST_KEY_HEIGHT = Inches(0.5)  # what each column covers, under the forest plot


def forest_key(month: float, test: str = LOGRANK) -> str:
    """What each column of the forest plot covers: the hazard ratio, the p of ``test`` (a
    key of glossary.COMPARISON_TESTS) and the events the whole follow-up, the estimate
    one month; where the robust score test ran, that n counts limbs clustered by patient."""
    clustered = test != LOGRANK
    ci = "95% CI clustered by patient" if clustered else "95% CI"
    n = f"n ({COUNT_COLUMNS[LIMB].lower()})" if clustered else "n"
    return (
        f"Hazard ratio ({ci}), {COMPARISON_TESTS_INLINE[test]} p and {n} / events: the "
        f"whole follow-up. At {fmt.months(month)} mo: the Kaplan-Meier estimate at "
        f"{fmt.months(month)} months."
    )


MODEL_KEY_HEIGHT = Inches(1.9)  # the key numbers under the model's forest plot


def _model_slide(
    deck: Any, model: AdjustedModel, caption: str, mask: ModelMask, demo: bool
) -> None:
    """The adjusted model: its forest plot (crude beside adjusted, the Models page's) over
    the slide's width, and under it the page's warnings (model_warnings); the notes read
    the whole model (format.model_reading, which has those warnings too) and, on the demo,
    why it cannot confirm the paper. Privacy as on the page."""
    title = f"Adjusted hazard ratios: {ENDPOINTS[model.endpoint].lower()} (Cox)"
    reading = [*fmt.model_reading(model, mask), *([MODEL_DEMO_CAVEAT] if demo else [])]
    slide = _slide(deck, title, caption, "\n".join(reading))
    if not model.terms:
        _text_box(slide, "\n".join(reading), MARGIN, TOP, FULL_WIDTH, BOTTOM - TOP, size=18)
        return
    plot_height = BOTTOM - TOP - MODEL_KEY_HEIGHT
    _picture(slide, model_forest_plot(model, mask), MARGIN, FULL_WIDTH, plot_height)
    key = [fmt.model_counts(mask, model.clustered) + ".", *model_warnings(model, mask, demo)]
    if model.ph_test and not mask.global_test_hidden:
        key.append(f"Proportional hazards, all terms: {fmt.ph_reading(model.ph_test[-1])}.")
    _text_box(slide, "\n".join(key), MARGIN, TOP + plot_height, FULL_WIDTH, MODEL_KEY_HEIGHT,
              size=12, colour=TEXT_GREY)  # fmt: skip


def model_warnings(model: AdjustedModel, mask: ModelMask, demo: bool) -> list[str]:
    """What the Models page warns of beside the model, in its words: the events per
    variable, the model's notes, the hazard ratios privacy withholds and, on the demo,
    that a reconstruction cannot confirm the paper."""
    hidden = fmt.hidden_ratios_note(model, mask)
    return [
        fmt.events_per_variable_sentence(model, mask),
        *(f"Note: {note}." for note in model.notes),
        *([f"{hidden}. {SUPPRESSED_NOTE}."] if hidden else []),
        *([MODEL_DEMO_CAVEAT] if demo else []),
    ]


def table_lines(table: pd.DataFrame) -> list[str]:
    """A table as lines for the notes, a row each: "Female: 17 (50.0%)", or with more
    columns "PTS: Before 34 (100%); After 24 (70.6%); P value 0.002" (empty cells left
    out)."""
    lines = []
    for row in table.itertuples(index=False):
        name, *values = (str(value) for value in row)
        cells = [(column, value) for column, value in zip(table.columns[1:], values, strict=True)
                 if value]  # fmt: skip
        if len(table.columns) == 2:
            lines.append(f"{name}: {values[0]}")
        else:
            lines.append(f"{name}: " + "; ".join(f"{column} {value}" for column, value in cells))
    return lines


def table_split(table: pd.DataFrame) -> tuple[int, int]:
    """Where a table of a label and a value (and a unit) splits into two side by side
    (each at most TABLE_ROWS rows), and its type size: each side as wide as its longest
    cells, the split at which they fit the slide on one line a row at the largest size (13, 12, 11,
    else 10 pt, rows wrapping), of the nearly even ones (EVEN_ROWS), the most even."""
    cells = [[len(str(value)) for value in table.iloc[:, j]] for j in range(len(table.columns))]
    header = [len(str(name)) for name in table.columns]

    def need(rows: slice) -> int:
        return sum(max(header[j], *column[rows]) for j, column in enumerate(cells))

    def size(split: int) -> int:
        characters = need(slice(0, split)) + need(slice(split, None))
        room = FULL_WIDTH - TABLE_GAP - 4 * CELL_MARGIN_WIDE
        fits = [size for size in (13, 12, 11) if characters * Pt(size) * CHARACTER <= room]
        return max(fits, default=10)

    half = (len(table) + 1) // 2
    splits = [r for r in range(1, len(table)) if max(r, len(table) - r) <= TABLE_ROWS] or [half]
    even = [r for r in splits if abs(2 * r - len(table)) <= EVEN_ROWS] or splits
    split = max(even, key=lambda r: (size(r), -abs(2 * r - len(table))))
    return split, size(split)


TABLE_ROWS = 17  # rows of a table under the caption, besides its header
EVEN_ROWS = 4  # two sides differ by at most this many rows: one short side reads as a gap
TABLE_GAP = Inches(0.3)  # between two tables side by side
CELL_MARGIN_WIDE = Inches(0.1)  # python-pptx's default left and right cell margin


def _table_slide(
    deck: Any, title: str, table: pd.DataFrame, caption: str, notes: Sequence[str] = ()
) -> None:
    """A table of a label and a value (Table 1, Table 2; Table 1 of a registry of limbs
    has a third column, the unit each row counts) as two native tables side by side, so
    all of it fits the slide (table_split); a table longer than two sides of TABLE_ROWS
    goes on as many slides as it needs, "(1 of 2)". The notes hold its rows and
    ``notes``."""
    count = max(1, -(-len(table) // (2 * TABLE_ROWS)))
    per_slide = -(-len(table) // count)  # as even as the slides can be
    pages = [table.iloc[i : i + per_slide] for i in range(0, len(table), per_slide)] or [table]
    for number, page in enumerate(pages, start=1):
        titled = f"{title} ({number} of {len(pages)})" if len(pages) > 1 else title
        _table_page(deck, titled, page, caption, notes)


def _table_page(
    deck: Any, title: str, table: pd.DataFrame, caption: str, notes: Sequence[str]
) -> None:
    """One slide of _table_slide."""
    slide = _slide(deck, title, caption, "\n".join([*table_lines(table), *notes]))
    split, size = table_split(table)
    parts = (table.iloc[:split], table.iloc[split:])
    left = MARGIN
    for part, columns in zip(parts, table_widths(table, split, size), strict=True):
        grid = _frame_table(slide, part, left, sum(columns))
        for column, width in zip(grid.columns, columns, strict=True):
            column.width = width
        _table_text(grid, size=size)
        left += sum(columns) + TABLE_GAP


def table_widths(table: pd.DataFrame, split: int, size: int) -> list[list[int]]:
    """The column widths of _table_page's two tables side by side (the rows before
    ``split``, then the rest) at ``size`` pt: each column as wide as its longest cell and
    a character more, scaled to fill the slide's width; a column of one word a cell (the
    unit each row counts) keeps its room (scaled down with the others, "patients" wrapped
    into "patient / s")."""
    parts = (table.iloc[:split], table.iloc[split:])
    em = Pt(size) * CHARACTER
    needs = [
        [(max(len(str(v)) for v in (name, *part.iloc[:, j])) + 1) * em + 2 * CELL_MARGIN_WIDE
         for j, name in enumerate(table.columns)]
        for part in parts
    ]  # fmt: skip  # a character's room more: an estimate of widths, never of a word cut
    kept = [all(" " not in str(v) for v in (name, *table.iloc[:, j]))
            for j, name in enumerate(table.columns)]  # fmt: skip
    fixed = sum(w for widths in needs for w, k in zip(widths, kept, strict=True) if k)
    scaled = sum(w for widths in needs for w, k in zip(widths, kept, strict=True) if not k)
    scale = (FULL_WIDTH - TABLE_GAP - fixed) / scaled
    return [
        [round(w if k else w * scale) for w, k in zip(widths, kept, strict=True)]
        for widths in needs
    ]


def _frame_table(slide: Any, table: pd.DataFrame, left: int, width: int) -> Any:
    """A native table under the caption holding ``table``'s header and cells as text."""
    grid = slide.shapes.add_table(len(table) + 1, len(table.columns), left, TOP, width,
                                  ROW * (len(table) + 1)).table  # fmt: skip
    for j, name in enumerate(table.columns):
        grid.cell(0, j).text = str(name)
    for i, row in enumerate(table.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            grid.cell(i, j).text = str(value)
    return grid


TABLE3_WIDTHS = (3.3, 1.6, 1.6, 2.5, 1.0)  # inches; the test column takes the rest


def _table3_slide(deck: Any, table: pd.DataFrame, caption: str, notes: Sequence[str]) -> None:
    """Table 3 as one native table over the slide's width; ``notes`` (on the demo, which
    results the paper does not publish, and that its CEAP regression is the paper's) under
    it and in the notes."""
    slide = _slide(deck, "Table 3: clinical change", caption,
                   "\n".join([*table_lines(table), *notes]))  # fmt: skip
    grid = _frame_table(slide, table, MARGIN, FULL_WIDTH)
    widths = [Inches(w) for w in TABLE3_WIDTHS]
    for column, width in zip(grid.columns, [*widths, FULL_WIDTH - sum(widths)], strict=True):
        column.width = width
    _table_text(grid, size=12)
    if notes:
        per_line = int(FULL_WIDTH // (Pt(12) * CHARACTER))
        top = BOTTOM - Inches(0.25) * sum(wrapped_lines(note, per_line) for note in notes)
        _text_box(slide, "\n".join(notes), MARGIN, top, FULL_WIDTH, BOTTOM - top, size=12,
                  colour=TEXT_GREY)  # fmt: skip


def slide_table3(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Table 3 for its slide, and the notes it moves under it: why a test is not
    computable (a sentence six lines tall in the test column, which ran the table under
    its notes) stands as a note, "not computable" in its cell."""
    table, notes = table.copy(), []
    test = table.columns[-1]
    for i, cell in table[test].items():
        if str(cell).startswith(f"{NOT_COMPUTABLE}: "):
            notes.append(f"{table.at[i, table.columns[0]]}: {cell}.")
            table.at[i, test] = NOT_COMPUTABLE
    return table, notes


# The terms the deck's slides use, in the order they appear; the model's when it has one.
DECK_TERMS = (
    "Technical success", "Primary patency", "Assisted primary patency", "Secondary patency",
    "Kaplan-Meier", "Number at risk", "Log-rank test", "Hazard ratio", "CEAP",
    "Clinical severity score", "Stuart-Maxwell test", "Bowker test", "Villalta", "PTS", "Reflux",
    "Wilcoxon signed-rank test", "Hodges-Lehmann", "McNemar test", "Crude percentage",
    "Clopper-Pearson interval", "Cumulative incidence, death competing",
    "Events per 100 patient-years",
)  # fmt: skip
MODEL_TERMS = (
    "Adjusted hazard ratio", "Time-varying covariate", "Events per variable",
    "Proportional-hazards test",
)  # fmt: skip
DEFINITION_SIZE = 13  # pt
DEFINITION_LINES = 24  # lines of DEFINITION_SIZE type a slide holds under its caption
DEFINITION_LINE_CHARACTERS = 160  # characters of a full-width line at that size


def definition_pages(model: bool, clustered: bool = False) -> list[list[str]]:
    """The deck's terms (and the model's, with a model; the robust score test's after the
    log-rank test's where limbs are ``clustered`` by patient) split over slides, each
    holding what fits, a term never split."""
    pages: list[list[str]] = [[]]
    used = 0.0
    robust = (ROBUST_SCORE_TEST,) if clustered else ()
    terms = [t for base in DECK_TERMS
             for t in ((base, *robust) if base == "Log-rank test" else (base,))]  # fmt: skip
    for term in (*terms, *(MODEL_TERMS if model else ())):
        lines = math.ceil((len(term) + len(DEFINITIONS[term]) + 2) / DEFINITION_LINE_CHARACTERS)
        lines += 0.4  # the space after a paragraph
        if pages[-1] and used + lines > DEFINITION_LINES:
            pages.append([])
            used = 0.0
        pages[-1].append(term)
        used += lines
    return pages


def _definition_slides(deck: Any, caption: str, model: bool, clustered: bool) -> None:
    """The definitions of the deck's terms (analytics.glossary.DEFINITIONS), each term in
    bold, over as many slides as they need (definition_pages)."""
    pages = definition_pages(model, clustered)
    for i, terms in enumerate(pages, start=1):
        part = f" ({i} of {len(pages)})" if len(pages) > 1 else ""
        text = "\n".join(f"{term}. {DEFINITIONS[term]}" for term in terms)
        slide = _slide(deck, f"Definitions{part}", caption, text)
        frame = slide.shapes.add_textbox(MARGIN, TOP, FULL_WIDTH, BOTTOM - TOP).text_frame
        frame.word_wrap = True
        for j, term in enumerate(terms):
            paragraph = frame.paragraphs[0] if j == 0 else frame.add_paragraph()
            paragraph.space_after = Pt(5)
            for words, bold in ((f"{term}. ", True), (DEFINITIONS[term], False)):
                run = paragraph.add_run()
                run.text, run.font.bold = words, bold
                run.font.size, run.font.color.rgb = Pt(DEFINITION_SIZE), _rgb(TEXT_COLOUR)


def _means(score: ScoreChange, measure: str, clinical: Mask) -> list[str]:
    """A paired score's mean ± SD before and at the last visit, each withheld where a
    count it averages is hidden (privacy.hidden_means)."""
    return [
        fmt.mean_sd(getattr(score, f"mean_{when}"), getattr(score, f"sd_{when}"), 2,
                    hidden_means(measure, when, clinical))
        for when in WHEN
    ]  # fmt: skip


def _ceap_text(change: ClinicalChange, clinical: Mask) -> str:
    def classes(when: str) -> str:
        cells = {c: clinical.cell(ceap_class_key(when, c)) for c in CEAP_CLASSES}
        return ", ".join(
            f"C{c} {fmt.cell(cell)}" for c, cell in cells.items() if cell.value or cell.hidden
        )

    score = change.severity_score
    means = _means(score, "ceap", clinical)
    hidden = hidden_change("ceap", clinical)
    return (
        f"Before: {classes('before')}\n"
        f"Last visit: {classes('after')}\n"
        f"Clinical severity score (C - 2): {means[0]} → {means[1]}; "
        f"Wilcoxon signed-rank {fmt.test_p(score.p, score.n, hidden)}\n"
        f"Median change {fmt.median_change(score.median_change, hidden)}"
    )


def _pts_text(change: ClinicalChange, clinical: Mask) -> str:
    villalta, pts = change.villalta, change.pts
    means = _means(villalta, "villalta", clinical)
    hidden = hidden_change("villalta", clinical)
    before, after = (fmt.cell(clinical.cell(binary_key("pts", when))) for when in WHEN)
    return (
        f"Villalta {means[0]} → {means[1]}; "
        f"Wilcoxon signed-rank {fmt.test_p(villalta.p, villalta.n, hidden)}\n"
        f"Villalta median change {fmt.median_change(villalta.median_change, hidden)}\n"
        f"{PTS} {before} → {after}; "
        f"exact McNemar {fmt.test_p(pts.p, pts.n, hidden_mcnemar('pts', clinical))}"
    )


def _clinical_notes(change: ClinicalChange, clinical: Mask) -> str:
    reflux = change.reflux
    before, after = (fmt.cell(clinical.cell(binary_key("reflux", when))) for when in WHEN)
    return (
        _pts_text(change, clinical)
        + (
            f"\n{REFLUX} {before} → {after}; "
            f"exact McNemar {fmt.test_p(reflux.p, reflux.n, hidden_mcnemar('reflux', clinical))}"
        )
        + "".join(f"\n{note}" for note in change.notes)
    )
