"""Forest plot of every subgroup: hazard ratio with 95% CI, one row per factor level."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from analytics.glossary import ENDPOINTS, GROUPINGS, UNSTABLE
from analytics.present import format as fmt
from analytics.present.figures.theme import OKABE_ITO, apply_theme
from analytics.present.privacy import is_small
from analytics.views import SubgroupsView

ROW_HEIGHT = 26
STABLE, UNSTABLE_COLOUR = OKABE_ITO["blue"], "#9A9A9A"
SERIES = (
    (False, STABLE, "square", "Hazard ratio (95% CI)"),
    (True, UNSTABLE_COLOUR, "circle-open", f"Unstable: {UNSTABLE}"),
)


def layout_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Row number and label of every line: a header per factor, then its levels.

    `table_row` is the level's index in `table`, missing on a factor's header line.
    """
    lines, position = [], 0
    for factor, rows in table.groupby("factor", sort=False):
        logrank = rows["logrank_p"].iloc[0]
        lines.append({"row": position, "label": f"<b>{GROUPINGS[factor]}</b>", "table_row": pd.NA,
                      "side": f"log-rank {fmt.p_statement(logrank)}"})  # fmt: skip
        for offset, index in enumerate(rows.index, start=1):
            label = fmt.level(factor, table.at[index, "level"])
            lines.append({"row": position + offset, "label": f"   {label}", "table_row": index,
                          "side": ""})  # fmt: skip
        position += len(rows) + 1
    return pd.DataFrame(lines).astype({"table_row": "Int64"})


def _side_text(row: pd.Series, month: float, k: int | None) -> str:
    hidden = pd.isna(row["estimate"]) or is_small(row["patients"], k)
    estimate = fmt.MISSING if hidden else fmt.percent(row["estimate"], 0)
    if row["is_reference"]:
        hr = "reference"
    elif not row["estimable"]:
        hr = "not estimable"
    else:
        hr = fmt.ratio_ci(row["hr"], row["hr_lower"], row["hr_upper"])
    patients, events = fmt.count(row["patients"], k), fmt.count(row["events"], k)
    return f"{patients:>4} / {events:<3} {estimate:>5} at {fmt.months(month)} mo  HR {hr}"


def forest_plot(view: SubgroupsView, k: int | None = None) -> go.Figure:
    """Hazard ratios against each factor's reference on a log axis; unstable groups muted."""
    table, month, endpoint_label = view.table, view.month, ENDPOINTS[view.endpoint]
    lines = layout_rows(table)
    levels = lines.dropna(subset=["table_row"])
    rows_of = dict(zip(levels["table_row"], levels["row"], strict=True))
    fig = go.Figure()
    for unstable, colour, symbol, name in SERIES:
        shown = table[(table["unstable"] == unstable) & ~table["is_reference"] & table["estimable"]]
        fig.add_trace(
            go.Scatter(
                x=shown["hr"], y=[rows_of[i] for i in shown.index], mode="markers", name=name,
                error_x={
                    "type": "data", "symmetric": False, "array": shown["hr_upper"] - shown["hr"],
                    "arrayminus": shown["hr"] - shown["hr_lower"], "color": colour, "thickness": 2,
                },
                marker={"symbol": symbol, "size": 11, "color": colour,
                        "line": {"width": 2, "color": colour}},
                customdata=[fmt.group(f, v) for f, v in zip(shown["factor"], shown["level"],
                                                            strict=True)],
                hovertemplate="%{customdata}: HR %{x:.2f}<extra></extra>",
            )
        )  # fmt: skip
    side = [
        line.side if pd.isna(line.table_row) else _side_text(table.loc[line.table_row], month, k)
        for line in lines.itertuples()
    ]
    fig.add_trace(
        go.Scatter(
            x=[0] * len(lines), y=lines["row"], mode="text", text=side, xaxis="x2",
            textposition="middle right", showlegend=False, hoverinfo="skip",
            textfont={"family": "DejaVu Sans Mono, monospace", "size": 12},
        )
    )  # fmt: skip
    estimable = table[table["estimable"] & ~table["is_reference"]]
    low = min([0.1, *estimable["hr_lower"].dropna()])
    high = max([10.0, *estimable["hr_upper"].dropna()])
    fig.add_vline(x=1, line_dash="dash", line_color="#666666")
    fig.update_layout(
        xaxis={"type": "log", "domain": [0, 0.52], "title": "Hazard ratio vs reference (log scale)",
               "range": [math.log10(low) - 0.1, math.log10(high) + 0.1]},
        xaxis2={"domain": [0.54, 1], "range": [0, 1], "visible": False},
        yaxis={"tickvals": lines["row"], "ticktext": lines["label"], "autorange": "reversed",
               "showgrid": False, "zeroline": False},
    )  # fmt: skip
    fig.add_annotation(
        text="patients / events, estimate, HR (95% CI)", xref="paper", yref="paper", x=0.54,
        y=1.0, xanchor="left", yanchor="bottom", showarrow=False,
        font={"size": 12, "color": "#555555"},
    )  # fmt: skip
    fig = apply_theme(
        fig, title=f"{endpoint_label}: subgroups", height=190 + ROW_HEIGHT * len(lines)
    )
    fig.update_layout(margin={"t": 100}, legend={"y": 1.01, "yanchor": "bottom"})
    return fig
