"""The data dictionary is generated from the schema and kept in step with it."""

from __future__ import annotations

from analytics.cohort.db import ROOT
from analytics.cohort.dictionary import data_dictionary, dictionary_markdown
from analytics.cohort.single_limb import SINGLE_LIMB_SCHEMA_PATH


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
    """A synonym of the registry's schema is in its dictionary; one of the single-limb
    layout's (its patients' lesion_side and access_vein) is in that layout's refusals."""
    from analytics.cohort.dictionary import SYNONYMS, coded_columns

    coded, single_limb = coded_columns(), coded_columns(SINGLE_LIMB_SCHEMA_PATH)
    committed = (ROOT / "docs" / "data-dictionary.md").read_text()
    frame = data_dictionary().set_index(["table", "column"])
    for (table, column), synonyms in SYNONYMS.items():
        if (table, column) not in coded:
            rule = single_limb[table, column].rule()
            assert all(f"{', '.join(ss)} for {c}" in rule for c, ss in synonyms.items())
            continue
        assert set(synonyms) <= set(coded[table, column].codes), (table, column)
        meaning = frame.loc[(table, column), "meaning"]
        for code, spellings in synonyms.items():
            assert f"{', '.join(spellings)} for {code}" in meaning
            assert f"{', '.join(spellings)} for {code}" in committed


def test_the_coded_columns_are_the_schemas_in_lists():
    from analytics.cohort.dictionary import coded_columns

    coded = coded_columns()
    assert set(coded) == {
        ("patients", "sex"), ("limbs", "side"), ("limbs", "aetiology"), ("limbs", "inflow"),
        ("limbs", "access_vein"), ("stents", "design"), ("events", "event"),
        ("events", "reintervention_type"), ("events", "indication"), ("assessments", "ulcer"),
        ("assessments", "imaging"), ("antithrombotic", "agent"),
        ("cohort_variables", "source_table"), ("cohort_variables", "kind"),
    }  # fmt: skip
    assert coded["limbs", "side"].codes == ("left", "right")
    assert coded["patients", "sex"].spellings == {"f": "F", "female": "F", "m": "M", "male": "M"}
    single_limb = coded_columns(SINGLE_LIMB_SCHEMA_PATH)
    assert set(single_limb) == {
        ("patients", "sex"), ("patients", "lesion_side"), ("patients", "access_vein"),
        ("events", "event"),
    }  # fmt: skip
    assert single_limb["patients", "lesion_side"].codes == ("left", "right")


def test_every_check_across_columns_has_words_in_the_dictionary():
    import duckdb

    from analytics.cohort.db import SCHEMA_PATH
    from analytics.cohort.dictionary import CROSS_COLUMN_RULES, table_descriptions

    def checks(schema) -> set[tuple[str, str]]:
        with duckdb.connect() as con:
            con.execute(schema.read_text())
            return {
                (table, expression)
                for table, names, expression in con.execute(
                    "SELECT table_name, constraint_column_names, expression "
                    "FROM duckdb_constraints() WHERE constraint_type = 'CHECK'"
                ).fetchall()
                if len(set(names)) > 1
            }

    registry = checks(SCHEMA_PATH)
    assert set(CROSS_COLUMN_RULES) == registry | checks(SINGLE_LIMB_SCHEMA_PATH)
    descriptions = table_descriptions()
    assert all(CROSS_COLUMN_RULES[key] in descriptions[key[0]] for key in registry)
    # The single-limb layout's patients rules are not the registry's patients table's.
    assert "Rules across columns" not in descriptions["patients"]
