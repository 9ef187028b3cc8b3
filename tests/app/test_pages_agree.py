"""In privacy mode every page at its default controls renders privacy's one decision at
the filter (ui.page.masked, ui.data.decision), and a page with its own controls (the
Patency page by aetiology) shows each count the decision shows as it shows it: on the
bilateral registry's right side, where each page deciding alone gave counts away
together (tests/unit/test_pages_agree.py)."""

from __future__ import annotations

import pytest

import ui.page
from analytics.partitions import Key
from analytics.present.masking import Mask
from tests.conftest import page_runner

DEFAULT_PAGES = (
    "app.py",
    "pages/1_Patency.py",
    "pages/2_Clinical_outcomes.py",
    "pages/3_Safety.py",
    "pages/4_Subgroups.py",
    "pages/5_Tables.py",
)
RIGHT = {"privacy": "yes", "lesion_side": "right"}


@pytest.fixture
def service_page(bilateral_path, monkeypatch):
    yield from page_runner(bilateral_path, monkeypatch)


@pytest.fixture
def decided(monkeypatch) -> list[Mask]:
    """Each mask a page ran masked() for, in order."""
    masks: list[Mask] = []
    masked = ui.page.masked

    def spy(context, view):
        context, mask = masked(context, view)
        masks.append(mask)
        return context, mask

    monkeypatch.setattr(ui.page, "masked", spy)
    return masks


def shown(mask: Mask, key: Key) -> str:
    return mask.cell(key).shown


def test_every_page_at_its_defaults_shows_the_one_decision(service_page, decided):
    for page in DEFAULT_PAGES:
        assert not service_page(page, **RIGHT).exception, page
    assert len(decided) == len(DEFAULT_PAGES)
    first = decided[0]
    assert first.small and first.withheld  # privacy decided something here
    for mask in decided[1:]:
        assert (mask.counts, mask.small, mask.withheld) == (
            first.counts,
            first.small,
            first.withheld,
        )


def test_a_page_with_its_own_controls_agrees_with_the_decision(service_page, decided):
    assert not service_page("app.py", **RIGHT).exception
    assert not service_page("pages/1_Patency.py", by="aetiology", **RIGHT).exception
    overview, compared = decided
    both = overview.counts.keys() & compared.counts.keys()
    assert len(both) > 100
    assert all(shown(compared, key) == shown(overview, key) for key in both)
