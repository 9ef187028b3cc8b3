"""Kaplan-Meier curves in the KMunicate style.

One figure holds the curves (step lines, 95% CI bands, censor marks, the stretch
whose standard error exceeds 10% dotted) and, under the x axis and sharing it, the
table of number at risk, cumulative events and cumulative censored per curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

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
    """The reliable stretch, and the stretch from the first SE > 10% on (sharing one point)."""
    flagged = curve.index[curve["se"] > SE_UNRELIABLE]
    if flagged.empty:
        return curve, curve.iloc[0:0]
    first = flagged[0]
    return curve.loc[: first - 1], curve.loc[first - 1 :]


def _add_curve(fig: go.Figure, spec: CurveSpec, show_ci: bool, k: int | None) -> None:
    steps = _frame(spec.curve)
    curve = _from_one(steps)
    hover = "%{x:.1f} months: %{y:.1%}<extra>" + spec.label + "</extra>"
    if show_ci:
        fig.add_trace(
            go.Scatter(
                x=curve["months"], y=curve["ci_upper"], mode="lines", line_shape="hv",
                line={"width": 0}, showlegend=False, hoverinfo="skip", legendgroup=spec.label,
            ),
            row=1, col=1,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=curve["months"], y=curve["ci_lower"], mode="lines", line_shape="hv",
                line={"width": 0}, fill="tonexty", fillcolor=_rgba(spec.colour, 0.15),
                name=f"{spec.label} 95% CI", showlegend=False, hoverinfo="skip",
                legendgroup=spec.label,
            ),
            row=1, col=1,
        )  # fmt: skip
    reliable, unreliable = _split_unreliable(curve)
    fig.add_trace(
        go.Scatter(
            x=reliable["months"], y=reliable["estimate"], mode="lines", line_shape="hv",
            line={"color": spec.colour, "width": 3}, name=spec.label, legendgroup=spec.label,
            hovertemplate=hover,
        ),
        row=1, col=1,
    )  # fmt: skip
    if not unreliable.empty:
        fig.add_trace(
            go.Scatter(
                x=unreliable["months"], y=unreliable["estimate"], mode="lines", line_shape="hv",
                line={"color": spec.colour, "width": 3, "dash": UNRELIABLE_DASH},
                name=f"{spec.label}: {UNRELIABLE}", legendgroup=spec.label, hovertemplate=hover,
            ),
            row=1, col=1,
        )  # fmt: skip
    censored = steps[steps["censored"] > 0]
    fig.add_trace(
        go.Scatter(
            x=censored["months"], y=censored["estimate"], mode="markers",
            marker={
                "symbol": "line-ns-open", "size": 12, "color": spec.colour, "line": {"width": 2},
            },
            name=f"{spec.label} censored", legendgroup=spec.label, showlegend=False,
            customdata=[fmt.count(int(n), k) for n in censored["censored"]],
            hovertemplate="%{customdata} censored at %{x:.1f} months<extra></extra>",
        ),
        row=1, col=1,
    )  # fmt: skip


def _risk_row_label(spec: CurveSpec, name: str, several: bool) -> str:
    return f"{spec.label} · {name}" if several else name


def _add_risk_table(fig: go.Figure, specs: Sequence[CurveSpec], k: int | None) -> list[str]:
    several = len(specs) > 1
    rows: list[str] = []
    for spec in specs:
        for column, name in RISK_ROWS:
            label = _risk_row_label(spec, name, several)
            rows.append(label)
            fig.add_trace(
                go.Scatter(
                    x=spec.risk.month, y=[label] * len(spec.risk.month), mode="text",
                    text=[fmt.count(int(n), k) for n in getattr(spec.risk, column)],
                    textfont={"color": spec.colour, "size": 14}, showlegend=False,
                    hoverinfo="skip",
                ),
                row=2, col=1,
            )  # fmt: skip
    return rows


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
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.14,
        row_heights=[1 - table_share, table_share],
    )  # fmt: skip
    for spec in specs:
        _add_curve(fig, spec, show_ci, k)
    labels = _add_risk_table(fig, specs, k)
    last = max([*months, *(spec.curve.last_time for spec in specs if spec.curve.time.size)])
    fig.update_xaxes(
        range=[-1, last + 1], tickvals=list(months), showticklabels=True,
        title_text="Months since the procedure", row=1, col=1,
    )  # fmt: skip
    fig.update_xaxes(showline=False, ticks="", showticklabels=False, row=2, col=1)
    fig.update_yaxes(
        title_text="Patients free of the endpoint", tickformat=".0%", range=[0, 1.03],
        row=1, col=1,
    )  # fmt: skip
    fig.update_yaxes(
        categoryorder="array", categoryarray=list(reversed(labels)), showline=False, ticks="",
        showgrid=False, row=2, col=1,
    )  # fmt: skip
    if note:
        fig.add_annotation(
            text=note, xref="x domain", yref="y domain", x=0.02, y=0.04, showarrow=False,
            align="left", xanchor="left", yanchor="bottom", bgcolor="rgba(255,255,255,0.85)",
            font={"size": 14},
        )  # fmt: skip
    fig = apply_theme(fig, title=title, height=480 + 26 * rows_in_table)
    fig.update_layout(legend={"y": 1.0, "yanchor": "bottom"}, margin={"t": 90 if title else 60})
    return fig
