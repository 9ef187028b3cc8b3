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
