"""Safety charts: share of patients with each event (exact 95% CI) and when events happened."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.figures.theme import OKABE_ITO, apply_theme
from analytics.glossary import EARLY_EVENT_MONTHS, SAFETY_EVENTS


def safety_bars(table: pd.DataFrame) -> go.Figure:
    """Percent of patients per event type with Clopper-Pearson 95% CI whiskers."""
    labels = [
        f"{k} ({pct:.1f}%)" for k, pct in zip(table["patients"], table["percent"], strict=True)
    ]
    names = table["label"].str.replace(" (", "<br>(", regex=False)
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
    fig.add_trace(  # counts beyond the whisker, where they cannot collide with it
        go.Scatter(
            x=table["ci_upper"], y=names, mode="text", text=labels, textposition="middle right",
            showlegend=False, hoverinfo="skip", cliponaxis=False,
        )
    )  # fmt: skip
    fig.update_xaxes(
        title="Patients with the event (%), exact 95% CI",
        range=[0, max(40.0, float(table["ci_upper"].max()) + 12)],
    )
    fig.update_yaxes(autorange="reversed")
    return apply_theme(fig, title="Safety events", height=380)


def event_timeline(timeline: pd.DataFrame) -> go.Figure:
    """When safety events happened, months after the procedure; the first 30 days shaded."""
    fig = go.Figure()
    fig.add_vrect(
        x0=0, x1=EARLY_EVENT_MONTHS, fillcolor="#EEEEEE", line_width=0, layer="below",
        annotation_text="first 30 days", annotation_position="top left",
    )  # fmt: skip
    for event, label in SAFETY_EVENTS.items():
        rows = timeline[timeline["event"] == event]
        if rows.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=rows["month"], y=[label] * len(rows), mode="markers", name=label,
                marker={"size": 10 + 6 * rows["events"], "color": OKABE_ITO["vermillion"],
                        "line": {"width": 1, "color": "white"}},
                customdata=rows["events"], showlegend=False,
                hovertemplate="%{y}: %{customdata} at %{x:.1f} months<extra></extra>",
            )
        )  # fmt: skip
    fig.update_xaxes(title="Months since the procedure", rangemode="tozero")
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(SAFETY_EVENTS.values())))
    return apply_theme(fig, title="When events happened", height=340)
