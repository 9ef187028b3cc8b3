"""Screenshots of every page as a clinician sees them, to look at before resolving anything.

Starts `streamlit run` on --db and saves, for every page, a PNG in each mode (normal,
filtered, privacy, presenting) at each screen size (1280x720 and 1920x1080: what fits on
the screen) and one of the whole page (1280 wide, --tall high) into --out, waiting
until Streamlit's run is over, the sidebar states n, no placeholder is left and every
chart is drawn. Under each PNG's name it prints what the screen cuts or overlaps
(tools.layout, as the browser tests check it), one line per defect.

    .venv/bin/python -m tools.screenshots --db /tmp/demo.duckdb --out /tmp/shots
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from tools.browser_bench import CHROMIUM, CHROMIUM_ARGS, wait_charts_drawn
from tools.layout import CUT_TEXT
from tools.server import serve
from ui.navigation import PAGES

PORT = 8614
MODES = {
    "normal": "",
    "filtered": "lesion_side=left&thrombophilia=yes",
    "privacy": "privacy=yes&lesion_side=right",
    "presenting": "present=yes&lesion_side=left",
}
SIZES = ((1280, 720), (1920, 1080))
PRESENTING_READY = """() => document.querySelector('[data-testid="stApp"]')
    ?.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]')
    && document.body.innerText.includes('Left and Right keys')"""
READY = """() => document.querySelector('[data-testid="stApp"]')
    ?.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]')
    && [...document.querySelectorAll('[data-testid="stSidebar"] p')]
        .some(p => p.textContent.includes('match the filters'))"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--page", action="append", help="only these pages (by label)")
    parser.add_argument("--mode", action="append", choices=list(MODES), help="only these modes")
    parser.add_argument("--query", default="", help="more link parameters for every shot")
    parser.add_argument("--tall", type=int, default=3200, help="height of the whole-page shot")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{PORT}"
    with serve(args.db, PORT), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for path, label, _ in PAGES:
            if not args.page or label in args.page:
                shoot(browser, base, path, args)
        browser.close()


def shoot(browser: Browser, base: str, path: str, args: argparse.Namespace) -> None:
    """Every mode and size of one page (every screen, when presenting)."""
    slug = "overview" if path == "app.py" else Path(path).stem.split("_", 1)[1]
    for mode, query in MODES.items():
        if args.mode and mode not in args.mode:
            continue
        if mode == "presenting":
            present(browser, base, slug, query, args)
            continue
        for width, height in (*SIZES, (1280, args.tall)):
            page = browser.new_page(viewport={"width": width, "height": height})
            url_path = "/" if path == "app.py" else "/" + slug
            params = "&".join(q for q in (query, args.query) if q)
            page.goto(f"{base}{url_path}?{params}")
            page.wait_for_function(READY, timeout=120_000, polling=100)
            wait_charts_drawn(page)
            size = "page" if height == args.tall else f"{width}x{height}"
            name = f"{slug.lower()}-{mode}-{size}.png"
            page.screenshot(path=str(args.out / name))
            report(page, args.out / name)


def present(browser: Browser, base: str, slug: str, query: str, args: argparse.Namespace) -> None:
    """Every screen of the presenting view at both screen sizes, as it fits the window."""
    screen, screens = 1, 1
    while screen <= screens:
        for width, height in SIZES:
            page = browser.new_page(viewport={"width": width, "height": height})
            params = "&".join(q for q in (query, args.query, f"screen={screen}") if q)
            page.goto(f"{base}/{'' if slug == 'overview' else slug}?{params}")
            page.wait_for_function(PRESENTING_READY, timeout=120_000, polling=100)
            wait_charts_drawn(page)
            found = re.search(r"Screen \d+ of (\d+)", page.inner_text("body"))
            screens = int(found.group(1)) if found else screens
            name = f"{slug.lower()}-presenting-{screen}-{width}x{height}.png"
            page.screenshot(path=str(args.out / name))
            report(page, args.out / name)
        screen += 1


def report(page: Page, shot: Path) -> None:
    """The shot's name, then what its screen cuts (tools.layout); the page closed."""
    found = page.evaluate(CUT_TEXT)
    page.close()
    print(shot)
    for line in found["cut"]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
