"""Heavy work shared fairly by every session of one server process: decks, imports and
large model fits.

A deck draws pictures in chromium and an import parses, checks and writes a whole
registry: each takes seconds of a processor the server shares with every session's page
runs. Each kind runs under one gate for the whole process (at most
``analytics.rules.DECK_BUILDS_AT_ONCE`` decks and ``IMPORTS_AT_ONCE`` imports at a time),
so a user who asks for many decks, or several users at once, queue behind each other
instead of taking the processor from everyone's pages. Page computations never pass a
gate: only the heavy work waits. A wait is bounded (``HEAVY_WAIT_S``, then the user
is told to try again), and is said on screen.

Every adjusted model is fitted in a process of its own (:class:`FittingProcess`), never
in the server's: lifelines' Newton steps hold Python's lock for seconds, which in the
server's process slowed every other session's page run 2.3 times, and eight links fitting
every covariate at once took 1.7 GiB and kept the server from stopping. Fits wait in one
line for the whole server (:data:`FITS`): at most ``FIT_QUEUE_LENGTH`` models wait beside
the one being fitted, a session has at most one model waiting (its newest request replaces
the older), and each fitted model is kept for everyone after that. The Models page shows
its place in line while it waits (:func:`fitted`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analytics.cohort.db import ROOT
from analytics.filters import CohortFilter
from analytics.glossary import FIT_QUEUE_FULL, FIT_STILL_IN_LINE, FITTING
from analytics.present import format as fmt
from analytics.rules import (
    DECK_BUILDS_AT_ONCE,
    FIT_QUEUE_LENGTH,
    HEAVY_WAIT_S,
    IMPORTS_AT_ONCE,
)
from analytics.stats.models import AdjustedModel

T = TypeVar("T")
KEPT_FITS = 256  # fitted models kept for everyone, the last used (each a few kB)


class Busy(RuntimeError):
    """Every slot of a gate stayed taken for the whole wait."""


class Gate:
    """At most ``slots`` holders at once in this process; the others wait their turn."""

    def __init__(self, work: str, slots: int, wait_s: float = HEAVY_WAIT_S) -> None:
        self.work = work  # what it guards, as a user reads it: "deck", "import"
        self.slots = slots
        self.wait_s = wait_s
        self._free = threading.Semaphore(slots)
        self._lock = threading.Lock()
        self._holders = 0

    @property
    def busy(self) -> bool:
        """Whether a new request would have to wait for another session's work."""
        with self._lock:
            return self._holders >= self.slots

    @property
    def wait_text(self) -> str:
        return (
            f"Another {self.work} is being made for someone on this server; they are made "
            f"one at a time, and yours starts as soon as it is done."
        )

    @property
    def busy_text(self) -> str:
        return (
            f"The server stayed busy with other users' {self.work}s: nothing was done. "
            "Try again in a minute."
        )

    @contextlib.contextmanager
    def turn(self, on_wait: Callable[[], object] | None = None) -> Iterator[None]:
        """Hold a slot for the block; ``on_wait`` first if every slot is taken.

        Raises Busy when no slot frees within ``wait_s`` seconds.
        """
        if not self._free.acquire(blocking=False):
            if on_wait is not None:
                on_wait()
            if not self._free.acquire(timeout=self.wait_s):
                raise Busy(self.busy_text)
        with self._lock:
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
            self._free.release()


DECKS = Gate("deck", DECK_BUILDS_AT_ONCE)
IMPORTS = Gate("import", IMPORTS_AT_ONCE)


def in_turn(gate: Gate, doing: str, work: Callable[[], T]) -> T | None:
    """``work()`` in a slot of ``gate``, under a status line saying whether it waits.

    For work done in the session's own script run (an import): the status shows that it
    is under way, or that it waits for another session's; None, with the message on
    screen, when the wait ran out.
    """
    with st.status(f"{doing}…", expanded=False) as status:
        try:
            with gate.turn(on_wait=lambda: status.update(label=gate.wait_text)):
                status.update(label=f"{doing}…")
                result = work()
        except Busy:
            status.update(label=gate.busy_text, state="error")
            return None
        status.update(label=f"{doing}: done", state="complete")
    return result


@dataclass(frozen=True)
class FitRequest:
    """One adjusted model as the line and its cache know it: the cohort file's version (path
    and modification time, so a replaced file is fitted again), filter, endpoint and
    covariates (``recurrent_dvt`` the time-varying one)."""

    key: tuple[str, float]
    cohort_filter: CohortFilter
    endpoint: str
    covariates: tuple[str, ...]


class FitFailed(RuntimeError):
    """The fitting process could not fit the model (the message says why)."""


class QueueFull(RuntimeError):
    """The line already held its length of models: the request was not taken."""


Fitted = AdjustedModel | FitFailed  # what a fit ends in; both are kept for everyone


class FitQueue:
    """One line of model fits for the whole server, fitted one at a time by ``fit`` on a
    thread of its own (started on the first request).

    At most ``length`` requests wait beside the one being fitted. A session has at most one
    request waiting: its newest replaces the older (which stays only if another session
    waits for it too). A request already waiting or being fitted is joined, not queued
    again, and each outcome is kept (the ``kept`` last used) for every session after that.
    A place in line counts the models fitted before it, the one being fitted among them:
    1 is being fitted (or about to be), 2 is next.
    """

    def __init__(
        self,
        fit: Callable[[FitRequest], AdjustedModel],
        length: int = FIT_QUEUE_LENGTH,
        kept: int = KEPT_FITS,
        wait_s: float = HEAVY_WAIT_S,
    ) -> None:
        self.length = length
        self.wait_s = wait_s  # the longest a page run waits for its model (fitted())
        self._fit = fit
        self._kept = kept
        self._changed = threading.Condition()
        self._waiting: dict[FitRequest, set[str]] = {}  # in order of arrival: who waits
        self._running: FitRequest | None = None
        self._asked: dict[str, FitRequest] = {}  # each session's latest request, until fitted
        self._done: OrderedDict[FitRequest, Fitted] = OrderedDict()
        self._thread: threading.Thread | None = None

    @property
    def waiting(self) -> int:
        """How many requests wait (the one being fitted not counted)."""
        with self._changed:
            return len(self._waiting)

    def ask(self, session: str, request: FitRequest) -> int:
        """Put ``request`` in line for ``session``, in place of its older waiting one; its
        place in line, 0 when it is fitted already.

        Raises QueueFull, and changes nothing, when ``length`` requests of others wait.
        """
        with self._changed:
            if request in self._done:
                self._done.move_to_end(request)
                return 0
            older = self._asked.get(session)
            replaced = older is not None and older != request
            frees = replaced and self._waiting.get(older) == {session}
            new = request != self._running and request not in self._waiting
            if new and len(self._waiting) - frees >= self.length:
                raise QueueFull(FIT_QUEUE_FULL)
            if replaced and older in self._waiting:
                self._waiting[older].discard(session)
                if not self._waiting[older]:
                    del self._waiting[older]
            self._asked[session] = request
            if request != self._running:
                self._waiting.setdefault(request, set()).add(session)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name="fits", daemon=True)
                self._thread.start()
            self._changed.notify_all()
            return self._place(request) or 0

    def place(self, request: FitRequest) -> int | None:
        """``request``'s place in line (1: being fitted, or first with none being fitted), 0
        once fitted; None when nobody asked for it (or its session asked for another since)."""
        with self._changed:
            return self._place(request)

    def _place(self, request: FitRequest) -> int | None:
        if request in self._done:
            return 0
        if request == self._running:
            return 1
        if request in self._waiting:  # after the one being fitted, if any
            return 1 + (self._running is not None) + list(self._waiting).index(request)
        return None

    def result(self, request: FitRequest) -> Fitted | None:
        """The kept outcome of ``request``, None when it is not fitted (nothing is asked)."""
        with self._changed:
            if request not in self._done:
                return None
            self._done.move_to_end(request)
            return self._done[request]

    def wait(self, request: FitRequest, timeout: float) -> bool:
        """Whether ``request`` is fitted, waiting at most ``timeout`` seconds for it."""
        with self._changed:
            return self._changed.wait_for(lambda: request in self._done, timeout)

    def _serve(self) -> None:
        """Fit the first waiting request, keep its outcome, tell the waiters; again."""
        while True:
            with self._changed:
                self._changed.wait_for(lambda: bool(self._waiting))
                request = next(iter(self._waiting))
                del self._waiting[request]
                self._running = request
            try:
                outcome: Fitted = self._fit(request)
            except Exception as exc:  # the line keeps moving: the failure is the model's note
                outcome = exc if isinstance(exc, FitFailed) else FitFailed(f"{exc}")
            with self._changed:
                self._done[request] = outcome
                while len(self._done) > self._kept:
                    self._done.popitem(last=False)
                self._running = None
                self._asked = {s: r for s, r in self._asked.items() if r != request}
                self._changed.notify_all()


class FittingProcess:
    """analytics.fit_worker, started on first use and again if it ended; ended with the
    server (and it ends itself if the server is gone)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        atexit.register(self.close)

    def fit(self, request: FitRequest) -> AdjustedModel:
        """The model of ``request``, fitted in the process; FitFailed says why not."""
        asked = (request.key[0], request.cohort_filter, request.endpoint, request.covariates)
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "analytics.fit_worker", str(os.getpid())], cwd=ROOT,
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    env={**os.environ, **ONE_THREAD},  # numpy's BLAS on one core
                )  # fmt: skip
            try:
                pickle.dump(asked, self._process.stdin)
                self._process.stdin.flush()
                kind, value = pickle.load(self._process.stdout)
            except (EOFError, OSError, pickle.UnpicklingError) as exc:
                self._process.kill()
                raise FitFailed(f"the fitting process ended ({type(exc).__name__})") from None
        if kind == "error":
            raise FitFailed(str(value))
        return value

    def close(self) -> None:
        """End the process now, mid-fit or not (the server is stopping)."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
FITS = FitQueue(FittingProcess().fit)
FIT_POLL_S = 1.0  # how often a waiting page shows its place (and Streamlit can end the wait)


def fitted(request: FitRequest) -> Fitted | None:
    """The outcome of ``request`` for this session: kept from an earlier fit, or asked of
    :data:`FITS` and waited for under a status line showing its place in line.

    The status line is updated every FIT_POLL_S, which is also where Streamlit ends the
    wait when the user changes the page or the server stops; the wait is bounded
    (``FITS.wait_s``). None, with the reason on screen, when the line is full (nothing
    was asked) or the wait ran out (the model stays in line: a later run shows it).
    """
    outcome = FITS.result(request)
    if outcome is not None:
        return outcome
    try:
        place = FITS.ask(_session(), request)
    except QueueFull as exc:
        st.warning(str(exc), icon=":material/hourglass_disabled:")
        return None
    deadline = time.monotonic() + FITS.wait_s
    with st.status(fmt.fit_place(place), expanded=False) as status:
        while not FITS.wait(request, max(0.0, min(FIT_POLL_S, deadline - time.monotonic()))):
            place = FITS.place(request) or 1
            if time.monotonic() >= deadline:
                status.update(label=f"{fmt.fit_place(place)} {FIT_STILL_IN_LINE}", state="error")
                return None
            status.update(label=fmt.fit_place(place))
        status.update(label=f"{FITTING}: done", state="complete")
    return FITS.result(request)


def _session() -> str:
    """This script run's session: one waiting model each."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""
