"""Kaplan-Meier curves in the KMunicate style.

One figure holds the curves (step lines, 95% CI bands with their edges, censor marks,
the stretch from the first time whose standard error exceeds 10%, or after which fewer
than a chosen number remain at risk, dotted or cut) and,
under the x axis and sharing it, the KMunicate table: one block per curve, a header with
the curve's name beside a swatch of its colour, then the patients at risk at each month
and those whose event or censoring came before it. Table text is dark on white (4.5:1
contrast or more); colour only marks the swatches and the curves.

A second figure (incidence_figure) draws each curve's cumulative incidence of the
endpoint as 1 - Kaplan-Meier and with death competing (Aalen-Johansen, with its 95% CI
band). Both draw their time axis as a TimeAxis says: its end, months or years.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.glossary import (
    ENDPOINTS,
    FREE_OF_ENDPOINT,
    LIMB,
    PATIENT,
    TIME_UNITS,
    UNRELIABLE,
    UNRELIABLE_AT_TABLE_MONTHS,
    few_at_risk,
    privacy_curve_note,
)
from analytics.partitions import Key
from analytics.present import format as fmt
from analytics.present.figures.theme import (
    ENDPOINT_COLOURS,
    LEGEND_ROW_PX,
    TEXT_COLOUR,
    UNRELIABLE_DASH,
    apply_theme,
    figure_text,
    group_style,
    legend_above,
    rgba,
)
from analytics.present.masking import Cell, Mask, exact
from analytics.present.tables import (
    Unreliable,
    against,
    comparison_lines,
    curves_of_endpoints,
    estimate_shown,
    incidence_shown,
    unreliable_note,
    unreliable_row,
    unreliable_start,
    unreliable_words,
)
from analytics.rules import MONTHS_PER_YEAR, SE_UNRELIABLE
from analytics.stats.engine.aalen_johansen import Incidence
from analytics.stats.engine.kaplan_meier import AtMonths, Curve
from analytics.stats.survival import GroupSurvival
from analytics.views import CURVE_COUNTS, PatencyView, curve_months, patency_ledger

RISK_ROWS = (("at_risk", "At risk"), ("events", "Events"), ("censored", "Censored"))
TABLE_GAP = 0.12  # between the curves' axes and the table's, as a share of the height
ROW_PX = 24  # one row of the table
# Compact (a projector's screen at 1280x720): each cell on two lines, at risk over
# "(events, censored)", in smaller type, so a registry's "14,798 (3,501, 86)" or a masked
# "hidden (<5, 0)" stays within its six months of axis; a curve's row holds both lines.
COMPACT_TEXT_PX = 11
COMPACT_LINES = 2
# A line of a compact table: its share of the plot, so two curves' rows stay apart on the
# shortest plot (1280x720 under a comparison's subtitle, the demo's note under the chart).
COMPACT_ROW_SHARE = 0.12
COMPACT_BOTTOM_PX = 36  # holds the month axis's title under the table, and no more
DRAWN_RESOLUTION = 0.001  # a tenth of a percentage point: under a pixel on any screen
MAX_CENSOR_MARKS = 100  # censoring times on a curve beyond which no ticks are drawn
DOTTED, CUT = "dotted", "cut"  # how a curve goes on where it turns unreliable
COMPACT_ROWS = "At risk (events, censored before)"
MONTHS, YEARS = "months", "years"
HOVER_TIME = {MONTHS: "%{x:.1f} months", YEARS: "%{x:.2f} years"}
ESTIMATE_DOT = 8  # px: privacy mode's mark of an estimate at a table month


@dataclass(frozen=True)
class TimeAxis:
    """How a chart's time axis is drawn; the KMunicate table's months are the view's.

    ``xmax`` ends the axis (months; None: at the last follow-up or risk-table month, and
    a risk-table month beyond it is not shown); ``unit`` labels ticks, the axis and the
    hover in months or years (the views and the JSON stay in months); with
    ``min_at_risk`` a curve also turns dotted, or stops, after fewer than that many
    patients remain at risk (tables.unreliable_row).
    """

    xmax: float | None = None
    unit: str = MONTHS
    min_at_risk: int | None = None

    def scaled(self, months: Sequence[float] | pd.Series) -> np.ndarray:
        """Months as positions on the axis, in its unit."""
        per_unit = MONTHS_PER_YEAR if self.unit == YEARS else 1
        return np.asarray(months, dtype=float) / per_unit

    def within(self, months: Sequence[float] | np.ndarray) -> np.ndarray:
        """Which of ``months`` the axis shows: those up to its end."""
        months = np.asarray(months, dtype=float)
        return months <= self.xmax if self.xmax is not None else np.ones(months.size, bool)

    def end(self, months: Sequence[float], specs: Sequence[CurveSpec]) -> float:
        """The axis's last month: ``xmax``, else the last month shown or followed."""
        if self.xmax is not None:
            return float(self.xmax)
        return max([*months, *(spec.curve.last_time for spec in specs if spec.curve.time.size)])

    def ticks(self, months: Sequence[float]) -> dict:
        """A plotly axis's ticks at ``months`` (up to its end), labelled in its unit."""
        shown = np.asarray(months, dtype=float)[self.within(months)]
        label = fmt.years if self.unit == YEARS else fmt.months
        return {"tickvals": list(self.scaled(shown)), "ticktext": [label(m) for m in shown]}

    @property
    def title(self) -> str:
        return f"{TIME_UNITS[self.unit]} since the procedure"


@dataclass(frozen=True, eq=False)
class CurveSpec:
    """One curve to draw: its label, colour and dash, step curve and KMunicate table."""

    label: str
    colour: str
    curve: Curve
    risk: AtMonths
    dash: str = "solid"
    # its KMunicate table as privacy shows it: at risk, events, censored at each month
    counts: tuple[tuple[Cell, ...], ...] = ()
    censor_counts: bool = True  # a censoring tick says how many (privacy off)
    # privacy mode: the steps drawn, at the table's months (privacy_steps); None: its own
    masked: pd.DataFrame | None = None

    def steps(self, min_at_risk: int | None = None) -> pd.DataFrame:
        """The steps drawn: privacy's, else the curve's own (steps())."""
        return self.masked if self.masked is not None else steps(self.curve, min_at_risk)

    @property
    def undrawn(self) -> bool:
        """Privacy draws nothing of it: no month past 0 may show (privacy_steps)."""
        return self.masked is not None and not estimate_rows(self.masked).any()

    def unreliable(self, min_at_risk: int | None = None) -> str | None:
        """The rule by which the drawn curve turns dotted, if it does (unreliable_row)."""
        start = self.unreliable_from(min_at_risk)
        return None if start is None else start.rule

    def unreliable_from(self, min_at_risk: int | None = None) -> Unreliable | None:
        """Where the drawn curve turns dotted, and by which rule: in privacy mode at the
        first of its drawn table months that does (its SE and at risk are the table's),
        never at an event time (the SE passing 10% at an event of a curve of 16 with none
        censored is its 4th event: the time pins a "<5" before it)."""
        if self.masked is None:
            return unreliable_start(self.curve, min_at_risk)
        frame = self.masked
        found = unreliable_row(frame["se"].to_numpy(), frame["remaining"].to_numpy(), min_at_risk)
        return (
            None if found is None else Unreliable(float(frame["months"].iloc[found[0]]), found[1])
        )

    @property
    def table(self) -> tuple[tuple[Cell, ...], ...]:
        """Its KMunicate counts as shown: ``counts``, else the table's own (privacy off)."""
        if self.counts:
            return self.counts
        rows = (self.risk.at_risk, self.risk.events, self.risk.censored)
        return tuple(tuple(Cell(int(n), "exact") for n in row) for row in rows)


def curve_specs(view: PatencyView, mask: Mask | None = None) -> list[CurveSpec]:
    """The view's curves: each endpoint in its own colour on every page, or each group.

    A group's label carries its size, "Thrombophilia: Yes (n = 9)", as the view's mask
    shows it. In privacy mode a curve of fewer than k patients is not drawn (its steps
    would be single patients; see withheld_groups).
    """
    return [spec for spec, _ in drawn_curves(view, mask)]


def drawn_curves(
    view: PatencyView, mask: Mask | None = None
) -> list[tuple[CurveSpec, GroupSurvival]]:
    """Each curve drawn (curve_specs) with the estimates it is drawn from (``mask``: the
    view's, None with privacy off)."""
    mask = mask or exact(patency_ledger(view))
    drawn = []
    for i, ((label, result), endpoint) in enumerate(curves_of_endpoints(view)):
        if mask.few(view.keys(endpoint, result)("patients")):
            continue
        counts = tuple(
            tuple(mask.cell(view.keys(endpoint, result)(count, m)) for m in result.risk.month)
            for count in CURVE_COUNTS
        )
        if view.by is None:
            colour, dash = ENDPOINT_COLOURS[endpoint], "solid"
        else:
            colour, dash = group_style(i)
            label = f"{label} (n = {fmt.cell(mask.cell(view.keys(endpoint, result)('patients')))})"
        key = view.keys(endpoint, result)
        masked = None if mask.k is None else privacy_steps(mask, key, result)
        spec = CurveSpec(
            label, colour, result.curve, result.risk, dash, counts, mask.k is None, masked
        )
        drawn.append((spec, result))
    return drawn


def privacy_steps(mask: Mask, key: Callable[..., Key], curve: GroupSurvival) -> pd.DataFrame:
    """The steps privacy mode draws of a curve: from 100% at month 0, its estimate and 95%
    CI at each of its table months (views.curve_months: the KMunicate table's and the
    estimates', so a step every 6 or 12 months), each held until the next. At a month whose
    estimate the mask withholds (tables.estimate_shown) the held step ends and the line
    breaks (a row of NaN) until the next month it shows: the curve has no height there, as
    the table has no estimate. It ends at the last month anybody reaches. Drawn at its
    event times, a step's height times the at risk would count its events. ``of`` is the
    month whose estimate a row holds (the hover's), ``remaining`` its at risk (the at-risk
    rule), NaN where the mask hides it beside a shown estimate (the rule then says nothing
    of it, not even that it reaches the rule's number)."""
    shown = estimate_shown(mask, key, curve)

    def at_risk(month: float, count: float) -> float:
        return np.nan if mask.hidden(key("at risk", month)) else count

    read = {
        float(m): (table.estimate[i], table.ci_lower[i], table.ci_upper[i], table.se[i],
                   at_risk(float(m), table.at_risk[i]))
        for table in (curve.risk, curve.estimates) for i, m in enumerate(table.month)
    }  # fmt: skip
    held = (1.0, 1.0, 1.0, 0.0, curve.patients, 0.0)
    rows = [(0.0, *held)]
    for month in curve_months(curve):
        if np.isnan(read[month][0]):
            break
        if month == 0:  # 100% at month 0 is no count's: the first row stands for it
            continue
        if shown[month]:
            held = (*read[month], month)
            rows.append((month, *held))
        elif held is not None:  # the step ends here; no height until a month shows one
            rows += [(month, *held), (month, *[np.nan] * 6)]
            held = None
    if all(row[-1] == 0 for row in rows if not np.isnan(row[-1])):  # no month past 0
        rows = rows[:1]
    frame = pd.DataFrame(rows, columns=["months", "estimate", "ci_lower", "ci_upper", "se",
                                        "remaining", "of"])  # fmt: skip
    frame.loc[frame["estimate"] >= 1, ["ci_lower", "ci_upper"]] = 1.0
    return frame


def estimate_rows(frame: pd.DataFrame) -> pd.Series:
    """The rows of a privacy curve (privacy_steps) that stand at their own estimate's
    month past 0 (not a held step's end, nor a break): those a dot marks."""
    return (frame["of"] == frame["months"]) & (frame["months"] > 0)


def patency_figure(
    view: PatencyView,
    show_ci: bool = True,
    mask: Mask | None = None,
    title: str | None = None,
    unreliable: str = DOTTED,
    compact: bool = False,
    axis: TimeAxis = TimeAxis(),
) -> go.Figure:
    """The view's curves with their KMunicate table (at the view's risk-table months),
    titled and subtitled with its test.

    ``compact`` gives the table one row per curve, for a projector's screen.
    """
    if view.by is None:
        heading = title or "Primary, assisted primary and secondary patency"
        subtitle = None
    else:
        heading = (
            title or f"{ENDPOINTS[view.endpoint]} by {view.variables.groupings()[view.by].lower()}"
        )
        subtitle = comparison_note(view, mask)
    mask = mask or exact(patency_ledger(view))
    specs = curve_specs(view, mask)
    subtitle = _with_withheld(subtitle, view, mask)
    # limb curves carry the limbs of patients with two where limbs are clustered by patient
    limbs = any(r.overall.limbs is not None for r in view.survival.values())
    return km_figure(
        specs, view.risk_months, show_ci, heading, subtitle, unreliable, compact, axis,
        LIMB if limbs else PATIENT,
    )  # fmt: skip


def _with_withheld(subtitle: str | None, view: PatencyView, mask: Mask | None) -> str | None:
    """The subtitle, with the groups privacy mode does not draw named on a line of their
    own (after the comparison's line it ran out of a 1280-wide chart), as figure text: the
    group names in it (a centre's, the reference group's) are data."""
    withheld = withheld_groups(view, mask)
    if not withheld:
        return None if subtitle is None else figure_text(subtitle)
    note = figure_text(f"Not drawn, fewer than {mask.k} patients: {', '.join(withheld)}")
    return note if subtitle is None else f"{figure_text(subtitle)}<br>{note}"


def withheld_groups(view: PatencyView, mask: Mask | None) -> list[str]:
    """The curves privacy mode does not draw: fewer than k patients."""
    if mask is None:
        return []
    return [
        label
        for (label, result), endpoint in curves_of_endpoints(view)
        if mask.few(view.keys(endpoint, result)("patients"))
    ]


def drawn_unreliable_note(
    view: PatencyView, mask: Mask | None = None, min_at_risk: int | None = None
) -> str:
    """Where each curve turns unreliable and by which rule (tables.unreliable_note); in
    privacy mode where each drawn curve does (CurveSpec.unreliable_from): at a table month,
    and not of a curve privacy does not draw, and says so."""
    if mask is None or mask.k is None:
        return unreliable_note(view, min_at_risk)
    starts = [
        (label, spec.unreliable_from(min_at_risk)) for label, spec in _drawn_labels(view, mask)
    ]
    return f"{unreliable_words(starts, min_at_risk)} {UNRELIABLE_AT_TABLE_MONTHS}"


def _drawn_labels(view: PatencyView, mask: Mask) -> list[tuple[str, CurveSpec]]:
    """Each drawn curve with its name in tables (without its size)."""
    named = [label for label, _ in _drawn_names(view, mask)]
    return list(zip(named, curve_specs(view, mask), strict=True))


def _drawn_names(view: PatencyView, mask: Mask) -> list[tuple[str, str]]:
    """Each curve drawn (drawn_curves' order): its name in tables, and its endpoint."""
    return [(label, endpoint) for (label, result), endpoint in curves_of_endpoints(view)
            if not mask.few(view.keys(endpoint, result)("patients"))]  # fmt: skip


def comparison_note(view: PatencyView, mask: Mask | None = None) -> str:
    """The comparison in one line under the title: the log-rank p and, for two groups, the
    Cox HR; with more, the HRs are in the comparison table (present.tables)."""
    lines = comparison_lines(view, mask)
    if len(lines) <= 2:
        return " · ".join(lines)
    return f"{lines[0]} · Cox HRs against {against(view)} in the table"


def _frame(curve: Curve) -> pd.DataFrame:
    """The curve's steps; ``remaining``: the patients still at risk after each."""
    return pd.DataFrame(
        {
            "months": curve.time,
            "estimate": curve.estimate,
            "ci_lower": curve.ci_lower,
            "ci_upper": curve.ci_upper,
            "se": curve.se,
            "censored": curve.censored,
            "remaining": curve.at_risk - curve.events - curve.censored,
        }
    )


def _from_one(curve: pd.DataFrame, patients: int) -> pd.DataFrame:
    """Start every curve at 100% at month 0, so failures at month 0 show as a drop.

    The band is drawn at 100% until the first event, where no interval exists.
    """
    start = pd.DataFrame(
        [{"months": 0.0, "estimate": 1.0, "ci_lower": 1.0, "ci_upper": 1.0, "se": 0.0,
          "remaining": patients}]
    )  # fmt: skip
    curve = pd.concat([start, curve], ignore_index=True)
    whole = curve["estimate"] >= 1
    curve.loc[whole, ["ci_lower", "ci_upper"]] = 1.0
    return curve


def split_unreliable(
    curve: pd.DataFrame, min_at_risk: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reliable stretch of steps(), and the stretch from where it turns unreliable.

    Steps are drawn "hv" (flat, then down). By the SE rule the dotted stretch starts at
    the first time whose SE exceeds 10%, at the level the curve had just before it, and
    the solid stretch ends there; by the at-risk rule (``min_at_risk``) both meet after
    the step that leaves fewer at risk (tables.unreliable_row).
    """
    found = unreliable_row(curve["se"].to_numpy(), curve["remaining"].to_numpy(), min_at_risk)
    if found is None:
        return curve, curve.iloc[0:0]
    first, rule = found
    if rule != UNRELIABLE:
        return curve.iloc[: first + 1], curve.iloc[first:]
    joint = curve.iloc[[first]].assign(estimate=curve["estimate"].iloc[first - 1])
    solid = pd.concat([curve.iloc[:first], joint], ignore_index=True)
    return solid, pd.concat([joint, curve.iloc[first:]], ignore_index=True)


def steps(curve: Curve, min_at_risk: int | None = None) -> pd.DataFrame:
    """The steps a chart draws: from 100% at month 0, thinned to what a chart can show
    (keeping the row where the curve turns unreliable, with ``min_at_risk`` by that
    rule too)."""
    return _thin(_from_one(_frame(curve), curve.patients), min_at_risk)


def _thin(curve: pd.DataFrame, min_at_risk: int | None = None) -> pd.DataFrame:
    """The steps a chart can show: a registry's hundreds of tiny steps merged.

    A row is kept where its estimate or interval moves by DRAWN_RESOLUTION (a tenth of a
    percentage point, under a pixel on any screen) from the last row kept, where the SE
    first exceeds 10%, where fewer than ``min_at_risk`` first remain, and at the end of
    follow-up.
    """
    columns = curve[["estimate", "ci_lower", "ci_upper"]].to_numpy()
    keep = np.zeros(len(curve), dtype=bool)
    keep[[0, -1]] = True
    flagged = np.flatnonzero(curve["se"].to_numpy() > SE_UNRELIABLE)
    if flagged.size:
        keep[flagged[0]] = True
    if min_at_risk is not None:
        few = np.flatnonzero(curve["remaining"].to_numpy() < min_at_risk)
        keep[few[:1]] = True
    last = columns[0]
    for i in range(1, len(curve)):
        if keep[i] or np.nanmax(np.abs(columns[i] - last), initial=0) >= DRAWN_RESOLUTION:
            keep[i] = True
            last = columns[i]
    return curve[keep].reset_index(drop=True)


def _curve_traces(spec: CurveSpec, show_ci: bool, unreliable: str, axis: TimeAxis) -> list[dict]:
    """One curve's traces as plotly dicts: CI band, solid and dotted steps, censor ticks.

    Built as plain dicts and validated once with the whole figure: plotly's objects
    validate every property as it is set, which cost 70 ms of an 80 ms curve chart. The
    legend names the curve once, on its solid stretch, or on its dotted one (named for
    the rule that made it dotted) when it has no solid stretch. With ``unreliable``
    "cut", the curve and its band stop where it turns unreliable.
    """
    curve = spec.steps(axis.min_at_risk)
    reliable, beyond = split_unreliable(curve, axis.min_at_risk)
    if unreliable == CUT:
        curve, beyond = reliable, beyond.iloc[0:0]
    rule = spec.unreliable(axis.min_at_risk)
    hover = ": %{y:.1%}<extra>" + spec.label + "</extra>"
    common = {"type": "scatter", "xaxis": "x", "yaxis": "y", "legendgroup": spec.label}
    lines = {**common, "mode": "lines", "line_shape": "hv"}
    traces = []
    if show_ci:
        traces += _band(lines, axis.scaled(curve["months"]), curve, spec.colour,
                        f"{spec.label} 95% CI")  # fmt: skip
    solid = unreliable == CUT or reliable["months"].iloc[-1] > reliable["months"].iloc[0]
    if solid:
        traces.append(
            {**lines, "x": axis.scaled(reliable["months"]), "y": reliable["estimate"],
             "name": spec.label,
             "line": {"color": spec.colour, "width": 3, "dash": spec.dash},
             **_hover(reliable, axis, hover, spec.colour)}
        )  # fmt: skip
    if not beyond.empty:
        traces.append(
            {**lines, "x": axis.scaled(beyond["months"]), "y": beyond["estimate"],
             "line": {"color": spec.colour, "width": 3, "dash": UNRELIABLE_DASH},
             "name": spec.label if not solid or rule is None else f"{spec.label}: {rule}",
             "showlegend": not solid, **_hover(beyond, axis, hover, spec.colour)}
        )  # fmt: skip
    every = _frame(spec.curve)  # censoring times, also those the thinning merged
    censored = every[every["censored"] > 0]
    if unreliable == CUT:
        censored = censored[censored["months"] <= curve["months"].max()]
    # none in privacy mode, where a tick would place a censoring between the table's months
    if spec.masked is None and len(censored) <= MAX_CENSOR_MARKS:  # beyond, a band
        traces.append(
            {**common, "x": axis.scaled(censored["months"]), "y": censored["estimate"],
             "mode": "markers",
             "marker": {"symbol": "line-ns-open", "size": 10, "color": spec.colour,
                        "line": {"width": 1.5}},
             "name": f"{spec.label} censored", "showlegend": False,
             "customdata": [f"{fmt.count(int(n))} " if spec.censor_counts else ""
                            for n in censored["censored"]],
             "hovertemplate": "%{customdata}censored at " + HOVER_TIME[axis.unit]
             + "<extra></extra>"}
        )  # fmt: skip
    return traces


def _hover(frame: pd.DataFrame, axis: TimeAxis, after: str, colour: str) -> dict:
    """A curve trace's hover: its time, then ``after``. A privacy curve's held step says
    the month its estimate is of (privacy_steps' ``of``), not where the hold ends, and a
    dot in ``colour`` marks each estimate (one between two withheld months has no line to
    stand on)."""
    if "of" not in frame:
        return {"hovertemplate": HOVER_TIME[axis.unit] + after}
    own = estimate_rows(frame)
    return {"hovertemplate": HOVER_TIME[axis.unit].replace("%{x", "%{customdata") + after,
            "customdata": axis.scaled(frame["of"]), "mode": "lines+markers",
            "marker": {"size": np.where(own, ESTIMATE_DOT, 0), "color": colour}}  # fmt: skip


def _unreliable_key(
    specs: Sequence[CurveSpec], unreliable: str, min_at_risk: int | None
) -> list[dict]:
    """One legend entry that says what a dotted line means, when any curve has one."""
    starts = [s.unreliable(min_at_risk) for s in specs]
    if unreliable == CUT or all(start is None for start in starts):
        return []
    rules = UNRELIABLE if min_at_risk is None else f"{UNRELIABLE} or {few_at_risk(min_at_risk)}"
    return [
        {"type": "scatter", "x": [None], "y": [None], "mode": "lines", "xaxis": "x",
         "yaxis": "y", "name": f"Dotted: {rules}",
         "line": {"color": TEXT_COLOUR, "width": 2, "dash": UNRELIABLE_DASH}}
    ]  # fmt: skip


def _band(
    line: dict, x: Sequence[float], steps: pd.DataFrame, colour: str, name: str
) -> list[dict]:
    """A 95% CI as a shaded band between its limits (``steps``' ci_upper and ci_lower),
    drawn like its curve (``line``), out of the legend and the hover: one band for each
    stretch between a privacy curve's breaks (privacy_steps), as a fill would cross them."""
    edge = {"color": rgba(colour, 0.45), "width": 1}
    x = np.asarray(x, dtype=float)
    gap = steps["estimate"].isna().to_numpy()
    stretch = np.cumsum(gap)
    traces = []
    for run in np.unique(stretch[~gap]):
        rows = (stretch == run) & ~gap
        part = steps[rows]
        traces += [
            {**line, "x": x[rows], "y": part["ci_upper"], "line": edge, "showlegend": False,
             "hoverinfo": "skip"},
            {**line, "x": x[rows], "y": part["ci_lower"], "line": edge, "fill": "tonexty",
             "fillcolor": rgba(colour, 0.10), "name": name, "showlegend": False,
             "hoverinfo": "skip"},
        ]  # fmt: skip
    return traces


def _risk_table(
    specs: Sequence[CurveSpec], compact: bool, axis: TimeAxis
) -> tuple[list[dict], dict]:
    """The KMunicate table as text traces on the lower axes, and that axis's layout.

    Each curve is a block: a header row with a swatch of its colour and its name, then
    At risk, Events and Censored. Compact (a projector's screen), each curve is one row,
    its swatch and name, and each cell at risk over "(events, censored)". Rows are
    numbered from the top (y = 0, -1, ...). Only the months up to the axis's end are shown.
    """
    traces, tickvals, ticktext = [], [], []
    per_curve = 1 if compact else 4
    for i, spec in enumerate(specs):
        top = -per_curve * i
        tickvals.append(top)
        ticktext.append(f'<span style="color:{spec.colour}">■</span> <b>{spec.label}</b>')
        shown = axis.within(spec.risk.month)
        counted = [
            [fmt.cell(c) for c, within in zip(row, shown, strict=True) if within]
            for row in spec.table
        ]
        at = axis.scaled(spec.risk.month[shown])
        cells = (
            [(top, [f"{a}<br>({e}, {c})" for a, e, c in zip(*counted, strict=True)])]
            if compact
            else []
        )
        rows = [] if compact else zip(RISK_ROWS, counted, strict=True)
        for j, ((_, name), texts) in enumerate(rows, start=1):
            tickvals.append(top - j)
            ticktext.append(name)
            cells.append((top - j, texts))
        traces += [
            {"type": "scatter", "xaxis": "x2", "yaxis": "y2", "mode": "text",
             "x": at, "y": [y] * len(at), "text": text,
             "textfont": {"color": TEXT_COLOUR, "size": COMPACT_TEXT_PX if compact else 14},
             "showlegend": False,
             "hoverinfo": "skip", "cliponaxis": False}
            for y, text in cells
        ]  # fmt: skip
    if compact:  # what the cells hold, as the table's first row, in two lines like them
        tickvals.insert(0, 1)
        ticktext.insert(0, "<i>{}</i>".format("<br>(".join(COMPACT_ROWS.split(" (", 1))))
    axis = {
        "tickmode": "array", "tickvals": tickvals, "ticktext": ticktext,
        "range": [-per_curve * len(specs) + 0.5, 1.5 if compact else 0.5], "showline": False,
        "ticks": "", "showgrid": False, "zeroline": False, "tickfont": {"color": TEXT_COLOUR},
    }  # fmt: skip
    return traces, axis


def km_figure(
    specs: Sequence[CurveSpec],
    months: Sequence[float],
    show_ci: bool = True,
    title: str | None = None,
    subtitle: str | None = None,
    unreliable: str = DOTTED,
    compact: bool = False,
    axis: TimeAxis = TimeAxis(),
    unit: str = PATIENT,
) -> go.Figure:
    """Curves above, the KMunicate table below, one shared time axis ticked at ``months``;
    the curves count ``unit`` (glossary.LIMB or PATIENT), as the axis's title says.

    The table's counts are the specs' (as the view's mask shows them). The legend
    stands in rows between the title and the plot, clear of both, however many curves;
    compact, the table's rows name each curve beside its colour, so the legend keeps only
    the curves it must tell apart by their dash, and the dotted key.
    A curve's name (a centre's, say) is data, shown literally (theme.figure_text).
    """
    specs = [replace(spec, label=figure_text(spec.label)) for spec in specs]
    if any(spec.masked is not None for spec in specs):
        undrawn = [s.label for s in specs if s.undrawn]
        note = privacy_curve_note(undrawn)  # the labels are figure text already
        subtitle = note if subtitle is None else f"{subtitle}<br>{note}"
    rows = (COMPACT_LINES if compact else 4) * len(specs) + compact
    curves_px = 360
    table_px = ROW_PX * rows
    height = curves_px + table_px + 140 + LEGEND_ROW_PX * (len(specs) // 3)
    # a share, not pixels, so a chart that fills a window (presenting) keeps its rows apart;
    # no curve (a factor nobody has recorded) leaves an empty table its gap, so both axes fit
    per_row = COMPACT_ROW_SHARE if compact else 0.09
    table_share = (
        min(0.6, max(table_px / (curves_px + table_px), per_row * rows)) if rows else TABLE_GAP
    )
    risk, table_axis = _risk_table(specs, compact, axis)
    lines = [t for spec in specs for t in _curve_traces(spec, show_ci, unreliable, axis)]
    last = axis.end(months, specs)
    pad = 0.06 * last + 1
    ticked = [0.0, *np.asarray(months, dtype=float)[axis.within(months)]]
    layout = {
        # from before 0, so month 0's cells ("22 (0, 0)") stand clear of the row labels, and
        # past the last month ticked as far, so its cells ("16,544", compact "(1,825,
        # 16,544)") are not cut either
        "xaxis": {"domain": [0, 1], "anchor": "y",
                  "range": list(axis.scaled([-pad, max(last + 1, ticked[-1] + pad)])),
                  **axis.ticks(months)},
        "yaxis": {"domain": [table_share + TABLE_GAP / 2, 1], "anchor": "x",
                  "range": [0, 1.03], "tickformat": ".0%",
                  # compact (a projector's short plot): the title would run into the table
                  "title": {"text": "" if compact else FREE_OF_ENDPOINT[unit]}},
        # the month axis's title under the table, clear of both
        "xaxis2": {"domain": [0, 1], "anchor": "y2", "matches": "x", "showline": False,
                   "ticks": "", "showticklabels": False,
                   "title": {"text": axis.title, "standoff": 4}},
        "yaxis2": {"domain": [0, table_share - TABLE_GAP / 2], "anchor": "x2", **table_axis},
    }  # fmt: skip
    key = _unreliable_key(specs, unreliable, axis.min_at_risk)
    named = [spec for spec in specs if not compact or spec.dash != "solid"]
    if compact:
        unnamed = {spec.label for spec in specs} - {spec.label for spec in named}
        lines = [
            {**t, "showlegend": False} if t.get("legendgroup") in unnamed else t for t in lines
        ]
    fig = go.Figure(data=lines + key + risk, layout=layout)
    fig = apply_theme(fig, title, height, subtitle, labels=table_axis["ticktext"])
    if compact:
        fig.layout.margin.b = COMPACT_BOTTOM_PX
    return legend_above(fig, [spec.label for spec in named] + [k["name"] for k in key])


ONE_MINUS_KM = "1 - Kaplan-Meier (death censors)"
AALEN_JOHANSEN = "Aalen-Johansen (death competes)"
AALEN_JOHANSEN_CI = "Aalen-Johansen 95% CI (log(-log))"
AJ_DASH = "dash"
NO_COMPETING_DEATHS = "No patient in this view died before the endpoint: the two estimates coincide"


def incidence_figure(
    view: PatencyView, mask: Mask | None = None, show_ci: bool = True, axis: TimeAxis = TimeAxis()
) -> go.Figure:
    """The endpoint's cumulative incidence of each drawn curve, two ways, in its colour:
    1 - Kaplan-Meier (death censors; solid) and Aalen-Johansen (death competes; dashed),
    with ``show_ci`` the Aalen-Johansen 95% CI as a band (the engine's: log(-log) scale,
    delta-method variance), drawn like the Kaplan-Meier bands.

    Where patients die before the endpoint, 1 - Kaplan-Meier lies above the Aalen-Johansen
    curve: it counts the dead as if they could still reach the endpoint. In privacy mode
    both stand only at the months the Kaplan-Meier curve is drawn at (privacy_steps). The
    legend names each curve once and says which line style, and the shading, is which.
    Ticks stand at the view's risk-table months.
    """
    mask = mask or exact(patency_ledger(view))
    drawn = drawn_curves(view, mask)
    endpoints = [endpoint for _, endpoint in _drawn_names(view, mask)]
    hover = ": %{y:.1%}<extra>"
    traces, names = [], []
    for (spec, result), endpoint in zip(drawn, endpoints, strict=True):
        label = figure_text(spec.label)
        names.append(label)
        km = spec.steps()
        aj = (
            _incidence_steps(result.incidence)
            if spec.masked is None
            else _incidence_at_drawn(
                result, spec.masked, incidence_shown(mask, view.keys(endpoint, result), result)
            )
        )
        common = {"type": "scatter", "mode": "lines", "line_shape": "hv", "legendgroup": label}
        if show_ci:
            traces += _band(common, axis.scaled(aj["months"]), aj, spec.colour,
                            f"{label}: {AALEN_JOHANSEN_CI}")  # fmt: skip
        traces += [
            {**common, "x": axis.scaled(km["months"]), "y": 1 - km["estimate"], "name": label,
             "line": {"color": spec.colour, "width": 2},
             **_hover(km, axis, hover + label + ": " + ONE_MINUS_KM + "</extra>", spec.colour)},
            {**common, "x": axis.scaled(aj["months"]), "y": aj["estimate"],
             "name": f"{label}: {AALEN_JOHANSEN}", "showlegend": False,
             "line": {"color": spec.colour, "width": 3, "dash": AJ_DASH},
             **_hover(aj, axis, hover + label + ": " + AALEN_JOHANSEN + "</extra>", spec.colour)},
        ]  # fmt: skip
    styles = [(ONE_MINUS_KM, 2, "solid"), (AALEN_JOHANSEN, 3, AJ_DASH)]
    key = [
        {"type": "scatter", "x": [None], "y": [None], "mode": "lines", "name": name,
         "line": {"color": TEXT_COLOUR, "width": width, "dash": dash}}
        for name, width, dash in styles
    ]  # fmt: skip
    if show_ci and drawn:
        key.append(
            {"type": "scatter", "x": [None], "y": [None], "mode": "lines", "fill": "toself",
             "name": AALEN_JOHANSEN_CI, "fillcolor": rgba(TEXT_COLOUR, 0.10),
             "line": {"color": rgba(TEXT_COLOUR, 0.45), "width": 1}}
        )  # fmt: skip
    competing = any(not np.allclose(r.incidence.estimate, 1 - r.incidence.free) for _, r in drawn)
    subtitle = _with_withheld(None if competing else NO_COMPETING_DEATHS, view, mask)
    last = axis.end(view.risk_months, [spec for spec, _ in drawn])
    layout = {
        "xaxis": {"range": list(axis.scaled([0, last + 1])), **axis.ticks(view.risk_months),
                  "title": {"text": axis.title}},
        "yaxis": {"rangemode": "tozero", "tickformat": ".0%",
                  "title": {"text": "Patients who reached the endpoint"}},
    }  # fmt: skip
    heading = "Cumulative incidence of the endpoint"
    if view.by is not None:
        by = view.variables.groupings()[view.by].lower()
        heading = f"{heading}: {ENDPOINTS[view.endpoint].lower()} by {by}"
    fig = go.Figure(data=traces + key, layout=layout)
    fig = apply_theme(fig, title=heading, subtitle=subtitle)
    return legend_above(fig, [*names, *(trace["name"] for trace in key)])


def _incidence_steps(incidence: Incidence) -> pd.DataFrame:
    """The Aalen-Johansen steps a chart draws: from 0 at month 0, thinned as steps().

    The band is drawn at 0 until the first event and at 1 once everyone has reached the
    endpoint, where no interval exists (as the Kaplan-Meier band at 100%).
    """
    frame = pd.DataFrame(
        {
            "months": np.concatenate([[0.0], incidence.time]),
            "estimate": np.concatenate([[0.0], incidence.estimate]),
            "ci_lower": np.concatenate([[0.0], incidence.ci_lower]),
            "ci_upper": np.concatenate([[0.0], incidence.ci_upper]),
            "se": np.concatenate([[0.0], incidence.se]),
        }
    )
    frame.loc[frame["estimate"] <= 0, ["ci_lower", "ci_upper"]] = 0.0
    frame.loc[frame["estimate"] >= 1, ["ci_lower", "ci_upper"]] = 1.0
    return _thin(frame)


def _incidence_at_drawn(
    curve: GroupSurvival, drawn: pd.DataFrame, shown: dict[float, bool]
) -> pd.DataFrame:
    """Privacy mode's Aalen-Johansen steps: from 0 at month 0, the incidence at each
    estimate month the drawn Kaplan-Meier curve holds (privacy_steps), as that curve, its
    line broken where that one is, and where the incidence may not show (``shown``:
    tables.incidence_shown)."""
    at = curve.incidence_at
    months = at.month.astype(float)
    gap = (np.nan,) * 4
    rows, held = [(0.0, 0.0, 0.0, 0.0, 0.0)], True
    for month, of in zip(drawn["months"], drawn["of"], strict=True):
        if np.isnan(of) or (of in months and not shown[float(of)]):
            if held:  # the step before ends here
                rows += [(month, *rows[-1][1:]), (month, *gap)]
            held = False
        elif of in months and month > 0:
            i = int(np.flatnonzero(months == of)[0])
            rows.append((month, at.estimate[i], at.ci_lower[i], at.ci_upper[i], of))
            held = True
    if all(row[-1] == 0 for row in rows if not np.isnan(row[-1])):  # no month past 0
        rows = rows[:1]
    frame = pd.DataFrame(rows, columns=["months", "estimate", "ci_lower", "ci_upper", "of"])
    frame.loc[frame["estimate"] <= 0, ["ci_lower", "ci_upper"]] = 0.0
    return frame


# ---- the landmark view (issue 14) -------------------------------------------------------------


def landmark_figure(
    view: PatencyView,
    show_ci: bool = True,
    mask: Mask | None = None,
    unreliable: str = DOTTED,
    axis: TimeAxis = TimeAxis(),
) -> go.Figure:
    """The view's curves from its landmark month on (``view.landmark``), drawn as
    patency_figure draws them, time counted from the landmark: in the axis's unit and with
    its at-risk rule, the axis to the landmark curves' own end."""
    month = fmt.months(view.landmark_month)
    fig = patency_figure(view.landmark, show_ci, mask, unreliable=unreliable,
                         axis=replace(axis, xmax=None))  # fmt: skip
    return fig.update_layout(
        title_text=f"{fig.layout.title.text}: landmark at month {month}",
        xaxis2_title_text=f"{TIME_UNITS[axis.unit]} since month {month}, among the patients "
        "free of the endpoint and followed beyond it",
    )
