"""Heavy work under load: decks and imports take turns, and a deck is cached by its view.

No timings: each test holds a gate's slot itself, or makes the wait zero, so what it
checks (who waits, what is said, what is built) never depends on the machine's speed.
"""

from __future__ import annotations

import threading

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from analytics.filters import CohortFilter, parse_pairs
from analytics.present.deck import DeckRequest
from analytics.present.render import CHROMIUM
from ui import data, heavy

KEY = ("/cohort.duckdb", 1.0)
LEFT = parse_pairs(["lesion_side=left"])


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[DeckRequest]:
    """Every deck actually built, in order; a build returns its request's text, not slides."""
    built: list[DeckRequest] = []

    def deck_view(
        cursor: object,
        cohort_filter: CohortFilter,
        by: str | None,
        endpoint: str,
        *_: object,
        **__: object,
    ):  # the risk-table months, the model and the pages beside it do not matter here
        return DeckRequest(cohort_filter, by, endpoint)

    def build_deck(view: DeckRequest, k: int | None) -> bytes:
        request = DeckRequest(view.cohort_filter, view.by, view.endpoint, k)
        built.append(request)
        return repr(request).encode()

    st.cache_data.clear()
    monkeypatch.setattr(data, "cursor", lambda key: None)
    monkeypatch.setattr(data.views, "deck_view", deck_view)
    monkeypatch.setattr(data, "build_deck", build_deck)
    return built


def test_a_privacy_deck_is_never_served_to_a_view_without_privacy_nor_the_reverse(builds):
    plain, private = DeckRequest(LEFT), DeckRequest(LEFT, k=5)
    assert data.deck_bytes(KEY, plain) == repr(plain).encode()
    assert data.deck_bytes(KEY, private) == repr(private).encode()
    assert data.deck_bytes(KEY, DeckRequest(LEFT, k=10)) == repr(DeckRequest(LEFT, k=10)).encode()
    assert data.deck_bytes(KEY, plain) == repr(plain).encode()
    assert builds == [plain, private, DeckRequest(LEFT, k=10)]  # the fourth came from the cache


def test_the_deck_is_cached_by_cohort_version_filter_comparison_and_endpoint(builds):
    requests = [
        DeckRequest(CohortFilter()),
        DeckRequest(LEFT),
        DeckRequest(LEFT, by="sex"),
        DeckRequest(LEFT, by="sex", endpoint="secondary"),
    ]
    for request in requests * 2:
        assert data.deck_bytes(KEY, request) == repr(request).encode()
    data.deck_bytes((KEY[0], KEY[1] + 1), requests[0])  # the file was replaced
    assert builds == [*requests, requests[0]]


def test_a_second_deck_requested_while_one_builds_waits_its_turn(builds, monkeypatch):
    """Two sessions' downloads at once: never two builds together, both decks arrive."""
    started, go = threading.Event(), threading.Event()
    inside, most = [0], [0]
    build = data.build_deck

    def slow_build(view: DeckRequest, k: int | None) -> bytes:
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        started.set()
        go.wait(timeout=60)
        inside[0] -= 1
        return build(view, k)

    monkeypatch.setattr(data, "build_deck", slow_build)
    first, second = DeckRequest(LEFT), DeckRequest(LEFT, k=5)
    results: dict[str, bytes] = {}
    threads = [
        threading.Thread(target=lambda: results.update(first=data.deck_bytes(KEY, first))),
        threading.Thread(target=lambda: results.update(second=data.deck_bytes(KEY, second))),
    ]
    threads[0].start()
    assert started.wait(timeout=60)
    assert heavy.DECKS.busy  # what the sidebar tells the other sessions
    threads[1].start()
    go.set()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {"first": repr(first).encode(), "second": repr(second).encode()}
    assert most[0] == 1
    assert not heavy.DECKS.busy


def test_a_deck_whose_wait_runs_out_is_refused_with_the_message_not_built(builds, monkeypatch):
    monkeypatch.setattr(heavy.DECKS, "wait_s", 0)
    with heavy.DECKS.turn(), pytest.raises(heavy.Busy, match="Try again in a minute"):
        data.deck_bytes(KEY, DeckRequest(LEFT))
    assert builds == []
    assert data.deck_bytes(KEY, DeckRequest(LEFT)) == repr(DeckRequest(LEFT)).encode()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="the deck button needs chromium")
def test_the_sidebar_says_when_a_deck_is_being_built_for_someone_else(page_test):
    assert heavy.DECKS.wait_text not in [c.value for c in page_test("app.py").sidebar.caption]
    with heavy.DECKS.turn():
        at = page_test("app.py")
    assert not at.exception
    assert heavy.DECKS.wait_text in [c.value for c in at.sidebar.caption]


def import_script() -> None:
    """A page doing an import's work through ui.heavy, as the Data page does."""
    import streamlit as st

    from ui import heavy

    st.write(repr(heavy.in_turn(heavy.IMPORTS, "Validating and importing", lambda: "imported")))


def test_an_import_runs_under_a_status_line_when_the_server_is_free():
    at = AppTest.from_function(import_script).run()
    assert not at.exception
    (status,) = at.status
    assert (status.label, status.state) == ("Validating and importing: done", "complete")
    assert at.markdown[0].value == "'imported'"


def test_an_import_while_another_session_imports_says_so_and_never_raises(monkeypatch):
    monkeypatch.setattr(heavy.IMPORTS, "wait_s", 0)
    with heavy.IMPORTS.turn():
        at = AppTest.from_function(import_script).run()
    assert not at.exception
    (status,) = at.status
    assert (status.label, status.state) == (heavy.IMPORTS.busy_text, "error")
    assert "nothing was done" in status.label
    assert at.markdown[0].value == "None"


def test_a_gate_tells_a_waiter_before_it_waits_and_only_then():
    gate = heavy.Gate("deck", slots=1, wait_s=0)
    told: list[str] = []
    with gate.turn(on_wait=lambda: told.append("first")):
        assert gate.busy
        with pytest.raises(heavy.Busy), gate.turn(on_wait=lambda: told.append("second")):
            pass
    assert told == ["second"]
    assert not gate.busy
    with gate.turn():  # the slot was given back
        pass


def test_the_gates_are_configured_in_the_rules_module():
    from analytics import rules

    assert heavy.DECKS.slots == rules.DECK_BUILDS_AT_ONCE
    assert heavy.IMPORTS.slots == rules.IMPORTS_AT_ONCE
    assert heavy.DECKS.wait_s == rules.HEAVY_WAIT_S < 180  # a wait told on screen, bounded


def test_every_model_is_fitted_in_the_fitting_process_whatever_the_size(demo_path, monkeypatch):
    """The demo's 34 patients are far below MODEL_ASK_PATIENTS, and still the fit runs in
    the fitting process (never in the server's: models_view here refuses to run), giving
    the model fitted directly; a failure there becomes the model's note, not an exception
    on the page."""
    from analytics import views

    direct = views.models_view
    with data.cursor(data.cohort_key(demo_path)) as con:
        here = direct(con, CohortFilter(), "primary", ("symptom_duration_months",))

    def refused(*_: object) -> None:
        raise AssertionError("a model was fitted in the server's process")

    monkeypatch.setattr(views, "models_view", refused)
    asked: list[heavy.FitRequest] = []
    process = heavy.FittingProcess()
    monkeypatch.setattr(heavy, "FITS", heavy.FitQueue(lambda r: asked.append(r) or process.fit(r)))
    key = data.cohort_key(demo_path)
    try:
        fitted = data.model(key, CohortFilter(), "primary", ("symptom_duration_months",))
        failed = data.model(key, CohortFilter(), "primary", ("not_a_covariate",))
    finally:
        process.close()
    assert [r.key for r in asked] == [key, key]
    assert fitted.terms == here.terms and fitted.patients == here.patients == 34
    assert failed.terms == () and "could not be fitted" in failed.notes[0]
    assert "not_a_covariate" in failed.notes[0]
