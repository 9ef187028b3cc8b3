"""Counts of the summary's rows by a few of its values, as a bincount of codes read once.

A page's reads are mostly ``SELECT values, count(*) FROM limb_summary WHERE filter GROUP
BY values``. On a million limbs DuckDB's hash aggregate takes 30 to 90 ms a read on two
cores; here each grouping's rows are coded once per cohort file (the index of their
combination of values among those the file holds) and a filter's counts are a bincount
of the codes of the rows it selects: a few milliseconds. The filter itself stays SQL
(analytics.filters writes it; DuckDB evaluates it to one flag per row), so there is one
definition of what a filter selects.

Both reads scan the summary in its stored order (DuckDB keeps insertion order unless told
not to, and a cohort connection's settings are locked), so the flags and the codes line
up row by row. What is kept is keyed by what the connection reads of its file (its
metadata, rows and blocks) beside what the file system says of the path, so a file
written again, or a connection still reading the file it replaced, is never another's.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.cohort.summary import SUMMARY_TABLE

FILES = 2  # cohort files whose reads stay in memory
# The reads kept of a file, the least recently used dropped first: every page's codes of
# a million limbs (about 40 groupings at 4 MB, each with what it counts) with room for
# the columns they came from and the filters of the moment.
BUDGET_BYTES = 512 * 2**20
DIRECT_KEYS = 2**16  # a key range this small is a code as it is (no hashing)
COMPACT_AT = 2**40  # a key range this large is factorized before the next column joins it

# Process-wide on purpose: the command line's one-read commands set it for their run
# (counting_in_duckdb); the dashboard and the benchmark never do.
_CODED = [True]
T = TypeVar("T")


@contextlib.contextmanager
def counting_in_duckdb() -> Iterator[None]:
    """While a command reads its cohort file once (the command line's report or deck),
    every tally is DuckDB's own aggregate, as fast as one read can be, and nothing is
    coded: coding a million limbs' columns takes seconds, which only repeated reads pay
    back (the dashboard's, the benchmark's)."""
    before, _CODED[0] = _CODED[0], False
    try:
        yield
    finally:
        _CODED[0] = before


@dataclass(frozen=True)
class Coded:
    """A grouping's code for every summary row (a missing value is a value of its own)
    and the values of each of its columns per code, missing ones masked."""

    codes: np.ndarray
    values: dict[str, np.ma.MaskedArray]
    every: np.ndarray  # each code's rows in the file


@dataclass(frozen=True)
class Selection:
    """The rows a filter selects, as their indices, or as the indices of the rows it
    leaves out where those are fewer (``outside``): half the rows at most to count."""

    rows: np.ndarray
    outside: bool


def tally(
    con: duckdb.DuckDBPyConnection,
    columns: Sequence[tuple[str, str]],
    where: str = "true",
    params: Sequence[Any] = (),
    people: bool = False,
) -> dict[str, np.ma.MaskedArray]:
    """``SELECT columns, count(*) AS n FROM limb_summary WHERE where GROUP BY columns``:
    each (name, SQL expression) of ``columns`` by its name, a missing value masked and a
    group of its own as in SQL, and ``n``; one row per combination the filter selects.
    With ``people``, each patient's first limb in the filter only (one_per_patient): what
    counts people."""
    if not _CODED[0]:
        return _aggregated(con, columns, where, params, people)
    file = _file(con)
    coded = _coded(con, file, tuple(columns))
    chosen = _selected(con, file, where, tuple(params), people)
    n = np.bincount(coded.codes[chosen.rows], minlength=coded.every.size)
    n = coded.every - n if chosen.outside else n
    present = np.flatnonzero(n)
    result = {name: values[present] for name, values in coded.values.items()}
    return result | {"n": np.ma.MaskedArray(n[present])}


def count(
    con: duckdb.DuckDBPyConnection,
    where: str = "true",
    params: Sequence[Any] = (),
    people: bool = False,
) -> int:
    """``SELECT count(*) FROM limb_summary WHERE where``: the rows the filter selects, or
    with ``people`` the patients behind them (tally)."""
    if not _CODED[0]:
        (found,) = con.execute(
            f"SELECT count(*) FROM {SUMMARY_TABLE} WHERE {_condition(where, people)}",
            _params(params, people),
        ).fetchall()[0]
        return int(found)
    file = _file(con)
    key = _selection_key(where, tuple(params), people)
    if file is not None and (chosen := _FILES.get(file, key)) is not None:
        return _rows(con, file) - chosen.rows.size if chosen.outside else chosen.rows.size
    # a count needs no row numbers: the filters only counted (the sidebar's) make none
    return int(np.count_nonzero(_chosen(con, file, where, tuple(params), people)))


def total(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    where: str = "true",
    params: Sequence[Any] = (),
    people: bool = False,
) -> float:
    """``SELECT coalesce(sum(sql), 0) FROM limb_summary WHERE where``: a number's sum over
    the rows the filter selects, each patient's first only with ``people`` (tally); summed
    in another order than DuckDB's, equal to about 1e-15 of the sum."""
    if not _CODED[0]:
        (found,) = con.execute(
            f"SELECT coalesce(sum({sql}), 0)::DOUBLE FROM {SUMMARY_TABLE} "
            f"WHERE {_condition(where, people)}",
            _params(params, people),
        ).fetchall()[0]
        return float(found)
    file = _file(con)
    values = _values(con, file, sql)
    chosen = _selected(con, file, where, tuple(params), people)
    part = float(values[chosen.rows].sum())
    return float(values.sum()) - part if chosen.outside else part


def numbers(
    con: duckdb.DuckDBPyConnection,
    columns: Sequence[tuple[str, str]],
    where: str = "true",
    params: Sequence[Any] = (),
) -> dict[str, np.ndarray]:
    """``SELECT columns FROM limb_summary WHERE where``: each (name, SQL expression) of
    ``columns``, a number, at the rows the filter selects in stored order (0 where
    missing), for sums of functions of several columns."""
    if not _CODED[0]:
        read = ", ".join(f"coalesce({sql}, 0)::DOUBLE AS c{i}" for i, (_, sql) in
                         enumerate(columns))  # fmt: skip
        found = con.execute(f"SELECT {read} FROM {SUMMARY_TABLE} WHERE {where}", list(params))
        values = found.fetchnumpy()
        return {name: np.asarray(values[f"c{i}"], dtype=float)
                for i, (name, _) in enumerate(columns)}  # fmt: skip
    file = _file(con)
    rows = np.flatnonzero(_flags(con, file, where, tuple(params)))
    return {name: _values(con, file, sql)[rows] for name, sql in columns}


def distinct(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """How many distinct values the SQL expression takes over the file, one more for
    missing: what a tally of several columns costs is their product. Read from the
    column's codes, kept once; counted in DuckDB by a command that reads its cohort once."""
    if not _CODED[0]:
        (found,) = con.execute(f"SELECT count(DISTINCT {sql}) + 1 FROM {SUMMARY_TABLE}").fetchall()[
            0
        ]
        return int(found)
    _, values = _columns(con, _file(con), [sql])[sql]
    return len(values) + 1


def column_max(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    """The largest value of a number over the whole file, 0 where missing (NaN for a file
    of no rows): DuckDB's, kept once per file (asked at every view: has_bilateral)."""

    def read() -> np.ndarray:
        (found,) = con.execute(f"SELECT max(coalesce({sql}, 0)) FROM {SUMMARY_TABLE}").fetchall()[0]
        return np.array(math.nan if found is None else float(found))

    if not _CODED[0]:
        return float(read())
    return float(_FILES.kept(_file(con), ("max", sql), read))


def one_per_patient(where: str) -> str:
    """The condition keeping, of the rows ``where`` selects, each patient's first limb
    (limb_order: the earliest procedure). Its parameters are ``where``'s again.

    Every month of a summary row is on its limb's clock (analytics.cohort.summary), so the
    row kept is whole on its own. Only the first limbs of patients with two limbs are
    looked up (stored last: their blocks only), by integer keys; in a registry of one limb
    per patient the subquery is empty and the condition always true. A coded tally keeps
    the same rows from the filter's flags (_second_limbs).
    """
    return f"(patient_limbs = 1 OR {first_in_filter(where)})"


def first_in_filter(where: str) -> str:
    """Of the rows of patients with two limbs that ``where`` selects, the condition that a
    row is its patient's first limb in the filter: the first treated (limb_order 1), or the
    second where the first is not selected. A patient has two limbs at most (one per side,
    data/schema.sql). Its parameters are ``where``'s once."""
    return (
        f"(limb_order = 1 OR patient_key NOT IN (SELECT patient_key FROM {SUMMARY_TABLE} "
        f"WHERE ({where}) AND patient_limbs > 1 AND limb_order = 1))"
    )


def _condition(where: str, people: bool) -> str:
    """The SQL condition of a filter's rows, each patient's first only with ``people``."""
    return f"({where}) AND {one_per_patient(where)}" if people else where


def _params(params: Sequence[Any], people: bool) -> list[Any]:
    """The parameters of :func:`_condition`: the filter's, again for the people's lookup."""
    return [*params, *params] if people else list(params)


def _aggregated(
    con: duckdb.DuckDBPyConnection,
    columns: Sequence[tuple[str, str]],
    where: str,
    params: Sequence[Any],
    people: bool,
) -> dict[str, np.ma.MaskedArray]:
    """A tally as DuckDB's GROUP BY."""
    read = ", ".join(f"{sql} AS c{i}" for i, (_, sql) in enumerate(columns))
    found = con.execute(
        f"SELECT {read}, count(*) AS n FROM {SUMMARY_TABLE} "
        f"WHERE {_condition(where, people)} GROUP BY ALL",
        _params(params, people),
    ).fetchnumpy()
    result = {}
    for i, (name, _) in enumerate(columns):
        values = found[f"c{i}"]
        missing = np.ma.getmaskarray(values)
        if values.dtype == object:
            missing = missing | pd.isna(np.ma.getdata(values))
        result[name] = np.ma.MaskedArray(np.ma.getdata(values), mask=missing)
    return result | {"n": np.ma.MaskedArray(np.asarray(found["n"], dtype=np.int64))}


class _Files:
    """What was read of each open cohort file, its most recent ``FILES`` kept, and of each
    file's reads the most recently used within ``BUDGET_BYTES``. Kept arrays are made
    read-only: every session shares them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: OrderedDict[Hashable, OrderedDict[tuple, Any]] = OrderedDict()
        self._spent: dict[Hashable, int] = {}  # each file's kept bytes
        self._pending: dict[tuple[Hashable, tuple], threading.Lock] = {}

    def get(self, file: Hashable, key: tuple) -> Any:
        """The read kept under ``key`` (None if none), now the most recently used."""
        with self._lock:
            held = self._files.get(file)
            if held is None or key not in held:
                return None
            self._files.move_to_end(file)
            held.move_to_end(key)
            return held[key]

    def kept(self, file: Hashable | None, key: tuple, read: Callable[[], T]) -> T:
        """The read kept under ``key``, made by ``read`` if none is (always for a file
        None). Made once: a thread asking for it while another makes it waits for that
        one, as a page's reads on two threads ask for the same filter's flags at once (both
        scanning took a core from the other's counting)."""
        if file is None:
            return read()
        found = self.get(file, key)
        if found is not None:
            return found
        with self._lock:
            making = self._pending.setdefault((file, key), threading.Lock())
        try:
            with making:
                found = self.get(file, key)
                if found is None:
                    found = read()
                    self.put(file, key, found)
        finally:
            with self._lock:
                self._pending.pop((file, key), None)
        return found

    def forget(self, *kinds: str) -> None:
        """Drop every file's reads of these kinds (a key's first item)."""
        with self._lock:
            for file, held in self._files.items():
                for key in [k for k in held if k[0] in kinds]:
                    self._spent[file] -= _bytes(held.pop(key))

    def put(self, file: Hashable, key: tuple, value: Any) -> None:
        """Keep ``value``, dropping the least recently used file beyond ``FILES`` and
        the file's least recently used reads beyond its budget."""
        _read_only(value)
        with self._lock:
            held = self._files.setdefault(file, OrderedDict())
            self._files.move_to_end(file)
            while len(self._files) > FILES:
                dropped, _ = self._files.popitem(last=False)
                del self._spent[dropped]
            if key in held:
                self._spent[file] -= _bytes(held.pop(key))
            held[key] = value
            self._spent[file] = self._spent.get(file, 0) + _bytes(value)
            while self._spent[file] > BUDGET_BYTES and len(held) > 1:
                self._spent[file] -= _bytes(held.popitem(last=False)[1])


def _arrays(value: Any) -> list[np.ndarray]:
    """The arrays a kept read holds."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, Coded):
        return [value.codes, value.every, *value.values.values()]
    if isinstance(value, Selection):
        return [value.rows]
    return [a for part in value for a in _arrays(part)]  # a tuple of them


def _bytes(value: Any) -> int:
    """The memory a kept read holds."""
    return sum(a.nbytes for a in _arrays(value))


def _read_only(value: Any) -> None:
    """Make a kept read's arrays read-only: every session shares them."""
    for array in _arrays(value):
        array.setflags(write=False)


_FILES = _Files()
_CURSORS: weakref.WeakKeyDictionary[Any, Hashable | None] = weakref.WeakKeyDictionary()


def _file(con: duckdb.DuckDBPyConnection) -> Hashable | None:
    """The open cohort file as a cache key: its path and what the file system says of it
    (a file written again is another key), and its summary's rows; None for a database in
    memory or open for writing (a test's, an import's), read afresh each time. Asked once
    per connection or cursor (3.5 ms on a million limbs), a :func:`cursor` taking its
    connection's."""
    with contextlib.suppress(KeyError, TypeError):  # TypeError: not weakly referable
        return _CURSORS[con]
    file = _identity(con)
    with contextlib.suppress(TypeError):
        _CURSORS[con] = file
    return file


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor on ``con`` (a thread's own, or a page run's) that reads the file as ``con``
    does, sharing ``con``'s key for the file: asking it took 3.5 ms a cursor on a million
    limbs (a page's reads run on five). Asked on the new cursor when ``con``'s is not
    known yet, never on ``con``, which other threads' cursors share."""
    child = con.cursor()
    try:
        file = _CURSORS[con]
    except (KeyError, TypeError):  # TypeError: not weakly referable
        file = _file(child)
        with contextlib.suppress(TypeError):
            _CURSORS[con] = file
    with contextlib.suppress(TypeError):
        _CURSORS[child] = file
    return child


def _rows(con: duckdb.DuckDBPyConnection, file: Hashable | None) -> int:
    """The summary's rows (the file's key holds them)."""
    if file is not None:
        return file[-1]
    (rows,) = con.execute(f"SELECT count(*) FROM {SUMMARY_TABLE}").fetchall()[0]
    return rows


def _identity(con: duckdb.DuckDBPyConnection) -> Hashable | None:
    """What the connection reads of its file (its metadata, summary rows and blocks; a
    connection opened before the file was replaced still reads the old one) and what the
    file system says of the path now; None unless a file open read-only."""
    path, readonly, rows, blocks = con.execute(
        f"SELECT path, readonly, (SELECT count(*) FROM {SUMMARY_TABLE}), "
        "(SELECT list_value(total_blocks, used_blocks, free_blocks) FROM pragma_database_size()"
        " WHERE database_name = current_database()) "
        "FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()[0]
    if not (path and readonly):  # a file being written may change under the same key
        return None
    try:
        (metadata,) = con.execute(
            "SELECT string_agg(key || '=' || value, chr(10) ORDER BY key) FROM cohort_metadata"
        ).fetchall()[0]
    except duckdb.CatalogException:  # a summary alone (a test's)
        metadata = None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    seen = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    return (path, *seen, metadata, tuple(blocks or ()), rows)


def forget_selections() -> None:
    """Drop every filter's rows, keeping the codes: what `bench` does before each timed
    run, so that it times a page on a filter it has not read (a dashboard's filter change)."""
    _FILES.forget("selection", "flags")


def _selected(
    con: duckdb.DuckDBPyConnection,
    file: Hashable | None,
    where: str,
    params: tuple[Any, ...],
    people: bool = False,
) -> Selection:
    """The rows ``where`` selects; with ``people``, each patient's first of them only."""

    def read() -> Selection:
        flags = _chosen(con, file, where, params, people)
        outside = 2 * int(np.count_nonzero(flags)) > flags.size
        # indices as numpy makes them (intp): an int32 index array is converted at each take
        return Selection(np.flatnonzero(~flags if outside else flags), outside)

    return _FILES.kept(file, _selection_key(where, params, people), read)


def _selection_key(where: str, params: tuple[Any, ...], people: bool) -> tuple:
    """The key a filter's selected rows are kept under (_selected; count reads it)."""
    return ("selection", where, params, people)


def _chosen(
    con: duckdb.DuckDBPyConnection,
    file: Hashable | None,
    where: str,
    params: tuple[Any, ...],
    people: bool,
) -> np.ndarray:
    """Whether each row is selected: the filter's flags, with ``people`` each patient's
    first limb in the filter only (first_in_filter)."""
    flags = _flags(con, file, where, params)
    if people:
        flags = flags.copy()
        second, first = _second_limbs(con, file)
        flags[second] &= ~flags[first]
    return flags


def _flags(
    con: duckdb.DuckDBPyConnection, file: Hashable | None, where: str, params: tuple[Any, ...]
) -> np.ndarray:
    """Whether the filter selects each summary row, in stored order: DuckDB evaluates it."""
    if where == "true":  # no filter: no scan
        return np.ones(_rows(con, file), dtype=bool)

    def read() -> np.ndarray:
        flags = con.execute(
            f"SELECT coalesce(({where}), false) AS keep FROM {SUMMARY_TABLE}", list(params)
        ).fetchnumpy()["keep"]
        return np.asarray(flags, dtype=bool)

    return _FILES.kept(file, ("flags", where, params), read)


def _second_limbs(
    con: duckdb.DuckDBPyConnection, file: Hashable | None
) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the limbs that are not their patient's first treated (limb_order 1),
    and the row of that first limb: a patient's first limb in a filter is their first
    treated, or the other where the filter leaves the first out (first_in_filter, the
    same rule in SQL)."""

    def read() -> tuple[np.ndarray, np.ndarray]:
        fetched = con.execute(
            f"SELECT patient_key, limb_order = 1 AS first FROM {SUMMARY_TABLE} "
        ).fetchnumpy()
        patient = np.asarray(fetched["patient_key"], dtype=np.int64)
        is_first = np.asarray(fetched["first"], dtype=bool)
        firsts = np.flatnonzero(is_first)
        by_patient = firsts[np.argsort(patient[firsts], kind="stable")]
        seconds = np.flatnonzero(~is_first)
        place = np.searchsorted(patient[by_patient], patient[seconds])
        place = np.minimum(place, max(by_patient.size - 1, 0))
        found = (
            patient[by_patient[place]] == patient[seconds]
            if by_patient.size
            else place.astype(bool)
        )
        return seconds[found], by_patient[place[found]]

    return _FILES.kept(file, ("second limbs",), read)


def _coded(
    con: duckdb.DuckDBPyConnection, file: Hashable | None, columns: tuple[tuple[str, str], ...]
) -> Coded:
    """A grouping's codes, kept per file, from its columns' codes (those not kept read in
    one scan)."""

    def read() -> Coded:
        parts = _columns(con, file, [sql for _, sql in columns])
        return _combine([name for name, _ in columns], [parts[sql] for _, sql in columns])

    return _FILES.kept(file, ("grouping", columns), read)


def _columns(
    con: duckdb.DuckDBPyConnection, file: Hashable | None, sqls: Sequence[str]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each column's codes and values (_factorized), kept per file; those not kept read
    in one scan."""
    parts = {sql: _FILES.get(file, ("column", sql)) if file is not None else None
             for sql in sqls}  # fmt: skip
    unread = [sql for sql, part in parts.items() if part is None]
    if unread:
        listed = ", ".join(f"{sql} AS c{i}" for i, sql in enumerate(unread))
        fetched = con.sql(f"SELECT {listed} FROM {SUMMARY_TABLE}").to_arrow_table()
        for sql, column in zip(unread, fetched.columns, strict=True):
            parts[sql] = _factorized(column)
            if file is not None:
                _FILES.put(file, ("column", sql), parts[sql])
    return parts


def _values(con: duckdb.DuckDBPyConnection, file: Hashable | None, sql: str) -> np.ndarray:
    """A number's value for every summary row, 0 where missing."""

    def read() -> np.ndarray:
        fetched = con.execute(f"SELECT coalesce({sql}, 0)::DOUBLE AS v FROM {SUMMARY_TABLE}")
        return np.asarray(fetched.fetchnumpy()["v"], dtype=float)

    return _FILES.kept(file, ("values", sql), read)


def _combine(names: list[str], parts: list[tuple[np.ndarray, np.ndarray]]) -> Coded:
    """Each row's combination of values as one code, in the values' order (a missing value
    first), so that a tally's rows come in (group, months) order and the engine sorts
    none. The combinations are a mixed-radix key of the values' codes (factorized, order
    kept, whenever its range grows past COMPACT_AT), used as the code where its range is
    small, else factorized; each combination's values are read from its first row."""
    rows = parts[0][0].size if parts else 0
    key, size, exact = np.zeros(rows, dtype=np.int64), 1, True
    for codes, uniques in parts:
        if size * (len(uniques) + 1) > COMPACT_AT:
            key, kept = pd.factorize(key, sort=True)
            size, exact = len(kept), False
        key = key * (len(uniques) + 1) + (codes.astype(np.int64) + 1)  # missing is 0
        size *= len(uniques) + 1
    if exact and size <= DIRECT_KEYS:
        codes = key
    else:
        codes, kept = pd.factorize(key, sort=True)
        size = len(kept)
    codes = np.asarray(codes, dtype=np.int32)
    first = np.full(size, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(rows - 1, -1, -1)  # each code's first row
    values = {}
    for name, (part, uniques) in zip(names, parts, strict=True):
        index = np.where(first >= 0, part[np.maximum(first, 0)], -1) if rows else first
        missing = index < 0
        taken = uniques.take(np.where(missing, 0, index)) if len(uniques) else index
        values[name] = np.ma.MaskedArray(np.asarray(taken), mask=missing)
    return Coded(codes=codes, values=values, every=np.bincount(codes, minlength=size))


def _factorized(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's index among the column's distinct values, -1 where missing: Arrow's
    dictionary (an ENUM's as DuckDB hands it over; any other column's encoded in C++), so
    no row becomes a Python object (text as objects took a second a million rows)."""
    values = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(values)
    codes = values.indices.cast(pa.int32()).fill_null(-1).to_numpy()
    uniques = values.dictionary.to_numpy(zero_copy_only=False)
    order = np.argsort(uniques, kind="stable")  # codes in the values' order: a tally's
    rank = np.empty(order.size + 1, dtype=np.int32)  # rows come sorted, as the engine reads
    rank[order], rank[-1] = np.arange(order.size, dtype=np.int32), -1  # them (-1 stays -1)
    return rank[codes], uniques[order]
