"""A REDCap project's exports uploaded on the Data page: the records export and the data
dictionary export (named as REDCap names them, after the project), with a mapping file for
a project not built from the template, import to the cohort the command line gives."""

# Fixtures of test_page_import, test_redcap and test_redcap_mapping are imported, then
# named as arguments:
# ruff: noqa: F811
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analytics.cohort.importer import REGISTRY
from analytics.cohort.redcap_import import import_redcap
from tests.app.test_page_import import Upload, import_dir  # noqa: F401 (a fixture, by name)
from tests.unit.test_redcap import (  # noqa: F401 (its fixtures, used by name)
    cohort_tables,
    dictionary,
    redcap_export,
    source,
    tables,
    template,
)
from tests.unit.test_redcap_mapping import (  # noqa: F401 (its fixtures, used by name)
    CLASSIC,
    classic,
    template_cohort,
    write,
)
from ui import cohorts

RECORDS = "VenousStentRegistry_DATA_2026-12-07_0612.csv"  # as REDCap names its exports
DICTIONARY = "VenousStentRegistry_DataDictionary_2026-12-07.csv"


def imported_tables(key: str, import_dir: Path) -> dict[str, pd.DataFrame]:
    (path,) = import_dir.rglob(f"{key}.duckdb")
    return cohort_tables(path)


def test_a_template_projects_exports_upload_to_the_cohort_the_cli_imports(
    import_dir, tables, dictionary, template, tmp_path
):
    records = redcap_export(tables, dictionary).encode()
    dictionary_csv = (template / "redcap_dictionary.csv").read_bytes()
    outcome = cohorts.import_upload(
        [Upload(DICTIONARY, dictionary_csv), Upload(RECORDS, records)], "REDCap registry"
    )
    assert outcome.report is None
    (tmp_path / "records.csv").write_bytes(records)
    expected = import_redcap(
        tmp_path / "records.csv", template / "redcap_dictionary.csv", tmp_path / "cli.duckdb"
    )
    assert outcome.patients == expected.patients == 30
    got, want = imported_tables(outcome.key, import_dir), cohort_tables(expected.path)
    for table in REGISTRY.tables:
        pd.testing.assert_frame_equal(got[table], want[table], obj=table)


def test_a_project_built_differently_uploads_with_its_mapping_file(
    import_dir, tables, dictionary, template, classic, tmp_path
):
    records, dictionary_csv, mapping = write(
        tmp_path / "project", CLASSIC.read_text(), classic, classic.records(tables)
    )
    outcome = cohorts.import_upload(
        [
            Upload("mapping.toml", mapping.read_bytes()),
            Upload(RECORDS, records.read_bytes()),
            Upload(DICTIONARY, dictionary_csv.read_bytes()),
        ],
        "Mapped registry",
    )
    assert outcome.report is None
    expected = template_cohort(tables, dictionary, template, tmp_path / "template")
    got = imported_tables(outcome.key, import_dir)
    for table in REGISTRY.tables:
        pd.testing.assert_frame_equal(got[table], expected[table], obj=table)


@pytest.mark.parametrize(
    "names",
    [
        [DICTIONARY],  # no records
        [DICTIONARY, DICTIONARY.replace("2026", "2025"), RECORDS],  # two dictionaries
        ["mapping.toml", "second.toml", DICTIONARY, RECORDS],  # two mappings
        ["mapping.toml", "patients.csv", "limbs.csv"],  # a mapping beside the registry's CSVs
    ],
)
def test_a_set_of_files_that_is_not_one_projects_exports_is_named(import_dir, template, names):
    dictionary_csv = (template / "redcap_dictionary.csv").read_bytes()
    files = [Upload(n, dictionary_csv if "Dictionary" in n else b"record_id\n1\n") for n in names]
    outcome = cohorts.import_upload(files, "Refused")
    assert outcome.key is None
    (rule,) = outcome.report["rule"]
    assert "records export (CSV, raw or labels) and its data dictionary export" in rule
    assert not import_dir.exists() or not list(import_dir.rglob("*.duckdb"))


def test_the_date_order_chosen_reads_the_exports_slashed_dates(
    import_dir, tables, dictionary, template
):
    records = redcap_export(tables, dictionary, dates="dmy").encode()
    dictionary_csv = (template / "redcap_dictionary.csv").read_bytes()
    files = [Upload(DICTIONARY, dictionary_csv), Upload(RECORDS, records)]
    assert cohorts.import_upload(files, "Day first", "dmy").report is None
    refused = cohorts.import_upload(files, "Month first", "mdy").report
    assert refused is not None and refused["rule"].str.contains("ISO date").any()


def test_the_data_page_takes_a_mapping_file_and_asks_how_dates_are_written(page_test):
    at = page_test("pages/6_Data.py")
    (uploader,) = [e for e in at.get("file_uploader")]
    assert {"xlsx", "csv", "toml"} <= {t.lstrip(".") for t in uploader.proto.type}
    dates = at.selectbox(key="redcap_dates")
    assert dates.options == ["as the file's days tell", "DD/MM/YYYY", "MM/DD/YYYY"]
