"""Many links to the Models page at once, against a real `streamlit run` server.

Each session opens a Models link with every covariate of a 3,000-patient registry (a fit
of seconds, each for a filter of its own so none comes from the cache), talking to the
server over Streamlit's websocket protocol as tools/soak.py does. The fits wait in the
server's one line for the fitting process: no page shows a place beyond the line's
length, the sessions beyond it are told the line is full, the server's memory stays
where a warmed-up server is (eight such links fitted in the server took +1.7 GiB), and
SIGTERM stops the server within seconds with the fitting process gone with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import time
from pathlib import Path

import pytest

from analytics.cohort.db import ROOT, cohort_variables, open_cohort
from analytics.glossary import FIT_QUEUE_FULL, FITTING
from analytics.rules import FIT_QUEUE_LENGTH
from analytics.variables import Role
from tools.server import free_port, serve_app
from tools.soak import connect, page_run, receive, rerun, rss_mib

pytestmark = pytest.mark.slow

SESSIONS = FIT_QUEUE_LENGTH + 6  # more than the line takes beside the model being fitted
# Measured: +3 MiB over a warmed-up server with these sessions; fitted in the server's
# own process they took +110 MiB within 30 s on this registry (and eight links +1.7 GiB
# on a larger one). The bound leaves room for a loaded machine.
MEMORY_BOUND_MIB = 100
STOP_BOUND_S = 5  # measured 0.4 to 0.6 s from SIGTERM to exit with the line full
SAID_S = 120  # every session shows its place or the full line within this
PLACE = re.compile(r"Your model is (\d+)(?:st|nd|rd|th) in line")


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def _fitting_processes(server: int) -> list[int]:
    return [
        pid
        for pid in _children(server)
        if b"analytics.fit_worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (an ended process not yet reaped counts as gone)."""
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


class Session:
    """One browser tab on a Models link: what its page said of its model's turn."""

    def __init__(self, port: int, query: str) -> None:
        self.port, self.query = port, query
        self.places: list[int] = []
        self.refused = False
        self.said = asyncio.Event()

    async def run(self) -> None:
        async with connect(self.port) as ws:
            await ws.send(rerun("Models", self.query).SerializeToString())
            while True:
                message = await receive(ws)
                if message.WhichOneof("type") != "delta":
                    continue
                delta = message.delta
                if delta.WhichOneof("type") == "add_block":
                    self._read_status(delta.add_block.expandable.label)
                elif delta.new_element.alert.body == FIT_QUEUE_FULL:
                    self.refused = True
                    self.said.set()

    def _read_status(self, label: str) -> None:
        place = PLACE.match(label)
        if place or label.startswith(FITTING):
            self.places.append(int(place.group(1)) if place else 1)
            self.said.set()


async def _load(port: int, server: int, covariates: str) -> tuple[list[Session], float]:
    """Every session on its link at once until each has been told its turn, and a few
    seconds more; the server's highest resident memory meanwhile."""
    sessions = [Session(port, f"adjust={covariates}&age_min={20 + i}") for i in range(SESSIONS)]
    tasks = [asyncio.create_task(s.run()) for s in sessions]
    most = rss_mib(server)
    deadline = time.monotonic() + SAID_S
    while not all(s.said.is_set() for s in sessions) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        most = max(most, rss_mib(server))
        for task in tasks:  # a session whose connection failed says so now
            if task.done():
                task.result()
    patency = await page_run(port, "Patency", "age_min=30")  # another user's page meanwhile
    assert patency < SAID_S
    for _ in range(25):
        await asyncio.sleep(0.2)
        most = max(most, rss_mib(server))
    for task in tasks:
        task.cancel()
    return sessions, most


def test_many_model_links_wait_in_a_bounded_line_and_the_server_stops_at_once(registry_path):
    with open_cohort(registry_path) as con:
        covariates = ",".join(v.key for v in cohort_variables(con).with_role(Role.COVARIATE))
    port = free_port()
    env = {"COHORT_DB": str(registry_path)}
    with serve_app(ROOT / "app.py", port, env) as server:
        asyncio.run(page_run(port, "Models", "adjust=age_years"))  # warmed up: a fit and
        asyncio.run(page_run(port, "", ""))  # the Overview's modules and caches loaded
        before = rss_mib(server.pid)
        sessions, most = asyncio.run(_load(port, server.pid, covariates))
        (fitting,) = _fitting_processes(server.pid)

        start = time.monotonic()
        server.send_signal(signal.SIGTERM)
        with contextlib.suppress(Exception):
            server.wait(timeout=60)
        stopped = time.monotonic() - start
        gone_by = time.monotonic() + 5
        while _alive(fitting) and time.monotonic() < gone_by:
            time.sleep(0.1)

    silent = [s.query for s in sessions if not s.said.is_set()]
    assert not silent, silent
    assert max(p for s in sessions for p in s.places) <= FIT_QUEUE_LENGTH + 1
    in_line = [s for s in sessions if s.places]
    refused = [s for s in sessions if s.refused]
    assert refused and len(in_line) + len(refused) == SESSIONS  # each told one or the other
    assert most - before < MEMORY_BOUND_MIB, (before, most)
    assert stopped < STOP_BOUND_S
    assert not _alive(fitting)
