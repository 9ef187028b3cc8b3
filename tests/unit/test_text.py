"""Data shown as text: the Markdown escape (ui.text.plain) and the chart escape (figure_text)."""

from __future__ import annotations

import re

import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.present.figures.theme import figure_text, presentation_style
from tests.conftest import HOSTILE_CENTRES, HOSTILE_NAME, live_markup, unescaped
from ui.text import plain

MARKUP = (
    "[Re-login](https://evil.example/login)",
    "![p](https://evil.example/p.png)",
    "<img src=x onerror=alert(1)>",
    ":red[alarm] :material/home: :smile:",
    "$x^2$ and $$y$$",
    "\\[not a link\\](https://evil.example)",
    "write to admin@evil.example or www.evil.example",
    "# heading\n\n- item\n===",
    "`code` **bold** ~~gone~~ | a | b |",
)


def without_controls(text: str) -> str:
    """The rule restated: each run of control characters (and U+FFFE, U+FFFF) goes, a run
    holding a space-like one (a line break, a tab) becoming one space."""
    return re.sub(
        "[\x00-\x1f\x7f-\x9f\ufffe\uffff]+",
        lambda run: " " if any(c.isspace() for c in run.group()) else "",
        text,
    )


@pytest.mark.parametrize("text", (*MARKUP, *HOSTILE_CENTRES, HOSTILE_NAME))
def test_markup_from_data_is_shown_as_typed(text):
    escaped = plain(text)
    assert live_markup(escaped) == []
    assert unescaped(escaped) == without_controls(text)
    assert ":material/" not in escaped  # Streamlit swaps that before parsing


@given(st.text())
def test_any_text_renders_no_markup_and_reads_as_itself_without_control_characters(text):
    escaped = plain(text)
    assert live_markup(escaped) == []
    assert "\n" not in escaped and "\r" not in escaped  # no data starts a block
    assert unescaped(escaped) == without_controls(text)


def test_a_chart_shows_html_from_data_as_text():
    assert figure_text('<a href="https://evil.example">x</a> & co') == (
        '&lt;a href="https://evil.example"&gt;x&lt;/a&gt; &amp; co'
    )


def test_the_caption_a_slide_carries_is_escaped():
    styled = presentation_style(go.Figure(), f"Cohort {HOSTILE_NAME}")
    assert "<img" not in styled.layout.title.text
    assert "&lt;img src=x&gt;" in styled.layout.title.text
