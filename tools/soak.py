"""Load: many sessions against one dashboard server, and a heavy view beside a light one.

Starts `streamlit run` on --db and talks to it as browsers do, over Streamlit's own
websocket protocol (the protobuf messages of streamlit.proto), without drawing: on one
2-core machine, ten chromium tabs drawing their charts take the processor the server
needs, which a deployment's server does not share with its users' browsers. Each
"change" is a run of a page for a filter, in a session of its own (the app reads a link's
filter on a session's first run), timed from the request to Streamlit's message that the
run finished; a page that ran into an error counts as an error.

1. fairness: Patency for a new filter, alone (--fair-runs times) and again while another
   session runs Subgroups for a filter nothing has computed, so its every factor is
   being counted and fitted at that moment;
2. soak: --sessions users, each on its own page, each changing the filter every --every
   seconds for --minutes.

Prints the medians, the soak's 95th percentile, errors, and the server's resident memory
after a warm-up round and at the end. A benchmark prints figures; it asserts nothing and
is not a test.

    .venv/bin/python -m tools.soak --db /tmp/registry.duckdb
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tools.server import serve

PORT = 8613
TIMEOUT_S = 120
# page name (as in its URL), and the filters a user on it cycles through
PAGES = ("", "Patency", "Clinical_outcomes", "Safety", "Subgroups", "Tables", "Data", "Centres")
FILTERS = (
    "lesion_side=left", "lesion_side=left&sex=F", "lesion_side=right&sex=F",
    "lesion_side=right&sex=M", "sex=M", "thrombophilia=yes", "thrombophilia=no&sex=F",
    "segments=CIV,EIV&segment_match=all",
)  # fmt: skip
FINISHED_SUCCESSFULLY = 0  # ScriptFinishedStatus


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def page_run(port: int, page: str, query: str) -> float:
    """Seconds for one run of ``page`` with the link's ``query``, in a new session.

    Raises RuntimeError when the run did not finish well or the page shows an exception.
    """
    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    async with websockets.connect(url, subprotocols=["streamlit"], max_size=None) as ws:
        request = BackMsg()
        request.rerun_script.query_string = query
        request.rerun_script.page_name = page
        start = time.perf_counter()
        await ws.send(request.SerializeToString())
        failed = False
        while True:
            message = ForwardMsg()
            message.ParseFromString(await asyncio.wait_for(ws.recv(), TIMEOUT_S))
            kind = message.WhichOneof("type")
            if kind == "delta" and message.delta.new_element.WhichOneof("type") == "exception":
                failed = True
            if kind == "script_finished":
                spent = time.perf_counter() - start
                if failed or message.script_finished != FINISHED_SUCCESSFULLY:
                    raise RuntimeError(f"/{page}?{query}: the run failed")
                return spent


async def fairness(port: int, runs: int) -> tuple[list[float], list[float]]:
    """Patency runs alone, then each while another session's Subgroups run is under way."""
    alone, beside = [], []
    for run in range(runs):
        alone.append(await page_run(port, "Patency", f"age_min={50 + run}"))
        heavy = asyncio.create_task(page_run(port, "Subgroups", f"age_min={60 + run}"))
        await asyncio.sleep(0.05)  # its request in and its run started
        beside.append(await page_run(port, "Patency", f"age_min={70 + run}"))
        await heavy
    return alone, beside


async def user(port: int, i: int, every: float, until: float, errors: list[str]) -> list[float]:
    """One user on page i: a filter change every ``every`` seconds until ``until``."""
    await asyncio.sleep(every * i / 10)  # spread the users over the interval
    times, step = [], i
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            times.append(await page_run(port, PAGES[i % len(PAGES)], FILTERS[step % len(FILTERS)]))
        except (RuntimeError, TimeoutError, websockets.WebSocketException) as exc:
            errors.append(str(exc))
        step += 1
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))
    return times


async def soak(args: argparse.Namespace, pid: int) -> None:
    alone, beside = await fairness(PORT, args.fair_runs)
    ratio = statistics.median(beside) / statistics.median(alone)
    print(f"Patency run alone: median {statistics.median(alone):.2f} s; while Subgroups runs "
          f"for another session: median {statistics.median(beside):.2f} s (ratio {ratio:.2f})",
          flush=True)  # fmt: skip
    errors: list[str] = []
    warm = time.monotonic() + 2 * args.every  # every user's page and filters once
    await asyncio.gather(*(user(PORT, i, args.every, warm, errors) for i in range(args.sessions)))
    warmed = rss_mib(pid)
    until = time.monotonic() + 60 * args.minutes
    times = await asyncio.gather(
        *(user(PORT, i, args.every, until, errors) for i in range(args.sessions))
    )
    changes = sorted(t for each in times for t in each)
    p95 = changes[int(0.95 * (len(changes) - 1))]
    print(f"{args.sessions} sessions, a filter change every {args.every:g} s for "
          f"{args.minutes:g} min: {len(changes)} changes, median {statistics.median(changes):.2f} "
          f"s, 95th percentile {p95:.2f} s, max {changes[-1]:.2f} s")  # fmt: skip
    print(f"errors: {errors or 'none'}")
    print(f"server memory: {warmed:.0f} MiB after warm-up, {rss_mib(pid):.0f} MiB at the end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between changes")
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--fair-runs", type=int, default=7)
    args = parser.parse_args()
    with serve(args.db, PORT) as server:
        asyncio.run(page_run(PORT, "", ""))  # the first run imports and opens the cohort
        print(f"cohort {args.db}; {os.cpu_count()} cores")
        asyncio.run(soak(args, server.pid))


if __name__ == "__main__":
    main()
