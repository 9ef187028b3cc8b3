"""Clinical change before vs after: CEAP shift, Villalta pairs, PTS severity, reflux.

Builders take the results of analytics.stats.clinical (counts only, never patient rows)
and state the paired test with its p-value on each chart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.glossary import CEAP_CLASSES, PTS_SEVERITY, PTS_SEVERITY_LABELS, VILLALTA
from analytics.present import format as fmt
from analytics.present.figures.theme import (
    BEFORE_AFTER_COLOURS,
    OKABE_ITO,
    apply_theme,
    legend_above,
    message_figure,
    narrow_subtitle,
    rgba,
)
from analytics.present.masking import Mask
from analytics.present.privacy import hidden_change, hidden_mcnemar
from analytics.present.tables import ceap_classes_shown
from analytics.rules import PTS_VILLALTA_THRESHOLD, VILLALTA_MAX
from analytics.stats.clinical import BinaryChange, ScoreChange
from analytics.views import (
    WHEN,
    binary_key,
    ceap_class_key,
    clinical_key,
    pairs_key,
    severity_key,
)

CEAP_COLOURS = {  # light to dark with severity, colour-blind safe
    0: "#E8F1F8", 1: "#CFE3F1", 2: "#A9CDE6", 3: OKABE_ITO["sky"], 4: OKABE_ITO["blue"],
    5: OKABE_ITO["orange"], 6: OKABE_ITO["vermillion"],
}  # fmt: skip


def _p_text(test: str, score: ScoreChange, measure: str, mask: Mask) -> str:
    return f"{test}: {fmt.test_p(score.p, score.n, hidden_change(measure, mask))}"


PRIVATE_FLOWS = (
    "Flows between classes are not shown in privacy mode: in a table counted both ways, "
    "hidden flows can be worked out from the row and column totals. The class "
    "distributions before and at the last visit are shown instead."
)
PRIVATE_PAIRS = "Privacy mode: means ± SD only, no limb's pair"
PRIVATE_PAIRS_HIDDEN = "The number of paired limbs is hidden: it would give a count below {k} away"


def ceap_sankey(shift: pd.DataFrame, mask: Mask) -> go.Figure:
    """CEAP class before (left) flowing to class at the last visit (right), the counts as
    the clinical view's ``mask`` shows them.

    In privacy mode no flow is drawn (PRIVATE_FLOWS): the figure says why.
    """
    title = "CEAP class: before → last visit"
    if mask.k is not None:
        return message_figure(title, PRIVATE_FLOWS, 420)
    used_before = [c for c in CEAP_CLASSES if shift.loc[c].sum() > 0]
    used_after = [c for c in CEAP_CLASSES if shift[c].sum() > 0]
    labels = [
        f"C{c} {when} ({fmt.cell(mask.cell(ceap_class_key(when, c)))})"
        for when, used in (("before", used_before), ("after", used_after))
        for c in used
    ]
    sources, targets, values, colours = [], [], [], []
    for i, before in enumerate(used_before):
        for j, after in enumerate(used_after):
            flow = mask.cell(clinical_key("ceap", "shift", f"C{before}", f"C{after}"))
            if flow.value:
                sources.append(i)
                targets.append(len(used_before) + j)
                values.append(flow)
                colours.append(rgba(CEAP_COLOURS[before], 0.45))
    fig = go.Figure(
        go.Sankey(
            node={
                "label": labels,
                "color": [CEAP_COLOURS[c] for c in (*used_before, *used_after)],
                "pad": 18,
                "thickness": 22,
            },
            link={
                "source": sources,
                "target": targets,
                "value": [v.value for v in values],
                "color": colours,
                "customdata": [fmt.cell(v) for v in values],
                "hovertemplate": "%{source.label} → %{target.label}: %{customdata} limbs"
                "<extra></extra>",
            },
        )
    )
    return apply_theme(fig, title=title, height=420)


def ceap_bars(shift: pd.DataFrame, score: ScoreChange, mask: Mask) -> go.Figure:
    """Stacked bars: share of limbs in each CEAP class before and at the last visit, as
    the clinical view's ``mask`` shows the classes (a hidden one is not drawn)."""
    pairs = mask.cell(pairs_key("ceap"))
    columns = {"Before": "before", "Last visit": "after"}
    classes = {name: {c: mask.cell(ceap_class_key(when, c)) for c in CEAP_CLASSES}
               for name, when in columns.items()}  # fmt: skip
    fig = go.Figure()
    for c in ceap_classes_shown(mask):
        cells = [classes[name][c] for name in columns]
        texts = [fmt.cell(cell) for cell in cells]
        fig.add_trace(
            go.Bar(
                x=list(columns), name=f"C{c}", marker_color=CEAP_COLOURS[c],
                y=[None if cell.hidden or pairs.hidden else 100 * cell.value / pairs.value
                   for cell in cells],
                text=[t if cell.value or cell.hidden else ""
                      for t, cell in zip(texts, cells, strict=True)],
                textposition="inside", customdata=texts,
                hovertemplate="%{fullData.name}: %{customdata} limbs (%{y:.1f}%)<extra></extra>",
            )
        )  # fmt: skip
    fig.update_layout(barmode="stack", yaxis={"title": "Limbs (%)", "range": [0, 100]})
    subtitle = _p_text("Clinical severity score, Wilcoxon signed-rank", score, "ceap", mask)
    if pairs.hidden or any(cell.hidden for shown in classes.values() for cell in shown.values()):
        subtitle += "<br>Classes hidden by privacy mode are not drawn"
    themed = apply_theme(
        fig, title="CEAP class distribution", height=440, subtitle=narrow_subtitle(subtitle)
    )
    # the classes' legend in rows of its own above the bars: a registry's five or six
    # classes wrapped onto a second row that ran into the subtitle
    return legend_above(themed, [trace.name for trace in fig.data])


PAIR_WIDTH_STEPS = 4  # line widths of the pair lines: 1 + 3 * step / steps


def villalta_pairs(pairs: pd.DataFrame, score: ScoreChange, mask: Mask) -> go.Figure:
    """Each limb's Villalta before and after joined by a line, with the means ± SD; in
    privacy mode the means ± SD only (PRIVATE_PAIRS), and nothing when the clinical
    view's ``mask`` hides the pairs (fewer than k limbs, or withheld beside a small count)."""
    title = "Villalta score, paired within limbs"
    shown = mask.cell(pairs_key("villalta"))
    if shown.shown == "small":
        return message_figure(title, f"Fewer than {mask.k} paired limbs. {PRIVATE_PAIRS}.", 460)
    if shown.hidden:
        hidden = PRIVATE_PAIRS_HIDDEN.format(k=mask.k)
        return message_figure(title, f"{hidden}. {PRIVATE_PAIRS}.", 460)
    fig = go.Figure(_pair_lines(pairs) if mask.k is None else [])
    fig.add_trace(
        go.Scatter(
            x=["Before", "Last visit"], y=[score.mean_before, score.mean_after],
            error_y={"type": "data", "array": [score.sd_before, score.sd_after], "width": 8},
            mode="lines+markers", name="Mean ± SD",
            line={"color": BEFORE_AFTER_COLOURS["after"], "width": 4}, marker={"size": 14},
        )
    )  # fmt: skip
    below = PTS_VILLALTA_THRESHOLD - 0.5  # the band of whole scores without PTS
    fig.add_hrect(y0=-0.5, y1=below, fillcolor="#EEEEEE", line_width=0, layer="below")
    fig.add_annotation(
        text=f"No PTS (Villalta 0-{PTS_VILLALTA_THRESHOLD - 1})", x=1, xref="paper",
        y=below / 2, xanchor="right", showarrow=False, font={"color": "#666666"},
    )  # fmt: skip
    fig.update_yaxes(title=f"{VILLALTA} (0-{VILLALTA_MAX})", rangemode="tozero")
    subtitle = _p_text("Wilcoxon signed-rank", score, "villalta", mask)
    if mask.k is not None:
        subtitle += f"<br>{PRIVATE_PAIRS}"
    return apply_theme(fig, title=title, height=460, subtitle=subtitle)


def _pair_lines(pairs: pd.DataFrame) -> list[go.Scatter]:
    """The (before, after) lines, thicker for more limbs, in one trace per width step.

    A trace per pair cost 4 ms each to build and as much to draw; a registry has
    hundreds of distinct pairs. The hover still names each pair and its limbs.
    """
    most = max(int(pairs["patients"].max()), 1) if not pairs.empty else 1
    steps = np.ceil(PAIR_WIDTH_STEPS * pairs["patients"] / most).clip(1, PAIR_WIDTH_STEPS)
    traces = []
    for step, group in pairs.groupby(steps):
        hover = [
            f"{row.before} → {row.after}: {fmt.count(row.patients)} limb(s)"
            for row in group.itertuples()
        ]
        traces.append(
            go.Scatter(
                x=["Before", "Last visit", None] * len(group),
                y=_with_breaks(group["before"], group["after"]),
                text=_with_breaks(hover, hover), hovertemplate="%{text}<extra></extra>",
                mode="lines+markers", marker={"size": 6}, opacity=0.55, showlegend=False,
                line={"color": BEFORE_AFTER_COLOURS["before"],
                      "width": 1 + 3 * step / PAIR_WIDTH_STEPS},
            )
        )  # fmt: skip
    return traces


def _with_breaks(starts: Sequence, ends: Sequence) -> list:
    """start, end, None for each pair: one trace draws separate segments."""
    return [value for pair in zip(starts, ends, strict=True) for value in (*pair, None)]


def pts_severity_bars(severity: pd.DataFrame, pts: BinaryChange, mask: Mask) -> go.Figure:
    """PTS severity categories before and at the last visit, and PTS before and after in
    the subtitle, as the clinical view's ``mask`` shows them (the Overview's PTS tile
    shows the same cells)."""
    fig = go.Figure()
    for when, column in (("Before", "before"), ("Last visit", "after")):
        cells = [mask.cell(severity_key(column, s)) for s in severity["severity"]]
        texts = [fmt.cell(cell) for cell in cells]
        fig.add_trace(
            go.Bar(
                x=[PTS_SEVERITY_LABELS[s].replace(" (", "<br>(") for s in PTS_SEVERITY],
                y=[None if cell.hidden else cell.value for cell in cells], name=when,
                marker_color=BEFORE_AFTER_COLOURS[column], text=texts, textposition="outside",
                customdata=texts,
                hovertemplate="%{customdata} limbs<extra>%{fullData.name}</extra>",
            )
        )  # fmt: skip
    fig.update_layout(barmode="group", yaxis={"title": "Limbs"})
    before, after = (fmt.cell(mask.cell(binary_key("pts", when))) for when in WHEN)
    p = fmt.test_p(pts.p, pts.n, hidden_mcnemar("pts", mask))
    subtitle = (
        f"PTS {before} → {after} of {fmt.cell(mask.cell(pairs_key('pts')))}; exact McNemar: {p}"
    )
    fig = apply_theme(
        fig, title="Post-thrombotic syndrome severity", height=440,
        subtitle=narrow_subtitle(subtitle),
    )  # fmt: skip
    fig.update_layout(legend={"x": 1, "xanchor": "right"})
    return fig
