"""Load: many browser sessions against one dashboard server, and a heavy view beside a light one.

Starts `streamlit run` on --db and drives Debian's chromium headless with Playwright:

1. fairness: one session's filter change on the Patency page, timed alone (--fair-runs
   times) and again while another session opens the Subgroups page on a filter nothing
   has computed, so its every factor is being counted and fitted at that moment;
2. soak: --sessions sessions, each on its own page, each changing the lesion side or the
   sex in the sidebar every --every seconds for --minutes; each change is timed from the
   click to the redrawn page (Streamlit's script run over, the new n in the sidebar).

Prints the median and 95th percentile of the changes, any error a page showed, and the
server's resident memory after the warm-up round and at the end. A benchmark prints
figures; it asserts nothing and is not a test.

    .venv/bin/python tools/soak.py --db /tmp/registry.duckdb
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.cohort.db import open_cohort  # noqa: E402
from analytics.filters import CohortFilter  # noqa: E402
from analytics.stats.safety import cohort_size  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PORT = 8613
TIMEOUT_S = 120
VIEWPORT = {"width": 1400, "height": 1000}
PAGE_PATHS = ("/", "/Patency", "/Clinical_outcomes", "/Safety", "/Subgroups", "/Tables",
              "/Data", "/Centres")  # fmt: skip
# The changes each session cycles through: (widget, option label, filter after the change).
CYCLE = (
    ("Lesion side", "Left", {"lesion_side": "left"}),
    ("Sex", "Female", {"lesion_side": "left", "sex": "F"}),
    ("Lesion side", "Right", {"lesion_side": "right", "sex": "F"}),
    ("Sex", "Male", {"lesion_side": "right", "sex": "M"}),
)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_for_server(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("streamlit did not start within 60 s")


async def settled(page: Page, n: int, total: int) -> None:
    """Until the sidebar shows n and Streamlit's run is over (polled every 20 ms)."""
    count = page.locator('[data-testid="stSidebar"]').get_by_text(f"n = {n:,} of {total:,}")
    idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    deadline = time.monotonic() + TIMEOUT_S
    while not (await count.count() and await idle.count()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{page.url}: n = {n} not shown within {TIMEOUT_S} s")
        await asyncio.sleep(0.02)


async def change(page: Page, widget: str, option: str, n: int, total: int) -> float:
    """Pick ``option`` in a sidebar select box; seconds from the click to the redrawn page."""
    await page.locator('[data-testid="stSidebar"]').get_by_label(widget).click()
    choice = page.get_by_role("option", name=option, exact=True)
    await choice.wait_for()
    start = time.perf_counter()
    await choice.click()
    await settled(page, n, total)
    return time.perf_counter() - start


async def fresh_page(browser: Browser, url: str) -> Page:
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    await page.goto(url)
    return page


class Soak:
    def __init__(self, db: Path, base: str) -> None:
        self.base = base
        with open_cohort(db) as con:
            self.total = cohort_size(con, CohortFilter(population="all"))[0]
            self.everyone = cohort_size(con, CohortFilter())[0]
            self.sizes = {str(f): cohort_size(con, CohortFilter(**f))[0] for _, _, f in CYCLE} | {
                f"age{age}": cohort_size(con, CohortFilter(age_min=age))[0] for age in range(40, 50)
            }
        self.errors: list[str] = []

    async def fairness(self, browser: Browser, runs: int) -> tuple[list[float], list[float]]:
        """Patency filter changes alone, then each while Subgroups computes elsewhere."""
        light = await fresh_page(browser, f"{self.base}/Patency")
        await settled(light, self.everyone, self.total)
        alone, beside = [], []
        for run in range(runs):
            for timed in (alone, beside):
                heavy = None
                if timed is beside:  # a filter nothing has computed: every factor is fitted
                    age = 40 + run % 10
                    heavy = asyncio.create_task(
                        fresh_page(browser, f"{self.base}/Subgroups?age_min={age}")
                    )
                    await asyncio.sleep(0.5)  # its run under way on the server
                widget, option, f = CYCLE[(2 * run + (timed is beside)) % len(CYCLE)]
                timed.append(await change(light, widget, option, self.sizes[str(f)], self.total))
                if heavy is not None:
                    page = await heavy
                    await page.context.close()
        await light.context.close()
        return alone, beside

    async def session(self, browser: Browser, i: int, every: float, until: float) -> list[float]:
        """One user: a page, and a filter change every ``every`` seconds until ``until``."""
        page = await fresh_page(browser, self.base + PAGE_PATHS[i % len(PAGE_PATHS)])
        await settled(page, self.everyone, self.total)
        await asyncio.sleep(every * i / 10)  # spread the sessions over the interval
        times = []
        step = i
        while time.monotonic() < until:
            started = time.monotonic()
            widget, option, f = CYCLE[step % len(CYCLE)]
            try:
                times.append(await change(page, widget, option, self.sizes[str(f)], self.total))
            except TimeoutError as exc:
                self.errors.append(str(exc))
            if await page.locator('[data-testid="stException"]').count():
                self.errors.append(f"{page.url}: exception shown")
            step += 1
            await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))
        await page.context.close()
        return times


async def run(args: argparse.Namespace) -> None:
    base = f"http://127.0.0.1:{PORT}"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(PORT),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env={**os.environ, "COHORT_DB": str(args.db)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_server(base)
        soak = Soak(args.db, base)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            alone, beside = await soak.fairness(browser, args.fair_runs)
            ratio = statistics.median(beside) / statistics.median(alone)
            print(f"cohort {args.db}: {soak.total:,} patients")
            print(f"Patency filter change alone: median {statistics.median(alone):.2f} s; "
                  f"while Subgroups computes in another session: median "
                  f"{statistics.median(beside):.2f} s (ratio {ratio:.2f})")  # fmt: skip
            warm = await asyncio.gather(  # warm-up: every session's page and filters once
                *(soak.session(browser, i, 1.0, time.monotonic() + 8) for i in
                  range(args.sessions))
            )  # fmt: skip
            warmed = rss_mib(server.pid)
            until = time.monotonic() + 60 * args.minutes
            times = await asyncio.gather(
                *(soak.session(browser, i, args.every, until) for i in range(args.sessions))
            )
            await browser.close()
        changes = sorted(t for session in times for t in session)
        p95 = changes[int(0.95 * (len(changes) - 1))]
        print(f"{args.sessions} sessions, a filter change every {args.every:g} s for "
              f"{args.minutes:g} min: {len(changes)} changes, median "
              f"{statistics.median(changes):.2f} s, 95th percentile {p95:.2f} s, "
              f"max {changes[-1]:.2f} s")  # fmt: skip
        print(f"warm-up changes: {sum(map(len, warm))}; errors: {soak.errors or 'none'}")
        print(f"server memory: {warmed:.0f} MiB after warm-up, {rss_mib(server.pid):.0f} MiB "
              "at the end")  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between changes")
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--fair-runs", type=int, default=5)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
