"""The real-browser tests' harness: Debian's chromium driven by Playwright against the
dashboard served by `streamlit run`; a page opened and waited on; what a screen cuts
(tools.layout) at each window size. Shared by test_browser, test_layout and
test_layout_registry, which run on separate workers (pytest -n 2 --dist loadfile)."""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from analytics.cohort.db import ROOT
from tools.browser_bench import wait_charts_drawn
from tools.layout import CUT_TEXT
from tools.server import free_port, serve_app
from ui.navigation import PAGES

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PAGES_WITH_CHARTS = {
    "Overview": 3,
    "Patency": 1,
    "Clinical outcomes": 1,
    "Safety": 1,
    "Subgroups": 1,
}
FILTERS = "lesion_side=left"  # published: 22 of the 34 lesions are left-sided
# Each margin plotly's automargin had to grow: [title, side, margin set, margin drawn]. A
# grown margin means the chart was laid out and drawn twice (theme.MARGIN_LEFT_PX).
GROWN_MARGINS = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(plot => {
    const set = plot._fullLayout.margin, drawn = plot._fullLayout._size;
    return ['l', 'r', 't', 'b'].filter(side => Math.round(drawn[side]) > set[side])
        .map(side => [plot._fullLayout.title.text, side, set[side], Math.round(drawn[side])]) })"""

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium")
SIZES = [(1280, 720), (1920, 1080)]
PRIVACY = "privacy=yes"  # counts below k masked: "<5", "hidden"
PAGE_READY = """() => document.querySelector('[data-testid="stApp"]')
    ?.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]')
    && document.querySelector('h1, h2')"""


def url_path(page_file: str) -> str:
    """Streamlit's folder discovery: pages/1_Patency.py is served at /Patency."""
    if page_file == "app.py":
        return "/"
    return "/" + Path(page_file).stem.split("_", 1)[1]


@contextlib.contextmanager
def serve(db: Path, import_dir: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`streamlit run` on cohort file ``db``: its base URL and process (its log goes to
    the file DASHBOARD_SERVER_LOG names, to read an error the browser shows redacted)."""
    port = free_port()
    env = {"COHORT_DB": str(db), "COHORT_IMPORT_DIR": str(import_dir)}
    with serve_app(ROOT / "app.py", port, env) as process:
        yield f"http://127.0.0.1:{port}", process


def open_page(browser, url: str, fetched: list[str] | None = None):
    """A fresh page, waited on until the shared sidebar has rendered; the URL of every
    request it makes appended to ``fetched``, when given."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)
    if fetched is not None:
        page.on("request", lambda request: fetched.append(request.url))
    page.goto(url)
    expect(sidebar(page).get_by_role("button", name="Reset filters")).to_be_visible()
    return page


def assert_each_chart_drawn_once(page) -> None:
    """Every chart drawn, none with a margin plotly had to grow (and so draw it again)."""
    wait_charts_drawn(page)
    assert page.evaluate(GROWN_MARGINS) == []


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


# Every chart laid out at its element's present width: after a resize, plotly has redrawn.
CHARTS_AT_WIDTH = """() => [...document.querySelectorAll('.js-plotly-plot')].every(plot =>
    plot._fullLayout && Math.abs(plot._fullLayout.width - plot.clientWidth) <= 1)"""
# Where every element of the main area and the sidebar stands: unchanged between two looks
# 100 ms apart, the page has settled (a Sankey diagram moves its nodes for a while).
GEOMETRY = """() => [...document.querySelectorAll(
    '[data-testid="stMain"] *, [data-testid="stSidebar"] *')].map(el => {
        const box = el.getBoundingClientRect();
        return [box.x, box.y, box.width, box.height].map(Math.round).join(' ') }).join(';')"""
SETTLE_S = 30


def cut_text(page, url: str, charts: int) -> list[str]:
    """What the screen at ``url`` cuts (tools.layout), once its charts are drawn; and a
    defect of its own when the check read fewer than the ``charts`` the screen draws."""
    page.goto(url)
    page.wait_for_function(PAGE_READY, polling=100)
    wait_charts_drawn(page)
    return cut_found(page, charts)


def cut_found(page, charts: int) -> list[str]:
    """What the screen as it stands cuts, and whether the check read its ``charts``."""
    found = page.evaluate(CUT_TEXT)
    short = [f"{found['charts']} of {charts} charts read"] if found["charts"] < charts else []
    return found["cut"] + short


def resized(page, width: int, height: int) -> None:
    """The window made ``width`` x ``height``, the screen laid out again: its charts redrawn
    to their new width and nothing moving (the page is not run again: Streamlit lays out
    in the browser, and a fresh load at this size gives the same boxes)."""
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_function(CHARTS_AT_WIDTH, polling=50)
    wait_charts_drawn(page)
    before, deadline = None, time.monotonic() + SETTLE_S
    while (now := page.evaluate(GEOMETRY)) != before and time.monotonic() < deadline:
        before = now
        page.wait_for_timeout(100)


# What else a screen must pass at a size, beside the layout check: its defects, as text.
ScreenCheck = Callable[[Any, int, int], list[str]]


def cut_text_at_sizes(
    page, base: str, url: str, charts: int, sizes, also: ScreenCheck | None = None
) -> list[str]:
    """What the screen at ``url`` cuts at each size, and what ``also`` finds there: opened
    at the first, then the window resized to each other (one run of the page for every
    size)."""
    found = []
    for i, (width, height) in enumerate(sizes):
        if i == 0:
            page.set_viewport_size({"width": width, "height": height})
            lines = cut_text(page, base + url, charts)
        else:
            resized(page, width, height)
            lines = cut_found(page, charts)
        lines += also(page, width, height) if also else []
        found += [f"{width}x{height} {url}: {line}" for line in lines]
    return found


def fits_the_window(caption: str) -> ScreenCheck:
    """A presenting screen's check: its charts, its context ``caption`` and the End
    presenting button inside the window, nothing to scroll, each chart drawn once."""

    def check(page, width: int, height: int) -> list[str]:
        boxes = [page.locator(".js-plotly-plot").nth(i).bounding_box()
                 for i in range(page.locator(".js-plotly-plot").count())]  # fmt: skip
        boxes.append(page.get_by_text(caption).last.bounding_box())
        boxes.append(page.get_by_role("button", name="End presenting").bounding_box())
        found = [f"outside the window: {box}" for box in boxes
                 if box is None or box["y"] < 0 or box["y"] + box["height"] > height]  # fmt: skip
        overflow = page.evaluate(
            "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
            " return m.scrollHeight - m.clientHeight; }"
        )
        found += [f"scrolls by {overflow} px"] if overflow > 4 else []
        grown = page.evaluate(GROWN_MARGINS)
        return found + [f"chart drawn twice, margin grown: {g}" for g in grown]

    return check


def opened_as_itself(title: str, n_text: str) -> ScreenCheck:
    """A page's check: its ``title`` heading, every chart drawn once (no margin plotly had
    to grow), the sidebar's n as ``n_text`` once, no error in the page's place."""

    def check(page, width: int, height: int) -> list[str]:
        found = []
        if not page.get_by_role("heading", name=title).first.is_visible():
            found.append(f"no heading {title!r}")
        found += [f"chart drawn twice, margin grown: {g}" for g in page.evaluate(GROWN_MARGINS)]
        if (shown := sidebar(page).get_by_text(n_text).count()) != 1:
            found.append(f"sidebar shows {n_text!r} {shown} times")
        errors = page.locator('[data-testid="stException"]')
        return found + [f"error: {text}" for text in errors.all_inner_texts()]

    return check


def cut_text_on_every_screen(
    browser,
    base: str,
    query: str,
    sizes: list[tuple[int, int]] = SIZES,
    screen_check: ScreenCheck | None = None,
    n_text: str | None = None,
) -> list[str]:
    """Every page (each also opened as itself, showing ``n_text`` in the sidebar, when
    given: opened_as_itself), then every presenting screen (each also passing
    ``screen_check``), at each size: what each one cuts."""
    found = []
    page = browser.new_page()
    page.set_default_timeout(120_000)
    try:
        for page_file, title, _ in PAGES:
            url = url_path(page_file) + f"?{query}"
            charts = PAGES_WITH_CHARTS.get(title, 0)
            check = opened_as_itself(title, n_text) if n_text else None
            found += cut_text_at_sizes(page, base, url, charts, sizes, check)
        screens, screen = 1, 1
        while screen <= screens:
            url = f"/?present=yes&{query}&screen={screen}"
            # 1 chart: the headline figures'
            found += cut_text_at_sizes(page, base, url, int(screen > 1), sizes, screen_check)
            where = page.get_by_text(re.compile(r"Screen \d+ of \d+")).inner_text()
            screens, screen = int(re.search(r"of (\d+)", where).group(1)), screen + 1
    finally:
        page.close()
    return found
