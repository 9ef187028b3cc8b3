"""A blank registry workbook: the three sheets with their headers, and the columns documented.

Departments fill it in and import it; the importer ignores the documentation sheet.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from analytics.cohort.dictionary import data_dictionary
from analytics.cohort.importer import DATA_TABLES, FALSE_TEXT, TRUE_TEXT

GUIDE_SHEET = "columns"
GUIDE_HEADER = ("sheet", "column", "type", "required", "meaning")


def template_workbook() -> bytes:
    """The .xlsx bytes: one sheet per table with its header row, plus a 'columns' guide."""
    dictionary = data_dictionary()
    book = Workbook()
    book.remove(book.active)
    for table in DATA_TABLES:
        sheet = book.create_sheet(table)
        sheet.append(dictionary.loc[dictionary["table"] == table, "column"].tolist())
        _bold_header(sheet)
    guide = book.create_sheet(GUIDE_SHEET)
    guide.append(GUIDE_HEADER)
    for row in dictionary[dictionary["table"].isin(DATA_TABLES)].itertuples(index=False):
        guide.append(
            [row.table, row.column, row.type, "yes" if row.required else "no", row.meaning]
        )
    guide.append([])
    guide.append(
        ["", "", "", "", f"Booleans: {'/'.join(TRUE_TEXT)} or {'/'.join(FALSE_TEXT)}, any case. "
         "Dates: YYYY-MM-DD. Optional columns may be left out or left empty."]
    )  # fmt: skip
    _bold_header(guide)
    guide.column_dimensions["E"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _bold_header(sheet) -> None:
    for cell in sheet[1]:
        cell.font = Font(bold=True)
