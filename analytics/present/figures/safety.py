"""Safety charts: share of patients with each event (exact 95% CI) and when events happened."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.glossary import SAFETY_CRUDE_AXIS, SAFETY_EVENTS
from analytics.present import format as fmt
from analytics.present.figures.theme import NARROWEST_PLOT_PX, OKABE_ITO, apply_theme, text_px
from analytics.present.masking import Mask
from analytics.rules import EARLY_EVENT_MONTHS
from analytics.stats.safety import Safety, drawn_on_timeline, timeline_points
from analytics.views import people_key, safety_key, timeline_key

LABEL_GAP = 0.015  # of the axis range, between the whisker's end cap and the count


def safety_bars(safety: Safety, mask: Mask) -> go.Figure:
    """Percent of patients per event type with Clopper-Pearson 95% CI whiskers.

    An event whose percentage ``mask`` withholds (views.safety_ledger: its patients or n
    hidden, as in the Safety table) gets no bar, and its label shows its patients as the
    mask does.
    """
    table = safety.table
    keys = [safety_key(e, "patients") for e in table["event"]]
    people = people_key(safety.bilateral)
    hidden = pd.Series([mask.hidden(key, people) for key in keys], index=table.index)
    table = table.assign(
        **{c: (100 * table[c]).where(~hidden) for c in ("proportion", "ci_lower", "ci_upper")}
    ).rename(columns={"proportion": "percent"})
    labels = [
        fmt.cell_share(mask.cell(key), p / 100, h)
        for key, p, h in zip(keys, table["percent"], hidden, strict=True)
    ]
    names = pd.Series([SAFETY_EVENTS[e] for e in table["event"]]).str.replace(" (", "<br>(")
    fig = go.Figure(
        go.Bar(
            x=table["percent"], y=names, orientation="h",
            marker_color=OKABE_ITO["vermillion"],
            error_x={
                "type": "data", "symmetric": False,
                "array": table["ci_upper"] - table["percent"],
                "arrayminus": table["percent"] - table["ci_lower"],
            },
            customdata=labels, showlegend=False,
            hovertemplate="%{customdata}<extra>95% CI shown as whiskers</extra>",
        )
    )  # fmt: skip
    uppers = table["ci_upper"].fillna(0)
    # The axis reaches past each count, at the narrowest plot a screen draws: "4 (66.7%)"
    # beyond a whisker ending at 95.7% ran out of a 0-108 axis.
    fits = [
        upper / (1 - LABEL_GAP - text_px(label) / NARROWEST_PLOT_PX)
        for upper, label in zip(uppers, labels, strict=True)
    ]
    top = max(40.0, float(uppers.max()) + 12, *fits)
    fig.add_trace(  # counts beyond the whisker, where they cannot collide with it
        go.Scatter(
            x=uppers + LABEL_GAP * top, y=names, mode="text", text=labels,
            textposition="middle right",
            showlegend=False, hoverinfo="skip", cliponaxis=False,
        )
    )  # fmt: skip
    fig.update_xaxes(
        title=SAFETY_CRUDE_AXIS,
        range=[0, top],
    )
    fig.update_yaxes(autorange="reversed")
    return apply_theme(fig, title="Safety events", height=380, labels=names)


def event_timeline(timeline: pd.DataFrame, mask: Mask) -> go.Figure:
    """When safety events happened, months after the procedure; the first 30 days shaded.

    Bubble size shows how many events share a time. A registry's events, at hundreds of
    distinct times, are counted per whole month after the first 30 days (more bubbles
    than a chart can separate: stats.safety.timeline_points). ``mask`` is the Safety
    page's (views.safety_ledger with the timeline): in privacy mode bubbles are of one
    size, a time of fewer than k events is not drawn (stats.safety.drawn_on_timeline),
    and an event type whose events it hides, any of whose points it leaves out, or none
    of whose times holds k events, is not plotted (its points could be counted): its
    events as the mask shows them only.
    """
    timeline = timeline_points(timeline)
    fig = go.Figure()
    most = max(int(timeline["events"].max()), 1) if not timeline.empty else 1
    fig.add_vrect(
        x0=0, x1=EARLY_EVENT_MONTHS, fillcolor="#EEEEEE", line_width=0, layer="below",
        annotation_text="first 30 days", annotation_position="top left",
        annotation_yanchor="bottom",  # above the plot area, clear of a bubble in the top row
    )  # fmt: skip
    for event, label in SAFETY_EVENTS.items():
        rows = timeline[timeline["event"] == event]
        if rows.empty:
            continue
        points = [timeline_key(event, m) for m in rows["month"]]
        events = safety_key(event, "events")
        drawn = [drawn_on_timeline(int(n), mask.k) for n in rows["events"]]
        if mask.hidden(events) or any(key in mask.omitted for key in points) or not any(drawn):
            fig.add_trace(
                go.Scatter(
                    x=[0], y=[label], mode="text",
                    text=[f"{fmt.cell(mask.cell(events))} events, times not shown"],
                    textposition="middle right", showlegend=False, hoverinfo="skip",
                )
            )  # fmt: skip
            continue
        rows = rows[drawn]
        points = [key for key, shown in zip(points, drawn, strict=True) if shown]
        fig.add_trace(
            go.Scatter(
                x=rows["month"], y=[label] * len(rows), mode="markers", name=label,
                marker={"color": OKABE_ITO["vermillion"], "line": {"width": 1, "color": "white"}}
                | ({"size": 12} if mask.k else _bubbles(rows["events"], most)),
                customdata=[fmt.cell(mask.cell(key)) for key in points], showlegend=False,
                hovertemplate="%{y}: %{customdata} at %{x:.1f} months<extra></extra>",
            )
        )  # fmt: skip
    last = float(timeline["month"].max()) if not timeline.empty else 36.0
    # from before month 0, so a bubble at month 0 is drawn whole
    fig.update_xaxes(title="Months since the procedure", range=[-0.04 * last - 1, last * 1.04 + 1])
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(SAFETY_EVENTS.values())))
    return apply_theme(fig, title="When events happened", height=340, labels=SAFETY_EVENTS.values())


MAX_BUBBLE_PX = 28  # diameter of the busiest time's bubble, whatever the cohort's size


def _bubbles(events: pd.Series, most: int) -> dict:
    """Bubble areas proportional to events, the busiest time MAX_BUBBLE_PX across (plotly's
    area sizing): a registry's thousands of events in a month draw as large as a demo's two."""
    return {"size": events, "sizemode": "area", "sizeref": 2 * most / MAX_BUBBLE_PX**2,
            "sizemin": 6}  # fmt: skip
