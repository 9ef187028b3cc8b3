"""Real browser: every presenting screen fits the window, and no page or screen of the demo
cuts a label, header or count (tools.layout), with and without privacy mode; the check
itself finds each defect it looks for."""

from __future__ import annotations

import pytest

from tests.browser.harness import (
    FILTERS,
    PAGE_READY,
    PRIVACY,
    SIZES,
    cut_text_at_sizes,
    cut_text_on_every_screen,
    fits_the_window,
    free_port,
    needs_chromium,
)
from tools.browser_bench import wait_charts_drawn
from tools.layout import CUT_TEXT
from tools.server import serve_app

pytestmark = needs_chromium
# Views with long texts: select boxes holding the longest endpoint, a comparison and a
# reference group; a comparison's subtitle naming the groups privacy mode does not draw.
LONG_TEXTS = (
    "/Patency?by=segment_pattern&endpoint=recurrent_dvt&ref=CIV%2BEIV&min_at_risk=10",
    f"/Patency?by=age_band&lesion_side=right&{PRIVACY}",
    "/?lesion_side=left&thrombophilia=yes",  # 6 patients: the tests' cautions in subtitles
    "/Clinical_outcomes?lesion_side=left&thrombophilia=yes",
    "/Safety?lesion_side=left&thrombophilia=yes",
)


@pytest.mark.slow
def test_no_label_header_or_count_is_cut_on_the_demo(server, browser):
    """Metric labels and values, table headers and cells, select box values, chart legends,
    titles, ticks and table text each inside its box and clear of the others, no inner
    scroll box, on every page and screen, with and without privacy mode (at 1280x720
    only, the size that crowds), and on views with long texts (LONG_TEXTS); every page of
    a filtered view opened by its URL shows its heading, its charts each drawn once, the
    filter's n once and no error (test_browser opens each without a filter); every
    presenting screen of a filtered view, at 1280x720 and 1920x1080, also fits the
    window: its charts, its context caption and the End presenting button inside it,
    nothing to scroll, each chart drawn once."""
    fits = fits_the_window("Left · technical successes · n = 22")
    looked: list[tuple[int, int]] = []

    def presenting(page, width: int, height: int) -> list[str]:
        looked.append((width, height))
        return fits(page, width, height)

    cut = cut_text_on_every_screen(
        browser, server, FILTERS, screen_check=presenting, n_text="n = 22 of 37"
    )
    cut += cut_text_on_every_screen(browser, server, PRIVACY, sizes=SIZES[:1])
    assert looked.count((1280, 720)) == looked.count((1920, 1080)) >= 6  # six screens or more
    page = browser.new_page()
    try:
        for url in LONG_TEXTS:
            cut += cut_text_at_sizes(page, server, url, 1, SIZES)
    finally:
        page.close()
    assert not cut, "\n".join(cut)


@pytest.mark.slow
def test_the_fit_check_reports_a_screen_taller_than_its_window(server, browser):
    """The presenting screens' fit check is not vacuous: a screen that fits 1280x720 does
    not fit a window 420 pixels high, and the check says so."""
    url = f"/?present=yes&{FILTERS}&screen=2"
    fits = fits_the_window("Left · technical successes · n = 22")
    page = browser.new_page()
    try:
        found = cut_text_at_sizes(page, server, url, 1, [(1280, 720), (1280, 420)], fits)
    finally:
        page.close()
    assert found and all(line.startswith(f"1280x420 {url}: ") for line in found), found
    assert any("scrolls by" in line or "outside the window" in line for line in found), found


# A page that shows each defect the check looks for once, and a chart that has none.
DEFECTS_APP = """
import plotly.graph_objects as go
import streamlit as st

st.title("Layout check")
narrow = st.columns(6)
narrow[0].selectbox("Compare by", ["No comparison: the three patencies"])
narrow[1].multiselect("Months", ["Twelve months after the procedure"],
                      default=["Twelve months after the procedure"])
for name, at in (("Apart", (0.1, 0.9)), ("Over", (0.5, 0.53))):
    figure = go.Figure(layout={"title": {"text": name}, "height": 300})
    for text, x in zip(("hidden (<5, 0)", "34 (0, 0)"), at):
        figure.add_annotation(text=text, x=x, y=0.5, xref="paper", yref="paper",
                              showarrow=False)
    st.plotly_chart(figure, key=f"chart-{name}")
"""


@pytest.mark.slow
def test_the_layout_check_reports_overlapping_chart_text_and_cut_select_values(browser, tmp_path):
    """The check is not vacuous: on a page made to hold them it reads both charts and
    reports the two chart texts over each other, the select box's cut value and the cut
    chip, and nothing in the chart whose texts stand apart."""
    app = tmp_path / "defects.py"
    app.write_text(DEFECTS_APP)
    port = free_port()
    with serve_app(app, port):
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        try:
            page.goto(f"http://127.0.0.1:{port}")
            page.wait_for_function(PAGE_READY, polling=100)
            wait_charts_drawn(page)
            found = page.evaluate(CUT_TEXT)
        finally:
            page.close()
    assert found["charts"] == 2
    cut = found["cut"]
    assert [line for line in cut if line.startswith('chart "Over"')] == [
        'chart "Over": "hidden (<5, 0)" and "34 (0, 0)" over each other'
    ], cut
    assert not [line for line in cut if "Apart" in line], cut
    value = 'select box value cut: "No comparison: the three patencies"'
    assert [line for line in cut if line.startswith(value)], cut
    chip = 'text cut: "Twelve months after the procedure"'
    assert [line for line in cut if line.startswith(chip)], cut


@pytest.mark.slow
def test_a_resized_window_shows_the_check_what_a_fresh_load_at_that_size_does(browser, tmp_path):
    """The second size is reached by resizing (harness.resized): on the page of defects in
    the wide layout (its columns follow the window), drawn at 1920x1080 and then resized
    to 1280x720, the check reports what it reports on a fresh load at 1280x720, and that
    is not what it reported before the resize."""
    app = tmp_path / "defects.py"
    app.write_text('import streamlit as st\nst.set_page_config(layout="wide")\n' + DEFECTS_APP)
    port = free_port()
    with serve_app(app, port):
        page = browser.new_page()
        try:
            base = f"http://127.0.0.1:{port}"
            wide = cut_text_at_sizes(page, base, "/", 2, [(1920, 1080)])
            fresh = cut_text_at_sizes(page, base, "/", 2, [(1280, 720)])
            resized = cut_text_at_sizes(page, base, "/", 2, [(1920, 1080), (1280, 720)])
        finally:
            page.close()
    assert resized == wide + fresh
    assert fresh and [line.split(" ", 1)[1] for line in wide] != [
        line.split(" ", 1)[1] for line in fresh
    ]
