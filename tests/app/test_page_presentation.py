"""Presentation mode and chart export through AppTest."""

from __future__ import annotations

from analytics.present.figures.clinical import PRIVATE_FLOWS
from analytics.present.render import CHROMIUM
from tests.conftest import plotly_charts, plotly_figures, unescaped


def test_presenting_opens_on_the_screen_the_link_names_whatever_the_page(page_test):
    at = page_test("pages/2_Clinical_outcomes.py", present="yes", screen="2", lesion_side="left")
    assert not at.exception
    assert at.sidebar.toggle(key="present").value is True
    assert [m.value for m in at.markdown if m.value.startswith("## ")] == ["## Patency"]
    (figure,) = plotly_figures(at)
    assert figure["layout"]["font"]["size"] >= 18  # type for a room
    assert "height" not in figure["layout"]  # it takes the window's height (CSS)
    caption = " ".join(unescaped(c.value) for c in at.caption)
    assert "Left · technical successes · n = 22" in caption
    assert "Screen 2 of" in " ".join(m.value for m in at.markdown)


def test_next_and_previous_step_through_the_screens_with_the_arrow_keys(page_test):
    at = page_test("app.py", present="yes")
    assert [m.value for m in at.markdown if m.value.startswith("## ")] == ["## Headline figures"]
    assert at.button(key="previous").disabled
    assert at.button(key="next").proto.shortcut.lower() == "right"
    at.button(key="next").click().run()
    assert [m.value for m in at.markdown if m.value.startswith("## ")] == ["## Patency"]
    assert at.query_params["screen"] in ("2", ["2"])  # the link keeps the screen
    at.button(key="previous").click().run()
    assert [m.value for m in at.markdown if m.value.startswith("## ")] == ["## Headline figures"]


def test_headline_tiles_are_the_first_screen_with_their_intervals(page_test):
    at = page_test("app.py", present="yes")
    tiles = {m.label: m for m in at.metric}
    assert tiles["Patients analysed"].value == "34"
    assert tiles["Primary patency, 12 months"].proto.delta.startswith("95% CI ")


def test_a_screen_number_beyond_the_last_shows_the_last(page_test):
    at = page_test("app.py", present="yes", screen="30")
    assert not at.exception
    assert at.button(key="next").disabled


def test_off_by_default_charts_keep_screen_size(page_test):
    figures = plotly_figures(page_test("pages/3_Safety.py"))
    assert all(fig["layout"]["font"]["size"] == 14 for fig in figures)


def test_every_chart_offers_png_svg_pdf_and_every_page_a_deck(page_test, monkeypatch):
    from ui import show
    from ui.page import MAKE_DECK_LABEL

    monkeypatch.setattr(show, "render", lambda fig, fmt: fmt.encode())  # the files: no matter
    at = page_test("pages/3_Safety.py")
    for chart in plotly_charts(at):  # every export menu opened
        name = chart["config"]["toImageButtonOptions"]["filename"]
        at.session_state[show.export_key(name)] = True
    at.run()
    labels = [button.label for button in at.get("download_button")]
    charts = len(plotly_figures(at))
    if CHROMIUM.exists():
        for fmt in ("PNG", "SVG", "PDF"):
            assert sum(label.startswith(fmt) for label in labels) == charts
        assert MAKE_DECK_LABEL in [button.label for button in at.sidebar.button]
    else:
        assert any("apt-get install chromium" in c.value for c in at.caption)


def test_ceap_screen_under_privacy_shows_the_class_distributions_it_promises(page_test):
    at = page_test("app.py", present="yes", privacy="yes", screen="3")
    assert [m.value for m in at.markdown if m.value.startswith("## ")] == ["## CEAP clinical class"]
    figures = plotly_figures(at)
    notes = [a["text"] for f in figures for a in f["layout"].get("annotations", [])]
    assert PRIVATE_FLOWS in [note.replace("<br>", " ") for note in notes]  # what it promises
    bars = [t for f in figures for t in f["data"] if t["type"] == "bar"]
    assert {t["name"] for t in bars} >= {"C3", "C4", "C5", "C6"}  # the paper's classes
    assert all(list(t["x"]) == ["Before", "Last visit"] for t in bars)
    assert not [t for f in figures for t in f["data"] if t["type"] == "sankey"]  # no flows


def test_the_safety_screen_says_its_percentages_are_crude(page_test):
    """The screen shows only the bars, the crude share of patients over unequal follow-up:
    its axis and the line under it say so."""
    from analytics.glossary import CRUDE_NOT_A_RISK, SAFETY_CRUDE_AXIS

    at = page_test("app.py", present="yes", screen="5")
    assert not at.exception
    assert [m.value for m in at.markdown if m.value.startswith("## ")] == ["## Safety"]
    (figure,) = plotly_figures(at)
    assert figure["layout"]["xaxis"]["title"]["text"] == SAFETY_CRUDE_AXIS
    caption = " ".join(unescaped(c.value) for c in at.caption)
    assert CRUDE_NOT_A_RISK.capitalize() in caption
