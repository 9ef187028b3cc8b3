"""Importing from the dashboard: uploads validated, the imported cohort shown and linkable."""

from __future__ import annotations

import io
import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from analytics.cohort.db import DEMO_SOURCE
from analytics.cohort.importer import SINGLE_LIMB, import_registry
from tests.conftest import single_limb_csv, unescaped
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
    monkeypatch.delenv(cohorts.SHARED_ENV, raising=False)
    return folder


@pytest.fixture
def shared(import_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A deployment that publishes browser imports to every user."""
    monkeypatch.setenv(cohorts.SHARED_ENV, "yes")
    return import_dir


def demo_uploads(**replace: bytes) -> list[Upload]:
    return [
        Upload(f"{t}.csv", replace.get(t, single_limb_csv(t).encode())) for t in SINGLE_LIMB.tables
    ]


def single_limb_frame(table: str) -> pd.DataFrame:
    """The demo's ``table`` in the single-limb layout, its cells as written."""
    return pd.read_csv(io.StringIO(single_limb_csv(table)), dtype=str, keep_default_na=False)


def upload(files: list[Upload], name: str) -> tuple[str | None, object]:
    """The new cohort's key, or None and the validation report."""
    outcome = cohorts.import_upload(files, name)
    return outcome.key, outcome.report


def test_three_csvs_become_a_named_cohort(shared):
    key, report = upload(demo_uploads(), "Department A")
    assert (key, report) == ("department-a", None)
    assert (shared / "department-a.duckdb").is_file()


def test_a_bad_upload_returns_the_report_and_writes_nothing(import_dir):
    text = single_limb_csv("assessments").splitlines()
    columns = text[0].split(",")
    cells = text[1].split(",")
    cells[columns.index("villalta")] = "40"
    text[1] = ",".join(cells)
    uploads = demo_uploads(assessments=("\n".join(text) + "\n").encode())
    key, report = upload(uploads, "Department A")
    assert key is None
    row = report.iloc[0]
    assert (row["file"], row["row"], row["column"], row["value"]) == (
        "assessments.csv",
        "2",
        "villalta",
        "40",
    )
    assert not [path for path in import_dir.rglob("*") if path.is_file()]


def test_a_wrong_set_of_files_is_named(import_dir):
    key, report = upload(demo_uploads()[:2], "Department A")
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
    text = single_limb_csv("patients").replace("P02,", "P01,", 1)
    key, report = upload(demo_uploads(patients=text.encode()), "Department A")
    duplicates = report[report["rule"].str.startswith("duplicate")]
    assert key is None and set(duplicates["row"]) == {"2", "3"}
    assert set(report.loc[report["column"] == "patient_id", "value"]) == {"(not shown)"}


def test_a_workbook_upload_becomes_a_cohort(shared, tmp_path):
    book = tmp_path / "registry.xlsx"
    with pd.ExcelWriter(book) as writer:
        for table in SINGLE_LIMB.tables:
            frame = pd.read_csv(
                io.StringIO(single_limb_csv(table)), dtype=str, keep_default_na=False
            )
            frame.to_excel(writer, sheet_name=table, index=False)
    key, report = upload([Upload("Dept B.xlsx", book.read_bytes())], "Dept B")
    assert (key, report) == ("dept-b", None)
    assert (shared / "dept-b.duckdb").is_file()


def sidebar_notices(at) -> list[str]:
    return [unescaped(w.value) for w in at.sidebar.warning]


def test_a_browser_import_is_private_to_its_session_by_default(import_dir):
    key, report = upload(demo_uploads(), "Department A")
    assert (key, report) == ("department-a", None)
    assert not (import_dir / "department-a.duckdb").exists()  # not published
    assert key in cohorts.available()  # this session sees it


def test_a_link_to_another_sessions_import_shows_a_notice_and_the_default(page_test, import_dir):
    owner = import_dir / cohorts.PRIVATE / "another-session"
    import_registry(DEMO_SOURCE, owner / "dept-a.duckdb", metadata={"name": "Dept A"})
    at = page_test("app.py", cohort="dept-a")
    assert not at.exception
    assert any("not patient data" in i.value for i in at.info)  # the default demo
    assert not any("Dept A" in c.value for c in at.sidebar.caption)
    assert any("cohort='dept-a'" in n and "not shared" in n for n in sidebar_notices(at))


def test_a_sessions_own_import_opens_in_that_session(page_test, import_dir):
    """``page_test`` sets the environment; the session is built here to hold its token."""
    from streamlit.testing.v1 import AppTest

    from analytics.cohort.db import ROOT

    owner = import_dir / cohorts.PRIVATE / "0123abcd"
    import_registry(DEMO_SOURCE, owner / "dept-a.duckdb", metadata={"name": "Dept A"})
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[cohorts.OWNER_KEY] = "0123abcd"
    at.query_params["cohort"] = "dept-a"
    at.run()
    assert not at.exception
    assert any("Dept A" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize("second", ["DEPT-A!", "dept a", "Dept  A"])
def test_a_shared_name_collision_never_replaces_another_cohort(shared, second):
    assert upload(demo_uploads(), "Dept A") == ("dept-a", None)
    before = (shared / "dept-a.duckdb").read_bytes()
    key, report = upload(demo_uploads(), second)
    assert key is None
    assert "exists already" in report.iloc[0]["rule"]
    assert (shared / "dept-a.duckdb").read_bytes() == before


def test_a_private_import_cannot_take_a_published_cohorts_name(import_dir):
    import_registry(DEMO_SOURCE, import_dir / "dept-a.duckdb", metadata={"name": "Dept A"})
    key, report = upload(demo_uploads(), "Dept-A")
    assert key is None and "exists already" in report.iloc[0]["rule"]


@pytest.mark.parametrize("name", ["Cohort", "COHORT!", "default", "Default"])
def test_the_default_cohort_is_never_replaced_from_the_browser(
    shared, monkeypatch, demo_path, name
):
    """A deployment whose default cohort file lives in the import folder."""
    default = shared / "cohort.duckdb"
    shared.mkdir(parents=True, exist_ok=True)
    shutil.copy(demo_path, default)
    monkeypatch.setenv("COHORT_DB", str(default))
    before = default.read_bytes()
    key, report = upload(demo_uploads(), name)
    assert key is None and report is not None
    assert default.read_bytes() == before
    assert list(cohorts.available()) == [cohorts.DEFAULT]  # the default is listed once


def test_a_file_named_default_in_the_import_folder_does_not_shadow_the_default(
    page_test, import_dir
):
    import_registry(DEMO_SOURCE, import_dir / "default.duckdb", metadata={"name": "Planted"})
    at = page_test("app.py")
    assert not at.exception
    assert not any("Planted" in c.value for c in at.sidebar.caption)


def test_an_upload_bigger_than_a_sheet_may_be_is_refused(shared, monkeypatch):
    from analytics.cohort import importer

    monkeypatch.setattr(cohorts, "MAX_ROWS_PER_SHEET", 36)  # the demo has 37 patients
    key, report = upload(demo_uploads(), "Dept A")
    assert key is None
    assert "more than 36 rows" in report.iloc[0]["rule"]
    assert importer.MAX_ROWS_PER_SHEET == 100_000


def test_a_whole_number_too_large_is_reported_not_raised(shared):
    text = single_limb_csv("patients").replace("P01,85,", "P01,3000000000,", 1)
    key, report = upload(demo_uploads(patients=text.encode()), "Dept A")
    assert key is None
    row = report.iloc[0]
    assert (row["file"], row["row"], row["column"], row["value"]) == (
        "patients.csv",
        "2",
        "age_years",
        "3000000000",
    )


@pytest.mark.parametrize(("setting", "said"), [("", "only in this browser session"),
                                               ("yes", "shared with every user")])  # fmt: skip
def test_the_data_page_says_who_sees_an_import_and_the_limits(
    page_test, import_dir, monkeypatch, setting, said
):
    monkeypatch.setenv(cohorts.SHARED_ENV, setting)
    at = page_test("pages/6_Data.py")
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert any(said in c and "50 MB" in c and "100,000 rows" in c for c in captions), captions


def test_an_upload_whose_header_never_closes_a_quote_gets_one_message(import_dir):
    text = single_limb_csv("patients").replace("bmi,", '"bmi,', 1)
    text += "P99,70,F\n" * 20_000  # the open cell grows past the csv module's limit
    key, report = upload(demo_uploads(patients=text.encode()), "Dept A")
    assert key is None and len(report) == 1
    row = report.iloc[0]
    assert (row["file"], row["row"]) == ("patients.csv", "1")
    assert 'a quote (") opens a cell on line 1 and is never closed' in row["rule"]


def demo_workbook(path: Path, **replace: tuple[str, int, str]) -> bytes:
    """The demo's three tables as a workbook; ``replace``: table -> (column, row, value)."""
    with pd.ExcelWriter(path) as writer:
        for table in SINGLE_LIMB.tables:
            frame = pd.read_csv(
                io.StringIO(single_limb_csv(table)), dtype=str, keep_default_na=False
            )
            if table in replace:
                column, row, value = replace[table]
                frame.loc[row - 2, column] = value
            frame.to_excel(writer, sheet_name=table, index=False)
    return path.read_bytes()


def test_the_report_names_the_uploaded_workbook(import_dir, tmp_path):
    bad = demo_workbook(tmp_path / "bad.xlsx", patients=("sex", 3, "X"))
    key, report = upload([Upload("Dept B 2026.xlsx", bad)], "Dept B")
    assert key is None
    assert report.iloc[0]["file"] == "Dept B 2026.xlsx, sheet patients"
    assert report.iloc[0]["row"] == "3"


def test_a_corrected_csv_chosen_after_the_refused_one_replaces_it(import_dir):
    bad = single_limb_csv("patients").replace(",F,", ",X,", 1).encode()
    files = [*demo_uploads(patients=bad), Upload("patients.csv", demo_uploads()[0].data)]
    outcome = cohorts.import_upload(files, "Dept A")
    assert (outcome.key, outcome.report, outcome.patients) == ("dept-a", None, 37)
    assert outcome.files == "patients.csv, assessments.csv, events.csv"


def test_a_corrected_workbook_chosen_after_the_refused_one_replaces_it(import_dir, tmp_path):
    bad = demo_workbook(tmp_path / "bad.xlsx", patients=("sex", 3, "X"))
    good = demo_workbook(tmp_path / "good.xlsx")
    outcome = cohorts.import_upload(
        [Upload("registry.xlsx", bad), Upload("registry (fixed).xlsx", good)], "Dept B"
    )
    assert (outcome.key, outcome.report, outcome.files) == ("dept-b", None, "registry (fixed).xlsx")
    from analytics.cohort.db import metadata, open_cohort

    with open_cohort(cohorts.available()["dept-b"]) as con:
        assert metadata(con)["source"] == "Imported from registry (fixed).xlsx"


def import_form(at, files: list[tuple[str, bytes, str]], name: str):
    """Choose ``files`` (every file the uploader holds, in the order chosen), name, submit."""
    at.file_uploader[0].set_value(files)
    next(t for t in at.text_input if t.label == "Cohort name").input(name)
    next(b for b in at.button if b.label == "Validate and import").click()
    return at.run()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_browser_import_says_it_succeeded_beside_the_form(page_test, import_dir, tmp_path):
    bad = demo_workbook(tmp_path / "bad.xlsx", patients=("lesion_side", 4, "middle"))
    good = demo_workbook(tmp_path / "good.xlsx", patients=("lesion_side", 4, "Left"))
    at = page_test("pages/6_Data.py")
    at = import_form(at, [("Dept B.xlsx", bad, XLSX)], "Dept B")
    assert not at.exception
    assert any(e.value.startswith("Not imported: 1 problem(s)") for e in at.error)
    report = at.table[0].value
    assert (report.iloc[0]["file"], report.iloc[0]["row"]) == ("Dept B.xlsx, sheet patients", "4")
    assert report.iloc[0]["rule"].startswith("lesion_side must be left or right")

    at = import_form(at, [("Dept B.xlsx", bad, XLSX), ("Dept B.xlsx", good, XLSX)], "Dept B")
    assert not at.exception and not at.error
    said = [unescaped(s.value) for s in at.success]
    assert said == [
        "Imported Dept B from Dept B.xlsx: 37 patients. It is now the cohort shown on every page."
    ]
    assert any("Dept B" in c.value for c in at.sidebar.caption)
    assert any("data-quality warning(s)" in w.value for w in at.warning)
    warnings = at.table[0].value
    assert set(warnings["column"]) == {"ceap_c"}
    assert warnings["rule"].str.startswith("data-quality warning").all()


def test_in_privacy_mode_the_success_message_hides_a_small_count(page_test, import_dir, tmp_path):
    kept = ("P01", "P02", "P03")
    with pd.ExcelWriter(tmp_path / "small.xlsx") as writer:
        for table in SINGLE_LIMB.tables:
            frame = pd.read_csv(
                io.StringIO(single_limb_csv(table)), dtype=str, keep_default_na=False
            )
            frame[frame["patient_id"].isin(kept)].to_excel(writer, sheet_name=table, index=False)
    at = page_test("pages/6_Data.py", privacy="yes")
    at = import_form(at, [("small.xlsx", (tmp_path / "small.xlsx").read_bytes(), XLSX)], "Small")
    assert not at.exception
    (said,) = [unescaped(s.value) for s in at.success]
    assert said.startswith("Imported Small from small.xlsx: <5 patients.") and "3" not in said


def registry_uploads(tables: dict[str, list[dict[str, str]]]) -> list[Upload]:
    """The registry layout's tables as the CSV files a user chooses."""
    from tests.unit.test_import_registry import write_csvs

    with tempfile.TemporaryDirectory() as scratch:
        folder = write_csvs(Path(scratch), tables)
        return [Upload(f"{t}.csv", (folder / f"{t}.csv").read_bytes()) for t in tables]


def test_the_registry_layouts_csvs_become_a_cohort(shared):
    from tests.unit.test_import_registry import registry_tables

    outcome = cohorts.import_upload(registry_uploads(registry_tables()), "Bilateral")
    assert (outcome.key, outcome.report, outcome.patients) == ("bilateral", None, 4)
    from analytics.cohort.db import open_cohort

    with open_cohort(shared / "bilateral.duckdb") as con:
        limbs = con.execute("SELECT count(*), count(DISTINCT patient_id) FROM limb_summary")
        assert limbs.fetchone() == (6, 4)


def test_the_demos_registry_csvs_without_stents_become_a_cohort(import_dir):
    from analytics.cohort.db import DEMO_SOURCE

    files = [
        Upload(path.name, path.read_bytes())
        for path in sorted(DEMO_SOURCE.glob("*.csv"))
        if path.name != "metadata.csv"
    ]
    assert {f.name for f in files} == {"patients.csv", "limbs.csv", "events.csv", "assessments.csv"}
    outcome = cohorts.import_upload(files, "Demo again")
    assert (outcome.report, outcome.patients) == (None, 37)
    assert outcome.files == "patients.csv, limbs.csv, events.csv, assessments.csv"


def test_a_registry_upload_without_its_assessments_is_named(import_dir):
    from tests.unit.test_import_registry import registry_tables

    files = [f for f in registry_uploads(registry_tables()) if f.name != "assessments.csv"]
    key, report = upload(files, "Bilateral")
    assert key is None
    assert "patients.csv, limbs.csv, events.csv and assessments.csv" in report.iloc[0]["rule"]


def test_a_registry_workbooks_problem_names_its_sheet_row_and_column(page_test, import_dir):
    from tests.unit.test_import_registry import edited, write_workbook

    with tempfile.TemporaryDirectory() as scratch:
        bad = write_workbook(Path(scratch) / "bad.xlsx", edited("events", 0, patient_id="B"))
        data = bad.read_bytes()
    at = page_test("pages/6_Data.py")
    at = import_form(at, [("Dept C.xlsx", data, XLSX)], "Dept C")
    assert not at.exception
    assert any(e.value.startswith("Not imported: 1 problem(s)") for e in at.error)
    row = at.table[0].value.iloc[0]
    assert (row["file"], row["row"], row["column"]) == (
        "Dept C.xlsx, sheet events",
        "2",
        "patient_id",
    )
    assert row["value"] == "(not shown)"  # an identifier
    assert row["rule"].startswith("not the patient of this limb_id")


def test_a_registry_workbook_imports_from_the_page(page_test, import_dir):
    from tests.unit.test_import_registry import registry_tables, write_workbook

    with tempfile.TemporaryDirectory() as scratch:
        data = write_workbook(Path(scratch) / "good.xlsx", registry_tables()).read_bytes()
    at = page_test("pages/6_Data.py")
    at = import_form(at, [("Dept C.xlsx", data, XLSX)], "Dept C")
    assert not at.exception and not at.error
    said = [unescaped(s.value) for s in at.success]
    assert said == [
        "Imported Dept C from Dept C.xlsx: 4 patients. It is now the cohort shown on every page."
    ]


def test_the_report_on_screen_shows_no_date_and_no_limb(import_dir):
    from tests.unit.test_import_registry import A_DAY, edited

    day = (A_DAY + timedelta(days=182)).isoformat()
    tables = edited("events", 3, month="5", event_date=day)
    tables["stents"][0]["limb_id"] = "X-L"
    key, report = upload(registry_uploads(tables), "Bilateral")
    assert key is None
    shown = dict(zip(report["column"], report["value"], strict=True))
    assert shown == {"month, event_date": "(not shown)", "limb_id": "(not shown)"}
    assert day not in report.to_csv()
