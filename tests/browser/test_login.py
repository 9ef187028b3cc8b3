"""Login in a real browser against a real OpenID Connect provider on 127.0.0.1.

oidc-provider-mock serves discovery, authorization and tokens, with each user's claims
set by the test; `streamlit run app.py` reads an [auth] section pointing at it from a
secrets file in a temporary folder; Debian's chromium signs in through the provider's
form. A viewer sees their name and role in the sidebar; a user whose groups map to no
role sees the refusal and no data.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from analytics.cohort.db import ROOT
from tools.server import serve_app
from ui.access import LOG_IN, LOG_OUT

pytest.importorskip("oidc_provider_mock")
CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
USERS = (
    {"sub": "ada", "name": "Ada Viewer", "groups": ["vs-viewers"]},
    {"sub": "eve", "name": "Eve Nobody", "groups": ["another-department"]},
)
PROVIDER_START_S = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + PROVIDER_START_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {PROVIDER_START_S} s")


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1 with USERS: its discovery document's URL."""
    port = _free_port()
    claims = [arg for user in USERS for arg in ("--user-claims", json.dumps(user))]
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port",
         str(port), *claims],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        discovery = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
        _wait_for(discovery)
        yield discovery
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(
    provider: str, demo_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The dashboard with login on: its [auth] and [access] in a secrets file of its own."""
    port = _free_port()
    secrets = tmp_path_factory.mktemp("secrets") / "secrets.toml"
    secrets.write_text(
        f"""[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "a-cookie-secret-for-this-test-only"
client_id = "venous-dashboard"
client_secret = "venous-dashboard-secret"
server_metadata_url = "{provider}"

[access]
role_claim = "groups"

[access.roles]
"vs-viewers" = "viewer"
"vs-analysts" = "analyst"
"""
    )
    env = {
        "COHORT_DB": str(demo_path),
        "COHORT_IMPORT_DIR": str(tmp_path_factory.mktemp("imported")),
        "STREAMLIT_SECRETS_FILES": str(secrets),
    }
    with serve_app(ROOT / "app.py", port, env):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _sign_in(browser, server: str, subject: str):
    """A fresh browser context at the dashboard, signed in as ``subject`` through the
    provider's form."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    page.goto(server)
    page.get_by_role("button", name=LOG_IN).click()
    page.wait_for_url("**/oauth2/authorize**")
    page.locator("input[name=sub]").fill(subject)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{server}/**")
    return page


def test_a_signed_out_visitor_sees_log_in_and_no_data(browser, server):
    page = browser.new_page()
    page.goto(f"{server}/Safety")
    expect(page.get_by_role("button", name=LOG_IN)).to_be_visible(timeout=30_000)
    expect(page.locator('[data-testid="stTable"]')).to_have_count(0)
    expect(page.get_by_text("Reset filters")).to_have_count(0)
    page.close()


def test_a_viewer_signs_in_is_named_with_their_role_and_logs_out(browser, server):
    page = _sign_in(browser, server, "ada")
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text("Signed in as Ada Viewer, viewer.")).to_be_visible()
    expect(sidebar.get_by_role("button", name=LOG_OUT)).to_be_visible()
    # privacy is off on this server, but a viewer's counts are masked at k = 5: the file's
    # 37 would give its 3 technical failures
    expect(sidebar.get_by_text("The file's number of patients is hidden")).to_be_visible()
    sidebar.get_by_role("button", name=LOG_OUT).click()
    page.wait_for_url("**/oauth2/end_session**")  # the provider's own sign-out, after ours
    page.goto(server)
    expect(page.get_by_role("button", name=LOG_IN)).to_be_visible()
    page.context.close()


def test_a_user_whose_groups_map_to_no_role_is_refused(browser, server):
    page = _sign_in(browser, server, "eve")
    expect(
        page.get_by_text("Eve Nobody is signed in, but this account has no role")
    ).to_be_visible()
    expect(page.get_by_role("button", name=LOG_OUT)).to_be_visible()
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(0)
    expect(page.get_by_text("Reset filters")).to_have_count(0)
    page.context.close()
