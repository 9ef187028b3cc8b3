"""Imports that belong to their user (AppTest): with login a browser import is kept in a
folder of its user, there again in a new session and invisible to anyone else; the user
deletes it, a data manager publishes it, both in the audit trail, and no analyst can
publish; without login the Data page says an import lasts until the tab is closed; the
page start sweeps expired private imports, never a published cohort."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.audit import AUDIT_ENV, Action, read
from analytics.cohort.db import DEMO_SOURCE
from analytics.cohort.importer import import_registry
from analytics.cohort.private_imports import USERS, owner_folder
from analytics.cohort.retention import DAY, RETENTION_ENV
from tests.app.test_login import SECRETS, user
from tests.app.test_page_import import XLSX, demo_workbook, import_form
from tests.conftest import page_runner, unescaped
from ui import cohorts, own_imports, retention
from ui.retention import SWEEP_EVERY, Sweeps

DATA = "pages/6_Data.py"
GRACE = user("Grace Manager", "vs-managers")  # subject "grace manager"
HEDY = user("Hedy Manager", "vs-managers")
ALAN = user("Alan Analyst", "vs-analysts")


@pytest.fixture
def import_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "imported"
    monkeypatch.setenv("COHORT_IMPORT_DIR", str(folder))
    monkeypatch.delenv(cohorts.SHARED_ENV, raising=False)
    monkeypatch.delenv(RETENTION_ENV, raising=False)
    return folder


@pytest.fixture
def trail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv(AUDIT_ENV, str(path))
    return path


@pytest.fixture
def session(demo_path: Path, import_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """A new browser session (a reload, a new tab) on ``page``, signed in as ``signed_in``
    (None: a deployment without login)."""
    runs = page_runner(demo_path, monkeypatch)
    run = next(runs)
    yield lambda page, signed_in, **params: run(
        page,
        secrets=SECRETS if signed_in is not None else None,
        user=signed_in,
        **params,
    )
    next(runs, None)  # its clean-up


def folder_of(import_dir: Path, signed_in: dict) -> Path:
    return import_dir / USERS / owner_folder(str(signed_in["sub"]))


def imported_for(import_dir: Path, signed_in: dict, name: str) -> Path:
    """A private import ``name`` of the signed-in user, as an earlier session left it."""
    path = folder_of(import_dir, signed_in) / f"{name}.duckdb"
    import_registry(DEMO_SOURCE, path, metadata={"name": name})
    return path


def listed(at: AppTest) -> list[str]:
    """The names under "Your imports", by their Delete buttons."""
    prefix = "delete-import-"
    return [b.key.removeprefix(prefix) for b in at.button if (b.key or "").startswith(prefix)]


def sidebar_notices(at: AppTest) -> list[str]:
    return [unescaped(w.value) for w in at.sidebar.warning]


def cohort_choices(at: AppTest) -> list[str]:
    boxes = [box for box in at.sidebar.selectbox if box.key == cohorts.KEY]
    return list(boxes[0].options) if boxes else []


def test_an_import_belongs_to_its_user_in_a_new_session_and_to_nobody_else(
    session, import_dir, tmp_path, trail
):
    at = session(DATA, GRACE)
    at = import_form(at, [("Dept A.xlsx", demo_workbook(tmp_path / "a.xlsx"), XLSX)], "Dept A")
    assert not at.exception and not at.error
    (recorded,) = [e for e in read(trail).events if e.action is Action.IMPORT]  # once
    assert (recorded.what, recorded.subject) == ("Dept A", "grace manager")
    stored = folder_of(import_dir, GRACE) / "dept-a.duckdb"
    assert stored.is_file() and not (import_dir / "dept-a.duckdb").exists()
    on_disk = [str(p.relative_to(import_dir)).lower() for p in import_dir.rglob("*")]
    assert not any("grace" in path for path in on_disk)  # the subject is never a name there

    again = session(DATA, GRACE)  # a reload, a new tab, the next day: a new session
    assert not again.exception
    assert listed(again) == ["dept-a"]
    assert "dept-a" in cohort_choices(again)
    linked = session("app.py", GRACE, cohort="dept-a")
    assert any("Dept A" in c.value for c in linked.sidebar.caption)

    other = session(DATA, HEDY)
    assert not other.exception
    assert listed(other) == [] and "dept-a" not in cohort_choices(other)
    link = session("app.py", HEDY, cohort="dept-a")
    assert any("cohort='dept-a'" in n and "not shared" in n for n in sidebar_notices(link))
    assert any("not patient data" in i.value for i in link.info)  # the default demo


def test_an_import_is_listed_with_when_it_was_imported_not_a_date(session, import_dir):
    path = imported_for(import_dir, GRACE, "dept-a")
    three_days_ago = time.time() - 3 * DAY - 60
    os.utime(path, (three_days_ago, three_days_ago))
    at = session(DATA, GRACE)
    assert any(c.value == "Imported 3 days ago; removed in 27 days." for c in at.caption)


def test_deleting_an_import_asks_then_removes_its_file_and_records_it(session, import_dir, trail):
    path = imported_for(import_dir, GRACE, "dept-a")
    at = session(DATA, GRACE, cohort="dept-a")
    at.button(key="delete-import-dept-a").click().run()
    assert path.exists()  # only asked
    (question,) = [unescaped(w.value) for w in at.warning]
    assert question.startswith("Delete **dept-a**? Its file is removed from the server")
    at.button(key="confirm-own-import").click().run()
    assert not at.exception
    assert not path.exists()
    assert [unescaped(s.value) for s in at.success] == [
        "Deleted dept-a: its file is removed from the server."
    ]
    assert listed(at) == [] and "dept-a" not in cohort_choices(at)
    (deleted,) = [e for e in read(trail).events if e.action is Action.DELETE]
    assert (deleted.what, deleted.subject, deleted.name) == ("dept-a", "grace manager",
                                                             "Grace Manager")  # fmt: skip


def test_cancel_keeps_the_import(session, import_dir):
    path = imported_for(import_dir, GRACE, "dept-a")
    at = session(DATA, GRACE)
    at.button(key="delete-import-dept-a").click().run()
    at.button(key="cancel-own-import").click().run()
    assert path.exists() and not at.warning and listed(at) == ["dept-a"]


def test_a_data_manager_publishes_an_import_to_everyone_and_it_is_recorded(
    session, import_dir, trail
):
    private = imported_for(import_dir, GRACE, "dept-a")
    at = session(DATA, GRACE)
    at.button(key="publish-import-dept-a").click().run()
    at.button(key="confirm-own-import").click().run()
    assert not at.exception
    assert not private.exists() and (import_dir / "dept-a.duckdb").is_file()
    assert [unescaped(s.value) for s in at.success] == [
        "Published dept-a: every user of this dashboard can now open it."
    ]
    (published,) = [e for e in read(trail).events if e.action is Action.PUBLISH]
    assert (published.what, published.subject) == ("dept-a", "grace manager")
    for anyone in (HEDY, ALAN):
        seen = session("app.py", anyone, cohort="dept-a")
        assert any("dept-a" in unescaped(c.value) for c in seen.sidebar.caption), anyone["name"]


def test_publishing_never_replaces_a_published_cohort(session, import_dir):
    private = imported_for(import_dir, GRACE, "dept-a")
    import_registry(DEMO_SOURCE, import_dir / "dept-a.duckdb", metadata={"name": "Theirs"})
    before = (import_dir / "dept-a.duckdb").read_bytes()
    at = session(DATA, GRACE)
    at.button(key="publish-import-dept-a").click().run()
    at.button(key="confirm-own-import").click().run()
    assert (import_dir / "dept-a.duckdb").read_bytes() == before and private.exists()
    (refusal,) = [unescaped(e.value) for e in at.error]
    assert refusal.startswith("A published cohort is named dept-a already: nothing was replaced")


def test_an_analyst_gets_delete_but_no_publish_and_a_forged_request_publishes_nothing(
    session, import_dir, trail
):
    private = imported_for(import_dir, ALAN, "dept-a")  # imported when a data manager
    at = session(DATA, ALAN)
    assert listed(at) == ["dept-a"]
    keys = {b.key for b in at.button}
    assert "delete-import-dept-a" in keys and "publish-import-dept-a" not in keys
    at.session_state[own_imports.PENDING] = own_imports.Pending(Action.PUBLISH, "dept-a")
    at.session_state["publish-import-dept-a"] = True  # a widget value the browser forged
    at.run()
    assert not at.exception
    assert "confirm-own-import" not in {b.key for b in at.button}
    assert private.exists() and not (import_dir / "dept-a.duckdb").exists()
    assert not [e for e in read(trail).events if e.action is Action.PUBLISH]


def test_an_analyst_cannot_import(session):
    at = session(DATA, ALAN)
    assert not at.file_uploader
    assert any("for this dashboard's data managers" in c.value for c in at.caption)


def test_without_login_the_data_page_says_an_import_lasts_until_the_tab_is_closed(session):
    at = session(DATA, None)
    assert not at.exception
    assert any(own_imports.TAB_CLOSED in c.value for c in at.caption)
    assert "Your imports" not in [h.value for h in at.subheader]


def test_with_login_the_data_page_says_an_import_is_the_users_until_deleted(session):
    at = session(DATA, GRACE)
    said = " ".join(c.value for c in at.caption)
    assert "only you see it, in every tab and on later days" in said
    assert "removed 30 days after its import" in said
    assert "Your imports" in [h.value for h in at.subheader]


def test_the_page_start_sweeps_expired_private_imports_never_a_published_one(
    session, import_dir, monkeypatch
):
    monkeypatch.setattr(retention, "SWEEPS", Sweeps())  # this process has not swept yet
    monkeypatch.setenv(RETENTION_ENV, "7")
    expired = imported_for(import_dir, HEDY, "old")
    kept = imported_for(import_dir, HEDY, "recent")
    published = import_dir / "published.duckdb"
    import_registry(DEMO_SOURCE, published, metadata={"name": "Published"})
    eight_days_ago = time.time() - 8 * DAY
    for path in (expired, published):
        os.utime(path, (eight_days_ago, eight_days_ago))
    at = session("app.py", GRACE)
    assert not at.exception
    assert not expired.exists() and kept.exists() and published.exists()


def test_a_server_process_sweeps_at_most_once_an_hour():
    sweeps = Sweeps()
    start = 1_000.0  # whole seconds: (start + SWEEP_EVERY) - start is SWEEP_EVERY exactly
    assert sweeps.due(start) is True
    assert sweeps.due(start + SWEEP_EVERY - 1) is False
    assert sweeps.due(start + SWEEP_EVERY) is True
