"""Centres: each centre's primary patency at one month on a funnel plot, and the outliers.

A centre's user (analytics.scope) sees every centre, theirs named and the others
anonymised, each centre's counts masked at the pool's k, and no n of the registry."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analytics.glossary import COUNT_COLUMNS, LIMB, PATIENT
from analytics.present import format as fmt
from analytics.present.figures.centres import funnel_plot
from analytics.present.masking import mask as masked_at
from analytics.present.tables import centres_display
from analytics.views import NO_CENTRE, N, centres_ledger
from ui import data, state
from ui.access import session_scope
from ui.page import masked, require_patients, start_page
from ui.privacy import current_k, session_setting
from ui.show import show_chart, show_definitions, show_table
from ui.text import plain

SYNTH_COMMAND = "python -m analytics synth --patients 100000 --out registry.duckdb"

context = start_page("Centres")
require_patients(context)

month_column, _ = st.columns([2, 6])
month = float(state.draw("month", month_column, label="Primary patency at month"))
scope = session_scope()
funnel_filter = scope.funnel_filter(context.cohort_filter)
comparison = scope.funnel(data.centre_comparison(context.key, funnel_filter, month))
if scope.centre is None:
    context, mask = masked(context, centres_ledger(comparison))
else:  # masked apart from the sidebar's n, which counts the user's scope, not these
    k = scope.funnel_k(current_k(), session_setting())
    mask = masked_at(scope.funnel_view(comparison), k)
    name = context.meta.get("name", "Cohort")
    caption = fmt.anonymised_caption(name, funnel_filter, scope.centre)
    context = replace(context, chart=replace(context.chart, caption=caption))
centres = comparison.centres
pooled = fmt.percent(comparison.pooled)
without = comparison.patients_without_centre
counted = LIMB if context.header.bilateral_file else PATIENT  # patency counts limbs
unit = COUNT_COLUMNS[counted].lower()
# A centre's user sees no n of every centre: beside their own it gives the others' sum.
counts = unit.capitalize() if scope.scoped else f"{fmt.cell(mask.cell(N))} {unit}"
st.caption(
    f"{counts} in {fmt.count(len(centres))} centre(s); "
    f"pooled primary patency at {fmt.months(month)} months {pooled} (Kaplan-Meier, every "
    f"{unit.removesuffix('s')} in the filter)."
    + (
        f" {fmt.cell(mask.cell(NO_CENTRE))} {unit} have no centre recorded: they count in "
        "the pooled estimate, not in any centre."
        if without
        else ""
    )
)

if len(centres) < 2:
    if context.cohort_filter.center is not None:
        message = "The Centre filter keeps one centre: clear it in the sidebar to compare centres."
    else:
        found = (
            f"This cohort has one centre ({plain(centres['centre'].iloc[0])})"
            if len(centres) == 1
            else "No patient in this cohort has a centre recorded"
        )
        message = (
            f"{found}: a centre comparison needs two or more. Load a multi-centre registry, "
            f"e.g. `{SYNTH_COMMAND}`, then open it with `COHORT_DB=registry.duckdb bash "
            "scripts/start.sh`, or import one on the Data page."
        )
    st.info(message, icon=":material/info:")
else:
    show_chart(funnel_plot(comparison, mask, counted), "centres-funnel", context.chart)
    st.caption(
        f"Each point is a centre: its Kaplan-Meier primary patency at {fmt.months(month)} months "
        f"against its number of {unit}. Dashed and dotted curves are the 95% and 99.8% control "
        "limits around the pooled estimate; about 1 centre in 20 falls outside the 95% limits by "
        "chance alone. Censoring makes these binomial limits approximate."
        + (
            " A patient's two limbs carry less than two patients: the limits are widened by the "
            "pooled estimate's design effect (its variance clustered by patient over "
            "Greenwood's)."
            if counted == LIMB
            else ""
        )
    )
    st.subheader("Outlying centres")
    if comparison.outliers.empty:
        st.caption("No centre lies outside the 95% control limits.")
    else:
        st.caption("Outside the 95% limits, the farthest out first (99.8% outliers lead).")
        show_table(
            centres_display(comparison, comparison.outliers, mask, counted), "outlying centres"
        )

if not centres.empty:
    st.subheader("All centres")
    show_table(centres_display(comparison, centres, mask, counted), "centres")
if not comparison.not_estimable.empty:
    names = ", ".join(plain(c) for c in comparison.not_estimable["centre"])
    st.caption(
        f"Not plotted: {names} (no estimate at {fmt.months(month)} months; the reason is in the "
        "Position column)."
    )
design_effect = " design effect" if counted == LIMB else ""
with st.expander("Definitions"):
    show_definitions(
        ("Funnel plot", "Control limits", "Primary patency", "Kaplan-Meier"),
        f"**{COUNT_COLUMNS[counted]}** are those each centre contributes to the analysis (the "
        f"size axis); **Events** are losses of primary patency before the month; **At risk** "
        f"are {unit} still followed and patent at the month. The **z-score** is (estimate - "
        f"pooled) / sqrt(pooled (1 - pooled){design_effect} / {unit}).",
    )
