"""Responsiveness in a real browser: filter change to redrawn page, on any cohort file.

Starts `streamlit run` on --db, drives Debian's chromium headless with Playwright,
and for every page: opens it with a filter no other page uses (so nothing is cached
yet), then picks lesion side Left, then Right, in the sidebar, timing each change until
the sidebar shows the n DuckDB gives for the new filter and Streamlit has finished the
run (the sidebar's n and the page's script state, polled every 20 ms). Prints the
times; asserts nothing (a benchmark, not a test).

    .venv/bin/python scripts/browser_bench.py --db /tmp/registry.duckdb
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.cohort.db import open_cohort  # noqa: E402
from analytics.filters import CohortFilter  # noqa: E402
from analytics.stats.safety import cohort_size  # noqa: E402
from ui.page import PAGES  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PORT = 8611
TIMEOUT_S = 120
SETTLE_S = 2


def _wait_for_server(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("streamlit did not start within 60 s")


def _settled(page: Page, n: int, total: int) -> None:
    """Wait until the sidebar shows n and Streamlit's script run is over.

    Polled every 20 ms (Playwright's own waits back off to a second between checks).
    The n is drawn by the new run, so n shown and no run in progress means that run
    has drawn the whole page.
    """
    count = page.locator('[data-testid="stSidebar"]').get_by_text(f"n = {n:,} of {total:,}")
    idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    deadline = time.monotonic() + TIMEOUT_S
    while not (count.count() and idle.count()):
        if time.monotonic() > deadline:
            raise SystemExit(f"{page.url}: no redraw with n = {n} within {TIMEOUT_S} s")
        time.sleep(0.02)
    if page.locator('[data-testid="stException"]').count():
        raise SystemExit(f"{page.url}: the page shows an exception")


def _pick_side(page: Page, label: str) -> None:
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_label("Lesion side").click()  # opens the select box
    page.get_by_role("option", name=label, exact=True).click()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    with open_cohort(args.db) as con:
        total = cohort_size(con, CohortFilter(population="all"))[0]
        sizes = {
            (age, side): cohort_size(con, CohortFilter(age_min=age, lesion_side=side))[0]
            for age in range(30, 30 + len(PAGES))
            for side in (None, "left", "right")
        }
    base = f"http://127.0.0.1:{PORT}"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(PORT),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env={**os.environ, "COHORT_DB": str(args.db)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_server(base)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            print(f"cohort {args.db}: {total} patients; seconds from action to redrawn page")
            print(f"{'page':<20}{'open':>8}{'-> left':>9}{'-> right':>10}")
            changes = []
            for age, (path, label, _) in zip(range(30, 30 + len(PAGES)), PAGES, strict=True):
                url = base + ("/" if path == "app.py" else "/" + Path(path).stem.split("_", 1)[1])
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                start = time.perf_counter()
                page.goto(f"{url}?age_min={age}")
                _settled(page, sizes[(age, None)], total)
                times = [time.perf_counter() - start]
                time.sleep(SETTLE_S)  # let the browser finish drawing the charts
                for side, name in (("left", "Left"), ("right", "Right")):
                    start = time.perf_counter()
                    _pick_side(page, name)
                    _settled(page, sizes[(age, side)], total)
                    times.append(time.perf_counter() - start)
                changes += times[1:]
                page.close()
                print(f"{label:<20}{times[0]:>8.2f}{times[1]:>9.2f}{times[2]:>10.2f}")
            print(f"median filter change: {statistics.median(changes):.2f} s "
                  f"(max {max(changes):.2f} s)")  # fmt: skip
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
