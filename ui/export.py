"""Show tables and charts the same way everywhere: every table downloadable as CSV,
every chart exportable as a high-resolution PNG from its camera button."""

from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.figures.theme import export_config
from analytics.privacy import mask_table
from ui.privacy import current_k


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def show_chart(fig: go.Figure, name: str) -> None:
    """A plotly chart whose camera button saves a PNG named for the view."""
    st.plotly_chart(fig, config=export_config(_slug(name)), key=f"chart-{_slug(name)}")


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
