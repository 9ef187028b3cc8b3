"""Presentation mode and chart export through AppTest."""

from __future__ import annotations

from analytics.present.render import CHROMIUM
from tests.conftest import plotly_figures


def test_presentation_mode_enlarges_and_captions_every_chart(page_test):
    at = page_test("pages/2_Clinical_outcomes.py", present="yes", lesion_side="left")
    assert not at.exception
    assert at.sidebar.toggle(key="present").value is True
    figures = plotly_figures(at)
    assert len(figures) == 4
    for fig in figures:
        assert fig["layout"]["font"]["size"] >= 20
        title = fig["layout"]["title"]
        stated = title.get("subtitle", {}).get("text", "") + title.get("text", "")
        assert "Left · technical successes" in stated and "n = 22" in stated


def test_off_by_default_charts_keep_screen_size(page_test):
    figures = plotly_figures(page_test("pages/3_Safety.py"))
    assert all(fig["layout"]["font"]["size"] == 14 for fig in figures)


def test_every_chart_offers_png_svg_pdf_and_every_page_a_deck(page_test):
    at = page_test("pages/3_Safety.py")
    labels = [button.label for button in at.get("download_button")]
    charts = len(plotly_figures(at))
    if CHROMIUM.exists():
        for fmt in ("PNG", "SVG", "PDF"):
            assert sum(label.startswith(fmt) for label in labels) == charts
        assert "Download deck (.pptx)" in labels
    else:
        assert any("apt-get install chromium" in c.value for c in at.caption)
