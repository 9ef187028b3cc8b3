"""The presenting view: one view per 16:9 screen, stepped through with the arrow keys.

With ``?present=yes`` any page shows this instead of itself; ``screen`` in the link says
which screen (``?present=yes&screen=3``), so a shared link opens on the slide being
discussed. Each screen holds one view that fits the window without scrolling at
1280x720 and 1920x1080: the chart takes the height the window leaves (CSS below), its
context caption stands under it in wrapped text, and Previous / Next (the Left and
Right keys) change the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

from analytics.glossary import CEAP_REGRESSION, CRUDE_NOT_A_RISK, PATENCY_ROWS_SWAPPED
from analytics.present.figures.clinical import (
    ceap_bars,
    ceap_sankey,
    pts_severity_bars,
    villalta_pairs,
)
from analytics.present.figures.patency import patency_figure
from analytics.present.figures.safety import safety_bars
from analytics.present.figures.subgroups import SCREEN_ROWS, forest_pages, forest_plot
from analytics.present.figures.theme import presentation_style
from analytics.present.masking import Mask
from analytics.present.tiles import headline_tiles
from analytics.stats.clinical import ClinicalChange
from analytics.views import (
    clinical_ledger,
    patency_ledger,
    population_ledger,
    safety_ledger,
    subgroups_ledger,
)
from ui import data, page, state  # page imports this module: page.masked is read when run
from ui.plot import plotly_chart
from ui.show import show_tiles
from ui.text import plain

KEY = "screen"
PRESENTING_SCALE = 1.3  # type on a screen: large, with room for a KMunicate table at 720p
# The chart takes the window's height less the title, the caption and the controls.
CSS = """
<style>
  .stMainBlockContainer { max-width: 100%; padding: 1.2rem 2.5rem 0 2.5rem; }
  header[data-testid="stHeader"] { height: 2rem; }
  .dashboard-chart { height: calc(100vh - 13rem) !important; }
  .stMainBlockContainer h2 { padding: 0 0 0.2rem 0; font-size: 2rem; }
  [data-testid="stMetricValue"], [data-testid="stMetricValue"] * {
    font-size: 3.2rem !important; line-height: 1.15 !important; }
  [data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
    font-size: 1.3rem !important; }
  [data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * { font-size: 1.1rem !important; }
  [data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * {
    font-size: 1.05rem !important; }
</style>
"""
# A screen with a note under its caption (the demo's reading of the paper): up to two lines more.
NOTE_CSS = """
<style>
  .dashboard-chart { height: calc(100vh - 17.5rem) !important; }
</style>
"""


@dataclass(frozen=True)
class Screen:
    """One screen: its title, and what draws it."""

    title: str
    draw: Callable[[], None]


def screens(context) -> list[Screen]:
    """The screens of the current view, in order (subgroups over as many as they need)."""
    key, cohort_filter = context.key, context.cohort_filter
    overview = data.overview(key, cohort_filter)
    change = overview.clinical
    endpoint = state.value("endpoint")
    request = state.patency_request(time_controls=False)
    patency = data.patency(key, cohort_filter, request)
    subgroups = data.subgroups(key, cohort_filter, endpoint, float(state.value("month")))
    shown = patency_ledger(patency, context.n) | subgroups_ledger(subgroups, context.n)
    # one decision for every screen, the sidebar's n with it: n and captions follow
    analysed_all = cohort_filter.population == "all"
    shown |= population_ledger(overview.population, analysed_all) | safety_ledger(overview.safety)
    context, decided = page.masked(context, shown | clinical_ledger(change))
    clinical = decided
    pages = forest_pages(subgroups, SCREEN_ROWS) if not subgroups.table.empty else []
    caption = context.chart.caption

    def chart(*figures: go.Figure, note: str = "") -> Callable[[], None]:
        def draw() -> None:
            columns = st.columns(len(figures))
            for i, (column, figure) in enumerate(zip(columns, figures, strict=True)):
                styled = presentation_style(figure, "", scale=PRESENTING_SCALE)
                styled.update_layout(height=None, autosize=True)
                with column:
                    plotly_chart(styled, key=f"chart-{i}", config={"displaylogo": False})
            st.caption(plain(caption) + (f" · {note}" if note else ""))
            if note:
                st.markdown(NOTE_CSS, unsafe_allow_html=True)

        return draw

    parts = [
        Screen("Headline figures", lambda: _tiles(context, overview, clinical)),
        Screen(
            "Patency",
            chart(
                patency_figure(patency, state.value("ci"), decided, compact=True),
                note=PATENCY_ROWS_SWAPPED if context.is_demo else "",
            ),
        ),
        Screen(
            "CEAP clinical class",
            chart(
                *_ceap_figures(change, clinical), note=CEAP_REGRESSION if context.is_demo else ""
            ),
        ),
        Screen(
            "Villalta score and post-thrombotic syndrome",
            chart(
                villalta_pairs(change.villalta_pairs, change.villalta, clinical),
                pts_severity_bars(change.pts_severity, change.pts, clinical),
            ),
        ),
        Screen(
            "Safety",
            chart(
                safety_bars(overview.safety, decided),
                note=CRUDE_NOT_A_RISK.capitalize(),
            ),
        ),
    ]
    parts += [
        Screen(f"Subgroups ({i} of {len(pages)})" if len(pages) > 1 else "Subgroups",
               chart(forest_plot(page, decided)))
        for i, page in enumerate(pages, start=1)
    ]  # fmt: skip
    return parts


def _ceap_figures(change: ClinicalChange, clinical: Mask) -> tuple[go.Figure, ...]:
    """The CEAP flows; in privacy mode, where the flows are hidden, their note beside the
    class distributions before and at the last visit that the note promises."""
    flows = ceap_sankey(change.ceap_shift, clinical)
    if clinical.k is None:
        return (flows,)
    return flows, ceap_bars(change.ceap_shift, change.severity_score, clinical)


def _tiles(context, overview, decided: Mask) -> None:
    """The headline figures, large: the Overview page's tiles (on the demo, with the
    Overview's note on how it reads the paper's patency)."""
    show_tiles(headline_tiles(overview, decided))
    st.caption(plain(context.chart.caption))
    if context.is_demo:
        st.caption(PATENCY_ROWS_SWAPPED)


def show(context) -> None:
    """Draw the presenting view's current screen and its controls."""
    st.markdown(CSS, unsafe_allow_html=True)
    parts = screens(context)
    current = min(max(int(state.value(KEY)), 1), len(parts))
    st.markdown(f"## {parts[current - 1].title}")
    parts[current - 1].draw()
    back, where, forward, leave = st.columns([2, 6, 2, 2], vertical_alignment="center")
    back.button(
        "Previous", shortcut="Left", key="previous",
        disabled=current == 1, on_click=_go, args=(current - 1,), width="stretch",
    )  # fmt: skip
    where.markdown(f"Screen {current} of {len(parts)} · Left and Right keys step through")
    forward.button("Next", shortcut="Right", key="next",
                   disabled=current == len(parts), on_click=_go, args=(current + 1,),
                   width="stretch")  # fmt: skip
    leave.button("End presenting", key="end-presenting", on_click=_end, width="stretch")


def _go(screen: int) -> None:
    st.session_state[KEY] = screen


def _end() -> None:
    st.session_state["present"] = False
