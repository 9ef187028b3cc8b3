"""Real browser: no page or screen of a large registry (counts of five digits, a fitted
model) cuts a label, header or count (tools.layout)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.harness import (
    PRIVACY,
    SIZES,
    cut_text_on_every_screen,
    needs_chromium,
    serve,
)

pytestmark = needs_chromium
# A registry whose counts run to five digits ("12,024 / 5,128"), its model fitted on
# baseline covariates when the Models page opens (a time-varying fit takes minutes here).
REGISTRY_PATIENTS = 20_000
REGISTRY_MODEL = "adjust=age_years,sex,center,smoking,symptom_duration_months"


@pytest.fixture(scope="module")
def large_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from analytics.cohort.synth import synthesize

    path = tmp_path_factory.mktemp("large") / "registry.duckdb"
    return synthesize(path, REGISTRY_PATIENTS, 6, seed=1)


@pytest.mark.slow
def test_no_label_header_or_count_is_cut_on_a_large_registry(large_registry, import_dir, browser):
    """As on the demo; privacy mode at 1280x720 only, the size that crowds (every screen
    again at 1920x1080 would add about half a minute to a suite kept under 12 minutes)."""
    with serve(large_registry, import_dir) as (base, _):
        cut = cut_text_on_every_screen(browser, base, REGISTRY_MODEL)
        cut += cut_text_on_every_screen(
            browser, base, f"{REGISTRY_MODEL}&{PRIVACY}", sizes=SIZES[:1]
        )
    assert not cut, "\n".join(cut)
