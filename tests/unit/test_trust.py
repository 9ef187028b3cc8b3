"""A cohort file is trusted only after it is checked: damaged or edited files are refused.

The check is cheap (catalog, row counts, an order-free checksum of the patient ids,
finite numbers), so it guards against corruption and accidental edits, not a forger.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from analytics.cli import main
from analytics.cohort.db import CohortError, open_cohort
from tests.conftest import unescaped

EDITS = {
    "rows deleted": (
        "DELETE FROM limb_summary WHERE rowid < 10",
        "limb_summary holds 27 limbs but limbs holds 37",
    ),
    "a patient swapped": (
        "UPDATE limb_summary SET limb_id = 'X' || limb_id WHERE rowid = 0",
        "limb_summary's limbs are not those of limbs",
    ),
    "NaN": (
        "UPDATE limb_summary SET tte_primary_months = 'nan'::DOUBLE WHERE rowid = 0",
        "NaN or infinite values in limb_summary.tte_primary_months",
    ),
    "infinity": (
        "UPDATE limb_summary SET bmi = '-inf'::DOUBLE WHERE rowid < 3",
        "NaN or infinite values in limb_summary.bmi (3 rows)",
    ),
    "a column dropped": (
        "ALTER TABLE limb_summary DROP COLUMN tte_primary_event",
        "limb_summary lacks column tte_primary_event (BOOLEAN)",
    ),
    "a column retyped": (
        "ALTER TABLE limb_summary ALTER age_years TYPE VARCHAR",
        "limb_summary.age_years is VARCHAR, not INTEGER",
    ),
    "an assessments column dropped": (
        "ALTER TABLE assessments DROP COLUMN reflux",
        "assessments lacks column reflux (BOOLEAN)",
    ),
}


def edited(demo_path: Path, tmp_path: Path, statement: str) -> Path:
    """A copy of the demo with one statement run on it, as a careless edit would."""
    path = tmp_path / "edited.duckdb"
    shutil.copyfile(demo_path, path)
    with duckdb.connect(str(path)) as con:
        con.execute(statement)
    return path


def truncated(demo_path: Path, tmp_path: Path, share: float) -> Path:
    """A copy of the demo cut short, as an interrupted copy leaves it."""
    path = tmp_path / f"truncated-{share}.duckdb"
    shutil.copyfile(demo_path, path)
    with path.open("r+b") as file:
        file.truncate(int(path.stat().st_size * share))
    return path


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
def test_an_edited_file_is_refused_naming_the_file_and_the_problem(demo_path, tmp_path, edit):
    statement, problem = EDITS[edit]
    path = edited(demo_path, tmp_path, statement)
    with pytest.raises(CohortError) as refused:
        open_cohort(path)
    assert str(path) in str(refused.value)
    assert problem in str(refused.value)


@pytest.mark.parametrize("share", [0.3, 0.5, 0.8, 0.95, 0.999])
def test_a_truncated_file_that_still_opens_is_refused(demo_path, tmp_path, share):
    path = truncated(demo_path, tmp_path, share)
    with pytest.raises(CohortError, match=f"cohort file {path} is (truncated|damaged)"):
        open_cohort(path)


def test_the_demo_and_a_registry_pass_the_check(demo_path, registry_path):
    for path in (demo_path, registry_path):
        open_cohort(path).close()


@pytest.mark.parametrize("command", ["report", "deck"])
def test_the_command_line_says_one_line_and_exits_1(demo_path, tmp_path, capsys, command):
    path = edited(demo_path, tmp_path, EDITS["rows deleted"][0])
    args = [command, "--db", str(path)] + (
        ["--out", str(tmp_path / "x.pptx")] * (command == "deck")
    )
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "limb_summary holds 27 limbs" in err
    assert not (tmp_path / "x.pptx").exists()


@pytest.mark.parametrize(
    "page", ["app.py", "pages/1_Patency.py", "pages/5_Tables.py", "pages/7_Centres.py"]
)
def test_every_page_says_why_the_file_is_refused(page_test, monkeypatch, demo_path, tmp_path, page):
    path = edited(demo_path, tmp_path, EDITS["NaN"][0])
    monkeypatch.setenv("COHORT_DB", str(path))
    at = page_test(page)
    assert not at.exception
    errors = [unescaped(e.value) for e in at.error]
    assert any(str(path) in e and "NaN or infinite" in e for e in errors), errors


def test_a_truncated_file_gives_a_clear_page(page_test, monkeypatch, demo_path, tmp_path):
    path = truncated(demo_path, tmp_path, 0.8)
    monkeypatch.setenv("COHORT_DB", str(path))
    at = page_test("pages/3_Safety.py")
    assert not at.exception
    assert any(str(path) in unescaped(e.value) for e in at.error)
