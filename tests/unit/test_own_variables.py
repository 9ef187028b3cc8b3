"""A registry's own columns (cohort format 7): imported with a dictionary row or taken from
their values, kept in the file with their words, and every role of a built-in variable of
their kind: ``--where``, ``--by`` and ``--adjust`` in the report, Table 1, privacy.

The registry is the demo's with one own column of each kind (tests.own_registry). The
expected numbers come from plain SQL on the file's rows and from lifelines' CoxPHFitter
(Efron ties; the demo has one limb per patient, so a fit on its rows is one on patients).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics.cli import main
from analytics.cohort.db import CohortError, cohort_variables, open_cohort
from analytics.cohort.importer import ValidationError, import_with_report
from analytics.cohort.problems import visible
from analytics.cohort.template import template_workbook
from analytics.cohort.upgrade import upgrade
from analytics.filters import CohortFilter
from analytics.rules import MAX_HEADER_COLUMNS, MAX_OWN_COLUMNS
from analytics.variables import OWN_SECTION, Role
from analytics.views import tables_view
from tests.own_registry import (
    GROUPINGS,
    INFERRED,
    KINDS,
    LABELS,
    RARE,
    TABLES,
    write_own_registry,
)

TYPES = {"yes_no": "BOOLEAN", "category": "VARCHAR", "ordered": "VARCHAR", "number": "DOUBLE"}


def report(capsys, db: Path, *options: str) -> dict:
    assert main(["report", "--db", str(db), "--json", *options]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def rows(db: Path, sql: str) -> list[tuple]:
    with open_cohort(db) as con:
        return con.execute(sql).fetchall()


# ---- the import ------------------------------------------------------------------------


def test_each_kind_imports_with_and_without_a_dictionary_row(own_path):
    with open_cohort(own_path) as con:
        variables = cohort_variables(con)
        stored = dict(
            con.execute(
                "SELECT key, (source_table, kind, label, inferred) FROM cohort_variables"
            ).fetchall()
        )
        types = dict(
            con.execute(
                "SELECT table_name || '.' || column_name, data_type FROM duckdb_columns() "
                "WHERE table_name IN ('patients', 'limbs', 'limb_summary')"
            ).fetchall()
        )
    inferred = {name for _, name, _ in INFERRED}
    assert stored == {key: (TABLES[key], KINDS[key], LABELS[key], key in inferred) for key in KINDS}
    for key, kind in KINDS.items():
        assert types[f"{TABLES[key]}.{key}"] == TYPES[kind]
        assert types[f"limb_summary.{key}"] == TYPES[kind]
        variable = variables.get(key)
        assert (variable.label, variable.section, str(variable.kind)) == (
            LABELS[key], OWN_SECTION, kind,
        )  # fmt: skip
    assert dict(variables.get("trial_arm").levels) == {"a": "Arm A", "b": "Arm B"}
    assert dict(variables.get("site_group").levels) == {
        "north": "north",
        RARE: RARE,
        "south": "south",
    }
    # a code in another case, and a level's label, are read as the code
    assert rows(own_path, "SELECT DISTINCT trial_arm FROM patients ORDER BY 1") == [("a",), ("b",)]
    assert ("mid",) in rows(own_path, "SELECT DISTINCT grade FROM limbs")


def test_each_plays_the_roles_of_a_builtin_of_its_kind(own_path):
    with open_cohort(own_path) as con:
        variables = cohort_variables(con)
    every = set(Role)
    for key in ("trial_arm", "grade", "compression", "site_group", "completed_protocol"):
        assert set(variables.get(key).roles) == every, key
    assert set(variables.get("frailty").roles) == every  # with bands, as age
    assert set(variables.get("anticoagulant_days").roles) == {  # without, as BMI
        Role.FILTER, Role.TABLE1, Role.COVARIATE,
    }  # fmt: skip
    assert variables.grouped("frailty_band").bands.levels == ("< 3", "3-5", ">= 6")


def test_the_import_report_lists_each_column_taken_from_its_values(tmp_path, capsys):
    source = write_own_registry(tmp_path / "source")
    assert main(["import", str(source), "--out", str(tmp_path / "own.duckdb")]) == 0
    err = capsys.readouterr().err
    assert "note: 3 column(s) taken from their values" in err
    assert "patients.csv, column compression: not in the dictionary: taken as yes/no" in err
    assert (
        "patients.csv, column site_group: not in the dictionary: taken as a category of "
        "north, rare or south"
    ) in err
    assert (
        "limbs.csv, column anticoagulant_days: not in the dictionary: taken as a number (30 to 60)"
    ) in err
    imported = import_with_report(source, tmp_path / "again.duckdb")
    assert [note.column for note in imported.notes] == [name for _, name, _ in INFERRED]


def test_a_workbook_with_a_dictionary_sheet_imports_as_the_csvs(own_path, tmp_path):
    source = write_own_registry(tmp_path / "source")
    book = tmp_path / "registry.xlsx"
    with pd.ExcelWriter(book) as writer:
        for csv in sorted(source.glob("*.csv")):
            frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
            frame.to_excel(writer, sheet_name=csv.stem, index=False)
    imported = import_with_report(book, tmp_path / "book.duckdb")
    query = "SELECT * EXCLUDE (position) FROM cohort_variables ORDER BY key"
    assert rows(imported.path, query) == rows(own_path, query)
    summary = f"SELECT {', '.join(KINDS)} FROM limb_summary ORDER BY limb_id"
    assert rows(imported.path, summary) == rows(own_path, summary)


def test_the_template_has_an_empty_dictionary_sheet_with_its_headers(tmp_path):
    import openpyxl

    path = tmp_path / "template.xlsx"
    path.write_bytes(template_workbook())
    sheet = openpyxl.load_workbook(path)["dictionary"]
    assert [c.value for c in sheet[1]] == ["name", "label", "type", "levels", "unit", "bands"]
    assert sheet.max_row == 1


# ---- the file ----------------------------------------------------------------------------


def test_the_file_reopens_with_the_same_labels_and_needs_no_upgrade(own_path, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(own_path, copy)
    with open_cohort(copy) as con:
        first = cohort_variables(con)
    assert upgrade(copy) is False
    with open_cohort(copy) as con:
        again = cohort_variables(con)
    assert again == first
    assert {key: again.get(key).label for key in KINDS} == LABELS


def _edited(own_path: Path, tmp_path: Path, *statements: str) -> Path:
    path = tmp_path / "edited.duckdb"
    shutil.copy(own_path, path)
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)
    return path


@pytest.mark.parametrize(
    ("statements", "said"),
    [
        (["ALTER TABLE limb_summary DROP COLUMN grade"],
         "limb_summary lacks column grade (VARCHAR), which cohort_variables declares"),
        (["ALTER TABLE limb_summary ADD COLUMN sneaky VARCHAR"],
         "limb_summary holds column(s) sneaky that cohort_variables does not declare"),
        (["DELETE FROM cohort_variables WHERE key = 'compression'"],
         "patients holds column(s) compression that cohort_variables does not declare"),
        (["UPDATE cohort_variables SET kind = 'number' WHERE key = 'trial_arm'"],
         "patients.trial_arm is VARCHAR, not DOUBLE"),
        (["UPDATE cohort_variables SET label = '[x](https://e.example)' WHERE key = 'grade'"],
         "its own variables cannot be used"),
    ],
    ids=["missing", "undeclared-summary", "undeclared", "type", "label"],
)  # fmt: skip
def test_a_file_whose_own_columns_and_declarations_disagree_is_refused(
    own_path, tmp_path, statements, said
):
    path = _edited(own_path, tmp_path, *statements)
    with pytest.raises(CohortError, match=re.escape(said)):
        open_cohort(path)


# ---- the report: --where, --by, --adjust ---------------------------------------------------

# Each --where choice and the same patients in SQL (the technical successes, the default).
WHERE = [
    (["trial_arm=a"], "trial_arm = 'a'"),
    (["compression=yes"], "compression"),
    (["site_group=north"], "site_group = 'north'"),
    (["completed_protocol=no"], "NOT completed_protocol"),
    (["grade=high"], "grade = 'high'"),
    (["frailty_min=2", "frailty_max=6"], "frailty BETWEEN 2 AND 6"),
    (["anticoagulant_days_min=40"], "anticoagulant_days >= 40"),
]


@pytest.mark.parametrize(("where", "sql"), WHERE, ids=[w[0] for w, _ in WHERE])
def test_each_is_a_where_choice(own_path, capsys, where, sql):
    data = report(capsys, own_path, *(a for pair in where for a in ("--where", pair)))
    successes = "SELECT count(*) FROM limb_summary WHERE technical_success"
    ((expected,),) = rows(own_path, f"{successes} AND {sql}")
    assert 0 < expected < 34
    assert data["n_patients"] == expected


# Each grouping's raw level in SQL.
LEVEL_SQL = {
    "frailty_band": "CASE WHEN frailty < 3 THEN '< 3' WHEN frailty < 6 THEN '3-5' ELSE '>= 6' END",
    "compression": "CASE WHEN compression THEN 'yes' ELSE 'no' END",
    "completed_protocol": "CASE WHEN completed_protocol THEN 'yes' ELSE 'no' END",
}


@pytest.mark.parametrize("by", GROUPINGS)
def test_each_is_a_by_choice_counting_its_patients_and_events(own_path, capsys, by):
    data = report(capsys, own_path, "--by", by)
    level = LEVEL_SQL.get(by, by)
    expected = {
        str(group): (patients, events)
        for group, patients, events in rows(
            own_path,
            f"SELECT {level}, count(*), sum(tte_primary_event::INT) FROM limb_summary "
            "WHERE technical_success GROUP BY 1",
        )
    }
    summary = data["patency"]["primary"]["group_summary"]
    assert {g: (s["patients"], s["events"]) for g, s in summary.items()} == expected
    assert len(expected) > 1


@pytest.mark.parametrize(
    ("adjust", "columns"),
    [
        ("frailty,trial_arm,completed_protocol",
         {"frailty": "frailty", "trial_arm=b": "(trial_arm = 'b')::DOUBLE",
          "completed_protocol=yes": "completed_protocol::DOUBLE"}),
        ("anticoagulant_days,compression",
         {"anticoagulant_days": "anticoagulant_days", "compression=yes": "compression::DOUBLE"}),
    ],
    ids=["declared", "inferred"],
)  # fmt: skip
def test_each_is_an_adjust_choice_fitting_as_lifelines_on_patient_rows(
    own_path, capsys, adjust, columns
):
    from lifelines import CoxPHFitter

    data = report(capsys, own_path, "--adjust", adjust)
    terms = {t["term"]: t for t in data["patency"]["primary"]["adjusted"]}
    names = {term: f"x{i}" for i, term in enumerate(columns)}
    selected = ", ".join(f"{sql} AS {names[term]}" for term, sql in columns.items())
    with open_cohort(own_path) as con:
        frame = con.execute(
            f"SELECT tte_primary_months AS t, tte_primary_event::INT AS e, {selected} "
            "FROM limb_summary WHERE technical_success"
        ).df()
    fitted = CoxPHFitter().fit(frame, "t", "e").summary
    assert set(terms) == set(columns)
    for term, name in names.items():
        assert terms[term]["hr"] == pytest.approx(fitted.loc[name, "exp(coef)"], rel=1e-5)
        assert terms[term]["p"] == pytest.approx(fitted.loc[name, "p"], rel=1e-4)


def test_the_report_json_has_their_raw_keys_and_the_dictionary(own_path, capsys):
    data = report(capsys, own_path, "--by", "trial_arm", "--where", "grade=high")
    assert data["cohort"]["filter"] == {"grade": "high"}
    assert set(data["patency"]["primary"]["group_summary"]) == {"a", "b"}
    dictionary = data["cohort"]["variables"]
    assert list(dictionary) == [  # patients' columns, then limbs', each in the header's order
        "trial_arm", "frailty", "compression", "site_group", "anticoagulant_days",
        "completed_protocol", "grade",
    ]  # fmt: skip
    assert dictionary["trial_arm"] == {
        "label": "Trial arm", "level": "patient", "kind": "category", "unit": "",
        "levels": {"a": "Arm A", "b": "Arm B"}, "bands": [],
    }  # fmt: skip
    assert dictionary["frailty"]["bands"] == ["< 3", "3-5", ">= 6"]
    assert dictionary["frailty"]["unit"] == "points"
    assert dictionary["grade"]["level"] == "limb"


def test_the_demo_reports_no_own_variables(demo_path, capsys):
    assert report(capsys, demo_path)["cohort"]["variables"] == {}


# ---- Table 1 and privacy --------------------------------------------------------------------


def test_table1_counts_them_as_sql_does(own_path):
    with open_cohort(own_path) as con:
        variables = cohort_variables(con)
        table1 = tables_view(con, CohortFilter(variables=variables)).baseline
    successes = "FROM limb_summary WHERE technical_success"
    ((arm_a, compressed, completed, frailty, days),) = rows(
        own_path,
        "SELECT count(*) FILTER (trial_arm = 'a'), count(*) FILTER (compression), "
        "count(*) FILTER (completed_protocol), avg(frailty), avg(anticoagulant_days) " + successes,
    )
    assert table1.levels["trial_arm"]["a"] == arm_a
    assert table1.levels["site_group"][RARE] == 2
    assert table1.shares["compression"] == compressed
    assert table1.shares["completed_protocol"] == completed
    assert table1.spreads["frailty"].mean == pytest.approx(frailty)
    assert table1.spreads["anticoagulant_days"].mean == pytest.approx(days)
    grades = dict(rows(own_path, f"SELECT grade, count(*) {successes} GROUP BY 1"))
    assert dict(table1.levels["grade"]) == grades


def test_a_level_of_fewer_than_k_patients_is_hidden_under_enforced_privacy(
    own_path, capsys, monkeypatch
):
    shown = report(capsys, own_path, "--by", "site_group")
    assert shown["patency"]["primary"]["group_summary"][RARE]["patients"] == 2
    monkeypatch.setenv("COHORT_PRIVACY", "enforced")
    hidden = report(capsys, own_path, "--by", "site_group")
    rare = hidden["patency"]["primary"]["group_summary"][RARE]
    assert rare["patients"] == "<5"
    assert "patency.primary.group_summary.rare.patients" in hidden["privacy"]["suppressed"]


# ---- hostile names, labels and levels -------------------------------------------------------


def refusals(tmp_path: Path, edit) -> list[tuple]:
    """The problems of importing the registry after ``edit(patients, limbs, dictionary)``."""
    source = write_own_registry(tmp_path / "source")
    frames = {t: pd.read_csv(source / f"{t}.csv", dtype=str, keep_default_na=False)
              for t in ("patients", "limbs", "dictionary")}  # fmt: skip
    edit(**frames)
    for table, frame in frames.items():
        frame.to_csv(source / f"{table}.csv", index=False)
    out = tmp_path / "never.duckdb"
    with pytest.raises(ValidationError) as refused:
        import_with_report(source, out)
    assert not out.exists()
    return [(p.file, p.row, p.column, p.rule) for p in refused.value.problems]


def _header(name: str):
    def edit(patients, limbs, dictionary):
        patients[name] = "yes"

    return edit


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("x'); DROP TABLE patients; --", "not a name a column of the registry's own can have"),
        ("select", "SQL word of the cohort format"),
        ("stent_brand", "the name of a column, setting or SQL word"),
        ("tte_primary_months", "the name of a column, setting or SQL word"),
        ("age_min", "the name of a column, setting or SQL word"),
        ("adjust", "the name of a column, setting or SQL word"),
        ("patient_id2\x1b[31m", "not a name a column of the registry's own can have"),
        ("a" * 64, "at most 63 characters"),
        ("**bold**", "not a name a column of the registry's own can have"),
    ],
    ids=["sql", "keyword", "derived", "summary", "filter-key", "link", "control", "long", "md"],
)
def test_a_hostile_or_clashing_name_is_refused_naming_it(tmp_path, name, rule):
    (problem,) = refusals(tmp_path, _header(name))
    assert problem[0] == "patients.csv" and problem[1] == 1
    assert problem[2] == visible(name.casefold())
    assert rule in problem[3]


def test_a_name_in_both_tables_is_refused_in_each(tmp_path):
    def edit(patients, limbs, dictionary):
        patients["arm"], limbs["arm"] = "yes", "no"

    found = refusals(tmp_path, edit)
    assert {(f, c) for f, _, c, _ in found} == {("patients.csv", "arm"), ("limbs.csv", "arm")}
    assert all("a column of the registry's own is in one table" in r for *_, r in found)


def _extra_columns(count: int):
    def edit(patients, limbs, dictionary):
        for i in range(count):
            patients[f"extra_{i}"] = "1"

    return edit


# Columns added one at a time to the frame the test edits in place, as a person would.
many_columns = pytest.mark.filterwarnings("ignore::pandas.errors.PerformanceWarning")


@many_columns
def test_more_than_the_limit_of_own_columns_is_refused_once(tmp_path):
    (problem,) = refusals(tmp_path, _extra_columns(MAX_OWN_COLUMNS + 1 - len(KINDS)))
    assert problem[:3] == ("patients.csv", 1, None)
    assert problem[3].startswith(
        f"{MAX_OWN_COLUMNS + 1} columns beyond the cohort format's, more than the "
        f"{MAX_OWN_COLUMNS} a registry may add"
    )


@many_columns
def test_the_limit_itself_imports(tmp_path):
    source = write_own_registry(tmp_path / "source")
    patients = pd.read_csv(source / "patients.csv", dtype=str, keep_default_na=False)
    _extra_columns(MAX_OWN_COLUMNS - len(KINDS))(patients, None, None)
    patients.to_csv(source / "patients.csv", index=False)
    imported = import_with_report(source, tmp_path / "wide.duckdb")
    assert len(imported.own) == MAX_OWN_COLUMNS


@many_columns
def test_a_thousand_columns_are_refused_before_a_row_is_read(tmp_path):
    (problem,) = refusals(tmp_path, _extra_columns(1000))
    assert problem[:3] == ("patients.csv", 1, None)
    assert problem[3].startswith(
        f"the header has 1,014 columns, more than the {MAX_HEADER_COLUMNS}"
    )


def _declaration(**cells: str):
    def edit(patients, limbs, dictionary):
        at = dictionary.index[dictionary["name"] == "trial_arm"][0]
        for column, value in cells.items():
            dictionary.loc[at, column] = value

    return edit


@pytest.mark.parametrize(
    ("cells", "rule"),
    [
        ({"label": "**Arm**"}, "'**Arm**' is not plain words"),
        ({"label": "<script>alert(1)</script>"}, "is not plain words"),
        ({"label": "Arm\x1b]0;owned\x07"}, "is not plain words"),
        ({"label": "A" * 81}, "is not plain words"),
        ({"levels": "a=[A](https://e.example)|b=Arm B"}, "is not plain words"),
        ({"levels": "a'); DROP TABLE limbs; --=Arm A|b=Arm B"}, "characters a level cannot have"),
        ({"levels": "a=Arm A|a=Arm B"}, "a level is declared twice"),
        ({"type": "free_text"}, "type must be yes_no, category, ordered or number"),
        ({"levels": ""}, "lists its levels"),
        ({"unit": "mm"}, "only a number has a unit or bands"),
    ],
    ids=["md", "html", "control", "long", "level-md", "level-sql", "twice", "type", "no-levels",
         "unit"],
)  # fmt: skip
def test_a_hostile_declaration_is_refused_at_its_dictionary_row(tmp_path, cells, rule):
    (problem,) = refusals(tmp_path, _declaration(**cells))
    assert problem[:3] == ("dictionary.csv", 2, "trial_arm")
    assert rule in problem[3]


def test_hostile_values_of_an_undeclared_column_are_refused_not_shown(tmp_path):
    def edit(patients, limbs, dictionary):
        patients["site_group"] = [
            "[x](https://e.example)" if i % 2 else "ok" for i in range(len(patients))
        ]

    (problem,) = refusals(tmp_path, edit)
    assert problem[:3] == ("patients.csv", 1, "site_group")
    assert "cannot be shown" in problem[3] and "[x](https://e.example)" in problem[3]


@pytest.mark.parametrize(
    ("values", "rule"),
    [
        (lambda i: f"text {i}", "neither yes/no, numbers nor at most 12 categories"),
        (lambda i: "", "empty, so its kind cannot be read"),
    ],
    ids=["free-text", "empty"],
)
def test_an_undeclared_column_its_values_cannot_type_is_refused(tmp_path, values, rule):
    def edit(patients, limbs, dictionary):
        patients["note"] = [values(i) for i in range(len(patients))]

    (problem,) = refusals(tmp_path, edit)
    assert problem[:3] == ("patients.csv", 1, "note") and rule in problem[3]


def test_a_value_outside_the_declared_levels_is_refused_at_its_row(tmp_path):
    def edit(patients, limbs, dictionary):
        patients.loc[3, "trial_arm"] = "c"

    (problem,) = refusals(tmp_path, edit)
    assert problem[:3] == ("patients.csv", 5, "trial_arm")
    assert problem[3].startswith("trial_arm must be a or b")


def test_a_dictionary_row_for_no_column_is_refused(tmp_path):
    def edit(patients, limbs, dictionary):
        dictionary.loc[len(dictionary)] = ["ghost", "Ghost", "yes_no", "", "", ""]

    (problem,) = refusals(tmp_path, edit)
    assert problem[:3] == ("dictionary.csv", 6, "name")
    assert "declares a column that neither patients.csv nor limbs.csv holds" in problem[3]


# ---- the deck ---------------------------------------------------------------------------------


def test_the_deck_shows_them_in_their_words(own_path, tmp_path, capsys):
    from pptx import Presentation

    out = tmp_path / "view.pptx"
    options = ["--by", "grade", "--adjust", "frailty,trial_arm", "--where", "compression=yes"]
    assert main(["deck", "--db", str(own_path), *options, "--out", str(out)]) == 0
    slides = [
        " ".join(
            [s.text_frame.text for s in slide.shapes if s.has_text_frame]
            + [slide.notes_slide.notes_text_frame.text if slide.has_notes_slide else ""]
        )
        for slide in Presentation(str(out)).slides
    ]
    text = " ".join(slides)
    assert "Filter: Compression: yes" in text
    assert "Primary patency by grade" in text
    assert "Cox HR High vs Middle" in text  # the levels' labels, not their codes
    (model,) = [s for s in slides if s.startswith("Adjusted hazard ratios")]
    assert "Frailty score (per 1 points):" in model and "Trial arm: Arm B vs Arm A" in model
