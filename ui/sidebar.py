"""The one sidebar of filters, shared by every page and kept in the URL (ui.state).

Each widget's key is the filter's own key (analytics.filters), so the state, the
widget and the link agree; a link's unusable values are dropped with a notice. The
widgets are the open cohort's filters (ui.state.filter_sections): the top ones unfolded,
the population first and the choices two to a row, then one folded section each, a
measure's bounds side by side.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from analytics.filters import CohortFilter, FilterParam, Part
from analytics.scope import CENTRE
from analytics.variables import TOP
from ui import state
from ui.access import SCOPE, session_scope

CHOICES = (Part.LEVEL, Part.DATA_LEVEL, Part.FLAG)  # two to a row at the top


def sidebar_filters() -> CohortFilter:
    """Draw the filter widgets and return the filter they describe. A centre's user
    chooses a scope instead of a centre (analytics.scope)."""
    sidebar = st.sidebar
    scoped = session_scope().scoped
    if scoped:
        state.draw(SCOPE, sidebar)
    for section, found in state.filter_sections(state.session_variables()):
        params = tuple(p for p in found if not (scoped and p.variable.key == CENTRE))
        if not params:
            continue
        if section == TOP:
            _draw(sidebar, params, pair_choices=True)
            continue
        with sidebar.expander(section, expanded=False):
            _draw(st, params, pair_choices=False)
    sidebar.button("Reset filters", on_click=state.reset_filters, width="stretch")
    return state.current_filter()


def _draw(where: Any, params: tuple[FilterParam, ...], pair_choices: bool) -> None:
    """Each filter's widget, a row at a time."""
    for row in _rows(params, pair_choices):
        if len(row) == 1:
            state.draw(row[0].key, where)
            continue
        for param, column in zip(row, where.columns(len(row)), strict=True):
            state.draw(param.key, column)


def _rows(params: tuple[FilterParam, ...], pair_choices: bool) -> list[list[FilterParam]]:
    """The filters a row at a time: a measure's upper bound beside its lower one and, with
    ``pair_choices``, a choice beside the choice before it; anything else alone."""
    rows: list[list[FilterParam]] = []
    for param in params:
        last = rows[-1] if rows else []
        beside = param.part is Part.MAXIMUM or (
            pair_choices and param.part in CHOICES and len(last) == 1 and last[0].part in CHOICES
        )
        if beside:
            last.append(param)
        else:
            rows.append([param])
    return rows
