"""The server's one line of model fits (ui.heavy.FitQueue), without a server.

The fits here are stand-ins that wait until the test lets them finish, so what each test
checks (who waits where, what is refused, what is fitted) never depends on the machine's
speed; a model is any object, the line never reads it.
"""

from __future__ import annotations

import threading

import pytest

from analytics.filters import CohortFilter
from analytics.glossary import FIT_QUEUE_FULL
from analytics.rules import FIT_QUEUE_LENGTH, HEAVY_WAIT_S
from ui import heavy

KEY = ("/registry.duckdb", 1.0)
WAIT_S = 30  # only ever reached if the line is broken


def request(age_min: int, covariates: tuple[str, ...] = ("age_years",)) -> heavy.FitRequest:
    return heavy.FitRequest(KEY, CohortFilter(age_min=age_min), "primary", covariates)


class Fits:
    """A fit that takes as long as the test says: each request waits for its release."""

    def __init__(self) -> None:
        self.started: list[heavy.FitRequest] = []
        self._release: dict[heavy.FitRequest, threading.Event] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def _event(self, asked: heavy.FitRequest) -> threading.Event:
        with self._lock:
            return self._release.setdefault(asked, threading.Event())

    def __call__(self, asked: heavy.FitRequest) -> object:
        with self._changed:
            self.started.append(asked)
            self._changed.notify_all()
        if not self._event(asked).wait(WAIT_S):
            raise AssertionError("a fit was never released")
        if asked.covariates == ("not_a_covariate",):
            raise ValueError("unknown covariate 'not_a_covariate'")
        return ("model of", asked)

    def release(self, asked: heavy.FitRequest) -> None:
        self._event(asked).set()

    def wait_started(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.started) >= count, WAIT_S)


@pytest.fixture
def fits() -> Fits:
    return Fits()


def busy_line(fits: Fits, length: int = 3) -> heavy.FitQueue:
    """A line whose fitting is busy with another session's request 0 (place 1)."""
    line = heavy.FitQueue(fits, length=length)
    assert line.ask("someone", request(0)) == 1
    fits.wait_started(1)
    return line


def test_the_line_is_configured_in_the_rules_module():
    assert heavy.FITS.length == FIT_QUEUE_LENGTH
    assert heavy.FITS.wait_s == HEAVY_WAIT_S


def test_places_count_the_model_being_fitted_and_move_up_as_fits_end(fits):
    line = busy_line(fits)
    assert [line.ask(f"s{i}", request(i)) for i in (1, 2, 3)] == [2, 3, 4]
    assert line.place(request(0)) == 1
    fits.release(request(0))
    assert line.wait(request(0), WAIT_S)
    assert [line.place(request(i)) for i in (0, 1, 2, 3)] == [0, 1, 2, 3]  # 1: next or begun
    fits.wait_started(2)
    assert fits.started == [request(0), request(1)]  # in the order they were asked


def test_a_full_line_refuses_a_new_request_and_changes_nothing(fits):
    line = busy_line(fits, length=2)
    line.ask("a", request(1))
    line.ask("b", request(2))
    with pytest.raises(heavy.QueueFull, match="nothing was fitted") as refused:
        line.ask("c", request(3))
    assert str(refused.value) == FIT_QUEUE_FULL
    assert line.waiting == 2
    assert line.place(request(3)) is None
    assert line.ask("c", request(1)) == 2  # one already waiting is joined, not queued again
    assert line.ask("c", request(0)) == 1  # as is the one being fitted
    assert line.waiting == 2


def test_the_line_never_holds_more_than_its_length_whoever_asks(fits):
    line = busy_line(fits, length=FIT_QUEUE_LENGTH)
    taken = refused = 0
    for i in range(1, 3 * FIT_QUEUE_LENGTH):
        try:
            line.ask(f"session {i}", request(i))
            taken += 1
        except heavy.QueueFull:
            refused += 1
        assert line.waiting <= FIT_QUEUE_LENGTH
    assert (taken, refused) == (FIT_QUEUE_LENGTH, 2 * FIT_QUEUE_LENGTH - 1)


def test_a_sessions_newest_request_replaces_its_older_waiting_one(fits):
    line = busy_line(fits)
    line.ask("a", request(1))
    line.ask("b", request(2))
    assert line.ask("a", request(3)) == 3  # at the end of the line, request 1 given up
    assert line.place(request(1)) is None
    assert line.place(request(2)) == 2
    assert line.waiting == 2
    for i in (0, 2, 3):
        fits.release(request(i))
    assert line.wait(request(3), WAIT_S)
    assert fits.started == [request(0), request(2), request(3)]  # 1 was never fitted


def test_a_request_another_session_waits_for_stays_when_one_asks_anew(fits):
    line = busy_line(fits)
    line.ask("a", request(1))
    line.ask("b", request(1))
    line.ask("a", request(2))
    assert line.place(request(1)) == 2  # still b's
    assert line.place(request(2)) == 3


def test_a_session_replacing_its_request_in_a_full_line_is_not_refused(fits):
    line = busy_line(fits, length=2)
    line.ask("a", request(1))
    line.ask("b", request(2))
    assert line.ask("a", request(3)) == 3  # its own place freed for it
    assert line.waiting == 2
    with pytest.raises(heavy.QueueFull):
        line.ask("c", request(5))  # another session's new request: the line is full


def test_the_model_being_fitted_is_not_given_up_when_its_session_asks_anew(fits):
    line = busy_line(fits)
    assert line.ask("someone", request(1)) == 2
    assert line.place(request(0)) == 1
    fits.release(request(0))
    assert line.wait(request(0), WAIT_S)
    assert line.result(request(0)) == ("model of", request(0))  # kept for everyone


def test_the_same_model_asked_twice_is_fitted_once_and_kept_for_everyone(fits):
    line = busy_line(fits)
    assert line.ask("a", request(1)) == 2
    assert line.ask("b", request(1)) == 2
    fits.release(request(0))
    fits.release(request(1))
    assert line.wait(request(1), WAIT_S)
    assert line.ask("c", request(1)) == 0  # fitted already: nothing asked
    assert line.result(request(1)) == ("model of", request(1))
    assert fits.started == [request(0), request(1)]
    assert line.waiting == 0


def test_a_first_request_is_first_in_line(fits):
    line = heavy.FitQueue(fits)
    assert line.ask("a", request(1)) == 1
    fits.wait_started(1)
    assert line.place(request(1)) == 1


def test_a_result_is_read_without_asking_for_a_fit(fits):
    line = heavy.FitQueue(fits)
    assert line.result(request(1)) is None
    assert line.place(request(1)) is None
    assert fits.started == [] and line.waiting == 0


def test_a_wait_is_bounded_and_the_request_keeps_its_place(fits):
    line = busy_line(fits)
    line.ask("a", request(1))
    assert not line.wait(request(1), 0.01)
    assert line.place(request(1)) == 2
    fits.release(request(0))
    fits.release(request(1))
    assert line.wait(request(1), WAIT_S)  # a later run picks the model up


def test_a_failed_fit_is_kept_as_its_reason_and_the_line_keeps_moving(fits):
    line = heavy.FitQueue(fits)
    failing = request(1, ("not_a_covariate",))
    line.ask("a", failing)
    line.ask("b", request(2))
    fits.release(failing)
    fits.release(request(2))
    assert line.wait(request(2), WAIT_S)
    failure = line.result(failing)
    assert isinstance(failure, heavy.FitFailed) and "not_a_covariate" in str(failure)
    assert line.result(request(2)) == ("model of", request(2))


def test_only_the_last_used_models_are_kept(fits):
    line = heavy.FitQueue(fits, kept=2)
    for i in (1, 2, 3):
        fits.release(request(i))
        line.ask("a", request(i))
        assert line.wait(request(i), WAIT_S)
        if i == 2:
            assert line.result(request(1)) is not None  # used: kept before request 2
    assert line.result(request(2)) is None
    assert line.result(request(1)) is not None and line.result(request(3)) is not None


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
     (21, "21st"), (22, "22nd"), (101, "101st"), (111, "111th")],
)  # fmt: skip
def test_ordinals_read_as_english(n, text):
    from analytics.present import format as fmt

    assert fmt.ordinal(n) == text


def test_a_place_reads_as_the_page_shows_it():
    from analytics.glossary import FITS_ONE_AT_A_TIME, FITTING
    from analytics.present import format as fmt

    assert fmt.fit_place(1) == f"{FITTING}…"
    assert fmt.fit_place(3) == f"Your model is 3rd in line: {FITS_ONE_AT_A_TIME}."


def test_the_fitting_process_ends_itself_when_the_server_is_killed():
    """A server killed outright (SIGKILL: no exit handler runs) leaves no fitting process,
    even one busy with a fit (its input left open here, as a fit does not read it) and one
    killed while the process was still starting."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from analytics.cohort.db import ROOT

    requests, held_open = os.pipe()  # the test keeps the writing end: no end of input
    server = (
        "import os, subprocess, sys, time\n"
        "worker = subprocess.Popen([sys.executable, '-m', 'analytics.fit_worker',"
        f" str(os.getpid())], stdin={requests}, stdout=subprocess.PIPE)\n"
        "print(worker.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", server], cwd=ROOT, stdout=subprocess.PIPE, pass_fds=(requests,)
    )
    os.close(requests)
    worker = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()

    def alive() -> bool:
        try:
            return "\nState:\tZ" not in Path(f"/proc/{worker}/status").read_text()
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 60  # its imports, then half a second
    while alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        assert not alive()
    finally:
        os.close(held_open)
