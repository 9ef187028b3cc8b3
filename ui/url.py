"""The view in the URL: widgets are seeded from it on a session's first run and
write their values back to it on every run, so a copied link reopens the view.

The URL holds exactly the text the command line's ``--where`` takes (filter keys
and values from analytics.filters), not display labels, and every value read
from it goes through the same parsers that validate all user input. (Streamlit's
own ``bind="query-params"`` writes a select box's display label, not its value.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

SEEDED = "_seeded_from_url"


def url_value(key: str) -> str | None:
    """The URL's value for ``key`` (repeated values joined by commas), or None."""
    values = st.query_params.get_all(key)
    return ",".join(values) if values else None


def seed(key: str, parse: Callable[[str], Any]) -> None:
    """Set ``st.session_state[key]`` from the URL once per session; ignore unusable values.

    ``parse`` turns the text into the widget's value, raising ValueError if it cannot.
    """
    seeded = st.session_state.setdefault(SEEDED, set())
    if key in seeded:
        return
    seeded.add(key)
    text = url_value(key)
    if text is None:
        return
    try:
        st.session_state[key] = parse(text)
    except ValueError:
        return


def choice(options: list[Any] | tuple[Any, ...]) -> Callable[[str], Any]:
    """A parser that accepts only one of ``options`` (compared as text)."""
    by_text = {str(option): option for option in options}

    def parse(text: str) -> Any:
        if text not in by_text:
            raise ValueError(text)
        return by_text[text]

    return parse


def write(params: dict[str, str | None]) -> None:
    """Put each value in the URL, or remove the key where the value is None (the default)."""
    for key, value in params.items():
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != value:
            st.query_params[key] = value
