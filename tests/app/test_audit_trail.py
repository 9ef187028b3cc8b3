"""The dashboard's audit trail (ui.audit over analytics.audit): a page view once per view,
a table's CSV recorded when the server builds it, and refused when it cannot be recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.audit import AUDIT_ENV, Action, read
from ui.audit import NO_LOGIN
from ui.page import DECK_LABEL

TABLES = "pages/5_Tables.py"
FULL_DEVICE = Path("/dev/full")  # every write fails with ENOSPC, as on a full disk


@pytest.fixture
def trail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv(AUDIT_ENV, str(path))
    return path


def labels(at, kind: str) -> list[str]:
    return [element.proto.label for element in at.get(kind)]


def csv_menus(at) -> list[str]:
    return [key for key in at.session_state if key.startswith("csv-menu-")]


def test_a_view_is_recorded_once_and_again_when_its_filter_changes(page_test, trail, demo_path):
    at = page_test(TABLES)
    at.run()  # the same view again: no second line
    (seen,) = read(trail).events
    assert (seen.action, seen.page, seen.cohort, seen.filter) == (
        Action.VIEW, "Tables", demo_path.stem, "",
    )  # fmt: skip
    assert seen.subject == NO_LOGIN
    page_test(TABLES, lesion_side="left")
    assert [e.filter for e in read(trail).events] == ["", "lesion_side=left"]


def test_a_tables_csv_is_built_and_recorded_when_its_menu_opens(page_test, trail):
    at = page_test(TABLES)
    assert not any(label.endswith("(CSV)") for label in labels(at, "download_button"))
    menus = csv_menus(at)
    assert menus, "with a trail every table's CSV sits behind a menu"
    at.session_state[menus[0]] = True
    at.run()
    assert labels(at, "download_button").count("CSV") == 1
    at.run()  # the menu still open: the export is not recorded twice
    exports = [e for e in read(trail).events if e.action is Action.EXPORT]
    assert len(exports) == 1
    assert exports[0].what.startswith("csv: ")
    assert exports[0].page == "Tables"


def test_an_export_that_cannot_be_recorded_is_not_offered(page_test, monkeypatch):
    monkeypatch.setenv(AUDIT_ENV, str(FULL_DEVICE))
    at = page_test(TABLES)
    assert any("audit trail cannot be written" in w.value for w in at.warning)
    at.session_state[csv_menus(at)[0]] = True
    at.run()
    assert "CSV" not in labels(at, "download_button")
    assert any("Not exported" in e.value for e in at.error)


def test_without_a_trail_the_csv_buttons_hold_their_files(page_test, monkeypatch):
    monkeypatch.delenv(AUDIT_ENV, raising=False)
    at = page_test(TABLES)
    assert any(label.endswith("(CSV)") for label in labels(at, "download_button"))
    assert not csv_menus(at)


def test_a_deck_and_a_chart_are_recorded_when_the_server_builds_them(page_test, trail, monkeypatch):
    from tests.app.test_downloads import chart_keys, make_deck
    from ui import data, show

    monkeypatch.setattr(data, "deck_bytes", lambda key, request: b"deck")
    monkeypatch.setattr(show, "render", lambda fig, fmt: fmt.encode())
    at = make_deck(page_test("pages/3_Safety.py"))
    assert DECK_LABEL in labels(at, "download_button")
    at.session_state[show.export_key(chart_keys(at)[0])] = True
    at.run()
    exports = [e.what for e in read(trail).events if e.action is Action.EXPORT]
    assert exports == ["deck", f"chart {chart_keys(at)[0]}"]


def test_a_deck_that_cannot_be_recorded_is_not_given(page_test, monkeypatch):
    from tests.app.test_downloads import make_deck
    from ui import data

    monkeypatch.setenv(AUDIT_ENV, str(FULL_DEVICE))
    monkeypatch.setattr(data, "deck_bytes", lambda key, request: b"deck")
    at = make_deck(page_test("pages/3_Safety.py"))
    assert DECK_LABEL not in labels(at, "download_button")
    (status,) = at.sidebar.status
    assert status.state == "error"
