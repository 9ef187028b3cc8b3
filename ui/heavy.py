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

An adjusted model on a large registry is fitted in a process of its own (:data:`FITS`):
lifelines' Newton steps hold Python's lock for seconds, which in the server's process
slowed every other session's page run 2.3 times; in their own process they take one core
and leave the server the other.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import streamlit as st

from analytics.cohort.db import ROOT
from analytics.filters import CohortFilter
from analytics.rules import DECK_BUILDS_AT_ONCE, HEAVY_WAIT_S, IMPORTS_AT_ONCE
from analytics.stats.models import AdjustedModel

T = TypeVar("T")


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


class FitFailed(RuntimeError):
    """The fitting process could not fit the model (the message says why)."""


class FittingProcess:
    """analytics.fit_worker, started on first use and again if it ended: it fits one model
    at a time, the others queue on its lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None

    def fit(self, path: str, cohort_filter: CohortFilter, endpoint: str,
            covariates: tuple[str, ...]) -> AdjustedModel:  # fmt: skip
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "analytics.fit_worker"], cwd=ROOT,
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    env={**os.environ, **ONE_THREAD},  # numpy's BLAS on one core
                )  # fmt: skip
            try:
                pickle.dump((path, cohort_filter, endpoint, covariates), self._process.stdin)
                self._process.stdin.flush()
                kind, value = pickle.load(self._process.stdout)
            except (EOFError, OSError, pickle.UnpicklingError) as exc:
                self._process.kill()
                raise FitFailed(f"the fitting process ended ({type(exc).__name__})") from None
        if kind == "error":
            raise FitFailed(str(value))
        return value


ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
FITS = FittingProcess()
