"""The data dictionary is generated from the schema and kept in step with it."""

from __future__ import annotations

from analytics.cohort.db import ROOT
from analytics.cohort.dictionary import data_dictionary, dictionary_markdown


def test_committed_dictionary_matches_the_schema():
    committed = (ROOT / "docs" / "data-dictionary.md").read_text()
    assert committed == dictionary_markdown(), (
        "run: python -m analytics dictionary > docs/data-dictionary.md"
    )


def test_every_column_is_described():
    frame = data_dictionary()
    assert not frame.empty
    assert (frame["meaning"].str.len() > 0).all(), frame.loc[
        frame["meaning"] == "", "column"
    ].tolist()


def test_no_direct_identifier_columns():
    columns = set(data_dictionary()["column"])
    assert not columns & {
        "name",
        "first_name",
        "last_name",
        "mrn",
        "address",
        "phone",
        "birth_date",
    }
