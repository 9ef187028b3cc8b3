"""Spreadsheet exports that cannot run a formula: every CSV download and chart workbook.

A spreadsheet reads a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula (``=HYPERLINK(...)`` in a centre name opens a link,
``@SUM(A1)`` computes), and XlsxWriter, which writes the deck's embedded chart
workbooks, writes ``{=...}`` as an array formula. Following OWASP's rule for CSV
injection, such a cell gets a leading single quote, so it is shown as the text it is.
Numbers stay numeric cells, and text that is a number ("-1.5") or the missing-value
marker ("-") is left as it is: a spreadsheet reads it as a number or as the dash.
"""

from __future__ import annotations

import re

import pandas as pd

from analytics.present.format import MISSING

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "{=")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?")
QUOTE = "'"


def neutralise_text(text: str) -> str:
    """``text`` as a spreadsheet shows it literally: quoted when it would start a formula."""
    if text.startswith(FORMULA_STARTS) and text != MISSING and not NUMBER.fullmatch(text):
        return QUOTE + text
    return text


def _cell(value: object) -> object:
    return neutralise_text(value) if isinstance(value, str) else value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, column names and index labels are neutralised.

    Only text changes: number columns keep their dtype, so they are written as numbers.
    """
    text_columns = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    safe = frame.copy()
    for column in text_columns:
        safe[column] = safe[column].map(_cell)
    safe.columns = safe.columns.map(_cell)
    safe.index = safe.index.map(_cell)
    return safe


def csv_text(frame: pd.DataFrame, index: bool = False) -> str:
    """The frame as CSV with every text cell neutralised: the one CSV writer.

    Lines end in CRLF (RFC 4180), so a cell holding a carriage return is quoted: unquoted,
    a spreadsheet starts a new row there, and the rest of the cell could be a formula.
    """
    return neutralise(frame).to_csv(index=index, lineterminator="\r\n")
