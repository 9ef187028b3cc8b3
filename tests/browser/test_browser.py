"""Real browser: Debian's chromium, headless, driven by Playwright against `streamlit run`.

Every page is opened directly by its URL on a fresh session (a bookmark, a shared
link), with and without filter parameters, and must show the shared sidebar, its
charts, and no exception.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from pptx import Presentation

from analytics.cohort.db import DEMO_SOURCE, open_cohort
from analytics.cohort.importer import REGISTRY
from analytics.filters import parse_pairs
from analytics.stats.safety import cohort_size
from tests.browser.harness import (
    FILTERS,
    PAGES_WITH_CHARTS,
    assert_each_chart_drawn_once,
    cut_text,
    needs_chromium,
    open_page,
    opened_as_itself,
    serve,
    sidebar,
    url_path,
)
from tools.browser_bench import CHARTS_DRAWN, CHARTS_SENT, wait_charts_drawn
from ui.navigation import PAGES
from ui.page import DECK_LABEL, MAKE_DECK_LABEL
from ui.plot import BUNDLE, UNLOADED
from ui.show import EXPORT_LABEL

pytestmark = needs_chromium
BILATERAL_PAGES = ("Patency", "Safety", "Tables")  # limbs, patients, both


def _open_list(combobox, option, attempts: int = 3) -> None:
    """Click a select box until its list shows `option`: a click landing mid-rerun is lost."""
    for _ in range(attempts):
        combobox.click()
        try:
            option.wait_for(state="visible", timeout=5_000)
            return
        except PlaywrightTimeout:
            combobox.press("Escape")
    expect(option).to_be_visible()


def _pick(combobox, option, attempts: int = 3) -> None:
    """Open a select box and click `option`: a list that a rerun closes under the click
    (a loaded machine) is opened again."""
    for _ in range(attempts):
        _open_list(combobox, option)
        try:
            option.click(timeout=5_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"could not pick {option} in {attempts} attempts")


@pytest.mark.parametrize(
    ("page_file", "title"), [(f, t) for f, t, _ in PAGES], ids=[t for _, t, _ in PAGES]
)
def test_page_opens_directly_by_url(server, browser, page_file, title):
    """Each page by its URL without a filter (test_layout opens each with one, and checks
    the same there: tests.browser.harness.opened_as_itself). A page's charts come from
    static/plotly-dashboard.min.js, fetched once; Streamlit's own plotly chunk (the whole
    of plotly.js, 4.7 MB) is never fetched."""
    fetched: list[str] = []
    page = open_page(browser, server + url_path(page_file), fetched)
    try:
        expect(page.get_by_role("heading", name=title).first).to_be_visible()
        charts = PAGES_WITH_CHARTS.get(title, 0)
        if charts:
            expect(page.locator(".js-plotly-plot").first).to_be_visible()
        assert page.locator(".js-plotly-plot").count() >= charts
        wait_charts_drawn(page)
        if charts:
            assert page.evaluate(CHARTS_SENT) >= charts  # at least
            bundles = [url for url in fetched if url.endswith(f"/app/static/{BUNDLE.name}")]
            assert len(bundles) == 1, (title, bundles)
        assert not [url for url in fetched if "PlotlyChart" in url], title
        expect(sidebar(page).get_by_text("n = 34 of 37")).to_have_count(1)
        assert not opened_as_itself(title, "n = 34 of 37")(page, 1400, 1000)
    finally:
        page.close()


def test_every_page_of_a_bilateral_registry_counts_limbs_in_patients(
    bilateral_path, import_dir, browser
):
    """A stenting service's registry (a tenth of patients with both legs treated): the
    pages of limbs, of patients and of both open by their URL, compared by side, and the
    sidebar counts limbs in patients (AppTest runs every page on a bilateral registry);
    the Subgroups page at 1280x720 cuts none of its robust score tests' words."""
    from analytics.filters import CohortFilter
    from analytics.views import header_view

    with open_cohort(bilateral_path) as con:
        header = header_view(con, CohortFilter())
    assert header.people < header.limbs
    expected = f"n = {header.limbs:,} limbs in {header.people:,} patients"
    with serve(bilateral_path, import_dir) as (base, _):
        for page_file, title, _ in [p for p in PAGES if p[1] in BILATERAL_PAGES]:
            page = open_page(browser, f"{base}{url_path(page_file)}?by=lesion_side")
            try:
                expect(page.get_by_role("heading", name=title).first).to_be_visible()
                if PAGES_WITH_CHARTS.get(title, 0):
                    expect(page.locator(".js-plotly-plot").first).to_be_visible()
                assert_each_chart_drawn_once(page)
                expect(sidebar(page).get_by_text(expected)).to_have_count(1)
                errors = page.locator('[data-testid="stException"]')
                assert errors.count() == 0, (title, errors.all_inner_texts())
            finally:
                page.close()
        # the forest plot's factor lines name the robust score test: nothing of it cut
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        try:
            cut = cut_text(page, f"{base}/Subgroups", PAGES_WITH_CHARTS["Subgroups"])
        finally:
            page.close()
    assert not cut, "\n".join(cut)


def test_link_keeps_filters_and_view_after_reload(server, browser):
    page = open_page(browser, f"{server}/Patency?{FILTERS}&by=sex")
    try:
        expect(page.locator(".js-plotly-plot").first).to_be_visible()
        assert "lesion_side=left" in page.url and "by=sex" in page.url
        page.reload()
        expect(sidebar(page).get_by_text("n = 22 of 37")).to_have_count(1)
        expect(page.locator(".js-plotly-plot").get_by_text("patency by sex").first).to_be_visible()
        assert "by=sex" in page.url
    finally:
        page.close()


def test_reference_group_and_landmark_in_a_link_draw_and_survive_a_reload(server, browser):
    page = open_page(browser, f"{server}/Patency?by=age_band&ref=60-74&landmark=12")
    try:
        landmark = page.locator(".js-plotly-plot").get_by_text("landmark at month 12")
        expect(landmark.first).to_be_visible()
        expect(page.get_by_text("Pairwise log-rank tests").first).to_be_visible()
        page.reload()
        expect(landmark.first).to_be_visible()
        assert "ref=60-74" in page.url and "landmark=12" in page.url
        errors = page.locator('[data-testid="stException"]')
        assert errors.count() == 0, errors.all_inner_texts()
    finally:
        page.close()


def test_navigation_carries_the_filter_to_the_next_page(server, browser):
    page = open_page(browser, f"{server}/?{FILTERS}")
    try:
        sidebar(page).get_by_role("link", name="Safety").click()
        expect(page.get_by_role("heading", name="Safety").first).to_be_visible()
        expect(sidebar(page).get_by_text("n = 22 of 37")).to_have_count(1)
        assert "lesion_side=left" in page.url
    finally:
        page.close()


def test_invalid_link_value_is_dropped_with_a_notice(server, browser):
    page = open_page(browser, f"{server}/Patency?lesion_side=center")
    try:
        # plain() puts an invisible word joiner after each colon (no autolinks): not a space
        notice = re.compile("Ignored in the link:\u2060? lesion_side=")
        expect(sidebar(page).get_by_text(notice)).to_have_count(1)
        expect(sidebar(page).get_by_text("n = 34 of 37")).to_have_count(1)
    finally:
        page.close()


def test_a_time_axis_link_draws_years_and_the_at_risk_rule_and_survives_a_reload(server, browser):
    page = open_page(browser, f"{server}/Patency?months=0,12,24&unit=years&min_at_risk=20")
    try:
        chart = page.locator(".js-plotly-plot").first
        expect(chart.get_by_text("Years since the procedure")).to_be_visible()
        expect(chart.get_by_text("Dotted: SE > 10% or fewer than 20 at risk")).to_be_visible()
        page.get_by_text("Time axis").click()
        expect(page.get_by_text("Fewer at risk than")).to_be_visible()
        page.reload()
        expect(page.locator(".js-plotly-plot").first.get_by_text("Years since")).to_be_visible()
        assert "unit=years" in page.url and "min_at_risk=20" in page.url
    finally:
        page.close()


def test_upload_refused_with_a_report_then_imported_and_shown(server, browser, tmp_path):
    given = [t for t in REGISTRY.tables if (DEMO_SOURCE / f"{t}.csv").is_file()]
    files = {t: (DEMO_SOURCE / f"{t}.csv").read_text() for t in given}
    bad = tmp_path / "bad"
    bad.mkdir()
    for table, text in files.items():
        (bad / f"{table}.csv").write_text(
            text.replace(",F,", ",X,", 1) if table == "patients" else text
        )
    page = open_page(browser, f"{server}/Data")
    try:
        upload = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
        upload.set_input_files([str(bad / f"{t}.csv") for t in given])
        page.get_by_label("Cohort name").fill("Browser registry")
        page.get_by_role("button", name="Validate and import").click()
        expect(page.get_by_text("Not imported: 1 problem(s)")).to_be_visible()
        expect(page.get_by_text("sex must be F or M", exact=False)).to_be_attached()  # grid cell
        upload.set_input_files(str(DEMO_SOURCE / "patients.csv"))  # the corrected file, added
        page.get_by_role("button", name="Validate and import").click()
        expect(page.get_by_text("Imported Browser registry from")).to_be_visible()
        expect(page.get_by_text("37 patients. It is now the cohort")).to_be_visible()
        expect(sidebar(page).get_by_text("Browser registry")).to_be_visible()
        assert "cohort=browser-registry" in page.url
        expect(page.get_by_text("not patient data")).to_have_count(0)
    finally:
        page.close()


CONCURRENT_SESSIONS = 4
CONCURRENT_ROUNDS = 3
CONCURRENT_FILTERS = (
    "lesion_side=left", "lesion_side=right", "sex=F", "sex=M", "smoking=yes", "thrombophilia=no",
    "age_min=60", "population=all", "segments=IVC", "lesion_side=left&diabetes=yes",
)  # fmt: skip


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_concurrent_sessions_each_see_their_own_numbers(server_process, browser, demo_path):
    """Several sessions change filters at once; each shows the n DuckDB gives for its filter."""
    base, process = server_process
    with open_cohort(demo_path) as con:
        expected = {
            query: cohort_size(con, parse_pairs(query.split("&")))[0]
            for query in CONCURRENT_FILTERS
        }
    pages = [browser.new_page() for _ in range(CONCURRENT_SESSIONS)]
    memory = []
    try:
        for round_number in range(CONCURRENT_ROUNDS):
            shown = {}
            for i, page in enumerate(pages):  # start every session's run before checking any
                query = CONCURRENT_FILTERS[(round_number * CONCURRENT_SESSIONS + i) % 10]
                shown[i] = query
                page.goto(f"{base}/Safety?{query}", wait_until="commit")
            for i, page in enumerate(pages):
                text = f"n = {expected[shown[i]]} of 37"
                expect(sidebar(page).get_by_text(text)).to_have_count(1, timeout=60_000)
                expect(page.locator('[data-testid="stException"]')).to_have_count(0)
            memory.append(_rss_mib(process.pid))
    finally:
        for page in pages:
            page.close()
    print(f"server RSS by round (MiB): {[round(m) for m in memory]}")
    assert memory[-1] - memory[0] < 200, memory


def _other_sessions_run(browser, server: str) -> None:
    """Other sessions' page runs: each run's end, and each session's, sweeps Streamlit's
    unreferenced files (the second sweep deletes a download's file nobody holds)."""
    other = browser.new_page()
    try:
        for query in ("sex=M", "sex=F", "lesion_side=right"):
            other.goto(f"{server}/Safety?{query}")
            wait_charts_drawn(other)
    finally:
        other.close()


@pytest.mark.slow
def test_a_deck_made_then_downloaded_and_a_chart_export_survive_other_sessions_runs(
    server, browser
):
    """The deck is made on a click, then its button holds the file: downloaded after other
    sessions' runs, it opens in python-pptx. A page opened by a link with ?by=: the deck
    keeps the comparison the link names, and the next page keeps the view and the deck.
    A chart's export menu renders its files when it opens; they too outlast other
    sessions' runs."""
    page = open_page(browser, f"{server}/Safety?{FILTERS}&by=thrombophilia")
    try:
        wait_charts_drawn(page)
        sidebar(page).get_by_role("button", name=MAKE_DECK_LABEL).click()
        download_deck = sidebar(page).get_by_role("button", name=DECK_LABEL)
        expect(download_deck).to_be_visible(timeout=120_000)
        _other_sessions_run(browser, server)
        with page.expect_download(timeout=60_000) as download:
            download_deck.click()
        deck = Presentation(download.value.path())
        title = deck.slides[0].placeholders[1].text
        assert "Left" in title and "compared by thrombophilia" in title
        assert "n = 22 patients" in title
        titles = [slide.shapes.title.text for slide in deck.slides]
        assert "Primary patency by thrombophilia" in titles

        sidebar(page).get_by_role("link", name="Patency").click()  # the same view, and deck
        page.wait_for_url(f"**/Patency?{FILTERS}&by=thrombophilia")
        wait_charts_drawn(page)
        expect(sidebar(page).get_by_text("n = 22 of 37")).to_have_count(1)
        expect(download_deck).to_be_visible()
        page.get_by_role("button", name=EXPORT_LABEL).first.click()
        svg_button = page.get_by_role("button", name="SVG (16:9 slide size)")
        expect(svg_button).to_be_visible(timeout=60_000)
        _other_sessions_run(browser, server)
        with page.expect_download(timeout=60_000) as download:
            svg_button.click()
        svg = Path(download.value.path()).read_bytes()
        assert svg.lstrip().startswith(b"<svg") and "Left · ".encode() in svg
    finally:
        page.close()


def test_registry_centre_filter_and_funnel(registry_path, import_dir, browser):
    """On a multi-centre registry: the funnel plots every centre; picking one filters to it."""
    with open_cohort(registry_path) as con:
        total = cohort_size(con, parse_pairs(["population=all"]))[0]
        successes = cohort_size(con, parse_pairs([]))[0]
        in_c02 = cohort_size(con, parse_pairs(["center=C02"]))[0]
    with serve(registry_path, import_dir) as (base, _):
        page = open_page(browser, f"{base}/Centres")
        try:
            expect(sidebar(page).get_by_text(f"n = {successes:,} of {total:,}")).to_have_count(1)
            funnel = page.locator(".js-plotly-plot").first
            expect(funnel.get_by_text("99.8% control limits").first).to_be_visible()
            assert_each_chart_drawn_once(page)  # its legend beside it
            sidebar(page).get_by_text("Age, BMI, centre").click()
            centre = sidebar(page).get_by_label("Centre")
            expect(centre).to_be_editable()
            _pick(centre, page.get_by_role("option", name="C02", exact=True))
            expect(sidebar(page).get_by_text(f"n = {in_c02:,} of {total:,}")).to_have_count(1)
            expect(page.get_by_text("The Centre filter keeps one centre")).to_be_visible()
            assert "center=C02" in page.url
            expect(page.locator('[data-testid="stException"]')).to_have_count(0)
        finally:
            page.close()


def test_charts_drawn_only_once_every_chart_the_page_sent_is_drawn(server, browser):
    """The bench's and these tests' check: false while nothing is sent, then true only
    with as many charts drawn as the run sent (no chart sent is not every chart drawn)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{server}/", wait_until="commit")
        assert page.evaluate(CHARTS_DRAWN) is False
        wait_charts_drawn(page)
        sent = page.evaluate(CHARTS_SENT)
        assert sent == PAGES_WITH_CHARTS["Overview"]
        assert page.locator(".js-plotly-plot .main-svg").first.is_visible()
        assert page.locator(".dashboard-chart.js-plotly-plot").count() == sent
    finally:
        page.close()


def test_a_chart_whose_plotting_code_cannot_load_says_so_in_its_place(server, browser):
    """The bundle refused (a proxy, a network drop): each chart's place says what happened
    and what to do, in words, and the rest of the page stands."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.route(f"**/app/static/{BUNDLE.name}", lambda route: route.abort())
        page.goto(f"{server}/Patency")
        expect(page.get_by_text(UNLOADED)).to_have_count(PAGES_WITH_CHARTS["Patency"])
        expect(sidebar(page).get_by_text("n = 34 of 37")).to_have_count(1)
        assert page.locator(".js-plotly-plot").count() == 0
    finally:
        page.close()
