"""Downloads never lost: every download button holds its file's bytes when it is shown.

A deferred download (``data=`` a function) makes its file on the click, and Streamlit
keeps that file referenced by no session: the sweep that ends any session's run marks
it, the next deletes it, so on a busy server the browser's fetch gets a 404 on /media/.
A button that holds bytes carries the /media/ URL of a file its session references as
long as the button is shown, and no deferred id. The deck is made on a click first (it
takes seconds); a chart's exports when its menu opens.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analytics.present.deck import DeckRequest
from analytics.present.render import CHROMIUM, FORMATS
from tests.conftest import plotly_charts
from ui import data, heavy, show
from ui.navigation import PAGES
from ui.page import DECK_LABEL, MADE_DECK, MAKE_DECK_LABEL

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="exports need Debian's chromium")


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[DeckRequest]:
    """Every deck the page asks ui.data for; each is its request's text, not slides."""
    asked: list[DeckRequest] = []

    def deck_bytes(key: data.CohortKey, request: DeckRequest) -> bytes:
        asked.append(request)
        return repr(request).encode()

    monkeypatch.setattr(data, "deck_bytes", deck_bytes)
    return asked


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every slide-size export rendered, by format; each file is its format's name."""
    formats: list[str] = []

    def render(fig: object, fmt: str) -> bytes:
        formats.append(fmt)
        return fmt.encode()

    monkeypatch.setattr(show, "render", render)
    return formats


def labels(at: AppTest) -> list[str]:
    return [element.proto.label for element in at.get("download_button")]


def held(at: AppTest, label: str) -> str:
    """The /media/ URL of the file the download button ``label`` holds; fails when the
    button holds a function instead (a deferred download)."""
    (button,) = [e.proto for e in at.get("download_button") if e.proto.label == label]
    assert not button.deferred_file_id, f"{label}: a deferred download, lost on a busy server"
    assert button.url.startswith("/mock/media/")
    return button.url


def exports(at: AppTest) -> list[str]:
    return [label for label in labels(at) if label.endswith("(16:9 slide size)")]


def chart_keys(at: AppTest) -> list[str]:
    """The keys of the charts a run drew (each chart's export file name)."""
    return [chart["config"]["toImageButtonOptions"]["filename"] for chart in plotly_charts(at)]


def make_deck(at: AppTest) -> AppTest:
    (button,) = [button for button in at.sidebar.button if button.label == MAKE_DECK_LABEL]
    return button.click().run()


@pytest.mark.parametrize("page", [path for path, *_ in PAGES])
def test_every_download_button_of_every_page_holds_its_file(page_test, page, made, rendered):
    at = page_test(page)
    charts = chart_keys(at)
    for key in charts:
        at.session_state[show.export_key(key)] = True  # every export menu opened
    make_deck(at)
    assert not at.exception
    buttons = [element.proto for element in at.get("download_button")]
    assert [b.label for b in buttons if b.deferred_file_id] == []  # none made on the click
    assert all(b.url.startswith("/mock/media/") for b in buttons)
    assert DECK_LABEL in labels(at)
    assert len(exports(at)) == len(FORMATS) * len(charts)


def test_a_page_run_renders_no_export_until_a_charts_menu_is_opened(page_test, rendered):
    at = page_test("pages/3_Safety.py")
    first, second = chart_keys(at)
    assert rendered == []
    assert exports(at) == []
    at.session_state[show.export_key(second)] = True
    at.run()
    assert rendered == list(FORMATS)  # that chart's three, once
    assert exports(at) == [f"{fmt.upper()} (16:9 slide size)" for fmt in FORMATS]
    for label in exports(at):
        held(at, label)
    at.session_state[show.export_key(second)] = False  # closed: its files go
    at.run()
    assert rendered == list(FORMATS)
    assert exports(at) == []
    assert first != second


def test_an_export_that_cannot_be_rendered_says_why_in_its_menu(page_test, monkeypatch):
    from analytics.present.render import ExportUnavailable

    def render(fig: object, fmt: str) -> bytes:
        raise ExportUnavailable("the figure could not be rendered (chromium ended)")

    monkeypatch.setattr(show, "render", render)
    at = page_test("pages/3_Safety.py")
    at.session_state[show.export_key(chart_keys(at)[0])] = True
    at.run()
    assert not at.exception
    assert any("could not be exported" in caption.value for caption in at.caption)
    assert exports(at) == []


def test_the_deck_is_made_on_a_click_and_kept_for_its_view_across_pages(page_test, made):
    at = page_test("app.py")
    assert DECK_LABEL not in labels(at)  # nothing is built on a page run
    assert made == []
    make_deck(at)
    assert not at.exception
    (status,) = at.sidebar.status
    assert status.state == "complete"
    assert MAKE_DECK_LABEL not in [button.label for button in at.sidebar.button]
    url = held(at, DECK_LABEL)
    assert len(made) == 1
    at.switch_page("pages/3_Safety.py").run()  # the same view on another page
    assert held(at, DECK_LABEL) == url  # the same file
    assert len(made) == 1
    at.sidebar.toggle(key="privacy").set_value(True).run()  # another view: make it again
    assert DECK_LABEL not in labels(at)
    assert MADE_DECK not in at.session_state
    assert MAKE_DECK_LABEL in [button.label for button in at.sidebar.button]
    make_deck(at)
    assert made[-1].k is not None and len(made) == 2


def test_a_deck_whose_wait_runs_out_says_so_and_offers_no_download(page_test, monkeypatch):
    monkeypatch.setattr(heavy.DECKS, "wait_s", 0)
    at = page_test("app.py")
    with heavy.DECKS.turn():  # another session's deck, all the while
        make_deck(at)
    assert not at.exception
    (status,) = at.sidebar.status
    assert (status.label, status.state) == (heavy.DECKS.busy_text, "error")
    assert DECK_LABEL not in labels(at)
    assert MAKE_DECK_LABEL in [button.label for button in at.sidebar.button]


def test_the_template_workbook_download_holds_its_file(page_test):
    held(page_test("pages/6_Data.py"), "Download the template workbook (.xlsx)")
