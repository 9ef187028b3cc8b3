"""The audit trail (analytics.audit): whole lines or none, a full disk refused, a summary."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics import audit
from analytics.audit import Action, AuditError, Event, read, record, summarise
from analytics.cli import main
from analytics.filters import CohortFilter

FULL_DEVICE = Path("/dev/full")  # every write fails with ENOSPC, as on a full disk


def event(time: str = "2026-12-07T06:00:00+00:00", **fields: str) -> Event:
    defaults = {"subject": "sub-1", "name": "A. Surgeon", "action": Action.VIEW, "cohort": "demo"}
    return Event(time, **(defaults | fields))


def test_each_record_is_one_json_line_read_back_in_order(tmp_path):
    trail = tmp_path / "audit.jsonl"
    first = event(page="Patency", filter=audit.filter_text(CohortFilter(lesion_side="left")))
    second = event(action=Action.EXPORT, what="deck")
    record(first, trail)
    record(second, trail)
    lines = trail.read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert [json.loads(line)["action"] for line in lines[:-1]] == ["view", "export"]
    assert read(trail).events == (first, second)
    assert first.filter == "lesion_side=left"
    assert oct(trail.stat().st_mode & 0o777) == "0o600"  # the trail names people


def test_no_trail_configured_records_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(audit.AUDIT_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    record(event())
    assert audit.trail_path() is None
    assert list(tmp_path.iterdir()) == []


def test_a_value_cannot_start_a_line_of_its_own(tmp_path):
    trail = tmp_path / "audit.jsonl"
    forged = '"}\n{"action": "delete", "subject": "admin'
    record(event(name=forged, cohort="a\x1b[2Jb\r\n"), trail)
    assert trail.read_bytes().count(b"\n") == 1
    (found,) = read(trail).events
    assert found.name == forged
    assert found.action is Action.VIEW


@given(st.text(max_size=300), st.text(max_size=300))
def test_any_text_round_trips_as_one_line_cut_to_the_limit(name, what):
    line = event(name=name, what=what).line()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    fields = json.loads(line)
    assert (fields["name"], fields["what"]) == (name[: audit.MAX_TEXT], what[: audit.MAX_TEXT])


def test_a_line_a_crash_cut_is_skipped_and_the_next_record_starts_after_it(tmp_path):
    trail = tmp_path / "audit.jsonl"
    record(event(), trail)
    whole = event(action=Action.EXPORT, what="csv: table 1").line()
    with trail.open("ab") as file:
        file.write(whole[: len(whole) // 2])  # the process died mid-write
    assert read(trail).events == (event(),)
    assert read(trail).unreadable == 1
    record(event(what="after"), trail)
    found = read(trail)
    assert found.events == (event(), event(what="after"))
    assert found.unreadable == 1  # the fragment, on a line of its own


def test_a_full_disk_refuses_the_record(tmp_path):
    with pytest.raises(AuditError, match="cannot be written"):
        record(event(), FULL_DEVICE)


def test_a_short_write_leaves_no_fragment(tmp_path, monkeypatch):
    trail = tmp_path / "audit.jsonl"
    record(event(), trail)
    before = trail.read_bytes()
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:10]))
    with pytest.raises(AuditError, match="full"):
        record(event(what="lost"), trail)
    assert trail.read_bytes() == before


def test_a_folder_for_a_file_is_refused(tmp_path):
    with pytest.raises(AuditError, match="cannot be opened"):
        record(event(), tmp_path)


def test_since_keeps_the_days_from_it_on(tmp_path):
    trail = tmp_path / "audit.jsonl"
    for day in ("2026-12-05", "2026-12-06", "2026-12-07"):
        record(event(time=f"{day}T23:59:59+00:00"), trail)
    kept = read(trail, since=date(2026, 12, 6)).events
    assert [e.time[:10] for e in kept] == ["2026-12-06", "2026-12-07"]


def test_summary_counts_people_actions_cohorts_exports_and_days():
    events = (
        event(),
        event(action=Action.EXPORT, what="deck"),
        event(subject="sub-2", name="", action=Action.EXPORT, what="deck", cohort="mine"),
        event(time="2026-12-08T01:00:00+00:00", action=Action.IMPORT, what="mine.duckdb"),
    )
    found = summarise(events)
    assert found.events == 4
    assert found.people == {"A. Surgeon (sub-1)": 3, "sub-2": 1}
    assert found.actions == {"export": 2, "import": 1, "view": 1}
    assert found.cohorts == {"demo": 3, "mine": 1}
    assert found.exports == {"deck": 2}
    assert found.days == {"2026-12-07": 3, "2026-12-08": 1}


def test_the_command_line_records_a_report_and_summarises_the_trail(
    tmp_path, monkeypatch, capsys, demo_path
):
    trail = tmp_path / "audit.jsonl"
    monkeypatch.setenv(audit.AUDIT_ENV, str(trail))
    assert main(["report", "--db", str(demo_path), "--where", "lesion_side=left"]) == 0
    (found,) = read(trail).events
    assert (found.action, found.what, found.filter) == (Action.EXPORT, "report", "lesion_side=left")
    assert found.subject.startswith("cli:")
    assert found.cohort == demo_path.stem
    capsys.readouterr()
    assert main(["audit", "--since", found.time[:10]]) == 0
    out = capsys.readouterr().out
    assert "1 event(s)" in out
    assert "  report: 1" in out


def test_a_report_that_cannot_be_recorded_is_not_given(tmp_path, monkeypatch, capsys, demo_path):
    monkeypatch.setenv(audit.AUDIT_ENV, str(FULL_DEVICE))
    assert main(["report", "--db", str(demo_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "audit file /dev/full cannot be written" in captured.err


def test_the_summary_names_a_missing_setting_and_a_bad_day(monkeypatch, capsys):
    monkeypatch.delenv(audit.AUDIT_ENV, raising=False)
    assert main(["audit"]) == 1
    assert "set COHORT_AUDIT_FILE or give --file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["audit", "--since", "07/12/2026"])
    assert "is not a day: use YYYY-MM-DD" in capsys.readouterr().err
