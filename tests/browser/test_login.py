"""Login in a real browser against a real OpenID Connect provider on 127.0.0.1.

oidc-provider-mock serves discovery, authorization and tokens, with each user's claims
set by the test; `streamlit run app.py` reads an [auth] section pointing at it from a
secrets file in a temporary folder; Debian's chromium signs in through the provider's
form. A viewer sees their name and role in the sidebar; a user whose groups map to no
role sees the refusal and no data.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from analytics.cohort.db import ROOT
from tests.browser.harness import CHROMIUM
from tests.browser.login import sign_in
from tools.oidc import serve_provider, write_secrets
from tools.server import free_port, serve_app
from ui.access import LOG_IN, LOG_OUT

pytest.importorskip("oidc_provider_mock")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]
USERS = (
    {"sub": "ada", "name": "Ada Viewer", "groups": ["vs-viewers"]},
    {"sub": "eve", "name": "Eve Nobody", "groups": ["another-department"]},
)
ACCESS = """[access]
role_claim = "groups"

[access.roles]
"vs-viewers" = "viewer"
"vs-analysts" = "analyst"
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1 with USERS: its discovery document's URL."""
    with serve_provider(USERS) as discovery:
        yield discovery


@pytest.fixture(scope="module")
def server(
    provider: str, demo_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The dashboard with login on: its [auth] and [access] in a secrets file of its own."""
    port = free_port()
    secrets = write_secrets(
        tmp_path_factory.mktemp("secrets") / "secrets.toml", port, provider, ACCESS
    )
    env = {
        "COHORT_DB": str(demo_path),
        "COHORT_IMPORT_DIR": str(tmp_path_factory.mktemp("imported")),
        "STREAMLIT_SECRETS_FILES": str(secrets),
    }
    with serve_app(ROOT / "app.py", port, env):
        yield f"http://127.0.0.1:{port}"


def test_a_signed_out_visitor_sees_log_in_and_no_data(browser, server):
    page = browser.new_page()
    page.goto(f"{server}/Safety")
    expect(page.get_by_role("button", name=LOG_IN)).to_be_visible(timeout=30_000)
    expect(page.locator('[data-testid="stTable"]')).to_have_count(0)
    expect(page.get_by_text("Reset filters")).to_have_count(0)
    page.close()


def test_a_viewer_signs_in_is_named_with_their_role_and_logs_out(browser, server):
    page = sign_in(browser, server, "ada")
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
    page = sign_in(browser, server, "eve")
    expect(
        page.get_by_text("Eve Nobody is signed in, but this account has no role")
    ).to_be_visible()
    expect(page.get_by_role("button", name=LOG_OUT)).to_be_visible()
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(0)
    expect(page.get_by_text("Reset filters")).to_have_count(0)
    page.context.close()
