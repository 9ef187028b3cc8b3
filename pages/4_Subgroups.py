"""Subgroups: one endpoint at one month across every factor, as a forest plot."""

from __future__ import annotations

import streamlit as st

from analytics.glossary import (
    CLUSTERED_BY_PATIENT,
    COMPARISON_TESTS_INLINE,
    LIMB,
    ROBUST_SCORE_TEST,
    TOO_FEW_EVENTS_NOTE,
    UNSTABLE,
)
from analytics.present import format as fmt
from analytics.present.figures.subgroups import forest_plot
from analytics.present.tables import subgroup_display, subgroup_test, subgroup_unit
from analytics.views import subgroups_ledger
from ui import data, state
from ui.page import masked, require_patients, start_page
from ui.show import show_chart, show_definitions, show_table

context = start_page("Subgroups")
require_patients(context)

endpoint_column, month_column, _ = st.columns([3, 2, 3])
endpoint = state.draw("endpoint", endpoint_column)
month = float(state.draw("month", month_column, label="Estimate at month"))

view = data.subgroups(context.key, context.cohort_filter, endpoint, month)
if view.table.empty:
    st.info("No factor has two or more groups in this cohort.")
    st.stop()
context, mask = masked(context, subgroups_ledger(view, context.n))
show_chart(forest_plot(view, mask), "subgroups-forest", context.chart)
factors = view.table["factor"].unique()
clustered = subgroup_unit(view) == LIMB  # limbs clustered by patient: the robust score test
if clustered:
    st.caption(CLUSTERED_BY_PATIENT)
st.caption(
    f"Each factor's groups are compared with its first group (the reference; 'No' for yes/no "
    f"factors): Cox hazard ratio with 95% CI and the "
    f"{COMPARISON_TESTS_INLINE[subgroup_test(view)]} p across groups. Grey open "
    f"circles are unstable groups ({UNSTABLE}). {TOO_FEW_EVENTS_NOTE} "
    f"**Multiple comparisons:** {len(factors)} "
    f"factors are tested here without adjustment; at p < 0.05 about "
    f"{fmt.number(0.05 * len(factors))} would look significant by chance alone, so treat these "
    "as hypotheses to test, not findings."
)
show_table(subgroup_display(view, mask), "subgroups")
groupings = context.cohort_filter.variables.groupings()
with st.expander("Definitions"):
    show_definitions(
        ("Hazard ratio", ROBUST_SCORE_TEST if clustered else "Log-rank test", "Kaplan-Meier"),
        "Factors: " + ", ".join(groupings[f] for f in factors) + ".",
    )
