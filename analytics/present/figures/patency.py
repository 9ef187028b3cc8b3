"""Kaplan-Meier curves in the KMunicate style.

One figure holds the curves (step lines, 95% CI bands, censor marks, the stretch
whose standard error exceeds 10% dotted) and, under the x axis and sharing it, the
table of number at risk, cumulative events and cumulative censored per curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.glossary import ENDPOINTS, GROUPINGS, UNRELIABLE
from analytics.present import format as fmt
from analytics.present.figures.theme import (
    ENDPOINT_COLOURS,
    UNRELIABLE_DASH,
    apply_theme,
    group_colour,
)
from analytics.present.tables import curves
from analytics.rules import RISK_TABLE_MONTHS, SE_UNRELIABLE
from analytics.stats.engine.kaplan_meier import AtMonths, Curve
from analytics.views import PatencyView

RISK_ROWS = (("at_risk", "At risk"), ("events", "Events"), ("censored", "Censored"))
TABLE_GAP = 0.14  # between the curves' axes and the table's, as a share of the height
DRAWN_RESOLUTION = 0.001  # a tenth of a percentage point: under a pixel on any screen
MAX_CENSOR_MARKS = 100  # censoring times on a curve beyond which no ticks are drawn


@dataclass(frozen=True, eq=False)
class CurveSpec:
    """One curve to draw: its label, colour, step curve and KMunicate table (the engine's)."""

    label: str
    colour: str
    curve: Curve
    risk: AtMonths


def curve_specs(view: PatencyView) -> list[CurveSpec]:
    """The view's curves: each endpoint in its own colour on every page, or each group."""
    if view.by is None:
        return [
            CurveSpec(label, ENDPOINT_COLOURS[endpoint], result.curve, result.risk)
            for (label, result), endpoint in zip(curves(view), view.survival, strict=True)
        ]
    return [
        CurveSpec(label, group_colour(i), result.curve, result.risk)
        for i, (label, result) in enumerate(curves(view))
    ]


def patency_figure(
    view: PatencyView, show_ci: bool = True, k: int | None = None, title: str | None = None
) -> go.Figure:
    """The view's curves with their KMunicate table, titled and noted with its comparison."""
    if view.by is None:
        heading = title or "Primary, assisted primary and secondary patency"
        note = None
    else:
        heading = title or f"{ENDPOINTS[view.endpoint]} by {GROUPINGS[view.by].lower()}"
        note = comparison_note(view)
    return km_figure(curve_specs(view), RISK_TABLE_MONTHS, show_ci, heading, note, k)


def comparison_note(view: PatencyView) -> str:
    """One line per test for a chart: the log-rank p and each hazard ratio."""
    comparison = view.compared.comparison if view.compared else None
    if comparison is None or comparison.logrank is None:
        return "fewer than two groups in this cohort: nothing to compare"
    lines = [f"Log-rank {fmt.p_statement(comparison.logrank.p)}"]
    lines += [fmt.hazard_ratio_line(ratio, view.by) for ratio in comparison.hazard_ratios]
    return "<br>".join(lines)


def _frame(curve: Curve) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "months": curve.time,
            "estimate": curve.estimate,
            "ci_lower": curve.ci_lower,
            "ci_upper": curve.ci_upper,
            "se": curve.se,
            "censored": curve.censored,
        }
    )


def _rgba(hex_colour: str, alpha: float) -> str:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def _from_one(curve: pd.DataFrame) -> pd.DataFrame:
    """Start every curve at 100% at month 0, so failures at month 0 show as a drop.

    The band is drawn at 100% until the first event, where no interval exists.
    """
    start = pd.DataFrame(
        [{"months": 0.0, "estimate": 1.0, "ci_lower": 1.0, "ci_upper": 1.0, "se": 0.0}]
    )
    curve = pd.concat([start, curve], ignore_index=True)
    whole = curve["estimate"] >= 1
    curve.loc[whole, ["ci_lower", "ci_upper"]] = 1.0
    return curve


def _split_unreliable(curve: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reliable stretch, and the stretch from the first time whose SE exceeds 10%.

    Steps are drawn "hv" (flat, then down), so the dotted stretch starts at that time at
    the level the curve had just before it, and the solid stretch ends there.
    """
    flagged = np.flatnonzero(curve["se"].to_numpy() > SE_UNRELIABLE)
    if not flagged.size:
        return curve, curve.iloc[0:0]
    first = int(flagged[0])
    joint = curve.iloc[[first]].assign(estimate=curve["estimate"].iloc[first - 1])
    solid = pd.concat([curve.iloc[:first], joint], ignore_index=True)
    return solid, pd.concat([joint, curve.iloc[first:]], ignore_index=True)


def _thin(curve: pd.DataFrame) -> pd.DataFrame:
    """The steps a chart can show: a registry's hundreds of tiny steps merged.

    A row is kept where its estimate or interval moves by DRAWN_RESOLUTION (a tenth of a
    percentage point, under a pixel on any screen) from the last row kept, where the SE
    first exceeds 10%, and at the end of follow-up.
    """
    columns = curve[["estimate", "ci_lower", "ci_upper"]].to_numpy()
    keep = np.zeros(len(curve), dtype=bool)
    keep[[0, -1]] = True
    flagged = np.flatnonzero(curve["se"].to_numpy() > SE_UNRELIABLE)
    if flagged.size:
        keep[flagged[0]] = True
    last = columns[0]
    for i in range(1, len(curve)):
        if keep[i] or np.nanmax(np.abs(columns[i] - last), initial=0) >= DRAWN_RESOLUTION:
            keep[i] = True
            last = columns[i]
    return curve[keep].reset_index(drop=True)


def _curve_traces(spec: CurveSpec, show_ci: bool, k: int | None) -> list[dict]:
    """One curve's traces as plotly dicts: CI band, solid and dotted steps, censor ticks.

    Built as plain dicts and validated once with the whole figure: plotly's objects
    validate every property as it is set, which cost 70 ms of an 80 ms curve chart.
    """
    steps = _frame(spec.curve)
    curve = _thin(_from_one(steps))
    hover = "%{x:.1f} months: %{y:.1%}<extra>" + spec.label + "</extra>"
    common = {"type": "scatter", "xaxis": "x", "yaxis": "y", "legendgroup": spec.label}
    lines = {**common, "mode": "lines", "line_shape": "hv"}
    traces = []
    if show_ci:
        traces += [
            {**lines, "x": curve["months"], "y": curve["ci_upper"], "line": {"width": 0},
             "showlegend": False, "hoverinfo": "skip"},
            {**lines, "x": curve["months"], "y": curve["ci_lower"], "line": {"width": 0},
             "fill": "tonexty", "fillcolor": _rgba(spec.colour, 0.15),
             "name": f"{spec.label} 95% CI", "showlegend": False, "hoverinfo": "skip"},
        ]  # fmt: skip
    reliable, unreliable = _split_unreliable(curve)
    traces.append(
        {**lines, "x": reliable["months"], "y": reliable["estimate"], "name": spec.label,
         "line": {"color": spec.colour, "width": 3}, "hovertemplate": hover}
    )  # fmt: skip
    if not unreliable.empty:
        traces.append(
            {**lines, "x": unreliable["months"], "y": unreliable["estimate"],
             "line": {"color": spec.colour, "width": 3, "dash": UNRELIABLE_DASH},
             "name": f"{spec.label}: {UNRELIABLE}", "hovertemplate": hover}
        )  # fmt: skip
    censored = steps[steps["censored"] > 0]
    if len(censored) <= MAX_CENSOR_MARKS:  # beyond, ticks would draw a band
        traces.append(
            {**common, "x": censored["months"], "y": censored["estimate"], "mode": "markers",
             "marker": {"symbol": "line-ns-open", "size": 12, "color": spec.colour,
                        "line": {"width": 2}},
             "name": f"{spec.label} censored", "showlegend": False,
             "customdata": [fmt.count(int(n), k) for n in censored["censored"]],
             "hovertemplate": "%{customdata} censored at %{x:.1f} months<extra></extra>"}
        )  # fmt: skip
    return traces


def _risk_row_label(spec: CurveSpec, name: str, several: bool) -> str:
    return f"{spec.label} · {name}" if several else name


def _risk_traces(specs: Sequence[CurveSpec], k: int | None) -> tuple[list[dict], list[str]]:
    """The KMunicate table as text traces on the lower axes, and its row labels."""
    several = len(specs) > 1
    traces, rows = [], []
    for spec in specs:
        for column, name in RISK_ROWS:
            label = _risk_row_label(spec, name, several)
            rows.append(label)
            traces.append(
                {"type": "scatter", "xaxis": "x2", "yaxis": "y2", "mode": "text",
                 "x": spec.risk.month, "y": [label] * len(spec.risk.month),
                 "text": [fmt.count(int(n), k) for n in getattr(spec.risk, column)],
                 "textfont": {"color": spec.colour, "size": 14}, "showlegend": False,
                 "hoverinfo": "skip"}
            )  # fmt: skip
    return traces, rows


def km_figure(
    specs: Sequence[CurveSpec],
    months: Sequence[float],
    show_ci: bool = True,
    title: str | None = None,
    note: str | None = None,
    k: int | None = None,
) -> go.Figure:
    """Curves above, the KMunicate risk table below, one shared month axis.

    With privacy k, counts below k in the table and the hover text read "<k".
    """
    rows_in_table = 3 * len(specs)
    table_share = min(0.55, 0.08 + 0.045 * rows_in_table)
    risk, labels = _risk_traces(specs, k)
    curves = [trace for spec in specs for trace in _curve_traces(spec, show_ci, k)]
    last = max([*months, *(spec.curve.last_time for spec in specs if spec.curve.time.size)])
    layout = {
        "xaxis": {"domain": [0, 1], "anchor": "y", "range": [-1, last + 1],
                  "tickvals": list(months), "title": {"text": "Months since the procedure"}},
        "yaxis": {"domain": [table_share + TABLE_GAP, 1], "anchor": "x", "range": [0, 1.03],
                  "tickformat": ".0%", "title": {"text": "Patients free of the endpoint"}},
        "xaxis2": {"domain": [0, 1], "anchor": "y2", "matches": "x", "showline": False,
                   "ticks": "", "showticklabels": False},
        "yaxis2": {"domain": [0, table_share], "anchor": "x2", "categoryorder": "array",
                   "categoryarray": list(reversed(labels)), "showline": False, "ticks": "",
                   "showgrid": False},
        "annotations": [] if not note else [
            {"text": note, "xref": "x domain", "yref": "y domain", "x": 0.02, "y": 0.04,
             "showarrow": False, "align": "left", "xanchor": "left", "yanchor": "bottom",
             "bgcolor": "rgba(255,255,255,0.85)", "font": {"size": 14}}
        ],
    }  # fmt: skip
    fig = go.Figure(data=curves + risk, layout=layout)
    fig = apply_theme(fig, title=title, height=480 + 26 * rows_in_table)
    fig.update_layout(legend={"y": 1.0, "yanchor": "bottom"}, margin={"t": 90 if title else 60})
    return fig
