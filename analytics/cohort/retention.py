"""How long private imports stay on the server, and the sweep that removes them.

A deployment sets ``COHORT_IMPORT_RETENTION_DAYS`` (a whole number of days from 1 to
MAX_DAYS; unset or empty: DEFAULT_DAYS); a private import (a signed-in user's, or a
browser session's) is removed that many days after it was written. A session's folder
unused for SESSION_IDLE belongs to a closed tab (the token naming it lived in that tab),
so it is removed whole: its imports were never to outlive the tab. Published cohorts
are never looked at.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from analytics.cohort.private_imports import PRIVATE, USERS

RETENTION_ENV = "COHORT_IMPORT_RETENTION_DAYS"
DEFAULT_DAYS, MAX_DAYS = 30, 3650
DAY = 24 * 60 * 60  # seconds
SESSION_IDLE = DAY  # a session folder not used for a day: its tab is closed
_FOLDER = os.O_RDONLY | os.O_DIRECTORY


class RetentionError(ValueError):
    """``COHORT_IMPORT_RETENTION_DAYS`` set to something that is not a number of days."""


def retention_days() -> int:
    """The deployment's retention in days, failing closed: a value that is not a whole
    number from 1 to MAX_DAYS raises RetentionError naming the setting, so a mistyped
    value stops the dashboard rather than keep files for another time than written."""
    text = os.environ.get(RETENTION_ENV, "")
    days = text.strip() or str(DEFAULT_DAYS)
    if not re.fullmatch(r"[1-9][0-9]{0,3}", days) or int(days) > MAX_DAYS:  # not "1_0", "+5"
        raise RetentionError(
            f"{RETENTION_ENV}={text!r} is not a number of days: use a whole number from 1 "
            f"to {MAX_DAYS} (unset, private imports are kept {DEFAULT_DAYS} days)"
        )
    return int(days)


@dataclass(frozen=True)
class Swept:
    """What a sweep removed: files and folders, as paths relative to the import folder."""

    removed: tuple[str, ...]


def sweep(root: Path, now: float, days: int) -> Swept:
    """Remove from the import folder ``root`` the private imports written more than
    ``days`` days before ``now`` (seconds since the epoch), the whole folder of a session
    unused for SESSION_IDLE, and the private folders left empty.

    Only ``root/.users/*/`` and ``root/.private/*/`` are entered, never ``root``'s own
    (published) files. Symlinks are never followed: each folder is opened with
    O_NOFOLLOW and its entries are acted on relative to it, so a link (even one swapped
    in mid-sweep) is removed as a link, never leads outside ``root``. An entry that
    cannot be removed is left for the next sweep.
    """
    removed: list[str] = []
    with _opened(root, None, follow=True) as root_fd:
        if root_fd is None:
            return Swept(())
        for kind, idle in ((USERS, None), (PRIVATE, now - SESSION_IDLE)):
            with _opened(kind, root_fd) as fd:
                removed += [f"{kind}/{path}" for path in _owners(fd, now - days * DAY, idle)]
    return Swept(tuple(removed))


@contextlib.contextmanager
def _opened(name: str | Path, dir_fd: int | None, follow: bool = False) -> Iterator[int | None]:
    """A folder opened for the sweep; None when it is missing, not a folder, or (unless
    ``follow``) a symlink."""
    try:
        fd = os.open(name, _FOLDER | (0 if follow else os.O_NOFOLLOW), dir_fd=dir_fd)
    except OSError:
        yield None
        return
    try:
        yield fd
    finally:
        os.close(fd)


def _owners(fd: int | None, expiry: float, idle: float | None) -> list[str]:
    """Sweep each owner's folder in ``fd``: its entries written before ``expiry``, or all
    of them when the folder was last used before ``idle``; the folder too once empty."""
    if fd is None:
        return []
    removed = []
    for owner in os.listdir(fd):
        info = _lstat(owner, fd)
        if info is None or not stat.S_ISDIR(info.st_mode):
            continue
        ended = idle is not None and info.st_mtime < idle
        with _opened(owner, fd) as owner_fd:
            cleared = [] if owner_fd is None else _clear(owner_fd, None if ended else expiry)
        removed += [f"{owner}/{name}" for name in cleared]
        with contextlib.suppress(OSError):  # not empty: kept
            os.rmdir(owner, dir_fd=fd)
            removed.append(owner)
    return removed


def _clear(fd: int, before: float | None) -> list[str]:
    """Remove the entries of the folder ``fd`` last modified before ``before`` (every
    entry when None): a file or a symlink itself, a folder (a writer's spill folder)
    with what it holds."""
    removed = []
    for name in os.listdir(fd):
        info = _lstat(name, fd)
        if info is None or (before is not None and info.st_mtime >= before):
            continue
        with contextlib.suppress(OSError):
            if stat.S_ISDIR(info.st_mode):
                with _opened(name, fd) as inner:
                    if inner is not None:
                        _clear(inner, None)
                os.rmdir(name, dir_fd=fd)
            else:
                os.unlink(name, dir_fd=fd)
            removed.append(name)
    return removed


def _lstat(name: str, fd: int) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=fd, follow_symlinks=False)
    except OSError:
        return None
