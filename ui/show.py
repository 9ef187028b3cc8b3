"""Show tables and charts the same way everywhere: every table downloadable as CSV,
every chart exportable as a high-resolution PNG from its camera button, or at slide
size as PNG, SVG or PDF rendered on the server.

Every download button holds its file's bytes, never a function that makes them on the
click: a file made on the click is kept by Streamlit unreferenced, and on a busy server
the sweep at the end of other sessions' runs deletes it before the browser fetches it.
Bytes held by a button stay on the server as long as the button is shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.glossary import DEFINITIONS
from analytics.present import format as fmt
from analytics.present.export import csv_text
from analytics.present.figures.theme import export_config, presentation_style
from analytics.present.render import CHROMIUM, FORMATS, INSTALL_HINT, ExportUnavailable, render
from analytics.present.tables import DECIMALS
from analytics.present.tiles import Tile
from ui import audit
from ui.access import session_allowed
from ui.plot import plotly_chart
from ui.text import plain

EXPORT_LABEL = "Export chart"


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass(frozen=True)
class ChartContext:
    """What every chart of a page states (cohort, filter, n) and whether the page presents."""

    caption: str
    presenting: bool


def show_definitions(terms: Sequence[str], *notes: str) -> None:
    """The glossary's definitions of ``terms``, then a page's own notes, as one element:
    its paragraphs draw at once, where an element each cost the browser a render each."""
    st.markdown("\n\n".join([*(f"**{term}.** {DEFINITIONS[term]}" for term in terms), *notes]))


def show_chart(fig: go.Figure, name: str, context: ChartContext, model: bool = False) -> None:
    """A chart, presentation-styled when presenting, with PNG, SVG and PDF exports.

    The camera button saves what the screen shows; the export menu renders the
    slide-sized version on the server, the view stated under its title. A ``model``'s
    chart has no exports for a role that may not export models (analytics.access).
    """
    key = slug(name)
    shown = presentation_style(fig, context.caption) if context.presenting else fig
    plotly_chart(shown, key=f"chart-{key}", config=export_config(key))
    if not model or session_allowed().model_exports:
        _exports(fig, context.caption, key)


def export_key(key: str) -> str:
    """The session-state key of a chart's export menu: True while it is open."""
    return f"export-{key}"


def _exports(fig: go.Figure, caption: str, key: str) -> None:
    """The export menu, rendered when it is opened (a rerun, under a spinner), so a page
    run with every menu closed renders no export; its buttons then hold the three files
    until the menu is closed. Not a fragment, for the reason ui.page._deck gives."""
    menu = st.popover(
        EXPORT_LABEL, icon=":material/download:", key=export_key(key), on_change="rerun"
    )
    with menu:
        if not CHROMIUM.exists():
            st.caption(INSTALL_HINT)
            return
        if not menu.open:
            return
        try:
            with st.spinner("Rendering the chart at slide size…"):
                files = _slides(fig, caption)
        except ExportUnavailable as exc:
            st.caption(plain(f"The chart could not be exported: {exc}"))
            return
        if not audit.exporting(f"chart {key}"):
            return
        for fmt, mime in FORMATS.items():
            st.download_button(
                f"{fmt.upper()} (16:9 slide size)", files[fmt], file_name=f"{key}.{fmt}",
                mime=mime, key=f"{fmt}-{key}", on_click="ignore",
            )  # fmt: skip


def _slides(fig: go.Figure, caption: str) -> dict[str, bytes]:
    """The slide-sized exports by format, styled when they are asked for: styling a copy
    of every chart on every run cost 0.2 s per chart (plotly validates the whole copy)."""
    styled = presentation_style(fig, caption)
    return {fmt: render(styled, fmt) for fmt in FORMATS}


def _escaped(formatter: Callable[[object], str]) -> Callable[[object], str]:
    """``formatter``'s text as Markdown that shows exactly it (ui.text.plain)."""
    return lambda value: plain(formatter(value))


def show_table(
    frame: pd.DataFrame, name: str, hide_index: bool = True, model: bool = False
) -> None:
    """A table, formatted by analytics.present.tables, with a CSV download button under it
    (text that would start a spreadsheet formula quoted: analytics.present.export); none
    under a ``model``'s table for a role that may not export models (analytics.access).

    A static table: every row and column stands on the page, headers and cells wrap, so
    nothing hides behind an inner scroll bar or an ellipsis on screen, in a screenshot or
    in print. Cells are drawn as text, never as Markdown or HTML: st.table renders
    Markdown in every cell (a centre's link would be live, a lone MISSING "-" a bullet),
    so the text cells it displays are escaped (ui.text.plain); the data and the CSV keep
    the text as it is. Headers and the index are the product's words, not data.
    """
    decimals = frame.attrs.get(DECIMALS, {})
    counts = {  # whole numbers with thousands separators, as the charts have
        column: fmt.count
        for column in frame.columns
        if pd.api.types.is_integer_dtype(frame[column])
    }
    numbers = counts | {
        column: partial(fmt.number, digits=digits)
        for column, digits in decimals.items()
        if column in frame and pd.api.types.is_numeric_dtype(frame[column])
    }
    shown = {
        column: _escaped(numbers.get(column, str))
        for column in frame.columns
        if column in numbers or pd.api.types.is_object_dtype(frame[column])
    }
    st.table(frame.style.format(shown), hide_index=hide_index)
    if model and not session_allowed().model_exports:
        return
    label = f"Download {name} (CSV)"
    if not audit.keeps_trail():
        _csv_button(frame, name, label, hide_index)
        return
    menu = st.popover(label, icon=":material/download:", key=f"csv-menu-{slug(name)}",
                      on_change="rerun")  # fmt: skip
    with menu:  # built and recorded when asked for (ui.audit)
        if menu.open and audit.exporting(f"csv: {name}"):
            _csv_button(frame, name, "CSV", hide_index)


def _csv_button(frame: pd.DataFrame, name: str, label: str, hide_index: bool) -> None:
    st.download_button(
        label,
        csv_text(frame, index=not hide_index).encode("utf-8"),
        file_name=f"{slug(name)}.csv",
        mime="text/csv",
        key=f"csv-{slug(name)}",
        on_click="ignore",
    )


def show_tiles(rows: Sequence[Sequence[Tile]]) -> None:
    """Headline figures as rows of metrics, the note (the CI) in a grey chip under each."""
    for tiles in rows:
        for column, tile in zip(st.columns(len(tiles)), tiles, strict=True):
            column.metric(tile.label, tile.value, delta=tile.note, delta_color="off",
                          delta_arrow="off", help=tile.definition)  # fmt: skip
