"""Forest plot of an adjusted Cox model: crude beside adjusted hazard ratio, one line per term.

The Subgroups forest plot's look (analytics.present.figures.subgroups): terms on the left,
hazard ratios on a log axis with a dashed line at HR = 1 and, under the axis, which side
has less of the endpoint's event; on the right the two hazard ratios with their CIs in
aligned columns. Each term has two markers: crude (one covariate at a time, grey open
circle) just above, adjusted (blue square) just below.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from analytics.glossary import ENDPOINTS
from analytics.present import format as fmt
from analytics.present.figures.subgroups import (
    ROW_HEIGHT,
    STABLE,
    UNSTABLE_COLOUR,
    favours_labels,
    hr_axes,
    reference_line,
)
from analytics.present.figures.theme import TEXT_COLOUR, apply_theme, figure_text, legend_above
from analytics.present.privacy import ModelMask
from analytics.stats.models import AdjustedModel

CRUDE, ADJUSTED = "Crude HR (95% CI)", "Adjusted HR (95% CI)"
# (name, colour, marker, offset of its line from the term's row)
SERIES = ((CRUDE, UNSTABLE_COLOUR, "circle-open", -0.18), (ADJUSTED, STABLE, "square", 0.18))
# the right-hand table: x on its axis, header; each column as wide as its bold header
COLUMNS = ((0.0, CRUDE), (0.5, ADJUSTED))
HEADER_ROW = -1.0


def model_forest_plot(model: AdjustedModel, mask: ModelMask) -> go.Figure:
    """Crude and adjusted hazard ratios of every term of ``model`` on one log axis.

    In privacy mode a term whose ratios are hidden (analytics.present.privacy.model_mask)
    keeps its row, with SUPPRESSED in the table and no marker, and a note under the plot
    says why: its numbers are not in the figure's data.
    """
    terms = list(model.terms)
    crude = {t.term: t for t in model.crude}
    rows = list(range(len(terms)))
    drawn = [
        (row, t)
        for row, t in zip(rows, terms, strict=True)
        if not mask.ratio_hidden(t.term) and t.estimable  # no point of too few events
    ]
    fig = go.Figure()
    for name, colour, symbol, offset in SERIES:
        shown = [crude[t.term] if name == CRUDE else t for _, t in drawn]
        fig.add_trace(
            go.Scatter(
                x=[t.hr for t in shown], y=[row + offset for row, _ in drawn], mode="markers",
                name=name,
                error_x={
                    "type": "data", "symmetric": False,
                    "array": [t.ci_upper - t.hr for t in shown],
                    "arrayminus": [t.hr - t.ci_lower for t in shown],
                    "color": colour, "thickness": 2,
                },
                marker={"symbol": symbol, "size": 11, "color": colour,
                        "line": {"width": 2, "color": colour}},
                customdata=[figure_text(fmt.term(t, model.variables)) for t in shown],
                hovertemplate=f"%{{customdata}}: {name.split(' ')[0].lower()} HR %{{x:.2f}}"
                "<extra></extra>",
            )
        )  # fmt: skip
    fig.add_trace(reference_line(len(terms)))
    for x, header in COLUMNS:
        shown = [crude[t.term] if header == CRUDE else t for t in terms]
        fig.add_trace(
            go.Scatter(
                x=[x] * (len(terms) + 1), y=[HEADER_ROW, *rows], mode="text", xaxis="x2",
                text=[f"<b>{header}</b>",
                      *(fmt.term_ci(t, mask.ratio_hidden(t.term)) for t in shown)],
                textposition="middle right", showlegend=False, hoverinfo="skip",
                textfont={"size": 13, "color": TEXT_COLOUR},
            )
        )  # fmt: skip
    every = [t for _, t in drawn] + [crude[t.term] for _, t in drawn]
    finite = [t for t in every if math.isfinite(t.ci_lower) and math.isfinite(t.ci_upper)]
    annotations = favours_labels(model.endpoint)
    if any(mask.ratio_hidden(t.term) for t in terms):  # not a term of too few events
        annotations.append(
            {"text": figure_text(fmt.hidden_terms_mark(mask)), "xref": "paper", "yref": "paper",
             "x": 0, "y": 0, "yshift": -104, "xanchor": "left", "showarrow": False,
             "font": {"size": 12, "color": TEXT_COLOUR}}
        )  # fmt: skip
    labels = [figure_text(fmt.term(t, model.variables)) for t in terms]
    fig.update_layout(
        **hr_axes((t.ci_lower for t in finite if t.ci_lower > 0), (t.ci_upper for t in finite)),
        yaxis={"tickvals": rows, "ticktext": labels,
               "range": [len(terms) - 0.5, HEADER_ROW - 0.8],
               "showgrid": False, "zeroline": False, "tickfont": {"color": TEXT_COLOUR}},
        annotations=annotations,
    )  # fmt: skip
    title = f"{ENDPOINTS[model.endpoint]}: crude and adjusted hazard ratios (Cox)"
    fig = apply_theme(fig, title, 240 + 2 * ROW_HEIGHT * len(terms), labels=labels)
    fig = legend_above(fig, [name for name, _, _, _ in SERIES])
    # room for the favours labels under the axis title, and the privacy note under them
    fig.update_layout(margin_b=110 if len(drawn) == len(terms) else 135)
    return fig
