"""Every page starts the same way: config, cohort, navigation, filters, provenance.

Pages are found by Streamlit's folder discovery (``pages/``), and every page,
``app.py`` included, calls :func:`start_page`, so a link opened directly at any
page (bookmark, shared URL, reload) has the same sidebar and state.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import streamlit as st

from analytics.cohort.db import CohortError, is_reconstruction
from analytics.filters import CohortFilter, describe, to_params
from analytics.glossary import DEMO_NOTICE
from analytics.present.deck import PPTX_MIME, View
from analytics.present.privacy import count_text
from analytics.present.render import CHROMIUM, INSTALL_HINT
from ui import cohorts, presentation
from ui.data import CohortKey, cohort_key, cohort_metadata, cohort_size, deck_bytes
from ui.export import set_chart_context
from ui.privacy import privacy_param, sidebar_privacy
from ui.sidebar import sidebar_filters

APP_TITLE = "Venous stent outcomes"
PAGES = (
    ("app.py", "Overview", ":material/dashboard:"),
    ("pages/1_Patency.py", "Patency", ":material/show_chart:"),
    ("pages/2_Clinical_outcomes.py", "Clinical outcomes", ":material/healing:"),
    ("pages/3_Safety.py", "Safety", ":material/health_and_safety:"),
    ("pages/4_Subgroups.py", "Subgroups", ":material/account_tree:"),
    ("pages/5_Tables.py", "Tables", ":material/table_chart:"),
    ("pages/6_Data.py", "Data", ":material/description:"),
    ("pages/7_Centres.py", "Centres", ":material/local_hospital:"),
)


@dataclass(frozen=True)
class PageContext:
    """What a page needs after the shared start: the cohort, the filter, the counts."""

    key: CohortKey
    cohort_filter: CohortFilter
    n: int
    n_total: int
    meta: dict[str, str]
    privacy_k: int | None  # privacy mode: counts below k shown as "<k"

    @property
    def is_demo(self) -> bool:
        return is_reconstruction(self.meta)


def start_page(title: str) -> PageContext:
    """Set up the page and draw the shared sidebar; stop with a clear message on a bad cohort."""
    st.set_page_config(
        page_title=f"{title} · {APP_TITLE}", page_icon="🩺", layout="wide",
        initial_sidebar_state="collapsed" if presentation.requested() else "auto",
    )  # fmt: skip
    try:
        key = cohort_key(cohorts.active_path())
        meta = cohort_metadata(key)
    except CohortError as exc:
        st.title(APP_TITLE)
        st.error(f"The cohort cannot be opened: {exc}", icon="🚫")
        st.stop()
    navigation, count = st.sidebar.container(), st.sidebar.container()
    cohort_filter = sidebar_filters(key)
    privacy_k = sidebar_privacy()
    presenting = presentation.sidebar_toggle()
    _navigation(navigation, cohort_filter)
    n, _ = cohort_size(key, cohort_filter)
    n_total, _ = cohort_size(key, CohortFilter(population="all"))
    shown = count_text(n, privacy_k)
    count.markdown(f"**n = {shown} of {n_total:,} patients** match the filters")
    _cohort_choice(meta)
    view_caption = f"{meta.get('name', 'Cohort')} · {describe(cohort_filter)} · n = {shown}"
    set_chart_context(view_caption, presenting)
    _deck_button(key, View(cohort_filter, by=st.session_state.get("by"), k=privacy_k))
    st.title(title)
    if is_reconstruction(meta):
        st.info(DEMO_NOTICE, icon=":material/info:")
    return PageContext(key, cohort_filter, n, n_total, meta, privacy_k)


def require_patients(context: PageContext) -> None:
    """Stop the page with a clear message when the filter leaves nobody."""
    if context.n == 0:
        st.warning(
            "No patients match these filters. Widen them in the sidebar, or press Reset filters.",
            icon="🔍",
        )
        st.stop()


def _navigation(container: st.delta_generator.DeltaGenerator, cohort_filter: CohortFilter) -> None:
    """Page links at the top of the sidebar, carrying the filter to the next page."""
    params = {
        **to_params(cohort_filter), **cohorts.cohort_param(), **privacy_param(),
        **presentation.presentation_param(),
    }  # fmt: skip
    with container:
        st.markdown(f"### {APP_TITLE}")
        for path, label, icon in PAGES:
            st.page_link(path, label=label, icon=icon, query_params=params)
        st.divider()


def _deck_button(key: CohortKey, view: View) -> None:
    """The current view as a PowerPoint deck, built when clicked (it takes seconds)."""
    if not CHROMIUM.exists():
        st.sidebar.caption(f"Deck download unavailable. {INSTALL_HINT}")
        return
    st.sidebar.download_button(
        "Download deck (.pptx)", data=partial(deck_bytes, key, view),
        file_name="venous-stent-outcomes.pptx", mime=PPTX_MIME, on_click="ignore",
        icon=":material/slideshow:", width="stretch",
        help="Title slide with cohort, filter and n; patency, CEAP, Villalta/PTS, safety and "
        "subgroup slides; Table 1 as an editable table; estimates and tests in the notes.",
    )  # fmt: skip


def _cohort_choice(meta: dict[str, str]) -> None:
    """The active cohort's name and provenance; a choice when registries were imported."""
    choices = cohorts.available()
    if len(choices) > 1:
        st.sidebar.selectbox(
            "Cohort", list(choices), key=cohorts.KEY,
            format_func=lambda name: "Default cohort" if name == cohorts.DEFAULT else name,
            help="Import a registry on the Data page.",
        )  # fmt: skip
    label = "Reconstructed demo cohort" if is_reconstruction(meta) else "Cohort"
    st.sidebar.caption(f"{label}: **{meta.get('name', 'unnamed')}**. {meta.get('source', '')}")
