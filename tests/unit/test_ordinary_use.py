"""Ordinary use never crashes: filters that empty a group, tiny decks, mistyped arguments."""

from __future__ import annotations

import io

import pytest
from pptx import Presentation

from analytics.cli import main
from analytics.cohort.summary import create_summary
from analytics.filters import CohortFilter, parse_pairs
from analytics.present.tables import table1, table2, table3
from analytics.views import deck_view, tables_view
from tests.conftest import add_patient
from tests.masks import tables_mask
from tests.unit.test_properties import blank_png

EMPTYING = [
    ["segments=IVC"],
    ["lesion_side=right", "sex=M", "smoking=yes"],
    ["age_min=100"],
]


@pytest.mark.parametrize("pairs", EMPTYING, ids=lambda p: "&".join(p))
def test_tables_for_filters_that_keep_few_or_none(demo, pairs):
    view = tables_view(demo, parse_pairs(pairs))
    off = tables_mask(view, None)
    for table in (table1(view.baseline, off), table2(view, off), table3(view.clinical, off)):
        assert not table.empty


@pytest.mark.parametrize("pairs", EMPTYING[:2], ids=lambda p: "&".join(p))
def test_the_tables_page_for_filters_that_keep_few(page_test, pairs):
    at = page_test("pages/5_Tables.py", **dict(pair.split("=") for pair in pairs))
    assert not at.exception
    assert [h.value for h in at.subheader][:3] == ["Table 1", "Table 2", "Table 3"]


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--at", "nan"],
        ["report", "--at", "inf"],
        ["report", "--at", "-6"],
        ["report", "--at", "six"],
        ["report", "--by", "patient_id"],
        ["bench", "--patients", "-1"],
        ["bench", "--patients", "0"],
        ["bench", "--runs", "x"],
        ["synth", "--patients", "-1", "--out", "x.duckdb"],
        ["synth", "--patients", "10", "--centers", "0", "--out", "x.duckdb"],
        ["report", "--unknown"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_a_mistyped_argument_is_one_line_and_exit_1(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as stopped:  # argparse refuses before the command runs
        code = stopped.code
    assert code == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert "Traceback" not in captured.err and not list(tmp_path.iterdir())


def _one_group_cohort(blank, patients: int):
    """Patients alike in every factor: no factor has two groups to compare."""
    for i in range(patients):
        add_patient(blank, f"p{i}", center="A")
    blank.execute("INSERT INTO cohort_metadata VALUES ('name', 'Alike')")
    create_summary(blank)
    return blank


@pytest.mark.parametrize("patients", [1, 2])
def test_a_deck_of_one_patient_or_of_no_two_groups(blank, monkeypatch, patients):
    from analytics.present.deck import build_deck

    monkeypatch.setattr("analytics.present.deck.render", blank_png)
    con = _one_group_cohort(blank, patients)
    view = deck_view(con, CohortFilter(), by="sex")
    assert view.subgroups.table.empty
    deck = Presentation(io.BytesIO(build_deck(view, None)))
    titles = [s.shapes.title.text for s in deck.slides if s.shapes.title is not None]
    assert titles[0].startswith("Venous stent outcomes")
    assert not any(t.startswith("Subgroups") for t in titles)


def test_a_deck_of_one_patient_from_the_command_line(demo_path, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("analytics.present.deck.render", blank_png)
    out = tmp_path / "one.pptx"
    where = ["--where", "lesion_side=right", "--where", "sex=M", "--where", "smoking=yes"]
    assert main(["deck", "--db", str(demo_path), *where, "--by", "sex", "--out", str(out)]) == 0
    assert "n = 1 patients" in Presentation(str(out)).slides[0].placeholders[1].text
    assert capsys.readouterr().err == ""


def test_a_sidebar_deck_that_cannot_be_drawn_arrives_saying_why(demo_path, monkeypatch):
    from analytics.present.deck import DeckRequest
    from analytics.present.render import ExportUnavailable
    from ui import data

    def broken(*_: object, **__: object) -> bytes:
        raise ExportUnavailable("the figure could not be rendered (chromium crashed)")

    monkeypatch.setattr("analytics.present.deck.render", broken)
    key = data.cohort_key(demo_path)
    deck = Presentation(io.BytesIO(data.deck_bytes(key, DeckRequest(CohortFilter()))))
    text = " ".join(
        shape.text_frame.text for shape in deck.slides[0].shapes if shape.has_text_frame
    )
    assert "could not be built" in text and "chromium crashed" in text


@pytest.mark.parametrize("by", ["urokinase", "center"])
def test_comparing_by_a_factor_nobody_has_recorded_draws_and_says_so(blank, by):
    from analytics.present.figures.patency import patency_figure
    from analytics.views import patency_view

    add_patient(blank, "p1")  # urokinase and centre are optional: not recorded
    create_summary(blank)
    view = patency_view(blank, CohortFilter(), by)
    assert view.compared.groups == ()
    figure = patency_figure(view)
    assert "nothing to compare" in figure.layout.title.subtitle.text


def test_the_patency_page_compares_by_a_factor_nobody_has_recorded(
    page_test, monkeypatch, tmp_path
):
    import duckdb

    from analytics.cohort.db import SCHEMA_PATH, SCHEMA_VERSION

    path = tmp_path / "few.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(SCHEMA_PATH.read_text())
        add_patient(con, "p1")
        add_patient(con, "p2", sex="M")
        con.execute("INSERT INTO cohort_metadata VALUES ('schema_version', ?)", [SCHEMA_VERSION])
        create_summary(con)
    monkeypatch.setenv("COHORT_DB", str(path))
    at = page_test("pages/1_Patency.py", by="urokinase")
    assert not at.exception
