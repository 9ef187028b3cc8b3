"""A cohort file replaced under the same path (a re-import, or a deletion and a new
import of that name) is what the dashboard reads next, though a connection to the old
file was open: DuckDB gives a new connection the database already open at a path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from analytics.filters import CohortFilter
from ui import data


@pytest.fixture(autouse=True)
def no_connections():
    data.close_connections()
    yield
    data.close_connections()


def _limbs(path: Path) -> int:
    key = data.cohort_key(path)
    with data.cursor(key) as con:
        return con.execute("SELECT count(*) FROM limb_summary").fetchone()[0]


def _replace(path: Path, source: Path) -> None:
    """``source``'s copy moved over ``path`` as the importer moves a finished file in,
    with a later modification time."""
    partial = path.with_name("partial.duckdb")
    shutil.copyfile(source, partial)
    later = path.stat().st_mtime + 10
    os.utime(partial, (later, later))
    os.replace(partial, path)


def test_a_replaced_file_is_read_anew_while_a_page_still_holds_the_old(
    tmp_path, demo_path, registry_path
):
    path = tmp_path / "cohort.duckdb"
    shutil.copyfile(demo_path, path)
    held = data.cursor(data.cohort_key(path))  # a page run of the old file, not finished
    assert _limbs(path) == 37
    _replace(path, registry_path)
    with data.cursor(data.cohort_key(path)) as con:
        registry = con.execute("SELECT count(*) FROM limb_summary").fetchone()[0]
        header = data.header.__wrapped__(data.cohort_key(path), CohortFilter())
    assert registry != 37
    assert header.total == registry
    with pytest.raises(Exception, match="closed"):
        held.execute("SELECT 1")


def test_a_deleted_and_reimported_name_shows_the_new_import(tmp_path, demo_path, registry_path):
    path = tmp_path / "cohort.duckdb"
    shutil.copyfile(registry_path, path)
    before = _limbs(path)
    path.unlink()
    _replace_new = tmp_path / "new.duckdb"
    shutil.copyfile(demo_path, _replace_new)
    os.utime(_replace_new, (1, 1))  # an older modification time than the deleted file's
    os.replace(_replace_new, path)
    assert before != 37
    assert _limbs(path) == 37
