"""A cohort file of versions 1-3 (the single-limb format), 4 (the registry format before
the limb's last contact date) or 5 (before the summary's coded text columns) is refused
with a message naming the fix, and upgrades in place to this version's format, every
page, the report and the deck giving on it what they give on the file it was made of."""

from __future__ import annotations

import dataclasses
import enum
import math
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.cli import main
from analytics.cohort.db import (
    DEMO_SOURCE,
    SCHEMA_VERSION,
    CohortError,
    cohort_variables,
    connect_hardened,
    open_cohort,
    schema_tables,
)
from analytics.cohort.demo import _read_metadata
from analytics.cohort.importer import REGISTRY, import_registry
from analytics.cohort.single_limb import SINGLE_LIMB_SCHEMA_PATH, SINGLE_LIMB_TABLES
from analytics.cohort.summary import (
    CODED_COLUMNS,
    INTEGER_COLUMNS,
    SUMMARY_TABLE,
    coded_type,
)
from analytics.cohort.upgrade import upgrade
from analytics.filters import CohortFilter
from analytics.present.report import report_json
from analytics.variables import BUILTIN
from analytics.views import ReportView
from tests.conftest import write_single_limb
from tools.bench import PAGES

SUMMARY_CHECK = (
    "SELECT count(*), sum(tte_primary_months), sum(n_recurrent_dvt), "
    "sum(first_recurrent_dvt_months), count(first_death_months) FROM limb_summary"
)


def _single_limb_file(tmp_path: Path, version: str, **metadata: str) -> Path:
    """The demo as versions 1-3 wrote it: the single-limb tables (data/schema_single_limb.sql)
    with the demo's rows, its provenance plus ``metadata``, stamped ``version``; from
    version 2 on beside a derived patient summary (which the upgrade derives anew)."""
    source = write_single_limb(tmp_path.parent / f"{tmp_path.name}-single-limb")
    old = tmp_path / "old.duckdb"
    meta = {**_read_metadata(DEMO_SOURCE / "metadata.csv"), **metadata}
    with duckdb.connect(str(old)) as con:
        con.execute(SINGLE_LIMB_SCHEMA_PATH.read_text())
        for table in SINGLE_LIMB_TABLES:
            con.execute(
                f"INSERT INTO {table} BY NAME SELECT * FROM read_csv(?, header = true)",
                [str(source / f"{table}.csv")],
            )
        con.executemany(
            "INSERT INTO cohort_metadata VALUES (?, ?)",
            sorted({**meta, "schema_version": version}.items()),
        )
        if version != "1":
            con.execute("CREATE TABLE patient_summary AS SELECT patient_id FROM patients")
    shutil.rmtree(source)
    return old


def _as_version_1(demo_path: Path, tmp_path: Path) -> Path:
    """The demo as version 1 wrote it: no patient summary, version stamp 1."""
    return _single_limb_file(tmp_path, "1")


def _as_version_2(demo_path: Path, tmp_path: Path) -> Path:
    """The demo as version 2 wrote it, with its patient summary."""
    return _single_limb_file(tmp_path, "2")


def _as_version_3(demo_path: Path, tmp_path: Path) -> Path:
    """The demo as version 3 wrote it, with its patient summary."""
    return _single_limb_file(tmp_path, "3")


EARLIER = pytest.mark.parametrize(
    "earlier", [_as_version_1, _as_version_2, _as_version_3], ids=["v1", "v2", "v3"]
)


def _summary(con: duckdb.DuckDBPyConnection):
    return con.execute(f"SELECT * FROM {SUMMARY_TABLE} ORDER BY limb_id").df()


def test_an_upgraded_version_3_file_has_the_summary_of_its_data_imported(tmp_path):
    """The same single-limb rows, upgraded from a version 3 file or imported from its
    layout's CSVs, give the same limb summary; and, as the file says the lesions were
    post-thrombotic, the same as the demo imported from the registry layout."""
    import pandas as pd

    old = _single_limb_file(tmp_path, "3", aetiology="post_thrombotic")
    assert upgrade(old) is True
    source = write_single_limb(tmp_path.parent / f"{tmp_path.name}-csv")
    imported = import_registry(
        source, source / "imported.duckdb", metadata={"aetiology": "post_thrombotic"}
    )
    registry = import_registry(DEMO_SOURCE, source / "registry.duckdb")
    with open_cohort(old) as a, open_cohort(imported) as b, open_cohort(registry) as c:
        upgraded, from_csv, demo = _summary(a), _summary(b), _summary(c)
    pd.testing.assert_frame_equal(upgraded, from_csv)
    pd.testing.assert_frame_equal(upgraded, demo)
    assert set(upgraded["aetiology"]) == {"post_thrombotic"} and len(upgraded) == 37


def test_an_upgraded_file_that_does_not_say_its_aetiology_reads_not_recorded(tmp_path):
    old = _single_limb_file(tmp_path, "3")
    assert upgrade(old) is True
    with open_cohort(old) as con:
        assert con.execute("SELECT DISTINCT aetiology FROM limbs").fetchall() == [("not_recorded",)]


@EARLIER
def test_an_earlier_version_is_refused_with_the_upgrade_command(demo_path, tmp_path, earlier):
    old = earlier(demo_path, tmp_path)
    with pytest.raises(CohortError, match=f"python -m analytics upgrade {old}"):
        open_cohort(old)


@EARLIER
def test_upgrade_derives_the_same_summary_as_a_fresh_build(demo_path, tmp_path, capsys, earlier):
    old = earlier(demo_path, tmp_path)
    assert main(["upgrade", str(old)]) == 0
    assert "upgraded" in capsys.readouterr().out
    with open_cohort(old) as upgraded, open_cohort(demo_path) as fresh:
        assert upgraded.execute(SUMMARY_CHECK).fetchall() == fresh.execute(SUMMARY_CHECK).fetchall()
        version = upgraded.execute(
            "SELECT value FROM cohort_metadata WHERE key = 'schema_version'"
        ).fetchall()
    assert version == [(SCHEMA_VERSION,)]
    assert upgrade(old) is False  # already current: nothing to do
    assert list(tmp_path.iterdir()) == [old]  # no copy left behind


def test_failed_upgrade_leaves_the_file_unchanged(demo_path, tmp_path, monkeypatch):
    old = _as_version_1(demo_path, tmp_path)
    before = old.read_bytes()

    def broken(con: duckdb.DuckDBPyConnection) -> None:
        raise duckdb.IOException("disk full")

    monkeypatch.setattr("analytics.cohort.upgrade.create_summary", broken)
    with pytest.raises(duckdb.IOException):
        upgrade(old)
    assert old.read_bytes() == before
    assert list(tmp_path.iterdir()) == [old]


def test_a_file_that_is_not_a_cohort_is_named(tmp_path, capsys):
    stray = tmp_path / "notes.duckdb"
    stray.write_bytes(b"not a database")
    assert main(["upgrade", str(stray)]) == 1
    assert "is not a cohort file" in capsys.readouterr().err


SECRET = "the contents of a local file"


def _crafted(demo_path: Path, tmp_path: Path, statements: list[str]) -> Path:
    """A version-1 file whose own SQL objects try to read a local file through the upgrade."""
    old = _as_version_1(demo_path, tmp_path)
    with duckdb.connect(str(old)) as con:
        for statement in statements:
            con.execute(statement)
    return old


def test_upgrade_derives_from_the_products_sql_not_the_files_views(demo_path, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    old = _crafted(demo_path, tmp_path, [
        "DROP VIEW time_to_event",
        "CREATE VIEW time_to_event AS SELECT patient_id, e.endpoint, "
        f"(SELECT length(content) FROM read_text('{secret}'))::DOUBLE AS months, true AS event "
        "FROM patients, (VALUES ('primary'), ('assisted_primary'), ('secondary'), "
        "('recurrent_dvt')) AS e(endpoint)",
        f"CREATE MACRO leak() AS (SELECT content FROM read_text('{secret}'))",
        f"CREATE VIEW planted AS SELECT content FROM read_text('{secret}')",
    ])  # fmt: skip
    assert upgrade(old) is True
    with open_cohort(old) as upgraded, open_cohort(demo_path) as fresh:
        assert upgraded.execute(SUMMARY_CHECK).fetchall() == fresh.execute(SUMMARY_CHECK).fetchall()
        objects = upgraded.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal "
            "UNION ALL SELECT function_name FROM duckdb_functions() WHERE NOT internal"
        ).fetchall()
    assert sorted(objects) == [("limb_clock",), ("time_to_event",)]  # the product's own views
    assert SECRET.encode() not in old.read_bytes()


def test_reading_the_version_is_hardened_too(demo_path, tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    old = _as_version_1(demo_path, tmp_path)
    with duckdb.connect(str(old)) as con:
        con.execute("ALTER TABLE cohort_metadata RENAME TO stored_metadata")
        con.execute(
            "CREATE VIEW cohort_metadata AS SELECT 'schema_version' AS key, "
            f"content AS value FROM read_text('{secret}')"
        )
    assert main(["upgrade", str(old)]) == 1
    err = capsys.readouterr().err
    assert SECRET not in err and err.count("\n") == 1 and str(old) in err


def test_a_version_1_file_missing_a_column_is_named_and_left_unchanged(demo_path, tmp_path, capsys):
    old = _crafted(demo_path, tmp_path, ["ALTER TABLE assessments DROP COLUMN reflux"])
    before = old.read_bytes()
    assert main(["upgrade", str(old)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "assessments lacks a column" in err and "reflux" in err
    assert old.read_bytes() == before and list(tmp_path.iterdir()) == [old]


# What version 5 added: a version-4 file's tables are this version's without it.
VERSION_5_COLUMNS = {"limbs": ("last_contact_date",)}


def _as_version_4(current: Path, tmp_path: Path) -> Path:
    """``current`` as version 4 wrote it: its tables and summary without the column version
    5 added, stamped 4 (without the schema's constraints, which an upgrade only reads past)."""
    old = tmp_path / "v4.duckdb"
    with duckdb.connect(str(old)) as con:
        con.execute(f"ATTACH '{current}' AS current (READ_ONLY)")
        for table in ("cohort_metadata", *REGISTRY.tables, SUMMARY_TABLE):
            added = VERSION_5_COLUMNS.get(table)
            columns = f"* EXCLUDE ({', '.join(added)})" if added else "*"
            con.execute(f"CREATE TABLE {table} AS SELECT {columns} FROM current.{table}")
        con.execute("UPDATE cohort_metadata SET value = '4' WHERE key = 'schema_version'")
        con.execute("DETACH current")
    return old


def _as_version_5(current: Path, tmp_path: Path, day: bool = False) -> Path:
    """``current`` as version 5 wrote it: its tables, and its summary with the coded
    columns as text and the small counts as 64-bit integers (version 6 stores ENUMs and
    32-bit integers), without the day each limb's follow-up ends (kept with ``day``: the
    version 6 summary in version 5's types), stamped 5."""
    old = tmp_path / f"v5{'-day' * day}.duckdb"
    as_before = ", ".join(
        [f"{column}::VARCHAR AS {column}" for column in CODED_COLUMNS]
        + [f"{column}::BIGINT AS {column}" for column in INTEGER_COLUMNS]
    )
    columns = f"* {'' if day else 'EXCLUDE (last_follow_up_day) '}REPLACE ({as_before})"
    with duckdb.connect(str(old)) as con:
        con.execute(f"ATTACH '{current}' AS current (READ_ONLY)")
        for table in ("cohort_metadata", *REGISTRY.tables):
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM current.{table}")
        con.execute(
            f"CREATE TABLE {SUMMARY_TABLE} AS SELECT {columns} FROM current.{SUMMARY_TABLE}"
        )
        con.execute("UPDATE cohort_metadata SET value = '5' WHERE key = 'schema_version'")
        con.execute("DETACH current")
    return old


def _as_version_6(current: Path, tmp_path: Path) -> Path:
    """``current`` as version 6 wrote it: its tables and summary, without the declarations
    of a registry's own columns (version 7's ``cohort_variables``), stamped 6."""
    old = tmp_path / "v6.duckdb"
    with duckdb.connect(str(old)) as con:
        con.execute(f"ATTACH '{current}' AS current (READ_ONLY)")
        for table in ("cohort_metadata", *REGISTRY.tables, SUMMARY_TABLE):
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM current.{table}")
        con.execute("UPDATE cohort_metadata SET value = '6' WHERE key = 'schema_version'")
        con.execute("DETACH current")
    return old


def _as_single_limb(current: Path, tmp_path: Path, version: str) -> Path:
    """A file of one limb per patient as versions 2-3 wrote it (data/schema_single_limb.sql):
    each patient with their limb in ``patients`` (``side`` as ``lesion_side``), visits and
    events by ``patient_id``, ``current``'s provenance stamped ``version``, beside a patient
    summary (which the upgrade derives anew)."""
    old = tmp_path / f"v{version}.duckdb"
    rows = {
        "patients": "SELECT p.*, l.* EXCLUDE (patient_id), l.side AS lesion_side "
        "FROM current.patients AS p JOIN current.limbs AS l USING (patient_id)",
        "assessments": "SELECT *, limb_id AS patient_id FROM current.assessments",
        "events": "SELECT * FROM current.events",
    }
    with duckdb.connect(str(old)) as con:
        con.execute(SINGLE_LIMB_SCHEMA_PATH.read_text())
        con.execute(f"ATTACH '{current}' AS current (READ_ONLY)")
        for table in SINGLE_LIMB_TABLES:
            names = ", ".join(c for c, _ in schema_tables(SINGLE_LIMB_SCHEMA_PATH)[table])
            con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM ({rows[table]})")
        con.execute(
            "INSERT INTO cohort_metadata SELECT key, CASE key WHEN 'schema_version' THEN ? "
            "ELSE value END FROM current.cohort_metadata",
            [version],
        )
        con.execute("CREATE TABLE patient_summary AS SELECT patient_id FROM patients")
        con.execute("DETACH current")
    return old


def _plain(value: Any, seen: dict[int, Any]) -> Any:
    """``value`` as nested lists, dicts and scalars: a result dataclass as its type and its
    fields, a frame as its columns, index and cells, an array as its items (an object met
    again, such as the file's variable declarations, from ``seen``)."""
    if id(value) in seen:
        return seen[id(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain(getattr(value, f.name), seen) for f in dataclasses.fields(value)}
        plain = {"type": type(value).__name__, **fields}
    elif isinstance(value, pd.DataFrame):
        plain = {
            "columns": list(value.columns),
            "index": _plain(value.index.to_numpy(), seen),
            "cells": {str(c): _plain(value[c].to_numpy(), seen) for c in value.columns},
        }
    elif isinstance(value, pd.Series):
        plain = {
            "index": _plain(value.index.to_numpy(), seen),
            "cells": _plain(value.to_numpy(), seen),
        }
    elif isinstance(value, np.ndarray):  # numbers as Python's; objects each made plain
        items = value.tolist()
        plain = [_plain(v, seen) for v in items] if value.dtype == object else items
    elif isinstance(value, np.generic):
        plain = value.item()
    elif isinstance(value, enum.Enum):
        plain = value.name
    elif isinstance(value, dict):
        plain = {str(k): _plain(v, seen) for k, v in value.items()}
    elif isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v, seen) for v in value]
        plain = sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    else:
        return value
    seen[id(value)] = plain
    return plain


def _differences(a: Any, b: Any, path: str = "", apart: frozenset[str] = frozenset()) -> list[str]:
    """Where two plain values differ: numbers beyond 1e-12 relative (a sum's last bits may
    depend on the order DuckDB adds in), NaN equal to NaN, anything else exactly; the
    fields named ``apart`` not compared."""
    if a == b and type(a) is type(b):
        return []
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for key in a if key not in apart
                for d in _differences(a[key], b[key], f"{path}.{key}", apart)]  # fmt: skip
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items, {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in _differences(x, y, f"{path}[{i}]", apart)]  # fmt: skip
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        same = (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-12)
        return [] if same else [f"{path}: {a!r} vs {b!r}"]
    return [] if type(a) is type(b) and a == b else [f"{path}: {a!r} vs {b!r}"]


def _outputs(path: Path, opened: Any = open_cohort) -> dict[str, Any]:
    """Every page's view of the unfiltered file (tools.bench.PAGES: the sidebar, the
    report's and the deck's numbers too) and the report's JSON (the masked one takes a
    minute: the privacy tests check it), the file ``opened`` so."""
    with opened(path) as con:
        views = {name: work(con, CohortFilter()) for name, work in PAGES.items()}
    (report,) = [view for view in views.values() if isinstance(view, ReportView)]
    seen: dict[int, Any] = {}
    return {"report JSON": report_json(report)} | {
        name: _plain(view, seen) for name, view in views.items()
    }


def _same_outputs(
    upgraded: Path, original: Path, apart: frozenset[str] = frozenset(), opened: Any = open_cohort
) -> None:
    """``opened`` opens the original (an earlier version's file is read as it is)."""
    before, after = _outputs(original, opened), _outputs(upgraded)
    assert before.keys() == after.keys()
    for name in before:
        assert _differences(before[name], after[name], name, apart) == []


@pytest.mark.parametrize(
    ("version", "written"), [("4", _as_version_4), ("5", _as_version_5), ("6", _as_version_6)]
)
def test_a_registry_file_of_an_earlier_version_is_refused_with_the_upgrade_command(
    bilateral_path, tmp_path, version, written
):
    old = written(bilateral_path, tmp_path)
    said = (
        f"schema version {version}; this version reads {SCHEMA_VERSION}. Upgrade it in place with "
        f"`python -m analytics upgrade {old}`"
    )
    with pytest.raises(CohortError, match=re.escape(said)):
        open_cohort(old)


@pytest.fixture(scope="module")
def upgraded_version_4(bilateral_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bilateral registry as version 4 wrote it, upgraded (once for the module)."""
    old = _as_version_4(bilateral_path, tmp_path_factory.mktemp("version-4"))
    assert upgrade(old) is True
    return old


def test_a_version_4_file_upgrades_to_its_own_rows_with_no_last_contact_date(
    upgraded_version_4, bilateral_path
):
    old = upgraded_version_4
    with open_cohort(old) as upgraded, open_cohort(bilateral_path) as fresh:
        for table in ("cohort_metadata", *REGISTRY.tables, SUMMARY_TABLE):
            query = f"SELECT * FROM {table} ORDER BY ALL"
            assert upgraded.execute(query).fetchall() == fresh.execute(query).fetchall(), table
        dates = upgraded.execute("SELECT count(last_contact_date) FROM limbs").fetchall()
    assert dates == [(0,)]  # version 4 never held one
    assert upgrade(old) is False and list(old.parent.iterdir()) == [old]


def test_every_output_is_the_same_on_an_upgraded_version_4_copy(upgraded_version_4, bilateral_path):
    """The bilateral registry (clustered statistics, people and limbs) as version 4 wrote
    it, upgraded: every page, the report (its JSON too) and the deck give the same."""
    _same_outputs(upgraded_version_4, bilateral_path)


@pytest.fixture(scope="module")
def version_5(bilateral_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The bilateral registry as version 5 wrote it, and its copy upgraded (once for the
    module)."""
    old = _as_version_5(bilateral_path, tmp_path_factory.mktemp("version-5"))
    upgraded = old.with_name("upgraded.duckdb")
    shutil.copy(old, upgraded)
    assert upgrade(upgraded) is True
    return old, upgraded


def test_a_version_5_file_upgrades_to_its_own_rows_with_the_summarys_narrower_types(version_5):
    old, upgraded = version_5
    with connect_hardened(old) as before, open_cohort(upgraded) as after:
        for table in ("cohort_metadata", *REGISTRY.tables, SUMMARY_TABLE):
            query = f"SELECT * FROM {table} ORDER BY ALL"
            rows = before.execute(query).fetchall()
            if table == SUMMARY_TABLE:
                query = query.replace("*", "* EXCLUDE (last_follow_up_day)")
            if table == "cohort_metadata":
                rows = [(k, SCHEMA_VERSION if k == "schema_version" else v) for k, v in rows]
            assert after.execute(query).fetchall() == rows, table
        kinds = dict(after.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?",
            [SUMMARY_TABLE],
        ).fetchall())  # fmt: skip
    assert {c: kinds[c] for c in CODED_COLUMNS} == {c: coded_type(c) for c in CODED_COLUMNS}
    assert all(kinds[c].startswith("ENUM(") for c in CODED_COLUMNS)
    assert {kinds[c] for c in INTEGER_COLUMNS} == {"INTEGER"}
    with open_cohort(upgraded) as after:
        (same,) = after.execute(
            "SELECT bool_and(last_follow_up_day = epoch(procedure_date) / 86400 "
            f"+ follow_up_months * {365.25 / 12!r}) FROM {SUMMARY_TABLE}"
        ).fetchall()[0]
    assert same


def test_a_version_6_file_upgrades_to_its_own_rows_with_no_own_columns(bilateral_path, tmp_path):
    """Version 7 added only the declarations of a registry's own columns, which a file of
    version 6 never held: its rows come through as they were, and it declares none."""
    old = _as_version_6(bilateral_path, tmp_path)
    assert upgrade(old) is True
    with open_cohort(old) as upgraded, open_cohort(bilateral_path) as fresh:
        for table in ("cohort_metadata", *REGISTRY.tables, SUMMARY_TABLE):
            query = f"SELECT * FROM {table} ORDER BY ALL"
            assert upgraded.execute(query).fetchall() == fresh.execute(query).fetchall(), table
        assert upgraded.execute("SELECT count(*) FROM cohort_variables").fetchall() == [(0,)]
        assert cohort_variables(upgraded) == BUILTIN
    assert upgrade(old) is False


def test_every_output_is_the_same_on_an_upgraded_version_5_copy(version_5, bilateral_path):
    """The bilateral registry as version 5 wrote it, upgraded: every page, the report (its
    JSON too) and the deck give the same as on the registry written in this version."""
    _same_outputs(version_5[1], bilateral_path)


def test_every_output_is_the_same_on_the_summary_in_version_5s_types(bilateral_path, tmp_path):
    """The summary's coded columns as text and its counts as 64-bit integers, as version 5
    stored them (read as it is), give every page, the report and the deck what the ENUMs
    and 32-bit integers of this version give."""
    old = _as_version_5(bilateral_path, tmp_path, day=True)
    _same_outputs(bilateral_path, old, apart=frozenset({"schema_version"}), opened=connect_hardened)


def test_every_output_is_the_same_on_an_upgraded_version_2_copy(registry_path, tmp_path):
    """The single-limb registry the suite's R references were computed on, as version 2
    wrote it, upgraded: every page, the report (its JSON too) and the deck give what
    they give on the registry written in this version's format."""
    old = _as_single_limb(registry_path, tmp_path, "2")
    assert upgrade(old) is True
    _same_outputs(old, registry_path)


def test_every_output_of_the_demo_is_the_same_on_its_upgraded_version_2_copy(demo_path, tmp_path):
    """The demo as version 2 wrote it (one row per patient, its lesions post-thrombotic as
    its provenance says), upgraded, against the demo imported from the registry layout: a
    path through neither the single-limb reading nor the upgrade. The deck's ``meta`` is
    the file's own provenance (the version-2 file has no ``built_at``)."""
    old = _single_limb_file(tmp_path, "2", aetiology="post_thrombotic")
    assert upgrade(old) is True
    _same_outputs(old, demo_path, apart=frozenset({"meta"}))
