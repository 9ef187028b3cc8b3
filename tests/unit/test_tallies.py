"""A tally equals DuckDB's GROUP BY of the same rows, on a file read once and on one in memory.

The reference is DuckDB's own aggregate of the summary, the query the tallies replace.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.cohort import tallies
from analytics.cohort.summary import SUMMARY_TABLE

COLUMNS = [("months", "m"), ("event", "e"), ("side", "s"), ("died", "d > 0")]
WHERES = [("true", []), ("s = ?", ["left"]), ("m >= ? AND e", [3.0]), ("d IS NULL", []),
          ("false", [])]  # fmt: skip

rows_strategy = st.lists(
    st.tuples(
        st.one_of(st.none(), st.sampled_from([0.5, 1.0, 2.25, 3.0, 12.0])),
        st.one_of(st.none(), st.booleans()),
        st.one_of(st.none(), st.sampled_from(["left", "right"])),
        st.one_of(st.none(), st.integers(0, 2)),
    ),
    max_size=60,
)


def summary(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    con.execute(f"CREATE TABLE {SUMMARY_TABLE} (m DOUBLE, e BOOLEAN, s VARCHAR, d INTEGER)")
    if rows:
        con.executemany(f"INSERT INTO {SUMMARY_TABLE} VALUES (?, ?, ?, ?)", rows)


def grouped(con: duckdb.DuckDBPyConnection, where: str, params: list) -> list[tuple]:
    read = ", ".join(sql for _, sql in COLUMNS)
    found = con.execute(
        f"SELECT {read}, count(*) FROM {SUMMARY_TABLE} WHERE {where} GROUP BY ALL", params
    ).fetchall()
    return sorted(found, key=repr)


def tallied(con: duckdb.DuckDBPyConnection, where: str, params: list) -> list[tuple]:
    found = tallies.tally(con, COLUMNS, where, params)
    names = [name for name, _ in COLUMNS] + ["n"]
    rows = zip(*(found[name].tolist() for name in names), strict=True)
    return sorted(rows, key=repr)


@settings(max_examples=60, deadline=None)
@given(rows=rows_strategy)
def test_a_tally_of_rows_in_memory_equals_their_group_by(rows):
    with duckdb.connect() as con:
        summary(con, rows)
        for where, params in WHERES:
            assert tallied(con, where, params) == grouped(con, where, params)


def test_a_file_is_coded_once_and_a_file_written_again_is_read_again(tmp_path: Path):
    path = tmp_path / "cohort.duckdb"
    first = [(1.0, True, "left", 0), (2.0, False, "right", None), (2.0, False, "right", 1)]
    with duckdb.connect(str(path)) as con:
        summary(con, first)
    with duckdb.connect(str(path), read_only=True) as con:
        assert tallied(con, "true", []) == grouped(con, "true", [])
        assert tallied(con, "s = ?", ["right"]) == grouped(con, "s = ?", ["right"])
    path.unlink()
    second = [(5.0, None, None, 2)] * 4
    with duckdb.connect(str(path)) as con:
        summary(con, second)
    with duckdb.connect(str(path), read_only=True) as con:
        assert tallied(con, "true", []) == grouped(con, "true", []) == [(5.0, None, None, True, 4)]


@pytest.mark.parametrize("where, params", WHERES)
def test_a_filter_of_most_rows_counts_those_it_leaves_out(where, params):
    """A filter of more than half the rows is counted as the file's counts less the rows it
    leaves out (Selection.outside): the same tally either way."""
    rows = [(float(i % 7), i % 3 == 0, ("left", "right", None)[i % 3], i % 4) for i in range(50)]
    with duckdb.connect() as con:
        summary(con, rows)
        assert tallied(con, where, params) == grouped(con, where, params)
