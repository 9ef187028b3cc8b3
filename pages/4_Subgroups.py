"""Subgroups: one endpoint at one month across every factor, as a forest plot."""

from __future__ import annotations

import streamlit as st

from analytics.glossary import DEFAULT_MONTHS, DEFINITIONS, ENDPOINTS, GROUPINGS
from analytics.present.figures.subgroups import forest_plot
from analytics.present.tables import subgroup_display
from analytics.stats.subgroups import FACTORS, table_from
from ui import data
from ui.export import show_chart, show_table
from ui.page import require_patients, start_page
from ui.url import choice, seed, write

context = start_page("Subgroups")
require_patients(context)

seed("endpoint", choice(list(ENDPOINTS)))
seed("month", choice([str(m) for m in DEFAULT_MONTHS]))
endpoint_column, month_column, _ = st.columns([3, 2, 3])
endpoint = endpoint_column.selectbox(
    "Endpoint", list(ENDPOINTS), format_func=ENDPOINTS.get, key="endpoint"
)
month = month_column.selectbox(
    "Estimate at month", [str(m) for m in DEFAULT_MONTHS], index=1, key="month"
)
write(
    {
        "endpoint": None if endpoint == "primary" else endpoint,
        "month": None if month == "12" else month,
    }
)

progress = st.progress(0.0)
comparisons = []
for done, factor in enumerate(FACTORS, start=1):
    comparisons.append(
        data.compare_groups(context.key, context.cohort_filter, endpoint, factor, (int(month),))
    )
    progress.progress(
        done / len(FACTORS),
        text=f"Compared {done} of {len(FACTORS)} factors (Kaplan-Meier, log-rank, Cox)",
    )
progress.empty()
table = table_from(comparisons)
if table.empty:
    st.info("No factor has two or more groups in this cohort.")
    st.stop()
show_chart(
    forest_plot(table, int(month), ENDPOINTS[endpoint], context.privacy_k), "subgroups-forest"
)
factors = len(table["factor"].unique())
st.caption(
    f"Each factor's groups are compared with its first group (the reference; 'no' for yes/no "
    f"factors): Cox hazard ratio with 95% CI and the log-rank p across groups. Grey open "
    f"circles are unstable groups (under 10 patients or under 5 events). **Multiple "
    f"comparisons:** {factors} factors are tested here without adjustment; at p < 0.05 about "
    f"{0.05 * factors:.1f} would look significant by chance alone, so treat these as "
    f"hypotheses to test, not findings."
)
show_table(subgroup_display(table), "subgroups")
with st.expander("Definitions"):
    for term in ("Hazard ratio", "Log-rank test", "Kaplan-Meier"):
        st.markdown(f"**{term}.** {DEFINITIONS[term]}")
    st.markdown("Factors: " + ", ".join(GROUPINGS[f] for f in table["factor"].unique()) + ".")
