"""Shared fixtures: the built demo cohort, and hand-made cohorts for exact cases."""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics.cohort.db import DEMO_SOURCE, SCHEMA_PATH, open_cohort
from analytics.cohort.demo import build_demo
from analytics.cohort.single_limb import (
    SINGLE_LIMB_SCHEMA_PATH,
    SINGLE_LIMB_TABLES,
    person_columns,
)
from analytics.cohort.summary import PATIENT_EVENTS
from analytics.cohort.synth_single_limb import synthesize

PATIENT_DEFAULTS = {
    "age_years": 60,
    "sex": "F",
    "bmi": 25.0,
    "lesion_side": "left",
    "procedure_date": "2012-01-01",
    "technical_success": True,
    "follow_up_months": 36.0,
    "symptom_duration_months": 6.0,
    "malignancy": False,
    "smoking": False,
    "immobilization": False,
    "thrombophilia": False,
    "recent_surgery": False,
    "trauma": False,
    "diabetes": False,
    "seg_ivc": False,
    "seg_civ": True,
    "seg_eiv": True,
    "seg_cfv": False,
}


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo cohort, built once per test session from data/demo."""
    if not (DEMO_SOURCE / "patients.csv").exists():
        pytest.skip("demo cohort CSVs (data/demo) not reconstructed yet: issue 2 is open")
    return build_demo(tmp_path_factory.mktemp("demo") / "cohort.duckdb")


@pytest.fixture(scope="session")
def registry_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic multi-centre registry, one limb per patient (``synth --single-limb
    --patients 3000 --centers 6 --seed 1``: the rows of the R references), built once."""
    return synthesize(tmp_path_factory.mktemp("registry") / "registry.duckdb", 3000, 6, seed=1)


@pytest.fixture(scope="session")
def own_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's registry with columns of its own, imported (tests.own_registry)."""
    from analytics.cohort.importer import import_registry
    from tests.own_registry import write_own_registry

    folder = tmp_path_factory.mktemp("own")
    return import_registry(write_own_registry(folder / "source"), folder / "cohort.duckdb")


@pytest.fixture(scope="session")
def retinopathy_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """R's retinopathy as a bilateral registry file (tests.cohorts.retinopathy_registry)."""
    from tests.cohorts import retinopathy_registry

    path = tmp_path_factory.mktemp("retinopathy") / "retinopathy.duckdb"
    retinopathy_registry(str(path)).close()
    return path


@pytest.fixture(scope="session")
def bilateral_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic registry of a stenting service (``synth --limbs 600 --centers 4
    --seed 1``): a tenth of its patients with both legs treated, three aetiologies, stents,
    typed repeated reinterventions, therapy periods, scores. Built once."""
    from analytics.cohort.synth import synthesize as registry

    return registry(tmp_path_factory.mktemp("bilateral") / "bilateral.duckdb", None, 4, seed=1,
                    limbs=600)  # fmt: skip


# Names a hostile or careless user could give a centre or a cohort: spreadsheet formulas,
# Markdown and HTML links, an image, a Streamlit colour directive and math, a bare URL.
HOSTILE_CENTRES = (
    '=HYPERLINK("https://evil.example/x","Re-login")',
    "+1+1",
    "@SUM(A1)",
    "{=1+1}",  # an array formula (a tab first, "\t=1", is a control character import refuses)
    "-2+3",
    "[Re-login](https://evil.example/login)",
    "![p](https://evil.example/p.png)",
    '<a href="https://evil.example">x</a>',
    ":red[alarm] $x^2$ https://evil.example",
)
HOSTILE_NAME = "[Re-login](https://evil.example/c) <img src=x> =1+1"


def demo_with_centres(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    centres: Callable[[pd.DataFrame], Sequence[str]],
    metadata: dict[str, str],
) -> Path:
    """The demo's patients imported afresh, each in the centre ``centres(patients)`` gives."""
    from analytics.cohort.importer import REGISTRY, import_registry

    if not (DEMO_SOURCE / "patients.csv").exists():
        pytest.skip("demo cohort CSVs (data/demo) not reconstructed yet: issue 2 is open")
    source = tmp_path_factory.mktemp(f"{name}-source")
    for table in REGISTRY.tables:
        if not (DEMO_SOURCE / f"{table}.csv").exists():
            continue
        frame = pd.read_csv(DEMO_SOURCE / f"{table}.csv", dtype=str, keep_default_na=False)
        if table == "patients":
            frame["center"] = list(centres(frame))
        frame.to_csv(source / f"{table}.csv", index=False)
    return import_registry(source, tmp_path_factory.mktemp(name) / "cohort.duckdb",
                           metadata=metadata)  # fmt: skip


@functools.cache
def single_limb_csv(table: str) -> str:
    """The demo's registry (data/demo) as the single-limb layout's CSV ``table`` (patients,
    assessments or events: one row per patient and its one treated limb), cells as written."""
    read = lambda name: pd.read_csv(DEMO_SOURCE / f"{name}.csv", dtype=str, keep_default_na=False)  # noqa: E731
    with duckdb.connect() as con:
        con.execute(SINGLE_LIMB_SCHEMA_PATH.read_text())
        columns = [
            name for (name,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                "ORDER BY column_index", [table],
            ).fetchall()
        ]  # fmt: skip
    if table == "patients":
        limbs = read("limbs").rename(columns={"side": "lesion_side"})
        frame = read("patients").merge(limbs, on="patient_id")
    elif table == "assessments":
        frame = read("assessments").rename(columns={"limb_id": "patient_id"})
    else:
        frame = read("events")
    return frame[columns].to_csv(index=False, lineterminator="\n")


def write_single_limb(folder: Path) -> Path:
    """``folder`` holding the demo in the single-limb layout's three CSVs."""
    folder.mkdir(parents=True, exist_ok=True)
    for table in SINGLE_LIMB_TABLES:
        (folder / f"{table}.csv").write_text(single_limb_csv(table), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def hostile_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's patients spread over centres with hostile names, in a cohort so named."""
    return demo_with_centres(
        tmp_path_factory, "hostile",
        lambda patients: [HOSTILE_CENTRES[i % len(HOSTILE_CENTRES)] for i in patients.index],
        {"name": HOSTILE_NAME, "source": HOSTILE_NAME},
    )  # fmt: skip


# Names with control characters, as a file written by an earlier version or by hand may
# hold them (import refuses them): a vertical tab, which XML (the deck) cannot hold, and
# terminal escapes (a colour, a window title ended by a bell).
CONTROL_CENTRES = ("Centre\x0b2", "\x1b[31mRed\x1b[0m centre")
CONTROL_NAME = "Cohort\x1b]0;owned\x07 name\x0b"


@pytest.fixture(scope="session")
def control_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's patients in two centres named with control characters, in a cohort so
    named: imported with plain names, then renamed in the file as an editor could."""
    path = demo_with_centres(
        tmp_path_factory, "control",
        lambda patients: [f"C{i % 2}" for i in patients.index], {"name": "placeholder"},
    )  # fmt: skip
    with duckdb.connect(str(path)) as con:
        for i, name in enumerate(CONTROL_CENTRES):
            for table in ("patients", "limb_summary"):
                con.execute(f"UPDATE {table} SET center = ? WHERE center = ?", [name, f"C{i}"])
        con.execute("UPDATE cohort_metadata SET value = ? WHERE key = 'name'", [CONTROL_NAME])
    return path


SMALL_CENTRE = "C07"
SMALL_CENTRE_PATIENTS = ("P03", "P04", "P05")  # technical successes: 1 censored, 2 losses


@pytest.fixture(scope="session")
def small_centre_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's patients in two centres: C07 with three of them (fewer than the default
    k), C01 with the rest. An adjusted model on ``center`` has a level of 3 patients."""
    return demo_with_centres(
        tmp_path_factory, "small-centre",
        lambda patients: patients["patient_id"].isin(SMALL_CENTRE_PATIENTS).map(
            {True: SMALL_CENTRE, False: "C01"}),
        {"name": "Two centres"},
    )  # fmt: skip


@pytest.fixture
def demo(demo_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only, hardened connection to the demo cohort."""
    con = open_cohort(demo_path)
    yield con
    con.close()


@pytest.fixture
def bilateral(bilateral_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only, hardened connection to the bilateral synthetic registry."""
    con = open_cohort(bilateral_path)
    yield con
    con.close()


@functools.cache
def _schema_file() -> Path:
    """The cohort schema, run once per test process into a file of its own."""
    folder = Path(tempfile.mkdtemp(prefix="cohort-schema-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    with duckdb.connect(str(folder / "schema.duckdb")) as con:
        con.execute(SCHEMA_PATH.read_text())
    return folder / "schema.duckdb"


def schema_only() -> duckdb.DuckDBPyConnection:
    """A new in-memory database with the cohort schema and no rows: SCHEMA_PATH's tables,
    views and constraints copied from the file _schema_file wrote (0.04 s a database where
    running the schema's statements took 0.09 s; the property tests build hundreds), the
    same catalog (tests/unit/test_schema.py)."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{_schema_file()}' AS schema_only (READ_ONLY)")
    con.execute("COPY FROM DATABASE schema_only TO memory")
    con.execute("DETACH schema_only")
    return con


@pytest.fixture
def blank() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory database with the cohort schema and no rows."""
    con = schema_only()
    yield con
    con.close()


def add_patient(con: duckdb.DuckDBPyConnection, patient_id: str, **overrides: object) -> None:
    """Insert one patient with one treated limb of the same id: sensible defaults,
    overridden per test (``lesion_side`` names the limb's side, as the summary does)."""
    add_patients(con, [{"patient_id": patient_id, **overrides}])


def add_patients(con: duckdb.DuckDBPyConnection, rows: Sequence[dict]) -> None:
    """Insert patients as add_patient does, in their order, one statement per table (a
    statement per row made property tests' cohorts slow to build): each row holds its
    ``patient_id`` and the same overridden columns as every other."""
    people, limbs = [], []
    for overrides in rows:
        row = {**PATIENT_DEFAULTS, **overrides}
        person = {k: v for k, v in row.items() if k in person_columns()}
        people.append(person)
        limbs.append({
            "limb_id": row["patient_id"],
            "aetiology": "post_thrombotic",
            **{("side" if k == "lesion_side" else k): v for k, v in row.items() if k not in person},
            "patient_id": row["patient_id"],
        })  # fmt: skip
    insert_rows(con, "patients", people)
    insert_rows(con, "limbs", limbs)


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict]) -> None:
    """Insert ``rows`` (dicts of one set of columns, in one order) into ``table`` at once."""
    if not rows:
        return
    columns = list(rows[0])
    assert all(list(row) == columns for row in rows), "rows of different columns"
    marks = "(" + ", ".join("?" for _ in columns) + ")"
    con.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(marks for _ in rows)}",
        [value for row in rows for value in row.values()],
    )


def add_events(con: duckdb.DuckDBPyConnection, patient_id: str, *events: tuple[float, str]) -> None:
    """Insert (month, event) rows for one patient: a limb event on its one limb."""
    if not events:
        return
    con.executemany(
        "INSERT INTO events (patient_id, limb_id, month, event) VALUES (?, ?, ?, ?)",
        [(patient_id, None if e in PATIENT_EVENTS else patient_id, m, e) for m, e in events],
    )


@pytest.fixture
def page_test(demo_path: Path, monkeypatch: pytest.MonkeyPatch):
    """page_runner on the demo cohort."""
    yield from page_runner(demo_path, monkeypatch)


def page_runner(path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run a page (path relative to the repo) through AppTest on the cohort at ``path``.

    The app is loaded from app.py and switched to the page, as Streamlit's folder
    discovery runs it; ``secrets`` and ``user`` stand for a deployment's secrets file and
    the signed-in user (st.user), as login sets them.

    Caches are cleared first so each test sees a fresh app, and after, so no cached
    connection keeps a cohort file open in another configuration; query parameters are
    set before the first run, as a shared link would.
    """
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from analytics.cohort.db import ROOT
    from ui.data import close_connections

    monkeypatch.setenv("COHORT_DB", str(path))
    st.cache_data.clear()
    st.cache_resource.clear()
    close_connections()

    def run(
        page: str,
        *,
        secrets: dict | None = None,
        user: dict | None = None,
        timeout: float = 60,
        **params: str,
    ) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
        if secrets is not None:  # a deployment with login (.streamlit/secrets.toml)
            at.secrets = secrets
        if user is not None:  # st.user: the signed-in user's claims
            at.user = user
        for key, value in params.items():
            at.query_params[key] = value
        if page != "app.py":
            at.switch_page(page)
        return at.run()

    yield run
    st.cache_data.clear()
    st.cache_resource.clear()
    close_connections()  # no connection outlives the test and holds its file


# What Streamlit's Markdown still makes a link of after escapes are resolved (its GFM
# autolink-literal step, as in its bundle), and what parses as a link, image, HTML,
# directive or math when not escaped.
AUTOLINK = re.compile(r"(?i)(https?://|www\.)[-.\w]+|[-.\w+]+@[-\w]+(\.[-\w]+)+")
UNESCAPED = re.compile(r"(?<!\\)(\]\(|!\[|<[a-zA-Z/!]|:[a-z-]+\[|\$)")


def live_markup(markdown: str) -> list[str]:
    """The links, images, HTML, directives and math Streamlit would render from ``markdown``."""
    escaped_away = re.sub(r"\\.", "", markdown)
    seen = re.sub(r"\\(.)", r"\1", markdown)  # the text after escapes, as remark sees it
    return [m.group() for m in UNESCAPED.finditer(escaped_away)] + [
        m.group() for m in AUTOLINK.finditer(seen)
    ]


def unescaped(markdown: str) -> str:
    """The text a reader sees of Markdown that ui.text.plain escaped (its joiners unseen)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def plotly_charts(at) -> list[dict]:
    """The charts an AppTest run drew (ui.plot's component): each the data it sends the
    browser, {"figure": plotly JSON text, "config": plotly config}."""
    import json

    from ui.plot import COMPONENT

    elements = [e.proto for e in at.get("bidi_component") if e.proto.component_name == COMPONENT]
    return [json.loads(proto.json) for proto in elements]


def plotly_figures(at) -> list[dict]:
    """The plotly figures an AppTest run drew, as plotly JSON dicts."""
    import json

    return [json.loads(chart["figure"]) for chart in plotly_charts(at)]


def plotly_array(value: object) -> list:
    """A plotly JSON array as a list: plain lists pass through, typed arrays are decoded."""
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


# The longest test files, longest first (seconds a file took in two whole runs on 2 busy
# cores, 2026-12-07: their mean, then each). `pytest -n 2 --dist loadfile` hands each
# worker a file at a time in the order collected; xdist's own order (most tests first)
# left files of one long test (test_deck_privacy, test_layout_registry) to start last,
# while the other worker had finished. The two runs' times replayed through xdist's
# scheduling: the workers 1,433 and 1,233 s, 1,603 and 1,376 s in xdist's order; longest
# first 1,342 and 1,323 s, 1,492 and 1,487 s.
LONGEST_FIRST = (
    "browser/test_browser.py",  # 317 (336, 297)
    "browser/test_layout.py",  # 203 (233, 174)
    "unit/test_subgroup_centre_privacy.py",  # 138 (101, 175), up to 400 (random registries)
    "browser/test_roles.py",  # 126 (121, 130)
    "unit/test_deck_privacy.py",  # 125 (115, 134)
    "unit/test_properties.py",  # 124 (87, 160)
    "browser/test_layout_registry.py",  # 117 (125, 109)
    "unit/test_import.py",  # 72 (78, 66)
    "unit/test_report_privacy.py",  # 63 (50, 76)
    "unit/test_deck.py",  # 60 (52, 68)
    "unit/test_report.py",  # 56 (55, 57)
    "unit/test_redcap_mapping.py",  # 56 (31, 80)
    "unit/test_exports_beside_pages.py",  # 51 (71, 31)
    "unit/test_clinical_privacy.py",  # 47 (41, 53)
    "app/test_login.py",  # 44 (34, 54)
    "app/test_page_import.py",  # 44 (32, 56)
    "unit/test_engine_comparisons.py",  # 43 (32, 54)
    "unit/test_thorough_mask.py",  # 42 (56, 28)
    "unit/test_upgrade.py",  # 42 (53, 31)
    "app/test_page_privacy.py",  # 41 (29, 53)
    "app/test_user_imports.py",  # 40 (36, 44)
    "unit/test_models.py",  # 38 (36, 40)
    "unit/test_own_variables.py",  # 36 (41, 31)
    "app/test_page_models.py",  # 34 (20, 47)
    "unit/test_estimate_privacy.py",  # 33 (24, 42)
    "app/test_page_patency.py",  # 31 (47, 15)
)


def pytest_configure(config: pytest.Config) -> None:
    """Files go to the workers in the order collected (pytest_collection_modifyitems)."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every real-browser test is slow: `pytest -m "not slow"` runs the rest alone. The
    files of LONGEST_FIRST come first, in its order, then the others by their number of
    tests, most first (xdist's own order), each file's tests in their order."""
    tests = Path(__file__).parent
    browser = tests / "browser"
    for item in items:
        if browser in Path(item.fspath).parents:
            item.add_marker(pytest.mark.slow)
    rank = {str(tests / name): i for i, name in enumerate(LONGEST_FIRST)}
    counts: dict[str, int] = {}
    for item in items:
        counts[str(item.fspath)] = counts.get(str(item.fspath), 0) + 1
    items.sort(key=lambda item: (rank.get(str(item.fspath), len(rank)), -counts[str(item.fspath)]))
