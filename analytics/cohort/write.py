"""Write a cohort file the safe way: build it beside the destination, check it, move it in.

Every writer (import, the demo build, synth, upgrade) goes through :func:`written_beside`,
so a failure at any step leaves an existing file byte for byte as it was, a running
dashboard keeps serving the old file until the new one is complete, and a writer that
was killed leaves nothing the next one trips over.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from analytics.cohort.db import open_cohort

SUFFIX = ".tmp"


def partial_path(out: Path, pid: int | None = None) -> Path:
    """Where the writer with process id ``pid`` builds ``out``: hidden, beside it."""
    return out.with_name(f".{out.name}.{os.getpid() if pid is None else pid}{SUFFIX}")


def remove_partial(path: Path) -> None:
    """A partial file and DuckDB's write-ahead log beside it, if there."""
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def remove_stale(out: Path) -> None:
    """Partial files of ``out`` left by writers that no longer run (killed mid-write)."""
    for leftover in out.parent.glob(f".{out.name}.*{SUFFIX}"):
        pid = leftover.name.removeprefix(f".{out.name}.").removesuffix(SUFFIX)
        if pid.isdigit() and not _running(int(pid)):
            remove_partial(leftover)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def written_beside(out: Path) -> Iterator[Path]:
    """The path to build ``out`` at; on success it is opened as a cohort, then moved in.

    On any exception the partial file is removed and ``out`` is untouched.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    tmp = partial_path(out)
    remove_partial(tmp)
    try:
        yield tmp
        open_cohort(tmp).close()  # the file the dashboard will open passes its own checks
        os.replace(tmp, out)
    finally:
        remove_partial(tmp)
