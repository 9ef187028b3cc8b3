"""Hostile input and broken files: nothing reads beyond the cohort, nothing leaks a traceback."""

from __future__ import annotations

import json

import duckdb
import pytest

from analytics.cli import main
from analytics.cohort.db import CohortError, open_cohort
from tests.conftest import unescaped

HOSTILE = "left' OR '1'='1"


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_csv('/etc/hostname')",
        "SELECT * FROM read_text('/etc/passwd')",
        "COPY patients TO '/tmp/leak.csv'",
        "ATTACH '/tmp/other.duckdb' AS other",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "LOAD httpfs",
        "INSERT INTO cohort_metadata VALUES ('x', 'y')",
        "DROP TABLE events",
    ],
)
def test_the_dashboard_connection_can_only_read_the_cohort(demo, statement):
    with pytest.raises(duckdb.Error):
        demo.execute(statement)


def test_hostile_text_in_the_link_is_dropped_with_a_notice(page_test):
    at = page_test("app.py", lesion_side=HOSTILE)
    assert not at.exception
    notices = [unescaped(w.value) for w in at.sidebar.warning]
    assert any(n.startswith("Ignored in the link: lesion_side=") for n in notices), notices
    assert {m.label: m.value for m in at.metric}["Patients analysed"] == "34"


def test_a_centre_not_in_the_cohort_is_dropped_with_a_notice(page_test):
    at = page_test("pages/3_Safety.py", center="x' OR '1'='1")
    assert not at.exception
    notices = [unescaped(w.value) for w in at.sidebar.warning]
    expected = "center=\"x' OR '1'='1\": no such centre in this cohort; ignored"
    assert any(expected in n for n in notices), notices


def test_hostile_where_on_the_command_line(demo_path, capsys):
    assert main(["report", "--db", str(demo_path), "--where", f"lesion_side={HOSTILE}"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lesion_side" in err and "Traceback" not in err
    assert main(["report", "--db", str(demo_path), "--where", "center=x' OR '1'='1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_patients"] == 0


def test_empty_and_foreign_files_are_named(tmp_path):
    empty = tmp_path / "empty.duckdb"
    empty.touch()
    with pytest.raises(CohortError, match=r"empty\.duckdb is empty"):
        open_cohort(empty)
    foreign = tmp_path / "foreign.duckdb"
    with duckdb.connect(str(foreign)) as con:
        con.execute("CREATE TABLE something (x INTEGER)")
    with pytest.raises(CohortError, match=r"foreign\.duckdb is not in the cohort format"):
        open_cohort(foreign)


@pytest.mark.parametrize("kind", ["empty", "foreign"])
def test_a_broken_cohort_gives_a_clear_page(page_test, monkeypatch, tmp_path, kind):
    path = tmp_path / f"{kind}.duckdb"
    if kind == "empty":
        path.touch()
    else:
        with duckdb.connect(str(path)) as con:
            con.execute("CREATE TABLE something (x INTEGER)")
    monkeypatch.setenv("COHORT_DB", str(path))
    at = page_test("pages/1_Patency.py")
    assert not at.exception
    assert any(str(path) in unescaped(e.value) for e in at.error)


def test_a_broken_cohort_is_one_line_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "empty.duckdb"
    path.touch()
    assert main(["report", "--db", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == f"error: cohort file {path} is empty\n"
