"""The real-browser tests' fixtures: one browser, and the dashboard on the demo, per module."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, serve


@pytest.fixture(scope="module")
def import_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("imported")


@pytest.fixture(scope="module")
def server_process(demo_path: Path, import_dir: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """The dashboard on the demo cohort."""
    with serve(demo_path, import_dir) as served:
        yield served


@pytest.fixture(scope="module")
def server(server_process: tuple[str, subprocess.Popen]) -> str:
    return server_process[0]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
