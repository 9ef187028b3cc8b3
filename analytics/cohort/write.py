"""Write a cohort file the safe way: build it beside the destination, check it, move it in.

Every writer (import, the demo build, synth, upgrade) goes through :func:`written_beside`,
so a failure at any step leaves an existing file byte for byte as it was, a running
dashboard keeps serving the old file until the new one is complete, and a writer that
was killed leaves nothing the next one trips over.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from analytics.cohort.db import CohortError, open_cohort

SUFFIX = ".tmp"
SIDECARS = (".wal",)  # DuckDB's write-ahead log beside a database file
SPILL = ".tmp"  # DuckDB's temp_directory for a database file: a folder '<file>.tmp'


def partial_path(out: Path, pid: int | None = None) -> Path:
    """Where a writer (process id ``pid``) builds ``out``: hidden, beside it, its own name.

    The random part keeps two writers of one process apart: two browser sessions are two
    threads of one server.
    """
    writer = os.getpid() if pid is None else pid
    return out.with_name(f".{out.name}.{writer}-{secrets.token_hex(4)}{SUFFIX}")


def remove_partial(path: Path) -> None:
    """A partial file, DuckDB's write-ahead log and spill folder beside it, if there."""
    for sidecar in ("", *SIDECARS):
        path.with_name(path.name + sidecar).unlink(missing_ok=True)
    shutil.rmtree(path.with_name(path.name + SPILL), ignore_errors=True)


def remove_stale(out: Path) -> None:
    """Partial files of ``out`` and what DuckDB left beside them, of writers no longer running.

    A writer killed mid-write leaves its partial file, log or spill folder (any of them
    alone, if killed while removing them); each is matched to its writer's process id.
    """
    sidecars = "|".join(re.escape(s) for s in {*SIDECARS, SPILL})
    leftover = re.compile(
        rf"(?P<partial>\.{re.escape(out.name)}\.(?P<pid>\d+)(-[0-9a-f]+)?{re.escape(SUFFIX)})"
        rf"({sidecars})?"
    )
    for path in out.parent.iterdir():
        match = leftover.fullmatch(path.name)
        if match and not _running(int(match["pid"])):
            remove_partial(path.with_name(match["partial"]))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DestinationExists(CohortError):
    """A write that must not replace a file found one in place: nothing was replaced."""


@contextlib.contextmanager
def written_beside(out: Path, replace: bool = True) -> Iterator[Path]:
    """The path to build ``out`` at; on success it is opened as a cohort, then moved in.

    With ``replace=False`` an existing ``out`` is never replaced, even by a writer that
    finishes a moment after another: the move is a hard link, which fails atomically
    (DestinationExists). On any exception the partial file is removed and ``out`` is untouched.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    tmp = partial_path(out)
    try:
        yield tmp
        open_cohort(tmp).close()  # the file the dashboard will open passes its own checks
        if replace:
            os.replace(tmp, out)
        else:
            _move_new(tmp, out)
    finally:
        remove_partial(tmp)


def _move_new(tmp: Path, out: Path) -> None:
    try:
        os.link(tmp, out)
    except FileExistsError:
        raise DestinationExists(f"{out.name} exists already; nothing was replaced") from None
