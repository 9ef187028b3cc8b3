"""Real browser: every presenting screen fits the window, and no page or screen of the demo
cuts a label, header or count (tools.layout), with and without privacy mode; the check
itself finds each defect it looks for."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import (
    FILTERS,
    PAGE_READY,
    PRIVACY,
    SIZES,
    assert_each_chart_drawn_once,
    cut_text_at_sizes,
    cut_text_on_every_screen,
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


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)], ids=["720p", "1080p"])
def test_every_presenting_screen_fits_the_window(server, browser, size):
    """Each screen's chart and its context caption inside the window, nothing to scroll."""
    width, height = size
    screen, screens = 1, None
    while screens is None or screen <= screens:
        page = browser.new_page(viewport={"width": width, "height": height})
        try:
            page.goto(f"{server}/?present=yes&{FILTERS}&screen={screen}")
            where = page.get_by_text(re.compile(r"Screen \d+ of \d+"))
            expect(where).to_be_visible(timeout=60_000)
            screens = int(re.search(r"of (\d+)", where.inner_text()).group(1))
            caption = page.get_by_text("Left · technical successes · n = 22").last
            expect(caption).to_be_visible()
            charts = page.locator(".js-plotly-plot")
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box["y"] >= 0 and box["y"] + box["height"] <= height, (screen, box)
            bottom = caption.bounding_box()
            assert bottom["y"] + bottom["height"] <= height, (screen, bottom)
            nav = page.get_by_role("button", name="End presenting").bounding_box()
            assert nav["y"] + nav["height"] <= height, (screen, nav)
            scroller = '[data-testid="stMain"]'
            overflow = page.evaluate(
                f"() => {{ const m = document.querySelector('{scroller}');"
                " return m.scrollHeight - m.clientHeight; }"
            )
            assert overflow <= 4, (screen, overflow)
            assert_each_chart_drawn_once(page)
        finally:
            page.close()
        screen += 1
    assert screens >= 6


@pytest.mark.slow
def test_no_label_header_or_count_is_cut_on_the_demo(server, browser):
    """Metric labels and values, table headers and cells, select box values, chart legends,
    titles, ticks and table text each inside its box and clear of the others, no inner
    scroll box, on every page and screen, with and without privacy mode, and on views
    with long texts (LONG_TEXTS)."""
    cut = cut_text_on_every_screen(browser, server, "")
    cut += cut_text_on_every_screen(browser, server, PRIVACY)
    page = browser.new_page()
    try:
        for url in LONG_TEXTS:
            cut += cut_text_at_sizes(page, server, url, 1, SIZES)
    finally:
        page.close()
    assert not cut, "\n".join(cut)


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
