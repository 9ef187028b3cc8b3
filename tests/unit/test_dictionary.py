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


def test_every_synonym_is_for_a_code_of_the_schema_and_is_documented():
    from analytics.cohort.dictionary import SYNONYMS, coded_columns

    coded = coded_columns()
    committed = (ROOT / "docs" / "data-dictionary.md").read_text()
    frame = data_dictionary().set_index(["table", "column"])
    for (table, column), synonyms in SYNONYMS.items():
        assert set(synonyms) <= set(coded[table, column].codes), (table, column)
        meaning = frame.loc[(table, column), "meaning"]
        for code, spellings in synonyms.items():
            for spelling in spellings:
                assert f"{spelling} for {code}" in meaning
                assert f"{spelling} for {code}" in committed


def test_the_coded_columns_are_the_schemas_in_lists():
    from analytics.cohort.dictionary import coded_columns

    coded = coded_columns()
    assert set(coded) == {
        ("patients", "sex"), ("patients", "lesion_side"), ("patients", "access_vein"),
        ("events", "event"),
    }  # fmt: skip
    assert coded["patients", "lesion_side"].codes == ("left", "right")
    assert coded["patients", "sex"].spellings == {"f": "F", "female": "F", "m": "M", "male": "M"}


def test_every_check_across_columns_has_words_in_the_dictionary():
    import duckdb

    from analytics.cohort.db import SCHEMA_PATH
    from analytics.cohort.dictionary import CROSS_COLUMN_RULES, table_descriptions

    with duckdb.connect() as con:
        con.execute(SCHEMA_PATH.read_text())
        checks = {
            (table, expression)
            for table, names, expression in con.execute(
                "SELECT table_name, constraint_column_names, expression FROM duckdb_constraints() "
                "WHERE constraint_type = 'CHECK'"
            ).fetchall()
            if len(set(names)) > 1
        }
    assert set(CROSS_COLUMN_RULES) == checks
    descriptions = table_descriptions()
    assert all(words in descriptions[t] for (t, _), words in CROSS_COLUMN_RULES.items())
