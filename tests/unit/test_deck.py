"""Figure export and the deck: valid files, the view's filter and n, the report's numbers."""

from __future__ import annotations

import io
import re
import struct
from unittest import mock

import numpy as np
import openpyxl
import plotly.graph_objects as go
import pytest
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Inches, Pt

from analytics.cli import main
from analytics.filters import parse_pairs
from analytics.glossary import SAFETY_EVENTS, TOO_FEW_EVENTS, TOO_FEW_EVENTS_REASON, UNRELIABLE
from analytics.present import render as export
from analytics.present.deck import SLIDE_HEIGHT, SLIDE_WIDTH, build_deck, deck_mask
from analytics.present.figures.patency import curve_specs
from analytics.present.masking import exact
from analytics.present.report import report_json
from analytics.present.tables import unreliable_start
from analytics.views import deck_view, patency_ledger
from tests.masks import safety_mask

pytestmark = pytest.mark.skipif(not export.CHROMIUM.exists(), reason="needs Debian's chromium")


def test_png_svg_pdf_are_valid_files_at_slide_size():
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))
    png = export.render(fig, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # IHDR
    assert (width, height) == (3200, 1800)  # 16:9 at twice the slide's pixels
    svg = export.render(fig, "svg")
    assert svg.lstrip().startswith(b"<svg") and b"</svg>" in svg
    pdf = export.render(fig, "pdf")
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000


def test_missing_chromium_is_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr(export, "_started", False)
    monkeypatch.setattr(export, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(export.ExportUnavailable, match="apt-get install chromium"):
        export.render(go.Figure(), "png")


@pytest.fixture(scope="module")
def left_view(demo_path):
    from analytics.cohort.db import open_cohort

    with open_cohort(demo_path) as con:
        return deck_view(con, parse_pairs(["lesion_side=left"]), by="sex")


@pytest.fixture(scope="module")
def left_deck(left_view):
    deck = Presentation(io.BytesIO(build_deck(left_view)))
    return deck, report_json(left_view.report)


K = 10


@pytest.fixture(scope="module")
def private(demo_path):
    """The whole demo in privacy mode k = 10: minor bleeding, pulmonary embolism and
    recurrent DVT (1, 3 and 7 patients) and the CEAP classes of 8 and 9 limbs are below k."""
    from analytics.cohort.db import open_cohort

    with open_cohort(demo_path) as con:
        view = deck_view(con, parse_pairs([]))
    return view, Presentation(io.BytesIO(build_deck(view, k=K)))


def notes(slide) -> str:
    return slide.notes_slide.notes_text_frame.text


def titled(deck, title: str):
    return next(slide for slide in deck.slides if slide.shapes.title.text == title)


def chart(slide):
    return next(shape for shape in slide.shapes if shape.has_chart).chart


def xy(series) -> list[tuple[float, float]]:
    """A native XY series' points, the padding (its last point repeated) dropped."""
    xs = [float(v.text) for v in series._element.xpath("./c:xVal//c:v")]
    ys = [float(v.text) for v in series._element.xpath("./c:yVal//c:v")]
    points = list(zip(xs, ys, strict=True))
    while len(points) > 1 and points[-1] == points[-2]:
        points.pop()
    return points


def workbook_values(chart) -> list:
    sheet = openpyxl.load_workbook(io.BytesIO(chart.part.chart_workbook.xlsx_part.blob)).active
    return [cell for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None]


def test_deck_has_a_slide_per_view_native_charts_and_pictures(left_deck):
    deck, _ = left_deck
    titles = [slide.shapes.title.text for slide in deck.slides]
    subgroups = [t for t in titles if t.startswith("Subgroups")]
    assert titles[1:] == [
        "Primary, assisted primary and secondary patency", "Primary patency by sex",
        "CEAP clinical class before and at the last visit",
        "Villalta score and post-thrombotic syndrome", "Safety events",
        *subgroups, "Table 1: baseline characteristics", "Table 2: outcomes",
        "Table 3: clinical change", *[t for t in titles if t.startswith("Definitions")],
    ]  # fmt: skip
    assert subgroups == [
        f"Subgroups, unadjusted: primary patency ({i} of {len(subgroups)})"
        for i in range(1, len(subgroups) + 1)
    ]
    slides = {slide.shapes.title.text: slide for slide in deck.slides}
    for title in [*titles[1:4], "Safety events"]:
        assert any(shape.has_chart for shape in slides[title].shapes), title
    for title in ["Villalta score and post-thrombotic syndrome", *subgroups]:
        assert any(s.shape_type == MSO_SHAPE_TYPE.PICTURE for s in slides[title].shapes), title
    grid = next(s for s in slides["Table 1: baseline characteristics"].shapes if s.has_table)
    assert grid.table.cell(1, 0).text == "Patients" and grid.table.cell(1, 1).text == "22"


def test_every_shape_lies_inside_the_16_9_slide_and_titles_span_it(left_deck, private):
    for deck in (left_deck[0], private[1]):
        assert (deck.slide_width, deck.slide_height) == (SLIDE_WIDTH, SLIDE_HEIGHT)
        for number, slide in enumerate(deck.slides, start=1):
            for shape in slide.shapes:
                box = (shape.left, shape.top, shape.left + shape.width, shape.top + shape.height)
                assert box[0] >= 0 and box[1] >= 0, (number, shape.name, box)
                assert box[2] <= SLIDE_WIDTH and box[3] <= SLIDE_HEIGHT, (number, shape.name, box)
            title = slide.shapes.title
            assert title.width >= SLIDE_WIDTH - 2 * Inches(0.5), (number, title.width)
        for layout in (deck.slide_master, *deck.slide_layouts):
            for holder in layout.placeholders:
                assert holder.left + holder.width <= SLIDE_WIDTH, (layout.name, holder.name)


def step_at(times, values, grid):
    """A Kaplan-Meier step function at each grid point: the value after the last time at
    or before it (1 before the first), NaN after the last time."""
    index = np.searchsorted(times, grid, side="right") - 1
    read = np.where(index >= 0, values[np.maximum(index, 0)], 1.0)
    return np.where(grid <= times[-1], read, np.nan)


def plotted(series) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in series.values], dtype=float)


def test_native_patency_chart_draws_the_views_curves_with_ci_bands_and_censor_marks(
    left_view, left_deck
):
    """Each curve is one line of its steps (dotted from where the SE exceeds 10%) over a
    grid of eighths of a month, its 95% CI a filled band of a stacked area chart (before:
    two more lines of the same colour per curve), its censoring times marked "+"."""
    from pptx.enum.chart import XL_MARKER_STYLE

    deck, _ = left_deck
    native = chart(titled(deck, "Primary patency by sex"))
    area, lines = native.plots
    assert native.chart_type == XL_CHART_TYPE.AREA_STACKED and len(native.plots) == 2
    grid = np.arange(len(area.categories)) / 8
    specs = curve_specs(left_view.compared)
    bands = list(area.series)
    assert len(bands) == 2 * len(specs)
    named = {s.name: s for s in lines.series}
    assert not [name for name in named if "CI" in name]  # no CI drawn as lines
    stacked = np.zeros(grid.size)
    for i, spec in enumerate(specs):
        curve = spec.curve
        expected = step_at(curve.time, curve.estimate, grid)
        drawn = plotted(named[spec.label])
        dotted = named.get(f"{spec.label}: {UNRELIABLE}")
        if dotted is not None:
            drawn = np.where(np.isnan(drawn), plotted(dotted), drawn)
            first = unreliable_start(curve)  # the dotted stretch starts where SE > 10%
            start = np.flatnonzero(~np.isnan(plotted(dotted)))[0]
            assert grid[start] < first.time <= grid[start + 1]
        followed = ~np.isnan(expected)
        assert np.allclose(drawn[followed], expected[followed], atol=1e-6), spec.label
        assert np.isnan(drawn[~followed]).all()
        under, band = bands[2 * i], bands[2 * i + 1]
        assert band.name == f"{spec.label}: 95% CI"
        assert band.format.fill.type == 1 and under.format.fill.type == 5  # solid, none
        lower = stacked + plotted(under)
        upper = lower + plotted(band)
        stacked = upper
        for bound, drawn_bound in ((curve.ci_lower, lower), (curve.ci_upper, upper)):
            reference = step_at(curve.time, np.where(np.isnan(bound), curve.estimate, bound),
                                grid)  # fmt: skip
            reference = np.where(expected >= 1, 1.0, reference)  # 100% until the first event
            assert np.allclose(drawn_bound[followed], reference[followed], atol=1e-6)
        marks = named[f"{spec.label}: censored"]
        assert marks.marker.style == XL_MARKER_STYLE.PLUS
        at = np.flatnonzero(~np.isnan(plotted(marks)))
        times = curve.time[curve.censored > 0]
        assert list(at) == sorted({min(round(t * 8), grid.size - 1) for t in times})
    legend = native.legend._element.xpath("./c:legendEntry/c:idx/@val")
    names = [s.name for s in (*bands, *lines.series)]
    shown = [name for i, name in enumerate(names) if str(i) not in legend]
    assert shown == [spec.label for spec in specs]


@pytest.fixture(scope="module")
def yearly_decks(demo_path):
    """The left-sided view by sex with its KMunicate table a year apart (0-36, and 48
    where the curves end), in full and in privacy mode k = 10. Its pictures are white:
    its test reads the native chart and table (a picture's place and size are the
    slide's, whatever it holds), and left_deck and private render this view's kinds of
    pictures for the tests that read them."""
    from analytics.cohort.db import open_cohort

    with open_cohort(demo_path) as con:
        view = deck_view(con, parse_pairs(["lesion_side=left"]), by="sex",
                         risk_months=(0, 12, 24, 36))  # fmt: skip
    with mock.patch("analytics.present.deck.render", lambda *_: _WHITE_PNG):
        return [Presentation(io.BytesIO(build_deck(view, k=k))) for k in (None, K)]


def test_each_months_column_stands_under_that_month_on_the_axis(yearly_decks):
    """The KMunicate table's text of each month is centred where the chart's plot puts
    that month (its manual layout, and the axis from 0 to its last category), where the
    months lie far enough apart for their text (else risk_layout's equal columns)."""
    for deck in yearly_decks:
        for title in ("Primary, assisted primary and secondary patency", "Primary patency by sex"):
            if title not in [s.shapes.title.text for s in deck.slides]:
                continue
            slide = titled(deck, title)
            frame = next(shape for shape in slide.shapes if shape.has_chart)
            table_shape = next(shape for shape in slide.shapes if shape.has_table)
            layout = frame.chart._chartSpace.xpath(".//c:plotArea/c:layout/c:manualLayout")[0]
            x, w = (float(layout.xpath(f"./c:{tag}/@val")[0]) for tag in ("x", "w"))
            end = (len(frame.chart.plots[0].categories) - 1) / 8
            table = table_shape.table
            left = table_shape.left + table.columns[0].width
            off = []
            for j in range(1, len(table.columns)):
                cell, right = table.cell(0, j), left + table.columns[j].width
                centre = (left + cell.margin_left + right - cell.margin_right) / 2
                month = float(cell.text)
                expected = frame.left + frame.width * (x + w * month / end)
                off += [(month, abs(centre - expected))]
                left = right
            widths = {table.columns[j].width for j in range(1, len(table.columns))}
            if any(gap >= Inches(0.02) for _, gap in off):  # only as risk_layout's fallback
                assert max(widths) - min(widths) <= 1, (title, off)  # equal, to the EMU
                assert any(len(table.cell(1, j).text) > 16 for j in range(1, len(table.columns)))


def ticks(native) -> list[str]:
    """The month labels along a patency chart's axis."""
    points = native.plots[0].series[0]._element.xpath("./c:cat//c:pt/c:v")
    return [point.text for point in points if point.text]


def test_native_risk_table_is_the_kmunicate_table(left_view, left_deck):
    deck, _ = left_deck
    slide = titled(deck, "Primary patency by sex")
    grid = next(shape for shape in slide.shapes if shape.has_table).table
    specs = curve_specs(left_view.compared)
    assert grid.cell(0, 0).text == "At risk (events, censored before)"
    months = [grid.cell(0, j).text for j in range(1, len(grid.columns))]
    # and 48: the curves run to 45.5 months (stats.survival.covering_months)
    assert ticks(chart(slide)) == months == ["0", "6", "12", "24", "36", "48"]
    for i, spec in enumerate(specs, start=1):
        assert grid.cell(i, 0).text == spec.label
        risk = spec.risk
        for j in range(len(risk.month)):
            expected = f"{risk.at_risk[j]} ({risk.events[j]}, {risk.censored[j]})"
            assert grid.cell(i, j + 1).text == expected


def test_native_ceap_and_safety_charts_hold_the_views_numbers(left_view, left_deck):
    deck, _ = left_deck
    change, safety = left_view.report.clinical, left_view.report.safety
    before, after = change.ceap_counts("before"), change.ceap_counts("after")
    limbs = sum(before.values())
    ceap = chart(titled(deck, "CEAP clinical class before and at the last visit"))
    for series in ceap.plots[0].series:
        expected = [100 * n / limbs if n else None for n in (before[series.name],
                                                            after[series.name])]  # fmt: skip
        assert list(series.values) == pytest.approx(expected, abs=0.05)
    bars = chart(titled(deck, "Safety events")).plots[0]
    shown = dict(zip(bars.categories, bars.series[0].values, strict=True))
    for row in safety.table.itertuples():
        label = next(c for c in shown if c.startswith(SAFETY_EVENTS[row.event] + ":"))
        assert label.endswith(f": {row.patients} ({100 * row.patients / safety.patients:.1f}%)")
        assert shown[label] == pytest.approx(100 * row.proportion, abs=0.05)


def test_privacy_keeps_small_counts_out_of_charts_and_their_workbooks(private):
    view, deck = private
    safety = view.report.safety.table
    small = safety[(safety["patients"] > 0) & (safety["patients"] < K)]
    assert len(small) == 3
    bars = chart(titled(deck, "Safety events"))
    shown = dict(zip(bars.plots[0].categories, bars.plots[0].series[0].values, strict=True))
    for event in small["event"]:
        label = next(c for c in shown if c.startswith(SAFETY_EVENTS[event] + ":"))
        assert label == f"{SAFETY_EVENTS[event]}: <{K}" and shown[label] is None
    change = view.report.clinical
    counts = {"Before": change.ceap_counts("before"), "Last visit": change.ceap_counts("after")}
    ceap = chart(titled(deck, "CEAP clinical class before and at the last visit"))
    masked = 0
    for series in ceap.plots[0].series:
        for moment, value in zip(ceap.plots[0].categories, series.values, strict=True):
            n = counts[moment][series.name]
            if 0 < n < K:
                assert value is None, (series.name, moment)
                masked += 1
    assert masked == 3  # C6 and C3 (8 limbs), C5 at the last visit (9)
    for slide in deck.slides:
        for shape in (s for s in slide.shapes if s.has_chart):
            for value in workbook_values(shape.chart):
                if isinstance(value, str):  # names and categories: never a small count
                    assert not re.search(r"(?<![\d.<])[1-9] \(", value), value
            for series in shape.chart.plots[0].series:
                labels = series._element.xpath(".//c:dLbl//a:t/text()")
                assert not any(re.fullmatch(r"[1-9]", text) for text in labels), labels


def test_title_slide_states_the_filter_the_comparison_and_n(left_deck):
    deck, _ = left_deck
    text = deck.slides[0].placeholders[1].text
    assert "Left · technical successes" in text
    assert "primary patency compared by sex" in text
    assert "n = 22 patients" in text
    assert "not patient data" in text  # the demo's provenance


def test_notes_carry_the_reports_numbers(left_deck):
    deck, report = left_deck
    patency = notes(deck.slides[2])
    female_12 = next(r for r in report["patency"]["primary"]["groups"]["F"] if r["month"] == 12)
    assert f"Sex: Female at 12 months: {100 * female_12['estimate']:.1f}%" in patency
    hr = report["patency"]["primary"]["hazard_ratios"][0]  # 4 events in men: no number
    assert hr["hr"] is None and hr["reason"] == TOO_FEW_EVENTS_REASON
    assert f"Cox HR Male vs Female: {TOO_FEW_EVENTS_REASON}" in patency
    overall = notes(deck.slides[1])
    primary_36 = report["patency"]["primary"]["overall"][-1]
    assert f"Primary patency at 36 months: {100 * primary_36['estimate']:.1f}%" in overall
    clinical = report["clinical"]
    villalta = notes(deck.slides[4])
    assert f"{clinical['pts_before']} → {clinical['pts_after']}" in villalta
    assert f"Villalta {clinical['villalta_before']['mean']:.2f}" in villalta
    change = clinical["villalta_change"]
    assert f"Villalta median change {change['hodges_lehmann']:.2f} (95% CI" in villalta
    safety = notes(deck.slides[5])
    dvt = report["safety"]["recurrent_dvt"]
    assert f"Recurrent DVT: Patients {dvt['patients']}; Crude % {dvt['percent']:.1f}; " in safety


def test_deck_from_the_command_line(demo_path, tmp_path, capsys):
    out = tmp_path / "view.pptx"
    args = ["deck", "--db", str(demo_path), "--where", "smoking=no", "--privacy", "5"]
    months = ["--risk-months", "0,18,30"]  # the Patency page's choice, as the sidebar passes it
    assert main([*args, *months, "--by", "thrombophilia", "--out", str(out)]) == 0
    deck = Presentation(str(out))
    assert "Smoking: no" in deck.slides[0].placeholders[1].text
    assert "Primary patency by thrombophilia" in [s.shapes.title.text for s in deck.slides]
    for title in (
        "Primary, assisted primary and secondary patency",
        "Primary patency by thrombophilia",
    ):
        grid = next(shape for shape in titled(deck, title).shapes if shape.has_table).table
        # and 36, 48: the demo's curves run to 45.5 months (stats.survival.covering_months)
        months = ["0", "18", "30", "36", "48"]
        assert [cell.text for cell in grid.rows[0].cells][1:] == months
        assert ticks(chart(titled(deck, title))) == months  # the axis: the same
    safety = next(s for s in deck.slides if s.shapes.title.text == "Safety events")
    assert "<5" in notes(safety)  # pulmonary embolism in fewer than five


def test_privacy_keeps_small_counts_out_of_every_slides_text_and_notes(private):
    """'Before: C4 2' in the notes gave a class's limbs away; every text now follows the
    same rules as the screens (a small count "<k", what would reveal it "hidden")."""
    _, deck = private
    small = re.compile(rf"\b(C[0-6]|PTS|{'|'.join(SAFETY_EVENTS.values())}):? ([1-9])\b")
    for slide in deck.slides:
        texts = [notes(slide)] + [s.text_frame.text for s in slide.shapes if s.has_text_frame]
        for text in texts:
            assert not small.search(text), small.search(text).group(0)
    ceap = notes(titled(deck, "CEAP clinical class before and at the last visit"))
    assert "<10" in ceap and "hidden" in ceap


def test_privacy_hides_a_kmunicate_count_the_others_would_give_away(demo_path):
    """Deck table '33 (<5, 0)' of 34 showed 1 event: the table and the notes now follow the
    complementary rule (and the estimate at such a month is hidden)."""
    from analytics.cohort.db import open_cohort

    with open_cohort(demo_path) as con:
        view = deck_view(con, parse_pairs([]))
    deck = Presentation(io.BytesIO(build_deck(view, k=5)))
    slide = titled(deck, "Primary, assisted primary and secondary patency")
    (table,) = [s.table for s in slide.shapes if s.has_table]
    for row in list(table.rows)[1:]:
        for cell in list(row.cells)[1:]:
            parts = re.findall(r"<5|hidden|\d+", cell.text)
            assert sum(part in ("<5", "hidden") for part in parts) != 1, cell.text
    assert "Secondary patency at 12 months: hidden" in notes(slide)  # 32 of 34: 2 events


MODEL_SLIDE = "Adjusted hazard ratios: primary patency (Cox)"


def _ratio(term) -> str:
    return f"{term.hr:.2f} ({term.ci_lower:.2f}-{term.ci_upper:.2f})"


def test_deck_adjust_adds_crude_and_adjusted_hazard_ratios_with_the_model_in_the_notes(
    demo, demo_path, tmp_path
):
    from analytics.filters import DEFAULT_FILTER
    from analytics.glossary import FEW_EVENTS_PER_VARIABLE
    from analytics.stats.models import adjusted_model

    out = tmp_path / "adjusted.pptx"
    adjust = "symptom_duration_months,recurrent_dvt"
    assert main(["deck", "--db", str(demo_path), "--adjust", adjust, "--out", str(out)]) == 0
    deck = Presentation(str(out))
    titles = [slide.shapes.title.text for slide in deck.slides]
    assert titles[titles.index(MODEL_SLIDE) + 1] == "Table 1: baseline characteristics"
    slide = titled(deck, MODEL_SLIDE)
    assert any(s.shape_type == MSO_SHAPE_TYPE.PICTURE for s in slide.shapes)
    model = adjusted_model(demo, DEFAULT_FILTER, "primary", adjust.split(","))
    text = notes(slide)
    crude = {t.term: t for t in model.crude}
    duration, recurrent = model.terms
    assert not recurrent.estimable
    assert (
        f"DVT duration (per 12 months): crude HR (95% CI) {_ratio(crude[duration.term])}, "
        f"p < 0.001; adjusted HR (95% CI) {_ratio(duration)}, p < 0.001"
    ) in text
    assert f"adjusted HR (95% CI) {TOO_FEW_EVENTS}" in text  # 2 events after a recurrent DVT
    assert (
        f"7.0 events per coefficient (14 events, 2 coefficients): {FEW_EVENTS_PER_VARIABLE}" in text
    )
    assert "0 patients left out for a missing covariate" in text
    assert "no proportional-hazards test for a model with a time-varying covariate" in text
    # the Models page's warnings, on the slide itself and in the page's words
    from analytics.glossary import MODEL_DEMO_CAVEAT

    shown = "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
    assert MODEL_DEMO_CAVEAT in shown and MODEL_DEMO_CAVEAT in text
    assert f"14 events, 2 coefficients): {FEW_EVENTS_PER_VARIABLE}." in shown


def test_deck_adjust_refuses_what_report_adjust_refuses(demo_path, tmp_path, capsys):
    out = tmp_path / "refused.pptx"
    assert main(["deck", "--db", str(demo_path), "--adjust", "patient_id", "--out", str(out)]) == 1
    assert capsys.readouterr().err.startswith("error: cannot adjust for 'patient_id'")
    assert not out.exists()


def test_privacy_hides_a_small_centres_ratios_on_the_models_slide(small_centre_path, tmp_path):
    """center=C07 holds 3 patients: its hazard ratios are not on the slide, in its notes
    nor in its picture's figure (tests/unit/test_figures_models.py reads that one)."""
    from analytics.cohort.db import open_cohort
    from analytics.filters import DEFAULT_FILTER
    from analytics.stats.models import adjusted_model

    out = tmp_path / "private.pptx"
    args = ["deck", "--db", str(small_centre_path), "--privacy", "5", "--out", str(out)]
    assert main([*args, "--adjust", "center,symptom_duration_months"]) == 0
    slide = titled(Presentation(str(out)), MODEL_SLIDE)
    with open_cohort(small_centre_path) as con:
        model = adjusted_model(
            con, DEFAULT_FILTER, "primary", ["center", "symptom_duration_months"]
        )
    centre, duration = model.terms
    texts = [notes(slide)] + [s.text_frame.text for s in slide.shapes if s.has_text_frame]
    for text in texts:
        for term in (centre, {t.term: t for t in model.crude}[centre.term]):
            assert _ratio(term) not in text and f"{term.hr:.2f}" not in text
    assert (
        "Centre: C07 vs C01 (<5 patients, hidden events): crude HR (95% CI) hidden; adjusted "
        "HR (95% CI) hidden"  # its events are part of its "<5" patients: left out with them
    ) in notes(slide)
    assert f"adjusted HR (95% CI) {_ratio(duration)}" in notes(slide)
    assert "fewer than 5 patients" in notes(slide)
    # the page's note of what privacy withholds is on the slide; this cohort is no demo
    from analytics.glossary import DEMO_NOTICE, MODEL_DEMO_CAVEAT
    from analytics.present.privacy import SUPPRESSED_NOTE

    shown = "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
    assert "Hazard ratios hidden for Centre: C07" in shown and SUPPRESSED_NOTE in shown
    assert MODEL_DEMO_CAVEAT not in shown + notes(slide) and DEMO_NOTICE not in shown


def test_the_deck_compares_against_the_reference_group_the_page_chose(demo):
    """Thrombophilia with 'yes' as the reference: the deck's hazard ratio is of 'no'
    against 'yes', the inverse of the default's 'yes' against 'no'."""
    default = deck_view(demo, parse_pairs([]), "thrombophilia")
    chosen = deck_view(demo, parse_pairs([]), "thrombophilia", reference="yes")
    (against_no,) = default.report.survival["primary"].comparison.hazard_ratios
    (against_yes,) = chosen.report.survival["primary"].comparison.hazard_ratios
    assert (against_no.level, against_yes.level) == ("yes", "no")
    assert against_yes.hr == pytest.approx(1 / against_no.hr, rel=1e-9)


def every_text(slide) -> str:
    """A slide's notes and the text of its text boxes and tables."""
    texts = [notes(slide)] + [s.text_frame.text for s in slide.shapes if s.has_text_frame]
    for shape in (s for s in slide.shapes if s.has_table):
        texts += [cell.text for row in shape.table.rows for cell in row.cells]
    return "\n".join(texts)


def test_no_carriage_return_reaches_the_decks_xml(left_deck, private):
    """Table 1's notes were its CSV, whose CRLF line ends PowerPoint shows as a literal
    '_x000D_' (22 of them); no part of the deck holds one now."""
    for deck in (left_deck[0], private[1]):
        for part in deck.part.package.iter_parts():
            assert b"_x000D_" not in part.blob, part.partname
        table1 = notes(titled(deck, "Table 1: baseline characteristics"))
        assert "Female: " in table1 and "," not in table1.splitlines()[0]


def test_every_demo_slide_carries_the_reconstruction_caveat(left_deck):
    from analytics.glossary import CEAP_REGRESSION, DEMO_NOTICE, PATENCY_ROWS_SWAPPED

    deck, _ = left_deck
    for number, slide in enumerate(deck.slides, start=1):
        shown = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
        assert any(DEMO_NOTICE in text for text in shown), number
    assert PATENCY_ROWS_SWAPPED in notes(deck.slides[0])
    for title in ("Primary, assisted primary and secondary patency", "Table 2: outcomes"):
        assert PATENCY_ROWS_SWAPPED in notes(titled(deck, title)), title
    for title in ("CEAP clinical class before and at the last visit", "Table 3: clinical change"):
        slide = titled(deck, title)
        assert CEAP_REGRESSION in notes(slide), title
        assert any(CEAP_REGRESSION in s.text_frame.text for s in slide.shapes if s.has_text_frame)


def test_table_2_and_3_slides_show_the_tables_pages_tables(left_view, left_deck, private):
    """The slides hold every cell of Tables 2 and 3 as the Tables page builds them (also
    in privacy mode), and the notes read each row."""
    from analytics.glossary import TABLE1_NOT_PUBLISHED, TABLE3_NOT_PUBLISHED
    from analytics.present.tables import table2, table3

    for view, deck, k in ((left_view, left_deck[0], None), (*private, K)):
        for title, table in (
            ("Table 2: outcomes", table2(view.tables, deck_mask(view, k))),
            (
                "Table 3: clinical change",
                table3(view.report.clinical, deck_mask(view, k), reconstruction=True),
            ),
        ):
            slide = titled(deck, title)
            cells = [
                cell.text for s in slide.shapes if s.has_table
                for row in list(s.table.rows)[1:] for cell in row.cells
            ]  # fmt: skip
            expected = [str(v) for row in table.itertuples(index=False) for v in row]
            assert sorted(cells) == sorted(expected), title
            for row in table.itertuples(index=False):
                assert any(line.startswith(f"{row[0]}: ") for line in notes(slide).splitlines())
    table3_notes = notes(titled(private[1], "Table 3: clinical change"))
    assert TABLE3_NOT_PUBLISHED in table3_notes  # the dagger's footnote, on the demo
    table1_notes = notes(titled(private[1], "Table 1: baseline characteristics"))
    assert TABLE1_NOT_PUBLISHED in table1_notes  # stents per limb: invented on the demo
    table2_notes = notes(titled(private[1], "Table 2: outcomes"))
    assert "Pulmonary embolism, crude %: <10" in table2_notes
    assert "Recurrent DVT, crude %: <10" in table2_notes  # the share over unequal follow-up


def test_the_definitions_slides_define_every_term_of_the_deck_from_the_glossary(left_deck):
    from analytics.glossary import DEFINITIONS
    from analytics.present.deck import DECK_TERMS, MODEL_TERMS

    deck, _ = left_deck
    slides = [s for s in deck.slides if s.shapes.title.text.startswith("Definitions")]
    shown = "\n".join(s.text_frame.text for slide in slides for s in slide.shapes
                      if s.has_text_frame)  # fmt: skip
    for term in DECK_TERMS:
        assert f"{term}. {DEFINITIONS[term]}" in shown, term
    assert not any(DEFINITIONS[term] in shown for term in MODEL_TERMS)  # no model in this deck
    for slide in slides:  # a surgeon reads them: no more than 24 full lines at 13 pt
        body = max((s.text_frame.text for s in slide.shapes if s.has_text_frame), key=len)
        assert len(body) < 24 * 160, slide.shapes.title.text


def test_subgroup_slides_say_what_each_column_covers(left_deck):
    """The title said "at 12 months" over hazard ratios and log-rank tests of the whole
    follow-up; the title names the endpoint, and a line under the plot and the notes say
    which column covers what."""
    deck, _ = left_deck
    slides = [s for s in deck.slides if s.shapes.title.text.startswith("Subgroups")]
    assert slides
    for slide in slides:
        assert "months" not in slide.shapes.title.text
        key = (
            "Hazard ratio (95% CI), log-rank p and n / events: the whole follow-up. "
            "At 12 mo: the Kaplan-Meier estimate at 12 months."
        )
        assert any(key == s.text_frame.text for s in slide.shapes if s.has_text_frame)
        assert notes(slide).startswith(key)


def test_a_pictures_two_line_subtitle_is_not_cut_at_its_top(private):
    """In privacy mode the Villalta picture's subtitle has two lines; plotly set the first
    above the picture's top edge, half cut off. Its top rows are now blank."""
    from PIL import Image

    _, deck = private
    slide = titled(deck, "Villalta score and post-thrombotic syndrome")
    picture = next(s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE)
    image = Image.open(io.BytesIO(picture.image.blob)).convert("L")
    top = image.crop((0, 0, image.width, 6))
    assert top.getextrema()[0] > 200  # nothing dark in the first rows: no text cut there
    rows = image.crop((0, 0, image.width // 2, image.height // 6))
    assert rows.getextrema()[0] < 100  # the subtitle is drawn, below the edge


def test_a_registrys_compared_patency_slide_keeps_its_text_on_the_slide(registry_path):
    """Six centres' estimates at 14 pt ran off the slide's bottom, and a legend of two
    rows overlapped the plot's top. The side column now fits (measured here at half an em
    a character, PowerPoint's Calibri) and the plot starts under the legend's rows."""
    from analytics.cohort.db import open_cohort
    from analytics.filters import CohortFilter
    from analytics.present.deck import BOTTOM, SIDE_WIDTH, TOP, _patency_slide, _widescreen
    from analytics.views import patency_view

    with open_cohort(registry_path) as con:
        view = patency_view(con, CohortFilter(), by="center")
    deck = Presentation()
    _widescreen(deck)
    _patency_slide(deck, view, "caption", exact(patency_ledger(view)), False)
    slide = deck.slides[0]
    side = next(s for s in slide.shapes if s.has_text_frame and s.left > SLIDE_WIDTH / 2)
    paragraphs = side.text_frame.paragraphs
    size = paragraphs[0].font.size
    per_line = int(SIDE_WIDTH / (size * 0.5))
    lines = sum(-(-len(p.text) // per_line) for p in paragraphs)
    assert lines * size * 1.2 + len(paragraphs) * Pt(4) <= BOTTOM - TOP
    assert sum(text.startswith("Centre: ") for text in side.text_frame.text.splitlines()) >= 6
    frame = next(s for s in slide.shapes if s.has_chart)
    top = float(frame.chart._chartSpace.xpath(".//c:manualLayout/c:y/@val")[0])
    assert top * frame.height >= 2 * Inches(0.3)  # six entries take two rows at least


WRAPPED = [
    "520 (163, 4)",
    "hidden (<10, 0)",
    "1,858 (0, 0)",
    "Sex: Female (n = 17)",
    "Assisted primary patency at 36 months: 61.8% (95% CI 43.4-75.7); at risk 21",
    "",
]


@pytest.mark.parametrize(
    ("text", "characters"),
    [(text, width) for text in WRAPPED for width in (6, 9, 12, 30)
     if max(map(len, text.split()), default=0) <= width],
)  # fmt: skip
def test_the_layouts_line_count_is_textwraps(text, characters):
    """The deck sizes its tables and side column by how text wraps at spaces, as
    Python's textwrap wraps it, not by its length alone: '520 (163, 4)' in 6 characters
    is three lines, not two."""
    import textwrap

    from analytics.present.deck import wrapped_lines

    expected = max(1, len(textwrap.wrap(text, characters, break_on_hyphens=False)))
    assert wrapped_lines(text, characters) == expected


def test_a_word_longer_than_a_line_starts_a_line_and_breaks_there():
    from analytics.present.deck import wrapped_lines

    assert wrapped_lines("abcdefghij", 4) == 3  # abcd / efgh / ij
    assert wrapped_lines("ab abcdefghij", 4) == 4  # ab / abcd / efgh / ij


def test_a_slide_whose_every_curve_privacy_hides_says_so(demo, monkeypatch):
    """The 12 right-sided patients at k = 20: no curve may be drawn. The slide said nothing
    over an empty chart, its table's header cut at the slide's foot."""
    from analytics.present import deck as deck_module

    monkeypatch.setattr(deck_module, "render", lambda *_: _WHITE_PNG)
    view = deck_view(demo, parse_pairs(["lesion_side=right"]), by="sex")
    deck = Presentation(io.BytesIO(build_deck(view, k=20)))
    for title in ("Primary, assisted primary and secondary patency", "Primary patency by sex"):
        slide = titled(deck, title)
        assert not any(shape.has_chart or shape.has_table for shape in slide.shapes)
        shown = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
        assert "No curve drawn: each has fewer than 20 patients (privacy mode)." in shown


_WHITE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea7d6a5d00000000049454e44ae426082"
)


def test_subgroup_notes_hide_what_the_forest_plot_hides_and_read_their_own_slide(private):
    """In privacy mode the notes gave 'Immobilization: Yes: HR 0.96 (...)' of a group of
    2 patients the plot hides, and every slide's notes repeated every factor's lines. A
    ratio is hidden with its group's or its reference's patients or events (as the
    Subgroups table prints them): a Cox CI bounds each group's events."""
    from analytics.present.format import group
    from analytics.present.tables import subgroup_display

    view, deck = private
    table = view.subgroups.table
    shown = subgroup_display(view.subgroups, deck_mask(view, K))
    exact = [str(p).isdigit() and str(e).isdigit()
             for p, e in zip(shown["Patients"], shown["Events"], strict=True)]  # fmt: skip
    table = table.assign(exact=exact)
    slides = [s for s in deck.slides if s.shapes.title.text.startswith("Subgroups")]
    said = {}
    for slide in slides:
        for line in notes(slide).splitlines()[2:]:
            assert line not in said, line  # each group on one slide only
            said[line] = slide
    for factor, rows in table.groupby("factor", sort=False):
        reference_hidden = not rows.loc[rows["is_reference"], "exact"].all()
        for row in rows[rows["estimable"] & ~rows["is_reference"]].itertuples():
            line = next(text for text in said if text.startswith(f"{group(factor, row.level)}: HR"))
            if row.patients < K or not row.exact or reference_hidden:
                assert line.startswith(f"{group(factor, row.level)}: HR hidden,"), line
                assert f"{row.hr:.2f} (" not in line
            else:
                assert f"HR {row.hr:.2f} ({row.hr_lower:.2f}-{row.hr_upper:.2f})" in line


def shown_table(slide) -> list[list[str]]:
    grid = next(shape for shape in slide.shapes if shape.has_table).table
    return [[cell.text for cell in row.cells] for row in grid.rows]


def test_the_safety_slide_shows_the_cumulative_incidence_beside_the_crude_percentages(demo):
    """The demo has no deaths and follows everyone at least 36 months, so the cumulative
    incidence with death competing at m is the share of the 34 with a first event by m,
    counted here from the events table (as tests/app/test_page_safety.py); the bars and
    the figures beside them say they are crude."""
    from analytics.glossary import CRUDE_NOT_A_RISK, SAFETY_CRUDE_AXIS, SAFETY_INCIDENCE_TITLE

    view = deck_view(demo, parse_pairs([]))
    slide = titled(Presentation(io.BytesIO(build_deck(view))), "Safety events")
    header, *rows = shown_table(slide)
    assert header == ["Event", "12 months", "24 months", "36 months"]
    table = {row[0]: row[1:] for row in rows}
    assert list(table) == ["Recurrent DVT", "Pulmonary embolism", "Major bleeding"]
    firsts = demo.execute(
        """SELECT e.patient_id, e.event, min(e.month) AS month FROM events AS e
        JOIN limbs AS p USING (patient_id) WHERE p.technical_success GROUP BY ALL"""
    ).df()
    for event in ("recurrent_dvt", "pulmonary_embolism"):
        months = firsts.loc[firsts["event"] == event, "month"]
        for cell, m in zip(table[SAFETY_EVENTS[event]], (12, 24, 36), strict=True):
            assert cell.startswith(f"{100 * (months <= m).sum() / 34:.1f}% ("), (event, m)
    assert table["Major bleeding"] == ["0.0%"] * 3
    shown = every_text(slide)
    assert SAFETY_INCIDENCE_TITLE in shown and SAFETY_INCIDENCE_TITLE in notes(slide)
    assert CRUDE_NOT_A_RISK.capitalize() in shown and CRUDE_NOT_A_RISK.capitalize() in notes(slide)
    assert "Recurrent DVT: Patients 7; Crude % 20.6; 95% CI (%) 8.7-37.9" in shown
    assert "Recurrent DVT: 12 months 5.9% (" in notes(slide)
    bars = chart(slide)
    assert bars.value_axis.axis_title.text_frame.text == SAFETY_CRUDE_AXIS
    assert SAFETY_CRUDE_AXIS in workbook_values(bars)  # the series, restyled in PowerPoint
    from analytics.present.deck import DECK_TERMS

    assert {"Crude percentage", "Cumulative incidence, death competing"} <= set(DECK_TERMS)


def test_privacy_hides_the_safety_slides_cells_the_safety_page_hides(private):
    """k = 10 on the whole demo: by 12, 24 and 36 months 2, 5 and 7 patients had a first
    recurrent DVT and 1, 2 and 3 a pulmonary embolism, all fewer than 10, so every such
    cumulative incidence is hidden, as are the crude figures of the three events in fewer
    than 10 patients; the cells are the Safety page's (safety_incidence_display)."""
    from analytics.present.tables import safety_incidence_display

    view, deck = private
    slide = titled(deck, "Safety events")
    header, *rows = shown_table(slide)
    page = safety_incidence_display(view.report.safety, deck_mask(view, K))
    assert [header, *rows] == [list(page.columns), *page.astype(str).values.tolist()]
    table = {row[0]: row[1:] for row in rows}
    assert table["Pulmonary embolism"] == table["Recurrent DVT"] == ["hidden"] * 3
    assert table["Major bleeding"] == ["0.0%"] * 3
    shown = every_text(slide)
    assert (
        "Recurrent DVT: Patients <10; Crude % hidden; 95% CI (%) hidden; "
        "Per 100 patient-years hidden"
    ) in shown
    assert "20.6" not in shown  # 7 of 34, neither crude nor by 36 months


def test_privacy_draws_no_bar_whose_rest_of_patients_is_few():
    """Minor bleeding in 38 of 40 patients: the 2 without it are fewer than k = 5, so the
    Safety table hides its percentage (hidden_split) and the chart draws no bar for it,
    where 38/40 = 95.0% would give the 2 away."""
    from analytics.present.deck import safety_chart_data
    from analytics.stats.safety import Safety, safety_table

    patients = np.array([38, 0, 10, 6, 0])
    safety = Safety(40, 80.0, safety_table(40, 80.0, patients, patients, np.zeros(5, int)))
    data = safety_chart_data(safety, safety_mask(safety, 5))
    bars = dict(zip((c.label for c in data.categories), data._series[0].values, strict=True))
    assert bars[f"{SAFETY_EVENTS['minor_bleeding']}: hidden"] is None
    assert bars[f"{SAFETY_EVENTS['recurrent_dvt']}: 10 (25.0%)"] == 25.0
    assert 95.0 not in bars.values()
