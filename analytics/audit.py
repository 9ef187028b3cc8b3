"""The audit trail: who looked at or exported what, one JSON line per event in a file.

A deployment names the file with ``COHORT_AUDIT_FILE``; unset, nothing is recorded. A
line holds the time (UTC, to the second), who (the login token's subject and name, or the
command line's user), the action, the cohort, and the page, filter and export it concerns;
never a patient value (a filter is the sidebar's criteria, as a link carries them).

Append-only and crash-safe: the file is opened with O_APPEND and each event written as
one line by one ``write`` call, then flushed to disk (``fsync``), so a crash leaves a line
whole or absent: a reader skips a last line without its newline (the crash's) and counts
lines that are not events, and the next record starts on a line of its own after it. A record that
cannot be written (a full disk, a folder without write permission) raises AuditError:
an export waits on its record, so the product refuses the export with a message rather
than hand it out unrecorded.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlencode

from analytics.filters import CohortFilter, to_params

AUDIT_ENV = "COHORT_AUDIT_FILE"
MAX_TEXT = 200  # a field's longest text: a filter of every criterion fits, a dump does not


class AuditError(OSError):
    """An event that could not be recorded, or a trail that cannot be read."""


class Action(StrEnum):
    VIEW = "view"  # a page shown for a cohort and filter (once per change)
    EXPORT = "export"  # a deck, chart, CSV or report built for someone
    IMPORT = "import"
    PUBLISH = "publish"
    DELETE = "delete"


@dataclass(frozen=True)
class Event:
    """One line of the trail; ``what`` names an export ("deck", "csv: table 1") or an
    import's cohort file, empty for a view."""

    time: str
    subject: str
    name: str
    action: Action
    cohort: str
    page: str = ""
    filter: str = ""
    what: str = ""

    def line(self) -> bytes:
        """The event as one JSON line, each text cut to MAX_TEXT characters (json.dumps
        escapes line breaks and control characters, so a value cannot start a new line)."""
        fields = {key: str(value)[:MAX_TEXT] for key, value in asdict(self).items()}
        return (json.dumps(fields, ensure_ascii=False, sort_keys=True) + "\n").encode()


def now() -> str:
    """The time an event is stamped with: UTC, to the second (ISO 8601)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def filter_text(cohort_filter: CohortFilter) -> str:
    """A filter as its link's query (``lesion_side=left&age_min=60``): criteria, not data;
    then its scope, which no link carries (``scope=center%3DC02``, or ``center%21%3DC02``
    for the other centres pooled: analytics.scope)."""
    scope = [
        ("scope", f"{key}{'=' if inside else '!='}{level}")
        for key, level, inside in cohort_filter.scope
    ]
    return urlencode([*to_params(cohort_filter).items(), *scope])


def trail_path() -> Path | None:
    """The deployment's audit file (``COHORT_AUDIT_FILE``), or None: no audit. A path to a
    folder is refused when recording, not here: reading the setting never fails."""
    text = os.environ.get(AUDIT_ENV, "").strip()
    return Path(text) if text else None


def record(event: Event, path: Path | None = None) -> None:
    """Append ``event`` to the trail (``path``, else the deployment's; nothing when there
    is none), durably; AuditError when it could not be written whole."""
    path = path if path is not None else trail_path()
    if path is None:
        return
    line = event.line()
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError as exc:
        raise AuditError(f"the audit file {path} cannot be opened ({exc.strerror})") from None
    try:
        if _cut_short(fd):  # a crash's fragment ends the file: start the line after it
            line = b"\n" + line
        written = os.write(fd, line)
        if written != len(line):  # a disk that filled mid-line: cut the fragment off
            os.ftruncate(fd, os.fstat(fd).st_size - written)
            raise AuditError(f"the audit file {path} is full")
        os.fsync(fd)
    except AuditError:
        raise
    except OSError as exc:
        raise AuditError(f"the audit file {path} cannot be written ({exc.strerror})") from None
    finally:
        os.close(fd)


def _cut_short(fd: int) -> bool:
    """Whether the file's last line lacks its newline (a write a crash cut)."""
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


@dataclass(frozen=True)
class Trail:
    """The events of a trail read back, and how many lines were not whole events (a last
    line cut by a crash, or a line someone edited)."""

    events: tuple[Event, ...]
    unreadable: int = 0


def read(path: Path, since: date | None = None) -> Trail:
    """The trail's events on or after ``since`` (UTC day), in the order written."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AuditError(f"the audit file {path} cannot be read ({exc.strerror})") from None
    lines = raw.split(b"\n")
    cut = 1 if lines[-1] else 0  # a last line without its newline: a write a crash cut
    events, unreadable = [], cut
    for text in lines[:-1]:
        event = _event(text)
        if event is None:
            unreadable += 1
        elif since is None or event.time[:10] >= since.isoformat():
            events.append(event)
    return Trail(tuple(events), unreadable)


def _event(text: bytes) -> Event | None:
    try:
        fields = json.loads(text)
        return Event(**{**fields, "action": Action(fields["action"])})
    except (ValueError, TypeError, KeyError):
        return None


@dataclass(frozen=True)
class Summary:
    """A trail's events counted by person, action, cohort, export and day."""

    events: int
    people: Mapping[str, int] = field(default_factory=dict)
    actions: Mapping[str, int] = field(default_factory=dict)
    cohorts: Mapping[str, int] = field(default_factory=dict)
    exports: Mapping[str, int] = field(default_factory=dict)
    days: Mapping[str, int] = field(default_factory=dict)


def summarise(events: tuple[Event, ...]) -> Summary:
    def counted(values: Iterator[str]) -> dict[str, int]:
        return dict(sorted(Counter(values).items()))

    return Summary(
        events=len(events),
        people=counted(f"{e.name} ({e.subject})" if e.name else e.subject for e in events),
        actions=counted(str(e.action) for e in events),
        cohorts=counted(e.cohort for e in events),
        exports=counted(e.what for e in events if e.action is Action.EXPORT),
        days=counted(e.time[:10] for e in events),
    )
