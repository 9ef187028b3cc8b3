"""Control characters in names: refused at import with the cell named, and never shown
by an output, from a cohort file that already holds them (written by an earlier version
or by hand): deck, report text and JSON, CSV exports, screen."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pptx import Presentation

from analytics.cli import main
from analytics.cohort.db import open_cohort
from analytics.cohort.importer import CONTROL_RULE, Problem, problems_frame
from analytics.filters import CohortFilter
from analytics.present.deck import notice_deck
from analytics.present.export import csv_text
from analytics.present.figures.theme import figure_text
from analytics.present.format import data_text
from analytics.present.masking import exact
from analytics.present.tables import (
    centres_display,
    estimates_table,
    subgroup_display,
    validation_report,
)
from analytics.views import centres_ledger, centres_view, patency_view, subgroups_view
from tests.conftest import CONTROL_CENTRES, CONTROL_NAME, unescaped
from ui.text import plain

# Unicode category Cc, written out here rather than read from the code under test.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
SHOWN_CENTRES = ("Centre 2", "[31mRed[0m centre")  # the vertical tab a space, ESC gone
# How OOXML writes a control character inside a part (a vertical tab: "_x000B_").
OOXML_ESCAPE = re.compile(r"_x00[0-9A-Fa-f]{2}_")


def controls(text: str, allowed: str = "") -> list[str]:
    return [c for c in CONTROL.findall(text) if c not in allowed]


# Outputs: the import's own report, and a file that already holds such names.


def test_the_dashboard_validation_report_shows_the_escape_not_the_character():
    problems = [Problem("patients.csv", 3, "cen\x1bter", "Centre\x0b2", CONTROL_RULE)]
    report = validation_report(problems_frame(problems))
    assert report[["column", "value"]].values.tolist() == [["cen\\x1bter", "Centre\\x0b2"]]
    assert controls(csv_text(report), "\r\n") == []


def deck_texts(path: Path) -> list[str]:
    """Every text python-pptx reads back from a deck: shapes, tables, charts, notes."""
    texts = []
    for slide in Presentation(str(path)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts += [cell.text for row in shape.table.rows for cell in row.cells]
            if shape.has_chart:
                plot = shape.chart.plots[0]
                texts += [series.name for series in plot.series]
                texts += [str(category) for category in plot.categories]
        if slide.has_notes_slide:
            texts.append(slide.notes_slide.notes_text_frame.text)
    return texts


def part_texts(path: Path) -> dict[str, str]:
    """Every XML part of a deck, those of its charts' embedded workbooks too."""
    parts = {}
    with zipfile.ZipFile(path) as deck:
        for name in deck.namelist():
            data = deck.read(name)
            if name.endswith(".xlsx"):
                with zipfile.ZipFile(io.BytesIO(data)) as book:
                    parts |= {f"{name}/{n}": book.read(n).decode() for n in book.namelist()}
            elif name.endswith((".xml", ".rels")):
                parts[name] = data.decode()
    return parts


def test_the_deck_by_centre_opens_and_holds_no_control_character(control_path, tmp_path, capsys):
    out = tmp_path / "deck.pptx"
    assert main(["deck", "--db", str(control_path), "--by", "center", "--out", str(out)]) == 0
    assert capsys.readouterr().err == ""
    texts = deck_texts(out)
    assert {t: controls(t, "\n") for t in texts if controls(t, "\n")} == {}
    shown = "\n".join(texts)
    assert all(f"Centre: {centre}" in shown for centre in SHOWN_CENTRES)
    assert "Venous stent outcomes: Cohort]0;owned name" in shown
    bad = {
        n: p for n, p in part_texts(out).items() if OOXML_ESCAPE.search(p) or controls(p, "\t\n\r")
    }
    assert list(bad) == []


def test_the_text_report_writes_no_control_character(control_path, capsys):
    assert main(["report", "--db", str(control_path), "--by", "center"]) == 0
    out = capsys.readouterr().out
    assert controls(out, "\n") == []
    assert "Cohort: Cohort]0;owned name" in out
    assert all(f"  Centre: {centre}\n" in out for centre in SHOWN_CENTRES)
    assert "Cox HR (95% CI) Centre 2 vs [31mRed[0m centre" in out


@pytest.mark.parametrize("privacy", [[], ["--privacy", "5"]])
def test_the_json_report_holds_no_control_character_in_a_key_or_a_value(
    control_path, capsys, privacy
):
    argv = ["report", "--db", str(control_path), "--by", "center", "--json", *privacy]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert controls(out, "\n") == []
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            found.extend(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            found.append(node)

    data = json.loads(out)
    walk(data)
    assert [text for text in found if controls(text)] == []
    assert data["cohort"]["name"] == "Cohort]0;owned name "
    assert sorted(data["patency"]["primary"]["groups"]) == sorted(SHOWN_CENTRES)


def test_the_csv_exports_by_centre_hold_no_control_character(control_path):
    with open_cohort(control_path) as con:
        comparison = centres_view(con, CohortFilter(), 12.0)
        by_centre = patency_view(con, CohortFilter(), "center")
        subgroups = subgroups_view(con, CohortFilter())
    centres = centres_display(comparison, comparison.centres, exact(centres_ledger(comparison)))
    assert sorted(centres["Centre"]) == sorted(SHOWN_CENTRES)
    tables = (centres, estimates_table(by_centre), subgroup_display(subgroups))
    for table in tables:
        text = csv_text(table)
        assert controls(text, "\r\n") == [], table.columns
    assert all(centre in csv_text(tables[1]) for centre in SHOWN_CENTRES)


def test_the_raw_names_do_hold_control_characters(control_path):
    """The fixture is what it says: the file holds the names as written."""
    with open_cohort(control_path) as con:
        held = {c for (c,) in con.execute("SELECT DISTINCT center FROM limb_summary").fetchall()}
        (name,) = con.execute("SELECT value FROM cohort_metadata WHERE key = 'name'").fetchone()
    assert held == set(CONTROL_CENTRES) and name == CONTROL_NAME


# The one function, over any name.


@given(st.text())
def test_no_name_shows_a_control_character_on_any_surface(name):
    shown = data_text(name)
    assert controls(shown) == [] and not set(shown) & {"\ufffe", "\uffff"}
    assert data_text(shown) == shown  # once is enough
    assert controls(unescaped(plain(name))) == [] and controls(figure_text(name)) == []
    kept = re.sub("[\x00-\x1f\x7f-\x9f\ufffe\uffff]", "", name)
    assert shown.replace(" ", "") == kept.replace(" ", "")  # nothing else changes


@settings(
    deadline=None, max_examples=40
)  # a deck takes tens of milliseconds, more on a busy machine
@given(st.text(min_size=1))
def test_any_name_goes_into_a_deck_that_opens(name):
    """The deck's text boxes take any name once shown as data_text (python-pptx refuses
    a control character: "All strings must be XML compatible")."""
    deck = Presentation(io.BytesIO(notice_deck(data_text(name))))
    (text,) = [s.text_frame.text for s in deck.slides[0].shapes if s.has_text_frame][1:]
    assert controls(text, "\n") == []
