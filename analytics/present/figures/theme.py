"""One look for every chart: a colour-blind-safe palette, fonts, export settings.

Colours are the Okabe-Ito set. Each endpoint keeps its colour on every page and
export; groups take the group palette in their display order.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from collections.abc import Iterable, Sequence

import plotly.graph_objects as go
import plotly.io as pio

from analytics.present import format as fmt

OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "purple": "#CC79A7",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
ENDPOINT_COLOURS = {
    "primary": OKABE_ITO["blue"],
    "assisted_primary": OKABE_ITO["orange"],
    "secondary": OKABE_ITO["green"],
    "recurrent_dvt": OKABE_ITO["purple"],
}
# Groups take the eight Okabe-Ito colours in display order; groups 9-12 take them again
# with a dashed line; beyond 12 the styles repeat (the Patency page says so).
GROUP_COLOURS = [
    OKABE_ITO[name]
    for name in ("blue", "vermillion", "green", "purple", "orange", "sky", "black", "yellow")
]
GROUP_DASHES = ("dash", "longdash", "dashdot", "longdashdot")
STYLED_GROUPS = len(GROUP_COLOURS) + len(GROUP_DASHES)
TEXT_COLOUR = "#1A1A1A"  # table text and labels: 17:1 on white (WCAG asks 4.5:1)
BEFORE_AFTER_COLOURS = {"before": "#999999", "after": OKABE_ITO["blue"]}
UNRELIABLE_DASH = "dot"
FONT_FAMILY = "Source Sans Pro, Arial, sans-serif"
BASE_FONT_SIZE = 14
EXPORT_SCALE = 3  # camera button: 3x the on-screen size, sharp on a projector

# Every figure starts from plotly's white template as the default: plotly attaches its
# default without validating it again, where setting a template on each figure cost
# about 30 ms per chart on every rerun.
pio.templates.default = "simple_white"


def group_style(index: int) -> tuple[str, str]:
    """The (colour, dash) of the index-th group: solid for the first eight, then dashed."""
    within = index % STYLED_GROUPS
    if within < len(GROUP_COLOURS):
        return GROUP_COLOURS[within], "solid"
    return GROUP_COLOURS[within - len(GROUP_COLOURS)], GROUP_DASHES[within - len(GROUP_COLOURS)]


def rgba(hex_colour: str, alpha: float) -> str:
    """A colour "#RRGGBB" with transparency, as plotly takes it."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def contrast(foreground: str, background: str = "#FFFFFF") -> float:
    """WCAG 2 contrast ratio of two colours "#RRGGBB" (1 to 21)."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# Margins that already hold what they frame. Plotly's automargin stays on as a safety net,
# but whenever it has to grow a margin it lays the chart out and draws it a second time:
# half of each chart's drawing in the browser (chromium: the Kaplan-Meier chart 41 ms
# against 19 ms, a bar chart 18 against 9). Left: percent ticks and an axis title, or the
# longest text label (label_margin); bottom: tick labels and an axis title.
MARGIN_LEFT_PX, MARGIN_RIGHT_PX, MARGIN_BOTTOM_PX = 80, 20, 65
# Latin characters of 14 px type are narrower than these on average (lower case, digits and
# signs 6-7.8 px in Source Sans or Arial, bold included; capitals 9.3-9.9): a margin from
# them holds a label of words. Wider text (CJK, "mmm") is held by automargin, drawn twice.
CHAR_PX, CAPITAL_PX = 7.5, 10.0
LABEL_PAD_PX = 12  # between a tick label and the plot
LEGEND_SWATCH_PX = 45  # a legend entry's line swatch and the gap after it
# A legend beside the plot stands 2% of the plot's width right of it: up to 30 px wide.
LEGEND_OFFSET_PX = 30
TAG = re.compile(r"<[^>]+>")


def text_px(text: str) -> float:
    """Width (px) that holds plotly text at 14 px type: its widest line (``<br>`` starts
    one), other tags adding nothing, an entity (``&lt;``) one character."""
    lines = (html.unescape(TAG.sub("", line)) for line in str(text).split("<br>"))
    return max(sum(CAPITAL_PX if c.isupper() else CHAR_PX for c in line) for line in lines)


def widest_px(texts: Iterable[str]) -> float:
    """The width (px) that holds the widest of these texts (0 for none)."""
    return max(map(text_px, texts), default=0.0)


def label_margin(labels: Iterable[str]) -> int:
    """The left margin (px) that holds the widest of these tick labels."""
    return max(MARGIN_LEFT_PX, math.ceil(widest_px(labels)) + LABEL_PAD_PX)


def legend_margin(names: Iterable[str]) -> int:
    """The right margin (px) that holds a legend standing beside the plot."""
    needed = LEGEND_OFFSET_PX + LEGEND_SWATCH_PX + widest_px(names) + LABEL_PAD_PX
    return max(MARGIN_RIGHT_PX, math.ceil(needed))


TITLE_PX, SUBTITLE_PX, LEGEND_ROW_PX = 44, 24, 31  # a legend row of 14 px type: 31 px
# A subtitle line that fits a half-width chart (two side by side at 1280 px): plotly does
# not wrap it, and a longer one ran past the chart ("... p = 0.031 (caution: fewer than
# 10 pairs)" on a filtered Overview).
SUBTITLE_CHARS = 56


def narrow_subtitle(text: str) -> str:
    """A half-width chart's subtitle: every line longer than SUBTITLE_CHARS broken at its
    spaces (<br>)."""
    return "<br>".join(
        "<br>".join(textwrap.wrap(line, SUBTITLE_CHARS, break_long_words=False)) or line
        for line in text.split("<br>")
    )


def _legend_shown(fig: go.Figure) -> bool:
    """Whether plotly draws a legend: asked for, or (its default) more than one trace, one
    of which keeps its entry."""
    entries = any(trace.showlegend is not False for trace in fig.data)
    return bool(fig.layout.showlegend) or (len(fig.data) > 1 and entries)


def apply_theme(
    fig: go.Figure,
    title: str | None = None,
    height: int = 420,
    subtitle: str | None = None,
    labels: Iterable[str] = (),
) -> go.Figure:
    """Shared layout: white background, readable fonts, legend on top.

    The subtitle, under the title, carries the test and p-value so it travels
    with every export and never collides with axis labels. ``labels`` are the text tick
    labels left of the plot (categories, a table's rows), which the left margin holds.
    """
    heading = None
    if title:
        heading = {"text": title, "x": 0, "xanchor": "left", "y": 0.98, "yanchor": "top"}
        if subtitle:
            heading["subtitle"] = {"text": subtitle, "font": {"size": BASE_FONT_SIZE - 1}}
    # assigned, not update_layout: its path parsing took 4 ms a chart. No figure sets these
    # before; legend_above and some figures adjust the legend and margins after.
    layout = fig.layout
    layout.title = heading
    layout.font = {"family": FONT_FAMILY, "size": BASE_FONT_SIZE}
    layout.height = height
    layout.margin = {
        "l": label_margin(labels),
        "r": MARGIN_RIGHT_PX,
        "t": (90 if subtitle else 60) if title else 30,
        "b": MARGIN_BOTTOM_PX,
    }
    layout.legend = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0}
    lines = subtitle.count("<br>") + 1 if title and subtitle else 0
    if lines and _legend_shown(fig):  # one legend row under every line of the subtitle
        layout.margin.t = TITLE_PX + SUBTITLE_PX * lines + LEGEND_ROW_PX + 8
        layout.legend.y = 1
    elif lines > 1:  # no legend: room for every line of the subtitle
        layout.margin.t = TITLE_PX + SUBTITLE_PX * lines + 8
    layout.hoverlabel = {"font": {"size": BASE_FONT_SIZE}}
    return fig


# A full-width chart's plot is at least 600 px wide on a 1280-px screen.
NARROWEST_PLOT_PX = 600


def message_figure(title: str, message: str, height: int = 420) -> go.Figure:
    """A chart's frame, its title kept, saying in place of the plot why nothing is drawn
    (wrapped to fit a half-width chart)."""
    fig = go.Figure()
    fig.add_annotation(
        text="<br>".join(textwrap.wrap(message, 42)), x=0.5, y=0.5, xref="paper", yref="paper",
        showarrow=False, font={"size": 14},
    )  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return apply_theme(fig, title=title, height=height)


def figure_text(text: str) -> str:
    """Text from data (a centre, a group, a cohort name) as a chart shows it, literally.

    Plotly renders a subset of HTML in titles, legends, tick labels, text and hover
    labels (``<a href>`` is a working link, ``<b>``, ``<br>``, ``<span style>``) and
    decodes ``&lt;``, ``&gt;`` and ``&amp;``: escaping those three shows any name as typed,
    once its control characters are gone (format.data_text).
    """
    return html.escape(fmt.data_text(text), quote=False)


def legend_above(fig: go.Figure, names: Sequence[str]) -> go.Figure:
    """The legend in rows between the title (and subtitle) and the plot.

    Entries take a fixed share of the width, as many to a row (up to three) as the
    longest name leaves room for on the narrowest plot (plotly puts an entry wider than
    its share on a row of its own), so the rows are known here and the top margin holds
    them: the legend never runs into the title, however many groups. With no names
    there is no legend, and no row kept for one.
    """
    # the average character, not text_px's bound: a bound would pack fewer entries to a
    # row than fit (the incidence legend one to a row)
    longest = max((len(name) for name in names), default=0)
    entry = LEGEND_SWATCH_PX + CHAR_PX * longest
    columns = max(1, min(3, int(NARROWEST_PLOT_PX // entry)))
    share = 1 / columns - LEGEND_SWATCH_PX / NARROWEST_PLOT_PX  # plotly's share omits the swatch
    rows = math.ceil(len(names) / columns)
    subtitle = fig.layout.title.subtitle.text if fig.layout.title.subtitle else None
    lines = subtitle.count("<br>") + 1 if subtitle else 0
    top = TITLE_PX + SUBTITLE_PX * lines + LEGEND_ROW_PX * rows + 8
    fig.layout.margin.t = top  # assigned: see apply_theme
    if not rows:
        fig.layout.showlegend = False
        return fig
    fig.layout.legend = {"orientation": "h", "x": 0, "xanchor": "left", "y": 1, "yanchor": "bottom"}
    if rows > 1:  # one row: each entry as wide as its name (a fixed share cut a long one)
        fig.layout.legend.entrywidth, fig.layout.legend.entrywidthmode = share, "fraction"
    return fig


def export_config(filename: str) -> dict:
    """Plotly config: the camera button saves a high-resolution PNG named for the view."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": EXPORT_SCALE},
    }


PRESENTATION_SCALE = 1.5  # type and lines, read from the back of a room
PRESENTATION_HEIGHT = 720  # on screen; exports are drawn at the 16:9 slide size


def presentation_style(
    fig: go.Figure,
    caption: str,
    height: int = PRESENTATION_HEIGHT,
    scale: float = PRESENTATION_SCALE,
    in_title: bool = True,
) -> go.Figure:
    """A copy for a projector or a slide: larger type and lines, the view stated under the title.

    The caption (cohort and filter) travels with the chart, so a slide is never
    out of context. With ``in_title`` False the slide carries the title, so the picture
    drops its own and opens with its subtitle and the caption.
    """
    styled = go.Figure(fig)
    base = styled.layout.font.size or BASE_FONT_SIZE
    size = round(base * scale)
    tall_enough = max(height, round((styled.layout.height or 0) * scale))
    styled.update_layout(
        font_size=size, height=tall_enough, legend_font_size=size, title_font_size=round(size * 1.2)
    )
    styled.update_xaxes(tickfont_size=size, title_font_size=size)
    styled.update_yaxes(tickfont_size=size, title_font_size=size)
    for trace in styled.data:
        line = getattr(trace, "line", None)
        if line is not None and line.width:
            line.width = line.width * scale
        textfont = getattr(trace, "textfont", None)
        if textfont is not None and textfont.size:
            textfont.size = round(textfont.size * scale)
    for annotation in styled.layout.annotations:
        if annotation.font.size:
            annotation.font.size = round(annotation.font.size * scale)
        if annotation.yshift:  # text placed under an axis moves with the axis's larger type
            annotation.yshift = annotation.yshift * scale
    for side in ("l", "r", "b"):  # the labels and legends they hold grow with the type
        if styled.layout.margin[side]:
            styled.update_layout(margin={side: round(styled.layout.margin[side] * scale)})
    caption = figure_text(caption)  # the cohort's name is data
    title = styled.layout.title
    subtitle = title.subtitle.text if title and title.subtitle and title.subtitle.text else ""
    lines = "<br>".join(part for part in (subtitle, caption) if part)
    top = round((styled.layout.margin.t or 60) * scale) + (SUBTITLE_PX * 2 if caption else 0)
    if not in_title:  # the slide carries the title: its room goes to the chart
        more = lines.count("<br>")  # lines after the first: plotly sets them above the top
        room = max((styled.layout.margin.t or 60) - TITLE_PX, SUBTITLE_PX) + SUBTITLE_PX / 2
        top = round((room + more * SUBTITLE_PX) * scale)
        styled.update_layout(
            title={"text": lines, "subtitle_text": "", "x": 0, "xanchor": "left", "y": 1,
                   "yref": "container", "yanchor": "top",
                   "pad_t": 4 + round(more * SUBTITLE_PX * scale),
                   "font": {"size": round(base * scale)}},
            margin_t=top,
        )  # fmt: skip
    elif title and title.text:
        styled.update_layout(
            title_subtitle_text=lines, title_subtitle_font_size=round(base * 1.3), margin_t=top
        )
    elif not caption:
        styled.update_layout(margin_t=top)
    else:
        styled.update_layout(
            title={"text": caption, "x": 0, "xanchor": "left", "font": {"size": round(base * 1.3)}},
            margin_t=top,
        )  # fmt: skip
    return styled
