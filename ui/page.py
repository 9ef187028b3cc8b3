"""Every page starts the same way: config, cohort, state, navigation, filters, provenance.

Pages are found by Streamlit's folder discovery (``pages/``), and every page,
``app.py`` included, calls :func:`start_page`, so a link opened directly at any
page (bookmark, shared URL, reload) has the same sidebar and state.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, replace

import streamlit as st

from analytics.access import AccessError
from analytics.cohort.db import CohortError, is_reconstruction
from analytics.cohort.retention import RetentionError, retention_days
from analytics.filters import CohortFilter
from analytics.glossary import DEMO_NOTICE, SMALL_COUNT_MARK
from analytics.partitions import Ledger
from analytics.present import format as fmt
from analytics.present.deck import PPTX_MIME, DeckRequest
from analytics.present.masking import Mask, mask, page_mask
from analytics.present.privacy import SUPPRESSED_NOTE, PrivacyError, setting
from analytics.present.render import CHROMIUM, INSTALL_HINT
from analytics.views import (
    IN_FILE,
    LEFT_OUT,
    NOT_ANALYSED,
    PEOPLE,
    PEOPLE_IN_FILE,
    Header,
    N,
    header_ledger,
)
from ui import access, audit, cohorts, data, heavy, presentation, retention, state
from ui import presenting as presenting_view
from ui.navigation import PAGES
from ui.privacy import current_k
from ui.show import ChartContext
from ui.sidebar import sidebar_filters
from ui.text import plain

APP_TITLE = "Venous stent outcomes"
MAKE_DECK_LABEL = "Make deck (.pptx)"
DECK_LABEL = "Download deck (.pptx)"
MADE_DECK = "made_deck"  # session state: the deck this session made for the view shown
# A metric's label and value wrap at their spaces, as Streamlit's own print styles have
# them, instead of ending in an ellipsis in a narrow column ("18,385 (91.9%)" at 1280 px).
WRAPPED_METRICS_CSS = """
<style>
  [data-testid="stMetric"] div, [data-testid="stMetricLabel"] *, [data-testid="stMetricValue"] * {
    overflow: visible !important; text-overflow: clip !important; white-space: normal !important; }
</style>
"""

# The modules imported by now (streamlit, pandas, plotly, DuckDB, the analytics) live as
# long as the process: frozen, Python's full collections no longer walk them on reruns.
gc.freeze()


@dataclass(frozen=True)
class PageContext:
    """What a page needs after the shared start: the cohort, the filter, the counts."""

    key: data.CohortKey
    cohort_filter: CohortFilter
    n: int
    meta: dict[str, str]
    privacy_k: int | None  # privacy mode: counts below k shown as "<k"
    chart: ChartContext  # what every chart states, and whether the page presents
    n_hidden: bool = False  # privacy: the filters leave out fewer than k patients
    header: Header | None = None
    mask: Mask | None = None  # the sidebar's counts, and the page's once it declares them
    count_slot: st.delta_generator.DeltaGenerator | None = None  # where the sidebar's n is

    @property
    def is_demo(self) -> bool:
        return is_reconstruction(self.meta)


def masked(context: PageContext, view: Ledger) -> tuple[PageContext, Mask]:
    """The page's view as privacy's one decision at the filter shows it (data.decision,
    masking.page_mask): a page at its default controls renders the decision itself, so
    every page shows a count the same way (deciding each page alone, two pages each
    withheld a different count beside a small one, and together gave it away); a page
    with its own controls (a comparison, other months, the Centres or Models page) is
    decided beside it. The sidebar's n and every chart's caption show what the decision
    left of n. Without privacy, nothing else is computed."""
    k, header = context.privacy_k, header_ledger(context.header)
    if k is None:
        decided = mask(header | view, k)
    else:
        decided = page_mask(data.decision(context.key, context.cohort_filter, k), view, k)
    n_hidden = decided.hidden(N)
    total_hidden = context.mask is not None and context.mask.hidden(IN_FILE)
    if (n_hidden, decided.hidden(IN_FILE)) != (context.n_hidden, total_hidden):
        _show_n(context.count_slot, decided, context.header.bilateral_file)
    caption = _caption(context.meta, context.cohort_filter, decided, context.header.bilateral_file)
    chart = replace(context.chart, caption=caption)
    return replace(context, mask=decided, n_hidden=n_hidden, chart=chart), decided


def _stop_on_bad_setting() -> None:
    """Serve no page while a deployment setting is none of the values it may take (fail
    closed: a mistyped privacy mode never means off, a mistyped role never opens the
    dashboard), and say which one in its place."""
    try:
        setting()
        cohorts.shared()
        retention_days()
        access.rule()
    except (PrivacyError, cohorts.SharingError, RetentionError, AccessError) as exc:
        st.title(APP_TITLE)
        st.error(
            plain(f"The dashboard is not set up correctly: {exc}. Whoever runs it can "
                  "correct the setting and start it again."),
            icon="🚫",
        )  # fmt: skip
        st.stop()


def start_page(title: str) -> PageContext:
    """Set up the page and draw the shared sidebar; stop with a clear message on a bad cohort."""
    st.set_page_config(
        page_title=f"{title} · {APP_TITLE}", page_icon="🩺", layout="wide",
        initial_sidebar_state="collapsed" if presentation.requested() else "auto",
    )  # fmt: skip
    st.html(WRAPPED_METRICS_CSS)
    _stop_on_bad_setting()
    user = access.require_user(APP_TITLE)  # every page, download and link: none signed out
    retention.mark_used()
    retention.sweep_expired()
    try:
        path = cohorts.active_path()
        key = data.cohort_key(path)
        meta = data.cohort_metadata(key)
    except CohortError as exc:
        st.title(APP_TITLE)
        st.error(plain(f"The cohort cannot be opened: {exc}"), icon="🚫")
        st.stop()
    state.start(state.Known(data.data_levels(key), data.variables(key)))
    navigation, count = st.sidebar.container(), st.sidebar.container()
    for notice in state.notices():
        st.sidebar.warning(plain(f"Ignored in the link: {notice}"), icon="⚠️")
    cohort_filter = sidebar_filters()
    audit.viewed(path.stem, title, cohort_filter)
    _privacy_controls()
    presenting = presentation.sidebar_toggle()
    k = current_k()
    state.write_url(cohorts.cohort_param())
    _navigation(navigation)
    header = data.header(key, cohort_filter)
    sidebar = mask(header_ledger(header), k)
    count_slot = count.empty()
    _show_n(count_slot, sidebar, header.bilateral_file)
    _cohort_choice(meta)
    access.show_user(user)
    caption = _caption(meta, cohort_filter, sidebar, header.bilateral_file)
    adjust = state.value("adjust") if access.session_allowed().model_exports else ()
    request = DeckRequest(
        cohort_filter, state.value("by"), state.value("endpoint"), k, state.risk_months(),
        adjust, state.value("model_endpoint"),  # the Models page's, once fitted
        state.value("ref"),
    )  # fmt: skip
    _deck_button(key, request)
    context = PageContext(
        key, cohort_filter, header.limbs, meta, k,
        ChartContext(caption, presenting), sidebar.hidden(N), header, sidebar, count_slot,
    )  # fmt: skip
    if presenting:  # every page presents the same screens
        require_patients(context)
        presenting_view.show(context)
        st.stop()
    st.title(title)
    if is_reconstruction(meta):
        st.info(DEMO_NOTICE, icon=":material/info:")
    return context


def _show_n(slot: st.delta_generator.DeltaGenerator, decided: Mask, bilateral: bool) -> None:
    """The sidebar's n of the file's limbs, as privacy lets them show; in a file where a
    patient may have two treated limbs, the patients they belong to too."""
    n, total = decided.cell(N), decided.cell(IN_FILE)
    unit = "limbs" if bilateral else "patients"
    with slot.container():
        if bilateral:
            people, in_file = decided.cell(PEOPLE), decided.cell(PEOPLE_IN_FILE)
            st.markdown(f"**n = {fmt.limbs_of(n, people)}** match the filters")
            if not total.hidden:
                st.caption(f"The file: {fmt.limbs_of(total, in_file)}.")
        elif total.hidden:
            st.markdown(f"**n = {fmt.cell(n)} patients** match the filters")
        else:
            st.markdown(f"**n = {fmt.cell(n)} of {fmt.cell(total)} patients** match the filters")
        few = f"the limbs of fewer than {n.k} patients" if bilateral else f"fewer than {n.k}"
        if total.hidden and decided.few(NOT_ANALYSED):
            st.caption(
                f"The file's number of {unit} is hidden: {few} are outside the population "
                "analysed, and it would give their number."
            )
        if n.shown == "withheld" and decided.few(LEFT_OUT):
            st.caption(
                f"n is hidden: the filters leave out {few}"
                f"{'' if bilateral else ' ' + unit}, whose number would be the difference."
            )
        elif n.shown == "withheld":
            st.caption(
                "n is hidden: with the other counts this page shows, it would give away a "
                f"count of fewer than {n.k} patients{' or of their limbs' if bilateral else ''}."
            )


def _caption(
    meta: dict[str, str], cohort_filter: CohortFilter, decided: Mask, bilateral: bool
) -> str:
    """What every chart of the page states under its title (fmt.view_caption): in a file
    where a patient may have two treated limbs, n's limbs in their patients."""
    people = decided.cell(PEOPLE) if bilateral else None
    caption = fmt.view_caption(meta.get("name", "Cohort"), cohort_filter, decided.cell(N), people)
    return caption + (" · a reconstruction, not patient data" if is_reconstruction(meta) else "")


def require_patients(context: PageContext) -> None:
    """Stop the page with a clear message when the filter leaves nobody."""
    if context.n == 0:
        st.warning(
            "No patients match these filters. Widen them in the sidebar, or press Reset filters.",
            icon="🔍",
        )
        st.stop()


def _privacy_controls() -> None:
    with st.sidebar.expander("Privacy", expanded=bool(state.value("privacy"))):
        state.draw("privacy")
        state.draw("privacy_k")
        if state.value("privacy"):
            st.caption(f"{SMALL_COUNT_MARK} {SUPPRESSED_NOTE}.")


def _navigation(container: st.delta_generator.DeltaGenerator) -> None:
    """Page links at the top of the sidebar, carrying the whole view to the next page."""
    params = {**state.link_params(), **cohorts.cohort_param()}
    with container:
        st.markdown(f"### {APP_TITLE}")
        for path, label, icon in PAGES:
            st.page_link(path, label=label, icon=icon, query_params=params)
        st.divider()


@dataclass(frozen=True)
class MadeDeck:
    """A deck this session made: for which cohort file version and view, and its file."""

    key: data.CohortKey
    request: DeckRequest
    pptx: bytes


def _deck_button(key: data.CohortKey, request: DeckRequest) -> None:
    """The current view as a PowerPoint deck: made on a click, then downloaded.

    A deck takes seconds, so it is not built on every run: **Make deck** builds it (in a
    slot of ui.heavy.DECKS, cached by view for every session in ui.data) under a status
    line, and a download button then holds the file's bytes. Held by the button, the file
    stays on the server as long as the button is shown, so a busy server cannot delete it
    between the click and the browser's fetch, as Streamlit's sweep does with a deferred
    download's file (the download never arrived). The session keeps the deck of the view
    shown, across pages, until the view changes.
    """
    if not CHROMIUM.exists():
        st.sidebar.caption(f"Deck download unavailable. {INSTALL_HINT}")
        return
    with st.sidebar:
        _deck(key, request)


def _deck(key: data.CohortKey, request: DeckRequest) -> None:
    """Make deck, or the download of the deck made for this view.

    Not a fragment: after a fragment's run, Streamlit 1.67 drops the filter widgets' values
    at the next page switch, and the next page would lose the view.
    """
    made = st.session_state.get(MADE_DECK)
    if made is None or (made.key, made.request) != (key, request):
        st.session_state.pop(MADE_DECK, None)  # another view's deck: not this view's
        make = st.empty()
        if not make.button(
            MAKE_DECK_LABEL, icon=":material/slideshow:", width="stretch",
            help="Makes the current view a PowerPoint deck in a few seconds, then a button "
            "downloads it: title slide with cohort, filter and n; patency (and the comparison "
            "chosen on the Patency page), CEAP, Villalta/PTS, safety and subgroup slides; the "
            "crude and adjusted hazard ratios of the model fitted on the Models page; Table 1 "
            "as an editable table; estimates and tests in the notes. Decks are made one at a "
            "time on this server; a deck already made for this view comes at once.",
        ):  # fmt: skip
            if heavy.DECKS.busy:
                st.caption(heavy.DECKS.wait_text)
            return
        made = _make_deck(key, request)
        if made is None:
            return  # the button stays, to try again
        make.empty()  # the download button takes its place
        st.session_state[MADE_DECK] = made
    st.download_button(
        DECK_LABEL, made.pptx, file_name="venous-stent-outcomes.pptx", mime=PPTX_MIME,
        on_click="ignore", icon=":material/download:", width="stretch", type="primary",
        help="The deck of the view shown. Change the view and make it again for another.",
    )  # fmt: skip


def _make_deck(key: data.CohortKey, request: DeckRequest) -> MadeDeck | None:
    """The view's deck, built under a status line that says it is being made, or that it
    waits for another user's; None, with the message on screen, when the wait ran out."""
    label = heavy.DECKS.wait_text if heavy.DECKS.busy else "Making the deck…"
    with st.status(label, expanded=False) as status:
        try:
            pptx = data.deck_bytes(key, request)
        except heavy.Busy:
            status.update(label=heavy.DECKS.busy_text, state="error")
            return None
        if not audit.exporting("deck"):
            status.update(label="Deck not given: its record could not be kept.", state="error")
            return None
        status.update(label="Deck made: download it below.", state="complete")
    return MadeDeck(key, request, pptx)


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
    name, source = plain(meta.get("name", "unnamed")), plain(meta.get("source", ""))
    st.sidebar.caption(f"{label}: **{name}**. {source}")
