"""Exports cannot run a spreadsheet formula: CSV downloads and the deck's chart workbooks."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.cohort.db import ROOT, open_cohort
from analytics.cohort.importer import Problem, problems_frame
from analytics.filters import CohortFilter
from analytics.present.deck import GridSeries, PatencyChart, patency_chart, patency_chart_data
from analytics.present.export import QUOTE, csv_text, neutralise_text
from analytics.present.figures.patency import curve_specs
from analytics.present.format import MISSING
from analytics.present.masking import mask
from analytics.present.tables import centres_display, validation_report
from analytics.views import centres_ledger, centres_view, deck_view
from tests.conftest import HOSTILE_CENTRES

FORMULAS = ('=HYPERLINK("https://evil.example","x")', "+1+1", "@SUM(A1)", "\t=1", "\r=1",
            "-2+3", "{=1+1}")  # fmt: skip
LEFT_ALONE = ("-1.5", "+3", "-2e-3", "12.5%", MISSING, "<5", "Centre 1", "'=1", "")


def read_csv_cells(data: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data, newline="")))


def is_formula(text: str) -> bool:
    """What a spreadsheet would run: the rule, restated independently of the code."""
    try:
        float(text.rstrip("%"))
        return False
    except ValueError:
        return (text not in ("", MISSING) and text[0] in "=+-@\t\r") or text.startswith("{=")


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_that_would_start_a_formula_gets_a_quote(text):
    assert neutralise_text(text) == QUOTE + text


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_numbers_the_missing_marker_and_ordinary_text_are_left_alone(text):
    assert neutralise_text(text) == text


@given(st.text())
def test_no_text_leaves_the_writer_as_a_formula(text):
    safe = neutralise_text(text)
    assert not is_formula(safe)
    assert safe in (text, QUOTE + text)
    assert neutralise_text(safe) == safe  # neutralising twice changes nothing


def test_csv_quotes_text_cells_keeps_numbers_and_headers_safe():
    frame = pd.DataFrame(
        {"Centre": [*FORMULAS, "-1.5", MISSING], "Patients": range(len(FORMULAS) + 2),
         "=cmd": ["x"] * (len(FORMULAS) + 2)}
    )  # fmt: skip
    header, *rows = read_csv_cells(csv_text(frame))
    assert header == ["Centre", "Patients", "'=cmd"]
    assert [row[0] for row in rows] == [QUOTE + t for t in FORMULAS] + ["-1.5", MISSING]
    assert [row[1] for row in rows] == [str(i) for i in range(len(rows))]  # numbers as numbers
    assert frame["Centre"].iloc[0] == FORMULAS[0]  # the shown frame is untouched


def test_the_index_is_neutralised_when_it_is_written():
    frame = pd.DataFrame({"n": [1]}, index=pd.Index(["@SUM(A1)"], name="Before"))
    assert read_csv_cells(csv_text(frame, index=True))[1] == ["'@SUM(A1)", "1"]


def test_hostile_centre_names_are_quoted_in_the_centres_csv(hostile_path):
    with open_cohort(hostile_path) as con:
        comparison = centres_view(con, CohortFilter(), 12.0)
    header, *rows = read_csv_cells(
        csv_text(
            centres_display(comparison, comparison.centres, mask(centres_ledger(comparison), None))
        )
    )
    centres = [row[header.index("Centre")] for row in rows]
    assert sorted(centres) == sorted(neutralise_text(c) for c in HOSTILE_CENTRES)
    assert "'-2+3" in centres and "'{=1+1}" in centres
    assert not any(is_formula(cell) for row in rows for cell in row)


def test_an_uploaded_formula_is_quoted_in_the_validation_report_csv():
    problems = [Problem("patients.csv", 2, "center", value, "too long") for value in FORMULAS]
    header, *rows = read_csv_cells(csv_text(validation_report(problems_frame(problems))))
    values = [row[header.index("value")] for row in rows]
    shown = {"\t=1": "\\t=1", "\r=1": "\\r=1"}  # a control character shows as its escape
    assert values == [shown.get(value, QUOTE + value) for value in FORMULAS]
    assert not any(is_formula(value) for value in values)


def workbook_text(data) -> list[str]:
    """Every text cell of a chart's embedded workbook (a carriage return as XlsxWriter
    escapes it, "_x000D_", read back); fails on a formula cell."""
    sheet = openpyxl.load_workbook(io.BytesIO(data.xlsx_blob)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    return [cell.value.replace("_x000D_", "\r") for cell in cells if isinstance(cell.value, str)]


def test_a_series_named_as_a_formula_is_text_in_the_deck_chart_workbook():
    lines = [GridSeries(name, "#000000", "estimate", [1.0] * 9) for name in FORMULAS]
    names = workbook_text(patency_chart_data(PatencyChart(1.0, (), lines)))
    assert names == [QUOTE + name for name in FORMULAS]


def test_the_deck_chart_workbook_by_hostile_centres_holds_no_formula(hostile_path):
    with open_cohort(hostile_path) as con:
        view = deck_view(con, CohortFilter(), by="center")
    drawn = patency_chart(curve_specs(view.compared), (0, 12))
    names = workbook_text(patency_chart_data(drawn))
    assert names == [line.name for line in drawn.series] + ["0", "12"]  # months: the ticks
    assert "Centre: =HYPERLINK(" in "".join(names)
    assert not any(is_formula(name) for name in names)


def test_a_carriage_return_inside_a_cell_does_not_start_a_row():
    rows = read_csv_cells(csv_text(pd.DataFrame({"Centre": ["a\r=1", "b\n@SUM(A1)"]})))
    assert rows == [["Centre"], ["a\r=1"], ["b\n@SUM(A1)"]]


SOURCES = [ROOT / "app.py", *(ROOT / folder for folder in ("analytics", "ui", "pages"))]
WRITER = ROOT / "analytics" / "present" / "export.py"


def test_every_csv_is_written_by_the_one_writer():
    files = [p for s in SOURCES for p in ([s] if s.is_file() else sorted(s.rglob("*.py")))]
    writers = [p.relative_to(ROOT) for p in files if p != WRITER and ".to_csv(" in p.read_text()]
    assert writers == [], "write CSV with analytics.present.export.csv_text"
    assert Path(WRITER).is_file()
