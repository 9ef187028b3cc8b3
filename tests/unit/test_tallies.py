"""A tally equals DuckDB's GROUP BY of the same rows, on a file read once and on one in memory.

The reference is DuckDB's own aggregate of the summary, the query the tallies replace.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.cohort import tallies
from analytics.cohort.summary import SUMMARY_TABLE
from analytics.cohort.tallies import one_per_patient
from analytics.filters import CohortFilter, cohort_where
from tools.bench import filters_for

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


def modes() -> Iterator[str]:
    """Each way a tally counts: coded, then as DuckDB's aggregate (a one-read command's)."""
    yield "coded"
    with tallies.counting_in_duckdb():
        yield "duckdb"


@settings(max_examples=60, deadline=None)
@given(rows=rows_strategy)
def test_a_tally_of_rows_in_memory_equals_their_group_by(rows):
    with duckdb.connect() as con:
        summary(con, rows)
        for _mode in modes():  # the mode holds while the loop's body runs
            for where, params in WHERES:
                assert tallied(con, where, params) == grouped(con, where, params)
                months = f"SELECT coalesce(m, 0) FROM {SUMMARY_TABLE} WHERE {where}"
                expected = [m for (m,) in con.execute(months, params).fetchall()]
                found = tallies.numbers(con, [("m", "m")], where, params)["m"]
                assert found.tolist() == expected
                assert tallies.total(con, "m", where, params) == pytest.approx(sum(expected))
                assert tallies.count(con, where, params) == len(expected)
            (values,) = con.execute(f"SELECT count(DISTINCT s) FROM {SUMMARY_TABLE}").fetchall()[0]
            assert tallies.distinct(con, "s") == values + 1  # and missing
        largest = max((r[0] or 0 for r in rows), default=None)
        for _mode in modes():
            found = tallies.column_max(con, "m")
            assert found == largest if rows else math.isnan(found)


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


@pytest.mark.parametrize("compact_at, direct", [(4, 1), (10**6, 1), (4, 2**16)])
def test_a_key_too_wide_is_factorized_as_it_grows_and_counts_the_same(
    monkeypatch, compact_at, direct
):
    """However wide the combinations (a registry's many own columns), the key is
    factorized on the way, order kept, and the tally is still the GROUP BY."""
    monkeypatch.setattr(tallies, "COMPACT_AT", compact_at)
    monkeypatch.setattr(tallies, "DIRECT_KEYS", direct)
    rows = [(float(i % 7), (i % 5 == 0) if i % 6 else None, ("left", "right", None)[i % 3],
             i % 4) for i in range(60)]  # fmt: skip
    with duckdb.connect() as con:
        summary(con, rows)
        for where, params in WHERES:
            assert tallied(con, where, params) == grouped(con, where, params)
        found = tallies.tally(con, COLUMNS)
        order = list(zip(found["months"].filled(-1.0).tolist(),
                         found["event"].filled(-1).tolist(), strict=True))  # fmt: skip
        assert [m for m, _ in order] == sorted(m for m, _ in order)  # in the values' order


@pytest.mark.parametrize("where, params", WHERES)
def test_a_filter_of_most_rows_counts_those_it_leaves_out(where, params):
    """A filter of more than half the rows is counted as the file's counts less the rows it
    leaves out (Selection.outside): the same tally either way."""
    rows = [(float(i % 7), i % 3 == 0, ("left", "right", None)[i % 3], i % 4) for i in range(50)]
    with duckdb.connect() as con:
        summary(con, rows)
        assert tallied(con, where, params) == grouped(con, where, params)


PEOPLE_FILTERS = [CohortFilter(), CohortFilter(lesion_side="left"),
                  CohortFilter(lesion_side="right"), CohortFilter(thrombophilia="yes")]  # fmt: skip


@pytest.mark.parametrize("cohort_filter", PEOPLE_FILTERS, ids=repr)
def test_each_patient_counts_once_on_their_first_limb_in_the_filter_as_in_sql(
    retinopathy_path, cohort_filter
):
    """A people tally keeps the rows SQL's one_per_patient keeps, on a file of patients
    with two limbs (retinopathy's eyes as limbs) read once and filtered again."""
    where, params = cohort_where(cohort_filter)
    sql = (
        f"SELECT patient_key, limb_order, count(*) FROM {SUMMARY_TABLE} "
        f"WHERE ({where}) AND {one_per_patient(where)} GROUP BY ALL"
    )
    columns = [("patient", "patient_key"), ("order", "limb_order")]
    with duckdb.connect(str(retinopathy_path), read_only=True) as con:
        expected = sorted(con.execute(sql, [*params, *params]).fetchall())
        for mode in modes():
            found = tallies.tally(con, columns, where, params, people=True)
            rows = zip(*(found[c].tolist() for c in ("patient", "order", "n")), strict=True)
            assert sorted(rows) == expected, mode
            assert tallies.count(con, where, params, people=True) == len(expected), mode
    assert len({patient for patient, _, _ in expected}) == len(expected)


def test_a_people_tally_of_a_stenting_registry_keeps_the_rows_sql_keeps(bilateral_path):
    """On the bilateral synthetic registry (a tenth of its patients with two limbs), under
    the benchmark's filters (a side, ages, sex and segments, a centre): each patient once,
    and some filter holds both limbs of a patient (the rule has something to do)."""
    dropped = 0
    with duckdb.connect(str(bilateral_path), read_only=True) as con:
        for cohort_filter in filters_for(con):
            where, params = cohort_where(cohort_filter)
            sql = (
                f"SELECT limb_key, count(*) FROM {SUMMARY_TABLE} "
                f"WHERE ({where}) AND {one_per_patient(where)} GROUP BY ALL"
            )
            expected = sorted(con.execute(sql, [*params, *params]).fetchall())
            limb = [("limb", "limb_key")]
            found = tallies.tally(con, limb, where, params, people=True)
            assert sorted(zip(found["limb"].tolist(), found["n"].tolist(), strict=True)) == expected
            dropped += int(tallies.tally(con, limb, where, params)["n"].sum()) - len(expected)
    assert dropped > 0


def test_a_files_reads_are_kept_within_its_budget_most_recently_used_and_two_files(
    monkeypatch,
):
    monkeypatch.setattr(tallies, "BUDGET_BYTES", 4 * 800)
    files = tallies._Files()
    for i in range(4):
        files.put("a", ("flags", i), np.zeros(800, dtype=bool))
    assert files.get("a", ("flags", 0)) is not None  # used again: the newest
    files.put("a", ("grouping", 0), np.zeros(100, dtype=np.int64))  # 800 bytes more
    assert files.get("a", ("flags", 1)) is None  # the least recently used went
    assert all(files.get("a", ("flags", i)) is not None for i in (0, 2, 3))
    with pytest.raises(ValueError, match="read-only"):  # shared by every session
        files.get("a", ("flags", 0))[0] = True
    files.put("b", ("flags", 0), np.ones(1, dtype=bool))
    files.put("c", ("flags", 0), np.ones(1, dtype=bool))
    assert files.get("a", ("flags", 0)) is None  # the file least recently read is dropped
    assert files.get("b", ("flags", 0)) is not None and files.get("c", ("flags", 0)) is not None


def test_a_read_asked_for_by_two_threads_at_once_is_made_once_and_shared():
    """A page's reads run on two threads and ask for the same filter's flags: the second
    waits for the first's, not a second scan; a read that fails is not kept, and the next
    asking makes it again."""
    files, made, started = tallies._Files(), [], threading.Event()
    release = threading.Event()

    def slow() -> np.ndarray:
        made.append(1)
        started.set()
        release.wait(10)
        return np.arange(3)

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(files.kept, "a", ("flags", "x"), slow)
        assert started.wait(10)
        second = pool.submit(files.kept, "a", ("flags", "x"), slow)
        release.set()
        assert first.result() is second.result()
    assert made == [1]

    def failing() -> np.ndarray:
        raise duckdb.InterruptException("cancelled")

    with pytest.raises(duckdb.InterruptException):
        files.kept("a", ("flags", "y"), failing)
    assert files.kept("a", ("flags", "y"), lambda: np.ones(2)).tolist() == [1.0, 1.0]


def test_a_files_budget_counts_what_is_forgotten_and_replaced(monkeypatch):
    monkeypatch.setattr(tallies, "BUDGET_BYTES", 3 * 800)
    files = tallies._Files()
    for i in range(3):
        files.put("a", ("flags", i), np.zeros(800, dtype=bool))
    files.forget("flags")
    for i in range(3):  # the forgotten bytes are free again: nothing of these is dropped
        files.put("a", ("grouping", i), np.zeros(800, dtype=bool))
    files.put("a", ("grouping", 0), np.zeros(800, dtype=bool))  # replaced, not added
    assert all(files.get("a", ("grouping", i)) is not None for i in range(3))


def test_a_columns_distinct_values_are_read_from_its_kept_codes(tmp_path: Path):
    """How many values a column takes (what batches Table 1's numbers) is read from the
    column's codes, kept once, with no grouping coded beside them (4 MB a million rows)."""
    path = tmp_path / "cohort.duckdb"
    with duckdb.connect(str(path)) as con:
        summary(con, [(1.0, True, "left", 0), (2.0, None, None, 1), (2.0, False, "right", 1)])
    with duckdb.connect(str(path), read_only=True) as con:
        assert tallies.distinct(con, "m") == 3  # 1.0, 2.0 and missing
        assert tallies.distinct(con, "s") == 3
        file = tallies._file(con)
        assert tallies._FILES.get(file, ("column", "s")) is not None
        assert tallies._FILES.get(file, ("grouping", (("value", "s"),))) is None


def test_a_cursor_reads_the_file_as_its_connection_does_without_asking_again(demo_path):
    """A page's cursors take their connection's key for the file (asking it is three
    queries), and what they count is what the connection counts."""
    with duckdb.connect(str(demo_path), read_only=True) as con:
        file = tallies._file(con)
        child = tallies.cursor(con)
        assert file is not None and tallies._CURSORS[child] is file
        assert tallies.count(child, "lesion_side = ?", ["left"]) == tallies.count(
            con, "lesion_side = ?", ["left"]
        )
        child.close()


class _Shared:
    """A connection whose own queries are recorded (other threads' cursors share it)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.sent = con, []

    def execute(self, sql: str, *params: object) -> duckdb.DuckDBPyConnection:
        self.sent.append(sql)
        return self.con.execute(sql, *params)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()


def test_a_connections_key_is_asked_on_its_first_cursor_never_on_it(demo_path):
    """A connection shared by page runs on several threads answers one at a time: its key
    for the file is asked on the first cursor made from it, and every later cursor shares
    it."""
    with duckdb.connect(str(demo_path), read_only=True) as con:
        shared = _Shared(con)
        first, second = tallies.cursor(shared), tallies.cursor(shared)
        assert shared.sent == []
        assert tallies._CURSORS[first] is tallies._CURSORS[second] is tallies._CURSORS[shared]
        assert tallies._CURSORS[first] == tallies._file(con)
        first.close()
        second.close()


def test_a_file_open_for_writing_is_read_afresh(tmp_path: Path):
    """Only a read-only file is coded once: one being written (an import) may change
    without its key changing, so it is counted from its rows each time."""
    with duckdb.connect(str(tmp_path / "cohort.duckdb")) as con:
        summary(con, [(1.0, True, "left", 0)] * 3)
        assert tallied(con, "true", []) == [(1.0, True, "left", False, 3)]
        con.execute(f"UPDATE {SUMMARY_TABLE} SET s = 'right'")
        assert (
            tallied(con, "true", []) == grouped(con, "true", []) == [(1.0, True, "right", False, 3)]
        )


def test_a_command_that_reads_once_counts_in_duckdb_and_codes_nothing(tmp_path: Path):
    path = tmp_path / "cohort.duckdb"
    with duckdb.connect(str(path)) as con:
        summary(con, [(1.0, True, "left", 0), (2.0, None, "right", 1)])
    with duckdb.connect(str(path), read_only=True) as con:
        with tallies.counting_in_duckdb():
            assert tallied(con, "true", []) == grouped(con, "true", [])
        assert tallies._FILES.get(tallies._file(con), ("grouping", tuple(COLUMNS))) is None
        assert tallied(con, "true", []) == grouped(con, "true", [])  # coded again after it
        assert tallies._FILES.get(tallies._file(con), ("grouping", tuple(COLUMNS))) is not None


def test_a_connection_still_reading_a_replaced_file_never_lends_it_the_new_files_counts(
    tmp_path: Path,
):
    """A file written again (an import's corrections, as many rows) while a connection to
    the old one is open: that connection reads the old file, and what it codes is not
    kept as the new file's (the key holds what the connection reads: its metadata)."""
    path = tmp_path / "cohort.duckdb"

    def write(target: Path, side: str, built: str) -> None:
        with duckdb.connect(str(target)) as con:
            summary(con, [(1.0, True, side, 0)] * 3)
            con.execute("CREATE TABLE cohort_metadata (key VARCHAR, value VARCHAR)")
            con.execute("INSERT INTO cohort_metadata VALUES ('built_at', ?)", [built])

    write(path, "left", "first")
    old = duckdb.connect(str(path), read_only=True)
    write(tmp_path / "new.duckdb", "right", "second")
    (tmp_path / "new.duckdb").replace(path)
    stale = old.cursor()  # the path is the new file's; the connection reads the old
    assert tallied(stale, "true", []) == [(1.0, True, "left", False, 3)]
    old.close()
    with duckdb.connect(str(path), read_only=True) as fresh:
        assert tallied(fresh, "true", []) == [(1.0, True, "right", False, 3)]
