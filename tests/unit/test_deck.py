"""Figure export and the deck: valid files, the view's filter and n, the report's numbers."""

from __future__ import annotations

import io
import struct

import plotly.graph_objects as go
import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from analytics.cli import main
from analytics.filters import parse_pairs
from analytics.present import render as export
from analytics.present.deck import build_deck
from analytics.present.report import report_json
from analytics.views import deck_view

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
def left_deck(demo_path):
    from analytics.cohort.db import open_cohort

    with open_cohort(demo_path) as con:
        view = deck_view(con, parse_pairs(["lesion_side=left"]), by="sex")
    deck = Presentation(io.BytesIO(build_deck(view)))
    return deck, report_json(view.report)


def notes(slide) -> str:
    return slide.notes_slide.notes_text_frame.text


def test_deck_has_a_slide_per_view_with_a_picture_on_each_chart(left_deck):
    deck, _ = left_deck
    titles = [slide.shapes.title.text for slide in deck.slides]
    assert titles[1:] == [
        "Primary, assisted primary and secondary patency", "Primary patency by sex",
        "CEAP clinical class before and at the last visit",
        "Villalta score and post-thrombotic syndrome", "Safety",
        "Subgroups: primary patency at 12 months", "Table 1: baseline characteristics",
    ]  # fmt: skip
    for slide in list(deck.slides)[1:7]:
        assert any(s.shape_type == MSO_SHAPE_TYPE.PICTURE for s in slide.shapes)
    table = next(s for s in deck.slides[7].shapes if s.has_table).table
    assert table.cell(1, 0).text == "Patients" and table.cell(1, 1).text == "22"


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
    hr = report["patency"]["primary"]["hazard_ratios"][0]
    assert f"Cox HR (95% CI) Male vs Female: {hr['hr']:.2f} ({hr['ci_lower']:.2f}" in patency
    overall = notes(deck.slides[1])
    primary_36 = report["patency"]["primary"]["overall"][-1]
    assert f"Primary patency at 36 months: {100 * primary_36['estimate']:.1f}%" in overall
    clinical = report["clinical"]
    villalta = notes(deck.slides[4])
    assert f"{clinical['pts_before']} → {clinical['pts_after']}" in villalta
    assert f"Villalta {clinical['villalta_before']['mean']:.2f}" in villalta
    safety = notes(deck.slides[5])
    dvt = report["safety"]["recurrent_dvt"]
    assert f"Recurrent DVT: {dvt['patients']} patients, {dvt['percent']:.1f}%" in safety


def test_deck_from_the_command_line(demo_path, tmp_path, capsys):
    out = tmp_path / "view.pptx"
    args = ["deck", "--db", str(demo_path), "--where", "smoking=no", "--privacy", "5"]
    assert main([*args, "--by", "thrombophilia", "--out", str(out)]) == 0
    deck = Presentation(str(out))
    assert "Smoking: no" in deck.slides[0].placeholders[1].text
    assert "Primary patency by thrombophilia" in [s.shapes.title.text for s in deck.slides]
    safety = next(s for s in deck.slides if s.shapes.title.text == "Safety")
    assert "<5" in notes(safety)  # pulmonary embolism in fewer than five
