"""Roles, centre scope, the audit trail and private imports in a real browser, signed in
through a real OpenID Connect provider (oidc-provider-mock on 127.0.0.1, tools.oidc).

One provider and one dashboard server for the module, on a small synthetic registry of
four centres; each user signs in once, in a browser context of their own (their own
cookie), and is reused by every test that needs them. Waits are on what the page shows
and on Streamlit's script state, never on the clock.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Browser, Page, expect
from pptx import Presentation

from analytics.audit import Action, read
from analytics.cohort.db import DEMO_SOURCE, ROOT
from analytics.cohort.importer import REGISTRY
from analytics.cohort.synth import synthesize
from tests.browser.harness import CHROMIUM
from tests.browser.login import new_page, settled, sign_in
from tools.browser_bench import wait_charts_drawn
from tools.oidc import serve_provider, write_secrets
from tools.server import free_port, serve_app
from ui.access import LOG_IN
from ui.page import DECK_LABEL, MAKE_DECK_LABEL

pytest.importorskip("oidc_provider_mock")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]
OWN_CENTRE, OTHER_CENTRES = "C02", ("C01", "C03", "C04")  # synth --centers 4
USERS = (
    {"sub": "ada", "name": "Ada Viewer", "groups": ["vs-viewers"]},
    # a forged claim: values that map to no role (a role's name is not a mapped value)
    {"sub": "fay", "name": "Fay Forger", "groups": ["vs-viewers", "analyst", "data manager"]},
    {"sub": "ana", "name": "Ana Analyst", "groups": ["vs-analysts"]},
    {"sub": "dan", "name": "Dan Manager", "groups": ["vs-managers"]},
    {"sub": "cem", "name": "Cem Centre", "groups": ["vs-analysts"], "center": OWN_CENTRE},
    {"sub": "eve", "name": "Eve Nobody", "groups": ["another-department"]},
)
ACCESS = """[access]
role_claim = "groups"
center_claim = "center"

[access.roles]
"vs-viewers" = "viewer"
"vs-analysts" = "analyst"
"vs-managers" = "data manager"
"""
PATHS = ("", "Patency", "Clinical_outcomes", "Safety", "Subgroups", "Tables", "Data",
         "Centres", "Models")  # fmt: skip
SHARED_LINK = "Patency?lesion_side=left&privacy=no&by=center&cohort=registry"
SMALL = re.compile(r"^<5$")  # a count below the deployment's k = 5, masked
CAMERA = '.modebar-btn[data-title="Download plot as a PNG" i]'  # plotly's camera
DATA_SHOWN = "match the filters"  # the sidebar's n line, on every page that shows data
IMPORT_BUTTON = "Validate and import"
IMPORTED, IMPORTED_FILE = "Dan private", "dan-private"  # the cohort's name, its file's
NOT_A_MANAGER = "Importing a registry is for this dashboard's data managers."


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small registry of four centres (synth --patients 300 --centers 4 --seed 3)."""
    return synthesize(tmp_path_factory.mktemp("registry") / "registry.duckdb", 300, 4, seed=3)


@pytest.fixture(scope="module")
def audit_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit") / "audit.jsonl"


@pytest.fixture(scope="module")
def server(
    registry: Path, audit_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The dashboard with login, roles, centre scope and an audit trail, on ``registry``."""
    with serve_provider(USERS) as discovery:
        port = free_port()
        secrets = tmp_path_factory.mktemp("secrets") / "secrets.toml"
        env = {
            "COHORT_DB": str(registry),
            "COHORT_IMPORT_DIR": str(tmp_path_factory.mktemp("imported")),
            "COHORT_AUDIT_FILE": str(audit_file),
            "STREAMLIT_SECRETS_FILES": str(write_secrets(secrets, port, discovery, ACCESS)),
        }
        with serve_app(ROOT / "app.py", port, env):
            yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def user(browser: Browser, server: str) -> Callable[[str], Page]:
    """The signed-in page of the user ``sub``: signed in at its first use, kept after."""
    pages: dict[str, Page] = {}

    def signed_in(subject: str) -> Page:
        if subject not in pages:
            pages[subject] = sign_in(browser, server, subject)
        return pages[subject]

    return signed_in


def _open(page: Page, url: str) -> Page:
    """``url`` opened and its run finished (a page's sidebar, or a refusal, drawn)."""
    page.goto(url)
    expect(page.locator("h1").first).to_be_visible()
    settled(page)
    return page


def _sidebar(page: Page):
    return page.get_by_test_id("stSidebar")


def _counts(registry: Path, where: str = "true") -> tuple[int, int]:
    """(limbs, patients) of the registry where ``where`` holds, by SQL on its own tables."""
    with duckdb.connect(str(registry), read_only=True) as con:
        return con.execute(
            "SELECT count(*), count(DISTINCT patient_id) FROM limbs JOIN patients "
            f"USING (patient_id) WHERE {where}"
        ).fetchone()


def _file_line(limbs: int, patients: int) -> str:
    return f"The file: {limbs} limbs in {patients} patients."


def test_signed_out_every_page_and_a_shared_link_show_only_log_in(browser, server):
    page = new_page(browser)
    for path in (*PATHS, SHARED_LINK):
        page.goto(f"{server}/{path}")
        expect(page.get_by_role("button", name=LOG_IN), path).to_be_visible()
        expect(page.get_by_text(DATA_SHOWN), path).to_have_count(0)
    page.context.close()


def test_a_user_whose_groups_map_to_no_role_is_refused_on_every_page(user, server):
    page = user("eve")
    refusal = page.get_by_text("Eve Nobody is signed in, but this account has no role")
    for path in (*PATHS, SHARED_LINK):
        _open(page, f"{server}/{path}")
        expect(refusal, path).to_be_visible()
        expect(page.get_by_text(DATA_SHOWN), path).to_have_count(0)


def test_a_viewer_sees_small_counts_masked_and_no_model_or_browser_exports(user, server):
    page = _open(user("ada"), f"{server}/Safety")
    expect(_sidebar(page).get_by_text("Signed in as Ada Viewer, viewer.")).to_be_visible()
    expect(page.locator("td").filter(has_text=SMALL).first).to_be_visible()
    wait_charts_drawn(page)
    expect(page.locator(CAMERA)).to_have_count(0)
    expect(page.get_by_test_id("stElementToolbar")).to_have_count(0)
    _open(page, f"{server}/Models")
    expect(page.get_by_text("Adjusted HR (95% CI)").first).to_be_visible()
    expect(page.get_by_text("Export chart")).to_have_count(0)
    expect(page.get_by_text("(CSV)")).to_have_count(0)
    _open(page, f"{server}/Data")
    expect(page.get_by_text(NOT_A_MANAGER)).to_be_visible()
    expect(page.get_by_role("button", name=IMPORT_BUTTON)).to_have_count(0)


def test_a_viewer_downloads_a_table_and_a_deck_as_shown_masked(user, server):
    page = _open(user("ada"), f"{server}/Safety")
    page.get_by_role("button", name="Download safety events (CSV)").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV", exact=True).click()
    rows = Path(download.value.path()).read_text().splitlines()
    assert rows[0].startswith("Event,Patients,")
    assert any(",<5," in row for row in rows[1:])
    _sidebar(page).get_by_role("button", name=MAKE_DECK_LABEL).click()
    deck_button = _sidebar(page).get_by_role("button", name=DECK_LABEL)
    expect(deck_button).to_be_visible(timeout=120_000)
    with page.expect_download(timeout=60_000) as download:
        deck_button.click()
    deck = Presentation(download.value.path())
    assert "Privacy mode: counts of fewer than 5" in deck.slides[0].placeholders[1].text
    cells = [cell.text for slide in deck.slides for shape in slide.shapes if shape.has_table
             for row in shape.table.rows for cell in row.cells]  # fmt: skip
    assert any("<5" in cell for cell in cells)


def test_a_forged_role_claim_or_link_leaves_a_viewer_masked(user, server):
    page = _open(user("fay"), f"{server}/Safety?privacy=no&privacy_k=3")
    expect(_sidebar(page).get_by_text("Signed in as Fay Forger, viewer.")).to_be_visible()
    expect(page.locator("td").filter(has_text=SMALL).first).to_be_visible()
    expect(page.locator("td").filter(has_text=re.compile(r"^<3$"))).to_have_count(0)


def test_an_analyst_sees_exact_counts_and_every_export(user, server):
    page = _open(user("ana"), f"{server}/Safety")
    expect(_sidebar(page).get_by_text("Signed in as Ana Analyst, analyst.")).to_be_visible()
    expect(page.get_by_role("button", name="Download safety events (CSV)")).to_be_visible()
    expect(page.locator("td").filter(has_text=re.compile(r"^(<5|hidden)$"))).to_have_count(0)
    wait_charts_drawn(page)
    expect(page.locator(CAMERA).first).to_be_attached()
    _open(page, f"{server}/Models")
    expect(page.get_by_text("Export chart").first).to_be_visible()
    expect(page.get_by_role("button", name="Download adjusted hazard ratios (CSV)")).to_be_visible()
    _open(page, f"{server}/Data")
    expect(page.get_by_text(NOT_A_MANAGER)).to_be_visible()
    expect(page.get_by_role("button", name=IMPORT_BUTTON)).to_have_count(0)


def test_a_centre_user_sees_their_centre_or_the_pool_never_the_registry(user, server, registry):
    page = _open(user("cem"), f"{server}/")
    sidebar = _sidebar(page)
    mine = _counts(registry, f"center = '{OWN_CENTRE}'")
    everyone = _counts(registry)
    expect(sidebar.get_by_text(_file_line(*mine))).to_be_visible()
    expect(sidebar.get_by_text(_file_line(*everyone))).to_have_count(0)
    sidebar.get_by_text("Other centres (pooled)").click()
    pool = (everyone[0] - mine[0], everyone[1] - mine[1])
    expect(sidebar.get_by_text(_file_line(*pool))).to_be_visible()
    expect(sidebar.get_by_text(_file_line(*everyone))).to_have_count(0)

    _open(page, f"{server}/Centres")
    main = page.get_by_test_id("stMain")
    expect(main.locator("td").filter(has_text=re.compile(f"^{OWN_CENTRE}$"))).to_be_visible()
    expect(main.locator("td").filter(has_text=re.compile("^Centre A$"))).to_be_visible()
    wait_charts_drawn(page)
    shown = main.inner_text()  # the tables and the funnel's own text
    assert not [code for code in OTHER_CENTRES if code in shown]


def test_a_link_naming_another_centre_widens_nothing(user, server, registry):
    page = _open(user("cem"), f"{server}/Patency?center=C01&by=center&privacy=no")
    expect(page.get_by_text("ignored").first).to_be_visible()
    mine = _counts(registry, f"center = '{OWN_CENTRE}'")
    expect(_sidebar(page).get_by_text(_file_line(*mine))).to_be_visible()
    expect(_sidebar(page).get_by_text(_file_line(*_counts(registry)))).to_have_count(0)


def _import_demo(page: Page, name: str) -> None:
    """Upload the demo's CSVs on the Data page and import them as ``name``."""
    tables = [t for t in REGISTRY.tables if (DEMO_SOURCE / f"{t}.csv").is_file()]
    upload = page.get_by_test_id("stFileUploaderDropzoneInput")
    upload.set_input_files([str(DEMO_SOURCE / f"{t}.csv") for t in tables])
    page.get_by_label("Cohort name").fill(name)
    page.get_by_role("button", name=IMPORT_BUTTON).click()
    expect(page.get_by_text(f"Imported {name} from")).to_be_visible()


def _lists_import(page: Page, file_name: str) -> None:
    """The Data page's "Your imports" lists ``file_name``, with Delete."""
    expect(page.get_by_text("Your imports", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stMain").get_by_text(file_name, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Delete")).to_be_visible()


@pytest.fixture(scope="module")
def imported(user: Callable[[str], Page], server: str) -> Page:
    """The data manager's page once they imported the demo on the Data page (once for the
    module: the import and audit tests share it)."""
    page = _open(user("dan"), f"{server}/Data")
    _import_demo(page, IMPORTED)
    return page


def test_a_private_import_is_its_managers_after_a_reload_and_in_a_new_tab_only(
    imported, user, server
):
    page = _open(imported, f"{server}/Data?cohort={IMPORTED_FILE}")
    _lists_import(page, IMPORTED_FILE)
    page.reload()
    settled(page)
    _lists_import(page, IMPORTED_FILE)
    tab = _open(page.context.new_page(), f"{server}/Data")
    _lists_import(tab, IMPORTED_FILE)
    tab.close()

    other = _open(user("ana"), f"{server}/Data?cohort={IMPORTED_FILE}")
    expect(other.get_by_text("no such cohort here, or it is not shared with you")).to_be_visible()
    expect(other.get_by_text("You have no private imports on this server.")).to_be_visible()
    expect(other.get_by_text(IMPORTED)).to_have_count(0)


def test_the_audit_trail_holds_a_view_an_export_and_an_import_by_subject(
    imported, server, audit_file, registry
):
    page = _open(imported, f"{server}/Tables?lesion_side=left")
    page.get_by_role("button", name="Download table 1 (CSV)").click()
    expect(page.get_by_role("button", name="CSV", exact=True)).to_be_visible()

    events = read(audit_file).events
    dan = [e for e in events if e.subject == "dan"]
    assert any(e.action is Action.VIEW and e.page == "Tables" and e.filter == "lesion_side=left"
               for e in dan)  # fmt: skip
    assert any(e.action is Action.EXPORT and e.what == "csv: table 1" for e in dan)
    assert any(e.action is Action.IMPORT and IMPORTED in e.what for e in dan)
    assert {e.name for e in dan} == {"Dan Manager"}
    with duckdb.connect(str(registry), read_only=True) as con:
        ids = {row[0] for row in con.execute("SELECT patient_id FROM patients").fetchall()}
    with (DEMO_SOURCE / "patients.csv").open() as demo:
        ids |= {row["patient_id"] for row in csv.DictReader(demo)}
    words = set(re.findall(r"[\w-]+", audit_file.read_text())) - {"patient_id"}
    assert not ids & words
