"""Signing in through the mock provider's form in Debian's chromium, for the browser tests
of login and roles (tools.oidc serves the provider)."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from ui.access import LOG_IN

TIMEOUT_MS = 30_000


def new_page(browser: Browser) -> Page:
    """A page in a browser context of its own (its own cookies: a user of their own)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return page


def sign_in(browser: Browser, server: str, subject: str) -> Page:
    """A fresh browser context at the dashboard, signed in as ``subject`` through the
    provider's form."""
    page = new_page(browser)
    page.goto(server)
    page.get_by_role("button", name=LOG_IN).click()
    page.wait_for_url("**/oauth2/authorize**")
    page.locator("input[name=sub]").fill(subject)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{server}/**")
    return page


def settled(page: Page) -> None:
    """Wait until Streamlit's script run for the page has finished (the app root's state)."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
