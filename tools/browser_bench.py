"""Responsiveness in a real browser: a page opened, and a filter change to the redrawn page.

Starts `streamlit run` on each --db, drives Debian's chromium headless with Playwright,
and for every page on a warm server: opens it in a new browser profile ("first visit":
nothing cached, the dashboard's plotly bundle (ui.plot) fetched and compiled) and in a
new tab of one profile that has opened the dashboard before ("fresh tab": the browser's cache holds
Streamlit's and plotly's code), median of --opens each; then changes the lesion side
and the sex in the sidebar, each change a filter nothing has computed yet. Each time is
taken from the action (the address entered; the click on the option, the list already
open) until Streamlit's script run is over with the new n in the sidebar ("run"), and
until every chart the run sent has been drawn by plotly ("drawn", CHARTS_DRAWN: the
page's charts are counted from what it sent, "charts"); their difference is the
browser's loading and drawing. Polled every 20 ms. First it times the same change on a
one-widget Streamlit app, the floor of this machine at this moment (0.12 s on a quiet
spell here, 0.19 s on a busy one), so that figures from different runs can be compared.
Prints the medians; asserts nothing (a benchmark, not a test).

    .venv/bin/python -m tools.browser_bench --db /tmp/demo.duckdb --db /tmp/registry.duckdb
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from analytics.cohort.db import open_cohort
from analytics.filters import CohortFilter
from analytics.stats.safety import cohort_size
from tools.server import serve, serve_app
from ui.navigation import PAGES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PORT = 8611
TIMEOUT_S = 120
VIEWPORT = {"width": 1400, "height": 1000}
# Filter changes, each to a filter no run has computed: (widget label, option, filter).
CHANGES = (
    ("Lesion side", "Left", {"lesion_side": "left"}),
    ("Lesion side", "Right", {"lesion_side": "right"}),
    ("Sex", "Female", {"lesion_side": "right", "sex": "F"}),
    ("Sex", "Male", {"lesion_side": "right", "sex": "M"}),
)
# Every chart drawn: the run is over and has drawn the page (its title: before the first
# run the state is briefly "notRunning" too), so every chart slot it sent is on the page (each
# chart is sent with a "chart-..." key, and its slot stands before plotly's code has
# loaded); each slot has its plot drawn; and the browser has painted twice since, so the
# drawing work queued by the run's last messages has run (rendering blocks the frames).
# No chart sent yet is not "every chart drawn". The browser tests wait on it too.
CHART_SLOTS = '[data-testid="stElementContainer"][class*="st-key-chart-"]'
CHARTS_DRAWN = """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(
    () => done(document.querySelector('[data-testid="stApp"]')
        ?.getAttribute('data-test-script-state') === 'notRunning'
      && document.querySelector('[data-testid="stMain"] :is(h1, h2)') !== null
      && [...document.querySelectorAll('SLOTS')].every(slot => {
          const plot = slot.querySelector('.js-plotly-plot');
          return plot && plot._fullLayout && plot.querySelector('.main-svg') })))))""".replace(
    "SLOTS", CHART_SLOTS
)
# How many charts the run sent: what CHARTS_DRAWN waits for.
CHARTS_SENT = f"() => document.querySelectorAll('{CHART_SLOTS}').length"


def poll(done: Callable[[], bool], what: str) -> float:
    """Seconds on the clock when ``done`` first holds (checked every 20 ms)."""
    deadline = time.monotonic() + TIMEOUT_S
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not within {TIMEOUT_S} s")
        time.sleep(0.02)
    return time.perf_counter()


def wait_charts_drawn(page: Page) -> float:
    """Wait until every chart the page's run sent is drawn (CHARTS_DRAWN); the clock then.

    Polled with ``page.evaluate``, which awaits the check's promise: Playwright's
    ``wait_for_function`` takes the promise itself for a true answer and returns at once.
    """
    return poll(lambda: page.evaluate(CHARTS_DRAWN), f"{page.url} charts")


def settled(page: Page, n: int, total: int, start: float) -> tuple[float, float]:
    """(run over, charts drawn) in seconds after ``start``.

    The n is drawn by the new run, so n shown and no run in progress means that run
    has sent the whole page; then plotly has to draw each chart it sent.
    """
    count = page.locator('[data-testid="stSidebar"]').get_by_text(f"n = {n:,} of {total:,}")
    idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    ran = poll(lambda: bool(count.count() and idle.count()), f"{page.url} n = {n}")
    drawn = wait_charts_drawn(page)
    if page.locator('[data-testid="stException"]').count():
        raise SystemExit(f"{page.url}: the page shows an exception")
    return ran - start, drawn - start


def open_list(page: Page, label: str, option: str):
    """Open a sidebar select box (not timed: the user is still choosing); its option."""
    page.locator('[data-testid="stSidebar"]').get_by_label(label).click()
    choice = page.get_by_role("option", name=option, exact=True)
    choice.wait_for()
    return choice


def bench_cohort(
    browser: Browser, db: Path, opens: int, only: list[str] | None = None
) -> list[float]:
    """Print the table for one cohort file; return its filter changes' drawn times."""
    with open_cohort(db) as con:
        total = cohort_size(con, CohortFilter(population="all"))[0]
        size = {
            str(change): cohort_size(con, CohortFilter(**change))[0] for _, _, change in CHANGES
        }
        everyone = cohort_size(con, CohortFilter())[0]
    base = f"http://127.0.0.1:{PORT}"
    changes: list[float] = []
    with serve(db, PORT):
        warm_up(browser, base)
        print(f"\ncohort {db}: {total:,} patients; seconds, median")
        print(f"{'page':<20}{'charts':>7}{'open run':>10}{'first visit':>13}{'fresh tab':>11}"
              f"{'change run':>12}{'change drawn':>14}")  # fmt: skip
        returning = browser.new_context(viewport=VIEWPORT)  # one browser profile, its cache
        for path, label, _ in PAGES:
            if only and label not in only:
                continue
            url = base + ("/" if path == "app.py" else "/" + Path(path).stem.split("_", 1)[1])
            first, tabs = [], []
            for _ in range(opens + 1):  # the first open warms the server's caches
                context = browser.new_context(viewport=VIEWPORT)
                first.append(open_page(context, url, everyone, total))
                context.close()
                tabs.append(open_page(returning, url, everyone, total))
            page = returning.new_page()
            page.goto(url)
            settled(page, everyone, total, time.perf_counter())
            charts = page.evaluate(CHARTS_SENT)
            changed = []
            for widget, option, change in CHANGES:
                choice = open_list(page, widget, option)
                start = time.perf_counter()  # the user picks: the filter changes
                choice.click()
                changed.append(settled(page, size[str(change)], total, start))
            page.close()
            changes += [drawn for _, drawn in changed]
            print(f"{label:<20}{charts:>7}{median(first[1:], 0):>10.2f}"
                  f"{median(first[1:], 1):>13.2f}{median(tabs[1:], 1):>11.2f}"
                  f"{median(changed, 0):>12.2f}{median(changed, 1):>14.2f}")  # fmt: skip
        returning.close()
        print(f"median filter change, all pages: {statistics.median(changes):.2f} s drawn "
              f"(max {max(changes):.2f} s)")  # fmt: skip
    return changes


def open_page(context: BrowserContext, url: str, n: int, total: int) -> tuple[float, float]:
    """A new tab of ``context`` opening ``url``: (run over, every chart drawn) in seconds."""
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    opened = settled(page, n, total, start)
    page.close()
    return opened


FLOOR_APP = """import streamlit as st
st.title("Floor")
side = st.sidebar.selectbox("Lesion side", ["left", "right"], index=None,
                            format_func=str.capitalize)
st.sidebar.write(f"n = {len(str(side))} of 37")
"""


def floor(browser: Browser, changes: int = 8) -> float:
    """Median seconds of a select box change on a one-widget app: Streamlit's own floor."""
    with tempfile.TemporaryDirectory() as folder:
        app = Path(folder) / "floor.py"
        app.write_text(FLOOR_APP)
        with serve_app(app, PORT + 1):
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"http://127.0.0.1:{PORT + 1}/")
            page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
            times = []
            for i in range(changes):
                option = ("Left", "Right")[i % 2]
                choice = open_list(page, "Lesion side", option)
                start = time.perf_counter()
                choice.click()
                times.append(settled(page, len(option.lower()), 37, start)[0])
            page.close()
    return statistics.median(times)


def warm_up(browser: Browser, base: str) -> None:
    """Every page once, with filters the measured runs do not use: imports, first queries."""
    page = browser.new_page(viewport=VIEWPORT)
    for path, _, _ in PAGES:
        url = base + ("/" if path == "app.py" else "/" + Path(path).stem.split("_", 1)[1])
        page.goto(f"{url}?population=all&sex=M")
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
        page.get_by_role("heading", level=1).first.wait_for()
    page.close()


def median(times: list[tuple[float, float]], which: int) -> float:
    return statistics.median(t[which] for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, action="append", required=True, help="repeatable")
    parser.add_argument("--opens", type=int, default=5, help="fresh tabs per page (5)")
    parser.add_argument("--page", action="append", help="only these pages (by label)")
    args = parser.parse_args()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"floor: a one-widget Streamlit app redraws in {floor(browser):.2f} s (median)")
        for db in args.db:
            bench_cohort(browser, db, args.opens, args.page)
        browser.close()


if __name__ == "__main__":
    main()
