"""Importing from the dashboard: uploads validated, the imported cohort shown and linkable."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from analytics.cohort.db import DEMO_SOURCE
from analytics.cohort.importer import DATA_TABLES, import_registry
from ui import cohorts


@dataclass
class Upload:
    """What st.file_uploader hands the page: a name and the bytes."""

    name: str
    data: bytes

    def getvalue(self) -> bytes:
        return self.data


@pytest.fixture
def import_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "imported"
    monkeypatch.setenv("COHORT_IMPORT_DIR", str(folder))
    return folder


def demo_uploads(**replace: bytes) -> list[Upload]:
    return [
        Upload(f"{t}.csv", replace.get(t, (DEMO_SOURCE / f"{t}.csv").read_bytes()))
        for t in DATA_TABLES
    ]


def test_three_csvs_become_a_named_cohort(import_dir):
    key, report = cohorts.import_upload(demo_uploads(), "Department A")
    assert (key, report) == ("department-a", None)
    assert (import_dir / "department-a.duckdb").is_file()


def test_a_bad_upload_returns_the_report_and_writes_nothing(import_dir):
    text = (DEMO_SOURCE / "assessments.csv").read_text().splitlines()
    columns = text[0].split(",")
    cells = text[1].split(",")
    cells[columns.index("villalta")] = "40"
    text[1] = ",".join(cells)
    uploads = demo_uploads(assessments=("\n".join(text) + "\n").encode())
    key, report = cohorts.import_upload(uploads, "Department A")
    assert key is None
    row = report.iloc[0]
    assert (row["file"], row["row"], row["column"], row["value"]) == (
        "assessments.csv",
        "2",
        "villalta",
        "40",
    )
    assert not import_dir.exists() or not list(import_dir.iterdir())


def test_a_wrong_set_of_files_is_named(import_dir):
    key, report = cohorts.import_upload(demo_uploads()[:2], "Department A")
    assert key is None
    assert "patients.csv, assessments.csv" in report.iloc[0]["file"]
    assert "exactly patients.csv, assessments.csv and events.csv" in report.iloc[0]["rule"]


def test_imported_cohort_opens_from_the_link_with_its_name(page_test, import_dir):
    import_registry(DEMO_SOURCE, import_dir / "dept-a.duckdb", metadata={"name": "Dept A"})
    at = page_test("app.py", cohort="dept-a")
    assert not at.exception
    assert any("Dept A" in c.value for c in at.sidebar.caption)
    assert not any("not patient data" in i.value for i in at.info)  # not the demo
    assert at.sidebar.selectbox(key="cohort").value == "dept-a"


def test_a_cohort_name_outside_the_folder_is_ignored(page_test, import_dir, demo_path):
    shutil.copy(demo_path, import_dir.parent / "secret.duckdb")
    at = page_test("app.py", cohort="../secret")
    assert not at.exception
    assert any("not patient data" in i.value for i in at.info)  # still the default demo


def test_the_report_on_screen_shows_no_identifier(import_dir):
    text = (DEMO_SOURCE / "patients.csv").read_text().replace("P02,", "P01,", 1)
    key, report = cohorts.import_upload(demo_uploads(patients=text.encode()), "Department A")
    duplicates = report[report["rule"].str.startswith("duplicate")]
    assert key is None and set(duplicates["row"]) == {"2", "3"}
    assert set(report.loc[report["column"] == "patient_id", "value"]) == {"(not shown)"}


def test_a_workbook_upload_becomes_a_cohort(import_dir, tmp_path):
    import pandas as pd

    book = tmp_path / "registry.xlsx"
    with pd.ExcelWriter(book) as writer:
        for table in DATA_TABLES:
            frame = pd.read_csv(DEMO_SOURCE / f"{table}.csv", dtype=str, keep_default_na=False)
            frame.to_excel(writer, sheet_name=table, index=False)
    key, report = cohorts.import_upload([Upload("Dept B.xlsx", book.read_bytes())], "Dept B")
    assert (key, report) == ("dept-b", None)
    assert (import_dir / "dept-b.duckdb").is_file()
