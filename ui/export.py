"""Show tables and charts the same way everywhere: every table downloadable as CSV,
every chart exportable as a high-resolution PNG from its camera button."""

from __future__ import annotations

import re
from functools import partial

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.present.figures.theme import export_config, presentation_style
from analytics.present.privacy import mask_table
from analytics.present.render import CHROMIUM, FORMATS, INSTALL_HINT, render
from ui.privacy import current_k


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


CONTEXT_KEY = "_chart_context"


def set_chart_context(caption: str, presenting: bool) -> None:
    """What every chart of this run states (cohort, filter, n) and whether it presents."""
    st.session_state[CONTEXT_KEY] = (caption, presenting)


def show_chart(fig: go.Figure, name: str) -> None:
    """A chart, presentation-styled when presenting, with PNG, SVG and PDF exports.

    The camera button saves what the screen shows; the export menu renders the
    slide-sized version on the server, the view stated under its title.
    """
    caption, presenting = st.session_state.get(CONTEXT_KEY, ("", False))
    key = _slug(name)
    shown = presentation_style(fig, caption) if presenting else fig
    st.plotly_chart(shown, config=export_config(key), key=f"chart-{key}", theme=None)
    with st.popover("Export chart", icon=":material/download:"):
        if not CHROMIUM.exists():
            st.caption(INSTALL_HINT)
            return
        for fmt, mime in FORMATS.items():
            st.download_button(
                f"{fmt.upper()} (16:9 slide size)", data=partial(_slide, fig, caption, fmt),
                file_name=f"{key}.{fmt}", mime=mime, key=f"{fmt}-{key}", on_click="ignore",
            )  # fmt: skip


def _slide(fig: go.Figure, caption: str, fmt: str) -> bytes:
    """The slide-sized export, styled when it is asked for: styling a copy of every chart
    on every run cost 0.2 s per chart (plotly validates the whole copy)."""
    return render(presentation_style(fig, caption), fmt)


def show_table(frame: pd.DataFrame, name: str, hide_index: bool = True) -> None:
    """A table with a CSV download button under it; in privacy mode both hide small counts."""
    frame = mask_table(frame, current_k())
    st.dataframe(frame, hide_index=hide_index, width="stretch")
    st.download_button(
        f"Download {name} (CSV)",
        frame.to_csv(index=not hide_index).encode("utf-8"),
        file_name=f"{_slug(name)}.csv",
        mime="text/csv",
        key=f"csv-{_slug(name)}",
        on_click="ignore",
    )
