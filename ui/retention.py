"""Private imports leave the server when their time is up: each page start marks this
session's folder as used and, at most once an hour per server process, sweeps the import
folder of expired private imports and of the folders of closed tabs
(analytics.cohort.retention)."""

from __future__ import annotations

import contextlib
import os
import threading
import time

from analytics.cohort.retention import Swept, retention_days, sweep
from ui import cohorts

SWEEP_EVERY = 60 * 60  # seconds: a sweep walks the private folders, once an hour is enough


class Sweeps:
    """When this server process last swept (monotonic seconds); sessions are threads of
    one process, so the check and the update are one step under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: float | None = None

    def due(self, now: float) -> bool:
        """Whether a sweep is due at ``now``; if so, it is counted as started."""
        with self._lock:
            if self._last is not None and now - self._last < SWEEP_EVERY:
                return False
            self._last = now
            return True


SWEEPS = Sweeps()


def mark_used() -> None:
    """Stamp this session's private folder, where it has one, as used now: a session's
    folder unused for a day is a closed tab's, and the sweep removes it."""
    with contextlib.suppress(OSError):  # no folder yet: nothing imported, nothing to keep
        os.utime(cohorts.own_dir(), follow_symlinks=False)


def sweep_expired() -> Swept | None:
    """Sweep the import folder when a sweep is due; None when it was not. A folder that
    cannot be read is left as it is: the page is drawn either way."""
    if not SWEEPS.due(time.monotonic()):
        return None
    try:
        return sweep(cohorts.import_dir(), time.time(), retention_days())
    except OSError:
        return Swept(())
