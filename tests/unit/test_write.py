"""Every writer builds beside the destination, checks, then moves: nothing half written."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from analytics.cohort.db import CohortError
from analytics.cohort.write import partial_path, written_beside


def test_a_failed_write_leaves_the_destination_and_no_partial_file(tmp_path):
    out = tmp_path / "cohort.duckdb"
    out.write_bytes(b"the previous cohort")
    with pytest.raises(CohortError), written_beside(out) as tmp, duckdb.connect(str(tmp)) as con:
        con.execute("CREATE TABLE not_a_cohort (x INTEGER)")  # fails the final check
    assert out.read_bytes() == b"the previous cohort"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_killed_writers_leftovers_are_removed_by_the_next_write(tmp_path, demo_path):
    out = tmp_path / "cohort.duckdb"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = partial_path(out, int(dead.stdout))
    stale.write_bytes(b"half a cohort")
    stale.with_name(stale.name + ".wal").write_bytes(b"its log")
    alive = partial_path(out, os.getppid())  # a writer still running: left alone
    alive.write_bytes(b"in progress")
    with written_beside(out) as tmp:
        tmp.write_bytes(demo_path.read_bytes())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, alive.name])


def dead_pid() -> int:
    """The id of a process that has ended."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(dead.stdout)


def test_a_killed_writers_spill_folder_is_removed_by_the_next_write(tmp_path, demo_path):
    """DuckDB spills a large build to '<file>.tmp/' beside it: a kill leaves the folder."""
    out = tmp_path / "cohort.duckdb"
    stale = partial_path(out, dead_pid())
    stale.write_bytes(b"half a cohort")
    spill = stale.with_name(stale.name + ".tmp")
    spill.mkdir()
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"spilled rows")
    with written_beside(out) as tmp:
        tmp.write_bytes(demo_path.read_bytes())
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_spill_folder_left_alone_is_removed_too(tmp_path, demo_path):
    """The partial file gone but its spill folder left (killed while removing): still stale."""
    out = tmp_path / "cohort.duckdb"
    stale = partial_path(out, dead_pid())
    stale.with_name(stale.name + ".tmp").mkdir()
    with written_beside(out) as tmp:
        tmp.write_bytes(demo_path.read_bytes())
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_two_writers_of_one_file_in_one_process_do_not_share_a_partial_file(tmp_path, demo_path):
    """Two browser sessions are two threads of one server process: each builds its own file."""
    out = tmp_path / "cohort.duckdb"
    with written_beside(out) as first:
        first.write_bytes(demo_path.read_bytes())
        with written_beside(out) as second:
            assert second != first
            second.write_bytes(demo_path.read_bytes())
        assert first.is_file()
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_write_that_must_not_replace_leaves_an_existing_file(tmp_path, demo_path):
    from analytics.cohort.write import DestinationExists

    out = tmp_path / "cohort.duckdb"
    with written_beside(out, replace=False) as tmp:
        tmp.write_bytes(demo_path.read_bytes())
    assert out.read_bytes() == demo_path.read_bytes()
    out.write_bytes(b"another department's cohort")
    with pytest.raises(DestinationExists), written_beside(out, replace=False) as tmp:
        tmp.write_bytes(demo_path.read_bytes())
    assert out.read_bytes() == b"another department's cohort"
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
