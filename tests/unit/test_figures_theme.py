"""Margins that hold their labels: plotly text measured from its visible characters.

The browser tests check the result in chromium (no chart's margin grown by automargin);
these check how a label's markup is read.
"""

from __future__ import annotations

import math

from analytics.present.figures.theme import (
    CAPITAL_PX,
    CHAR_PX,
    LABEL_PAD_PX,
    LEGEND_OFFSET_PX,
    LEGEND_SWATCH_PX,
    MARGIN_LEFT_PX,
    label_margin,
    legend_margin,
    text_px,
)


def test_markup_adds_no_width_and_an_entity_is_one_character():
    swatch = '<span style="color:#0072B2">■</span> <b>Primary patency</b>'
    assert text_px(swatch) == text_px("■ Primary patency")
    assert text_px("&lt;5 events") == text_px("<5 events")


def test_capitals_count_wider_than_other_characters():
    assert text_px("IVC") == 3 * CAPITAL_PX
    assert text_px("ivc 1+") == 6 * CHAR_PX


def test_the_widest_line_of_a_broken_label_counts():
    assert text_px("Bleeding<br>(major, with transfusion)") == text_px("(major, with transfusion)")


def test_short_labels_keep_the_base_margins_and_long_ones_widen_them():
    assert label_margin([]) == label_margin(["Yes", "No"]) == MARGIN_LEFT_PX
    long = "Assisted primary patency"
    assert label_margin([long, "At risk"]) == math.ceil(text_px(long)) + LABEL_PAD_PX
    beside = LEGEND_OFFSET_PX + LEGEND_SWATCH_PX + text_px(long) + LABEL_PAD_PX
    assert legend_margin([long]) == math.ceil(beside)
