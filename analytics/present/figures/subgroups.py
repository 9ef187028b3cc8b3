"""Forest plot of every subgroup: hazard ratio with 95% CI, one row per factor level.

Left, the factors and their levels; in the middle, each level's Cox hazard ratio against
its factor's reference on a log axis with a line at HR = 1 and, under the axis, which side
has less of the endpoint's event; right, a table in aligned columns: patients (limbs,
where clustered by patient) / events, the estimate at the month, the HR with its CI, and
on each factor's line the p of the test that compared its groups. Unstable groups (few
patients or events)
are grey open circles. Sized by its rows; :func:`forest_pages` splits a long plot for
16:9 slides, keeping each factor whole.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

from analytics.glossary import COMPARISON_TESTS_INLINE, ENDPOINTS, PATENCY_ENDPOINTS, UNSTABLE
from analytics.present import format as fmt
from analytics.present.figures.theme import (
    OKABE_ITO,
    TEXT_COLOUR,
    apply_theme,
    figure_text,
    legend_above,
    message_figure,
)
from analytics.present.masking import Mask
from analytics.present.tables import SubgroupCells, subgroup_cells, tests_of
from analytics.variables import BUILTIN, Registry
from analytics.views import SubgroupsView

ROW_HEIGHT = 26
STABLE, UNSTABLE_COLOUR = OKABE_ITO["blue"], "#767676"  # grey: 4.5:1 on white
SERIES = (
    (False, STABLE, "square", "Hazard ratio (95% CI)"),
    (True, UNSTABLE_COLOUR, "circle-open", f"Unstable: {UNSTABLE}"),
)
# 1-2-5 steps from 0.1 to 10, whole decades beyond: labelled once, never crowded
LOG_TICKS = (0.001, 0.01, 0.1, 0.2, 0.5, 1, 2, 5, 10, 100, 1000)
PLOT_DOMAIN, TABLE_DOMAIN = (0.0, 0.5), (0.53, 1.0)
# The right-hand table's columns on its own axis (0-1): (x, alignment, header).
# Counts and estimates end at their x, the ratio starts at its: room left of the counts
# for a registry's "918,385 / 345,678" (the table's left edge clips), and right of the
# ratio for "0.56 (0.38-0.84)", in a table 357 px wide at 1280 px.
COLUMNS = (
    (0.36, "middle left", "n / events"),
    (0.575, "middle left", "Estimate"),  # its header "At 12 mo" clear of "n / events"
    (0.62, "middle right", "HR (95% CI)"),
)
# A factor's line holds its test's p ("robust score p = 0.003"), from the table's left
# edge over the counts and estimates its levels have under it: the HR column's room
# (from 0.62) is too narrow for it at 1280 px.
TEST_X, TESTS = 0.0, "tests"
SLIDE_ROWS = 16  # lines of a forest plot that fit a 16:9 slide
SCREEN_ROWS = 10  # and a 1280x720 screen, with the presenting view's controls
HR_AXIS = "Hazard ratio vs reference (log scale)"
HEADER_ROW = -1.2  # the table's headers stand above the first line
NO_SUBGROUPS = "Nothing to show: no factor has two or more groups among these patients."


def layout_rows(
    table: pd.DataFrame, variables: Registry = BUILTIN, hidden_tests: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """Row number and label of every line: a header per factor (with the p of the test
    that compared its groups, named: "log-rank p = 0.03", or "robust score p = 0.03" where
    limbs are clustered by patient; "p hidden" for a factor of ``hidden_tests``:
    SubgroupCells.test_hidden), then its levels, in the words of ``variables`` (the
    cohort's).

    `table_row` is the level's index in `table`, missing on a factor's header line.
    """
    lines, position, groupings = [], 0, variables.groupings()
    test = COMPARISON_TESTS_INLINE[tests_of(table)]
    for factor, rows in table.groupby("factor", sort=False):
        logrank = rows["logrank_p"].iloc[0]
        p = f"p {fmt.SUPPRESSED}" if factor in hidden_tests else fmt.p_statement(logrank)
        lines.append({"row": position, "label": f"<b>{groupings[factor]}</b>", "table_row": pd.NA,
                      "side": f"{test} {p}"})  # fmt: skip
        for offset, index in enumerate(rows.index, start=1):
            label = figure_text(fmt.level(factor, table.at[index, "level"], variables))
            lines.append({"row": position + offset, "label": f"   {label}", "table_row": index,
                          "side": ""})  # fmt: skip
        position += len(rows) + 1
    return pd.DataFrame(lines).astype({"table_row": "Int64"})


def _cells(row: pd.Series, cells: SubgroupCells, at: int) -> tuple[str, str, str]:
    """A level's three table cells: patients / events, estimate at the month, HR (95% CI),
    with what privacy mode hides (``cells``, row ``at``) hidden."""
    if pd.isna(row["estimate"]):
        estimate = fmt.MISSING
    else:
        hidden = cells.estimate_hidden[at]
        estimate = fmt.SUPPRESSED if hidden else fmt.percent(row["estimate"], 0)
    if row["is_reference"]:
        hr = "reference"
    elif not row["estimable"]:
        hr = fmt.not_estimable_short(row["reason"])
    elif cells.ratio_hidden[at]:
        hr = fmt.SUPPRESSED
    else:
        hr = fmt.ratio_ci(row["hr"], row["hr_lower"], row["hr_upper"])
    return f"{cells.patients[at]} / {cells.events[at]}", estimate, hr


def _headers(month: float) -> list[tuple[float, str, str]]:
    """The table's column headers, the estimate's naming its month."""
    estimate = f"At {fmt.months(month)} mo"
    return [(x, position, estimate if header == "Estimate" else header)
            for x, position, header in COLUMNS]  # fmt: skip


def favours(endpoint: str) -> tuple[str, str]:
    """What lies left and right of HR = 1: which side has less of the endpoint's event."""
    event = "loss of patency" if endpoint in PATENCY_ENDPOINTS else "recurrent DVT"
    return f"← less {event} in the group", f"less {event} in the reference →"


def hr_axes(lower: Iterable[float], upper: Iterable[float]) -> dict[str, dict]:
    """The log hazard-ratio axis, spanning every interval and at least 0.2-5 with 1-2-5
    ticks labelled once, and the invisible axis of the table beside it."""
    low, high = min([0.2, *lower]), max([5.0, *upper])
    ticks = [t for t in LOG_TICKS if low / 1.5 <= t <= high * 1.5]
    return {
        "xaxis": {"type": "log", "domain": PLOT_DOMAIN, "title": HR_AXIS,
                  "range": [math.log10(low) - 0.1, math.log10(high) + 0.1], "tickmode": "array",
                  "tickvals": ticks, "ticktext": [fmt.compact(t) for t in ticks]},
        "xaxis2": {"domain": TABLE_DOMAIN, "range": [0, 1], "visible": False},
    }  # fmt: skip


def reference_line(rows: int) -> go.Scatter:
    """The dashed line at HR = 1 over ``rows`` lines: a trace, which no template can hide."""
    return go.Scatter(
        x=[1, 1], y=[-0.5, rows - 0.5], mode="lines", showlegend=False,
        line={"color": "#555555", "width": 1.5, "dash": "dash"}, hoverinfo="skip",
        name="HR = 1",
    )  # fmt: skip


def favours_labels(endpoint: str) -> list[dict]:
    """What lies either side of HR = 1 (x is log10 on a log axis), under the axis title."""
    left, right = favours(endpoint)
    return [
        {"text": left, "xref": "x", "yref": "paper", "x": 0, "y": 0, "xshift": -8,
         "yshift": -78, "xanchor": "right", "showarrow": False,
         "font": {"size": 12, "color": TEXT_COLOUR}},
        {"text": right, "xref": "x", "yref": "paper", "x": 0, "y": 0, "xshift": 8,
         "yshift": -78, "xanchor": "left", "showarrow": False,
         "font": {"size": 12, "color": TEXT_COLOUR}},
    ]  # fmt: skip


def forest_plot(view: SubgroupsView, mask: Mask | None = None) -> go.Figure:
    """Hazard ratios against each factor's reference on a log axis; unstable groups muted.

    A view without subgroups (no factor with two groups) gives a figure saying so.
    """
    table, month = view.table, view.month
    title = f"{ENDPOINTS[view.endpoint]}: subgroups"
    if table.empty:
        return message_figure(title, NO_SUBGROUPS)
    privacy = subgroup_cells(view, mask)
    hidden_tests = frozenset(table["factor"][privacy.test_hidden])
    lines = layout_rows(table, view.variables, hidden_tests)
    levels = lines.dropna(subset=["table_row"])
    rows_of = dict(zip(levels["table_row"], levels["row"], strict=True))
    position = {index: at for at, index in enumerate(table.index)}
    drawn = table[~pd.Series(privacy.ratio_hidden, index=table.index)]  # no HR of few
    fig = go.Figure()
    for unstable, colour, symbol, name in SERIES:
        shown = drawn[(drawn["unstable"] == unstable) & ~drawn["is_reference"] & drawn["estimable"]]
        fig.add_trace(
            go.Scatter(
                x=shown["hr"], y=[rows_of[i] for i in shown.index], mode="markers", name=name,
                error_x={
                    "type": "data", "symmetric": False, "array": shown["hr_upper"] - shown["hr"],
                    "arrayminus": shown["hr"] - shown["hr_lower"], "color": colour, "thickness": 2,
                },
                marker={"symbol": symbol, "size": 11, "color": colour,
                        "line": {"width": 2, "color": colour}},
                customdata=[figure_text(fmt.group(f, v, view.variables))
                            for f, v in zip(shown["factor"], shown["level"], strict=True)],
                hovertemplate="%{customdata}: HR %{x:.2f}<extra></extra>",
            )
        )  # fmt: skip
    fig.add_trace(reference_line(len(lines)))
    cells = [
        ("", "", "") if pd.isna(line.table_row)
        else _cells(table.loc[line.table_row], privacy, position[line.table_row])
        for line in lines.itertuples()
    ]  # fmt: skip
    headers = _headers(month)
    for i, (x, position, _) in enumerate(COLUMNS):
        fig.add_trace(
            go.Scatter(
                x=[x] * len(lines), y=lines["row"], mode="text", xaxis="x2",
                text=[cell[i] for cell in cells], textposition=position, showlegend=False,
                hoverinfo="skip", textfont={"size": 13, "color": TEXT_COLOUR},
            )
        )  # fmt: skip
    factor_lines = lines[lines["table_row"].isna()]
    fig.add_trace(  # each factor's test on its line, from the table's left edge
        go.Scatter(
            x=[TEST_X] * len(factor_lines), y=factor_lines["row"], mode="text", xaxis="x2",
            text=factor_lines["side"].tolist(), textposition="middle right", showlegend=False,
            hoverinfo="skip", textfont={"size": 13, "color": TEXT_COLOUR}, name=TESTS,
        )
    )  # fmt: skip
    fig.add_trace(  # the table's header row, above the first factor
        go.Scatter(
            x=[x for x, _, _ in headers], y=[HEADER_ROW] * len(headers), mode="text",
            xaxis="x2", text=[f"<b>{h}</b>" for _, _, h in headers],
            textposition=[p for _, p, _ in headers], showlegend=False,
            hoverinfo="skip", textfont={"size": 13, "color": TEXT_COLOUR}, name="headers",
        )
    )  # fmt: skip
    estimable = drawn[drawn["estimable"] & ~drawn["is_reference"]]
    fig.update_layout(
        **hr_axes(estimable["hr_lower"].dropna(), estimable["hr_upper"].dropna()),
        yaxis={"tickvals": lines["row"], "ticktext": lines["label"],
               "range": [len(lines) - 0.5, HEADER_ROW - 0.8],
               "showgrid": False, "zeroline": False, "tickfont": {"color": TEXT_COLOUR}},
        annotations=favours_labels(view.endpoint),
    )  # fmt: skip
    fig = apply_theme(fig, title, 200 + ROW_HEIGHT * len(lines), labels=lines["label"])
    fig = legend_above(fig, [name for _, _, _, name in SERIES])
    fig.update_layout(margin_b=110)  # room for the favours labels under the axis title
    return fig


def forest_pages(view: SubgroupsView, rows: int = SLIDE_ROWS) -> list[SubgroupsView]:
    """The view split into as few parts of at most ``rows`` lines as it needs, each factor
    kept whole and the parts as even as the factors allow (no slide of one factor after
    three full ones)."""
    sizes = [
        (factor, len(levels) + 1) for factor, levels in view.table.groupby("factor", sort=False)
    ]
    fewest = len(_fill(sizes, rows))
    total = sum(size for _, size in sizes)
    even = next(
        part
        for limit in range(min(rows, -(-total // max(fewest, 1))), rows + 1)
        if len(part := _fill(sizes, limit)) == fewest
    )
    return [
        SubgroupsView(
            view.endpoint,
            view.month,
            view.table[view.table["factor"].isin(factors)],
            view.variables,
            view.patients,
            view.events,
        )
        for factors in even
    ]


def _fill(sizes: list[tuple[str, int]], rows: int) -> list[list[str]]:
    """Factors in order onto pages of at most ``rows`` lines (a larger factor alone)."""
    pages: list[list[str]] = [[]]
    used = 0
    for factor, need in sizes:
        if used and used + need > rows:
            pages.append([])
            used = 0
        pages[-1].append(factor)
        used += need
    return pages
