"""Funnel plot of centres: primary patency at one month against patients per centre.

The pooled estimate and the 95% and 99.8% control limits come from
analytics.stats.funnel; this module only draws them. In privacy mode a centre with
fewer than k patients is not plotted: its position on the size axis is its count.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.glossary import COUNT_COLUMNS, ENDPOINTS, PATIENT
from analytics.present import format as fmt
from analytics.present.figures.theme import (
    OKABE_ITO,
    apply_theme,
    figure_text,
    legend_margin,
    message_figure,
)
from analytics.present.masking import Mask
from analytics.stats.funnel import (
    ABOVE_95,
    ABOVE_998,
    BELOW_95,
    BELOW_998,
    WITHIN,
    CentreComparison,
)
from analytics.views import centre_key

LIMIT_STYLES = (  # level, name, dash, colour
    ("95", "95% control limits", "dash", "#7F7F7F"),
    ("998", "99.8% control limits", "dot", "#404040"),
)
POINT_SERIES = (  # positions, name, colour, symbol
    ((WITHIN,), "Within the 95% limits", OKABE_ITO["blue"], "circle"),
    ((ABOVE_95, BELOW_95), "Outside the 95% limits", OKABE_ITO["orange"], "diamond"),
    ((ABOVE_998, BELOW_998), "Outside the 99.8% limits", OKABE_ITO["vermillion"], "square"),
)


def _hover(row: pd.Series, mask: Mask, unit: str) -> str:
    estimate = fmt.estimate_ci(row["estimate"], row["ci_lower"], row["ci_upper"])
    patients, events, at_risk = (
        fmt.cell(mask.cell(centre_key(row["centre"], count)))
        for count in ("patients", "events", "at risk")
    )
    return (
        f"<b>{figure_text(row['centre'])}</b>: {estimate}<br>"
        f"{patients} {COUNT_COLUMNS[unit].lower()}, {events} events, {at_risk} at risk<br>"
        f"{row['position']}"
    )


def funnel_plot(comparison: CentreComparison, mask: Mask, unit: str = PATIENT) -> go.Figure:
    """Each centre's estimate (%) against its patients, the pooled line and the limit curves;
    ``unit`` LIMB where a patient may have two treated limbs: the size axis and the hover
    count limbs (funnel's module docstring).

    Centres outside the 95% limits are labelled with their name. A centre whose patients
    or events privacy withholds is not plotted (its place on the size axis is its size).
    The curves start at half the smallest centre shown, so a centre not plotted cannot be
    read off where the axis begins. Without a centre to plot, a figure says so.
    """
    month = comparison.month
    title = f"{ENDPOINTS['primary']} at {fmt.months(month)} months by centre"
    centres = comparison.plotted
    if centres.empty:
        return message_figure(
            title,
            f"Nothing to show: no centre has an estimate at {fmt.months(month)} months "
            "among these patients.",
            height=520,
        )
    withheld = centres["centre"].map(
        lambda c: mask.hidden(centre_key(c, "patients"), centre_key(c, "events"))
    )
    hidden, centres = int(withheld.sum()), centres[~withheld]
    fig = go.Figure()
    if not centres.empty:
        funnel = comparison.funnel[comparison.funnel["patients"] >= centres["patients"].min() / 2]
        _add_funnel(fig, funnel, comparison.pooled)
    for positions, name, colour, symbol in POINT_SERIES:
        rows = centres[centres["position"].isin(positions)]
        if rows.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=rows["patients"], y=100 * rows["estimate"], name=name,
                mode="markers" if positions == (WITHIN,) else "markers+text",
                text=rows["centre"].map(figure_text), textposition="middle right",
                marker={"color": colour, "symbol": symbol, "size": 11,
                        "line": {"width": 1, "color": "white"}},
                customdata=[[figure_text(row["centre"]), _hover(row, mask, unit)]
                            for _, row in rows.iterrows()],
                hovertemplate="%{customdata[1]}<extra></extra>",
            )
        )  # fmt: skip
    subtitle = "Funnel plot: exact binomial control limits around the pooled estimate"
    if hidden:
        subtitle += f"; {hidden} centre(s) not plotted: privacy withholds their counts"
    fig.update_xaxes(title=f"{COUNT_COLUMNS[unit]} in the centre")
    fig.update_yaxes(title=f"{ENDPOINTS['primary']} at {fmt.months(month)} months (%)")
    fig = apply_theme(
        fig,
        title=title,
        subtitle=subtitle,
        height=520,
    )
    # the legend beside the plot, clear of the subtitle
    fig.update_layout(
        legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
        margin_r=legend_margin(trace.name for trace in fig.data if trace.showlegend is not False),
    )
    return fig


def _add_funnel(fig: go.Figure, funnel: pd.DataFrame, pooled: float) -> None:
    """The 95% and 99.8% limit curves and the pooled line, over the funnel's sizes."""
    for level, name, dash, colour in LIMIT_STYLES:
        for side in ("lower", "upper"):
            fig.add_trace(
                go.Scatter(
                    x=funnel["patients"], y=100 * funnel[f"{side}_{level}"], mode="lines",
                    name=name, legendgroup=level, showlegend=side == "upper",
                    line={"dash": dash, "color": colour, "width": 1.5}, hoverinfo="skip",
                )
            )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=funnel["patients"], y=[100 * pooled] * len(funnel), mode="lines",
            name=f"Pooled {fmt.percent(pooled)}",
            line={"color": OKABE_ITO["black"], "width": 1.5}, hoverinfo="skip",
        )
    )  # fmt: skip
