"""Private imports on disk: a user's folder named by a hash of their subject, their
imports listed, deleted and published (never replacing a published cohort), the
retention setting failing closed, and the sweep removing expired private files only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analytics.cohort.private_imports import (
    PRIVATE,
    USERS,
    delete_import,
    own_imports,
    owner_folder,
    publish_import,
)
from analytics.cohort.retention import (
    DAY,
    DEFAULT_DAYS,
    RETENTION_ENV,
    SESSION_IDLE,
    RetentionError,
    retention_days,
    sweep,
)
from analytics.cohort.write import DestinationExists
from analytics.present import format as fmt

NOW = 1_800_000_000.0  # seconds since the epoch: the sweeps' "now"


def written(path: Path, days_ago: float, text: str = "cohort") -> Path:
    """A file written ``days_ago`` days before NOW (its modification time set so)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    stamp = NOW - days_ago * DAY
    os.utime(path, (stamp, stamp))
    return path


def aged(folder: Path, days_ago: float) -> Path:
    """``folder`` last used ``days_ago`` days before NOW."""
    stamp = NOW - days_ago * DAY
    os.utime(folder, (stamp, stamp))
    return folder


def test_an_owner_folder_is_the_subjects_sha256_never_the_subject():
    # printf 'alice' | sha256sum -> 2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90
    assert owner_folder("alice") == "2bd806c97f0e00af1a1fc3328fa763a9"
    assert owner_folder("alice") != owner_folder("Alice")


def test_own_imports_are_the_folders_cohort_files_newest_first_not_links(tmp_path):
    folder = tmp_path / "owner"
    written(folder / "older.duckdb", 3)
    written(folder / "newer.duckdb", 1)
    written(folder / "notes.txt", 0)
    (folder / "planted.duckdb").symlink_to(written(tmp_path / "elsewhere.duckdb", 0))
    assert [item.name for item in own_imports(folder)] == ["newer", "older"]
    assert own_imports(tmp_path / "missing") == ()


def test_delete_removes_the_named_import_only(tmp_path):
    folder = tmp_path / "owner"
    written(folder / "dept-a.duckdb", 0)
    kept = written(folder / "dept-b.duckdb", 0)
    outside = written(tmp_path / "secret.duckdb", 0)
    assert delete_import(folder, "dept-a") is True
    assert not (folder / "dept-a.duckdb").exists() and kept.exists()
    assert delete_import(folder, "dept-a") is False
    assert delete_import(folder, "../secret") is False and outside.exists()


def test_publish_moves_the_import_into_the_published_folder(tmp_path):
    folder, published = tmp_path / "owner", tmp_path / "imported"
    written(folder / "dept-a.duckdb", 2, "private")
    target = publish_import(folder, published, "dept-a")
    assert target == published / "dept-a.duckdb" and target.read_text() == "private"
    assert not (folder / "dept-a.duckdb").exists()


def test_publish_never_replaces_a_published_cohort(tmp_path):
    folder, published = tmp_path / "owner", tmp_path / "imported"
    written(folder / "dept-a.duckdb", 0, "private")
    written(published / "dept-a.duckdb", 0, "published")
    with pytest.raises(DestinationExists, match="'dept-a' already"):
        publish_import(folder, published, "dept-a")
    assert (published / "dept-a.duckdb").read_text() == "published"
    assert (folder / "dept-a.duckdb").read_text() == "private"


@pytest.mark.parametrize(("text", "days"), [("", DEFAULT_DAYS), (" 7 ", 7), ("3650", 3650)])
def test_the_retention_setting_reads_whole_days(monkeypatch, text, days):
    monkeypatch.setenv(RETENTION_ENV, text)
    assert retention_days() == days


@pytest.mark.parametrize("text", ["0", "-1", "thirty", "7.5", "1_0", "+5", "3651", "07", "٣"])
def test_a_mistyped_retention_stops_with_a_message_naming_it(monkeypatch, text):
    monkeypatch.setenv(RETENTION_ENV, text)
    with pytest.raises(RetentionError) as refused:
        retention_days()
    assert str(refused.value) == (
        f"{RETENTION_ENV}={text!r} is not a number of days: use a whole number from 1 to "
        f"3650 (unset, private imports are kept {DEFAULT_DAYS} days)"
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An import folder: published cohorts, a user's imports, two sessions' folders."""
    folder = tmp_path / "imported"
    written(folder / "published-long-ago.duckdb", 400)
    user = folder / USERS / owner_folder("alice")
    written(user / "expired.duckdb", 31)
    written(user / "fresh.duckdb", 29)
    ended = folder / PRIVATE / "closed-tab"
    written(ended / "recent.duckdb", 0.5)
    aged(ended, 2)
    open_tab = folder / PRIVATE / "open-tab"
    written(open_tab / "today.duckdb", 0.1)
    aged(open_tab, 0.1)
    return folder


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_the_sweep_removes_expired_private_files_and_closed_tabs_folders(root):
    user = f"{USERS}/{owner_folder('alice')}"
    swept = sweep(root, NOW, 30)
    assert files(root) == {
        "published-long-ago.duckdb",
        f"{user}/fresh.duckdb",
        f"{PRIVATE}/open-tab/today.duckdb",
    }
    assert set(swept.removed) == {
        f"{user}/expired.duckdb",
        f"{PRIVATE}/closed-tab/recent.duckdb",
        f"{PRIVATE}/closed-tab",
    }
    assert not (root / PRIVATE / "closed-tab").exists()


def test_the_sweep_removes_a_users_folder_once_empty(root):
    sweep(root, NOW + 2 * DAY, 30)  # fresh.duckdb is 31 days old then
    assert not (root / USERS / owner_folder("alice")).exists()
    assert (root / "published-long-ago.duckdb").exists()


def test_the_sweep_never_removes_a_published_cohort_however_old(tmp_path):
    folder = tmp_path / "imported"
    old = written(folder / "dept-a.duckdb", 10_000)
    hidden = written(folder / ".dept-b.duckdb", 10_000)  # a name the private folders share
    assert sweep(folder, NOW, 1).removed == ()
    assert old.exists() and hidden.exists()


def test_the_sweep_follows_no_symlink_out_of_the_import_folder(tmp_path):
    outside = tmp_path / "outside"
    target = written(outside / "precious.duckdb", 100)
    aged(outside, 100)
    folder = tmp_path / "imported"
    (folder / PRIVATE).mkdir(parents=True)
    (folder / PRIVATE / "linked-session").symlink_to(outside)  # an owner folder that is a link
    (folder / USERS).symlink_to(outside)  # the users' folder itself a link
    inside = folder / PRIVATE / "session"
    inside.mkdir()
    link = inside / "link.duckdb"
    link.symlink_to(target)
    stamp = NOW - 100 * DAY
    os.utime(link, (stamp, stamp), follow_symlinks=False)
    aged(inside, 100)
    sweep(folder, NOW, 30)
    assert target.read_text() == "cohort" and outside.is_dir()
    assert not link.is_symlink()  # the link itself removed, never what it points to
    assert (folder / PRIVATE / "linked-session").is_symlink()


def test_the_sweep_of_a_missing_import_folder_removes_nothing(tmp_path):
    assert sweep(tmp_path / "missing", NOW, 30).removed == ()


def test_a_session_folder_used_within_a_day_is_kept_whole(tmp_path):
    folder = tmp_path / "imported"
    session = folder / PRIVATE / "tab"
    written(session / "a.duckdb", 0.2)
    aged(session, SESSION_IDLE / DAY - 0.01)
    sweep(folder, NOW, 30)
    assert (session / "a.duckdb").exists()


@pytest.mark.parametrize(
    ("days", "ago", "until"),
    [
        (0, "today", "today"),
        (1, "yesterday", "tomorrow"),
        (1200, "1,200 days ago", "in 1,200 days"),
    ],
)
def test_days_are_said_without_a_calendar_date(days, ago, until):
    assert (fmt.days_ago(days), fmt.days_until(days)) == (ago, until)
