"""Load: many sessions against one dashboard server, and heavy work beside light work.

Starts `streamlit run` on --db and talks to it as browsers do, over Streamlit's own
websocket protocol (the protobuf messages of streamlit.proto), without drawing: on one
2-core machine, ten chromium tabs drawing their charts take the processor the server
needs, which a deployment's server does not share with its users' browsers. Each
"change" is a run of a page for a filter, in a session of its own (the app reads a link's
filter on a session's first run), timed from the request to Streamlit's message that the
run finished; a page that ran into an error counts as an error.

1. fairness: Patency for a new filter, alone (--fair-runs times) and again while another
   session runs Subgroups for a filter nothing has computed, so its every factor is
   being counted and fitted at that moment; with --model-runs, likewise beside an
   adjusted model of 5 covariates that another session fits on the Models page (its Fit
   button clicked on a registry above MODEL_ASK_PATIENTS);
2. soak: --sessions users, each on its own page, each changing the filter every --every
   seconds for --minutes (the idle figures);
3. with --heavy, the same users for another --minutes while one more session makes and
   downloads the deck again and again (the sidebar's Make deck, then its download button:
   a new view each time, with and without privacy, until every view's deck is cached),
   one more opens a chart's export menu and downloads one file (a page with charts, a
   filter and a format in turn: PNG, SVG, PDF) and one more
   uploads a registry on the Data page and imports it (the three CSVs of --upload, or of
   a synthetic registry of --upload-patients patients), each as soon as the last is done
   plus --every seconds. The users' median change against their idle median is the
   fairness target (at most 1.5).

Every deck and export download fetches the file as the browser does (the /media/ URL of
the download button), --think seconds after the button arrived (a user reading the
screen, while the other sessions' runs end), and is counted: "downloads: N asked, M
lost", a download lost being any that did not bring the whole file (an HTTP 404 on
/media/ when the server deleted it first, or any other failure), counted apart from the
page errors.

Prints the medians, 95th percentiles, errors, and the server's resident memory (and with
its child processes, kaleido's chromium among them) after a warm-up round and after each
phase. A benchmark prints figures; it asserts nothing and is not a test.

    .venv/bin/python -m tools.soak --db /tmp/registry.duckdb --heavy
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Block_pb2 import Block
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string
from streamlit.web.server.starlette.starlette_server_config import XSRF_COOKIE_NAME

from analytics.cohort.importer import REGISTRY
from analytics.glossary import FIT_QUEUE_FULL, FIT_STILL_IN_LINE
from tools.server import ROOT, serve

PORT = 8613
TIMEOUT_S = 120
# page name (as in its URL), and the filters a user on it cycles through
PAGES = ("", "Patency", "Clinical_outcomes", "Safety", "Subgroups", "Tables", "Data", "Centres")
FILTERS = (
    "lesion_side=left", "lesion_side=left&sex=F", "lesion_side=right&sex=F",
    "lesion_side=right&sex=M", "sex=M", "thrombophilia=yes", "thrombophilia=no&sex=F",
    "segments=CIV,EIV&segment_match=all",
)  # fmt: skip
FINISHED_SUCCESSFULLY = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")
FINISHED_EARLY_FOR_RERUN = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")
NAME_LABEL = "Cohort name"
# the buttons' labels as ui.page and ui.show write them (importing those would start
# Streamlit's caches outside a server, and warn)
MAKE_DECK_LABEL, DECK_LABEL = "Make deck (.pptx)", "Download deck (.pptx)"
EXPORT_LABEL = "Export chart"
FAILURES = (RuntimeError, TimeoutError, OSError, websockets.WebSocketException)
# what an exported file starts with, by the format's button label
EXPORTS = {"PNG": b"\x89PNG", "SVG": b"<svg", "PDF": b"%PDF"}
PPTX_START = b"PK"
CHART_PAGES = ("", "Patency", "Clinical_outcomes", "Safety", "Subgroups")


class Lost(RuntimeError):
    """A download clicked that did not bring its whole file (counted by Downloads)."""


@dataclass
class Downloads:
    """Every deck and export click, and those lost: what a user clicked and never got."""

    asked: int = 0
    lost: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def click(self, what: str) -> Iterator[None]:
        """One click, from the button to the file: counted, and counted lost on any failure."""
        self.asked += 1
        try:
            yield
        except FAILURES as exc:
            self.lost.append(f"{what}: {exc}")
            raise Lost(what) from None

    def __str__(self) -> str:
        return f"downloads: {self.asked} asked, {len(self.lost)} lost"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tree_rss_mib(pid: int) -> float:
    """The resident memory of ``pid`` and all its descendants (chromium's processes)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += rss_mib(current)
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # it ended meanwhile
    return total


@dataclass(frozen=True)
class Run:
    """One page run as a client sees it: how long, what it drew (its popovers apart), and
    its session's id."""

    seconds: float
    elements: tuple[Element, ...]
    session_id: str
    popovers: tuple[Block.Popover, ...] = ()

    def widget(self, kind: str, label: str | None = None) -> Element:
        """The first element of ``kind`` (with ``label``); RuntimeError if there is none."""
        for element in self.elements:
            if element.WhichOneof("type") == kind and label in (None, getattr(element, kind).label):
                return element
        raise RuntimeError(f"no {kind} {label or ''} on the page")

    def popover(self, label: str) -> Block.Popover:
        """The first popover labelled ``label``; RuntimeError if there is none."""
        for popover in self.popovers:
            if popover.label == label:
                return popover
        raise RuntimeError(f"no popover {label} on the page")

    def texts(self) -> str:
        """Every Markdown, caption and alert body (st.status lines among the alerts)."""
        return "\n".join(element.markdown.body or element.alert.body for element in self.elements)


def connect(
    port: int, headers: dict[str, str] | None = None, xsrf: str | None = None
) -> websockets.connect:
    """A session's websocket. A signed-in browser's (tools.roles_soak) sends ``headers``
    (its login and XSRF cookies, its page's origin) and ``xsrf``, the XSRF token, as its
    second subprotocol: Streamlit reads the login cookie only beside a valid token."""
    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    protocols = ["streamlit", xsrf] if xsrf else ["streamlit"]
    return websockets.connect(
        url, subprotocols=protocols, max_size=None, additional_headers=headers
    )


def rerun(page: str, query: str) -> BackMsg:
    request = BackMsg()
    request.rerun_script.query_string = query
    request.rerun_script.page_name = page
    return request


async def receive(ws: websockets.ClientConnection) -> ForwardMsg:
    message = ForwardMsg()
    message.ParseFromString(await asyncio.wait_for(ws.recv(), TIMEOUT_S))
    return message


async def run_page(ws: websockets.ClientConnection, request: BackMsg, what: str) -> Run:
    """Send ``request`` and read until the run (and a rerun it asked for) has finished.

    Raises RuntimeError when the run did not finish well or the page shows an exception.
    """
    start = time.perf_counter()
    await ws.send(request.SerializeToString())
    failed, elements, session_id, labels, popovers = False, [], "", [], []
    while True:
        message = await receive(ws)
        kind = message.WhichOneof("type")
        if kind == "new_session":
            session_id = message.new_session.initialize.session_id
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            failed |= element.WhichOneof("type") == "exception"
            elements.append(element)
        elif kind == "delta" and message.delta.WhichOneof("type") == "add_block":
            block = message.delta.add_block
            labels.append(block.expandable.label)
            if block.WhichOneof("type") == "popover":
                popovers.append(block.popover)
        elif kind == "script_finished":
            if message.script_finished == FINISHED_EARLY_FOR_RERUN:
                elements, labels = [], []  # st.rerun: the next run draws the page again
                continue
            if failed or message.script_finished != FINISHED_SUCCESSFULLY:
                raise RuntimeError(f"{what}: the run failed")
            for label in filter(None, labels):  # st.status lines, as alerts
                elements.append(Element())
                elements[-1].alert.body = label
            seconds = time.perf_counter() - start
            return Run(seconds, tuple(elements), session_id, tuple(popovers))


async def page_run(port: int, page: str, query: str) -> float:
    """Seconds for one run of ``page`` with the link's ``query``, in a new session."""
    async with connect(port) as ws:
        return (await run_page(ws, rerun(page, query), f"/{page}?{query}")).seconds


def widget_rerun(page: str, query: str, widget_id: str, **value: bool) -> BackMsg:
    """A click (``trigger_value=True``) or a popover opened (``bool_value=True``) on the
    widget ``widget_id``, as the browser sends it: a rerun of the page with its state."""
    request = rerun(page, query)
    request.rerun_script.widget_states.widgets.add(id=widget_id, **value)
    return request


async def fetch(port: int, url: str, start: bytes) -> None:
    """GET the file at ``url`` as the browser's download does; RuntimeError unless the
    whole file came (a 404 when the server no longer has it)."""
    got = await asyncio.to_thread(
        lambda: requests.get(f"http://127.0.0.1:{port}{url}", timeout=TIMEOUT_S)
    )
    if got.status_code != 200 or not got.content.lstrip().startswith(start):
        raise RuntimeError(f"HTTP {got.status_code} for {url}, {len(got.content)} bytes")


async def deck_download(port: int, query: str, tally: Downloads, think: float) -> float:
    """Seconds from a click on the sidebar's Make deck to the whole .pptx received, less
    the ``think`` seconds between the download button's arrival and its click."""
    async with connect(port) as ws:
        page = await run_page(ws, rerun("", query), f"/?{query}")
        make = page.widget("button", MAKE_DECK_LABEL).button
        start = time.perf_counter()
        with tally.click(f"deck for ?{query}"):
            made = await run_page(
                ws, widget_rerun("", query, make.id, trigger_value=True), f"deck ?{query}"
            )
            url = made.widget("download_button", DECK_LABEL).download_button.url
            await asyncio.sleep(think)
            await fetch(port, url, PPTX_START)
        return time.perf_counter() - start - think


async def export_download(port: int, step: int, tally: Downloads, think: float) -> float:
    """Seconds from opening a chart's export menu (a page, filter and format in turn) to the
    whole file received, less the ``think`` seconds before the format's button is clicked."""
    page_name, query = CHART_PAGES[step % len(CHART_PAGES)], FILTERS[step % len(FILTERS)]
    label = list(EXPORTS)[step % len(EXPORTS)]
    async with connect(port) as ws:
        page = await run_page(ws, rerun(page_name, query), f"/{page_name}?{query}")
        menu = page.popover(EXPORT_LABEL)
        start = time.perf_counter()
        with tally.click(f"{label} of /{page_name}?{query}"):
            opened = await run_page(
                ws, widget_rerun(page_name, query, menu.id, bool_value=True),
                f"export menu of /{page_name}?{query}",
            )  # fmt: skip
            button = opened.widget("download_button", f"{label} (16:9 slide size)")
            await asyncio.sleep(think)
            await fetch(port, button.download_button.url, EXPORTS[label])
        return time.perf_counter() - start - think


async def upload(port: int, files: dict[str, bytes], name: str) -> float:
    """Seconds from sending the files of the Data page's import form to the imported page."""
    async with connect(port) as ws:
        page = await run_page(ws, rerun("Data", ""), "/Data")
        uploader = page.widget("file_uploader").file_uploader
        name_box = page.widget("text_input", NAME_LABEL).text_input
        submit = next(
            e.button for e in page.elements if e.WhichOneof("type") == "button"
            and e.button.is_form_submitter
        )  # fmt: skip
        start = time.perf_counter()
        ask = BackMsg()
        ask.file_urls_request.request_id = "upload"
        ask.file_urls_request.session_id = page.session_id
        ask.file_urls_request.file_names.extend(files)
        await ws.send(ask.SerializeToString())
        while (message := await receive(ws)).WhichOneof("type") != "file_urls_response":
            pass
        urls = message.file_urls_response.file_urls
        await asyncio.to_thread(put_files, port, dict(zip(files, urls, strict=True)), files)
        submitted = rerun("Data", "")
        states = submitted.rerun_script.widget_states.widgets
        chosen = states.add(id=uploader.id)
        for (file_name, data), file_urls in zip(files.items(), urls, strict=True):
            chosen.file_uploader_state_value.uploaded_file_info.add(
                name=file_name, size=len(data), file_id=file_urls.file_id, file_urls=file_urls
            )
        states.add(id=name_box.id, string_value=name)
        states.add(id=submit.id, trigger_value=True)
        done = await run_page(ws, submitted, f"import {name}")
        if f"**{name}**" not in done.texts():  # the sidebar names the session's cohort
            said = done.texts().splitlines()
            raise RuntimeError(f"import {name}: not imported ({said[-1] if said else 'silent'})")
        return time.perf_counter() - start


def put_files(port: int, urls: dict, files: dict[str, bytes]) -> None:
    """Upload each file as the browser does: a multipart PUT with the XSRF token."""
    token = generate_xsrf_token_string()
    for file_name, data in files.items():
        response = requests.put(
            f"http://127.0.0.1:{port}{urls[file_name].upload_url}",
            files={"file": (file_name, data, "text/csv")},
            headers={"X-Xsrftoken": token}, cookies={XSRF_COOKIE_NAME: token},
            timeout=TIMEOUT_S,
        )  # fmt: skip
        response.raise_for_status()


def registry_csvs(folder: Path | None, patients: int) -> dict[str, bytes]:
    """The CSVs to upload: from ``folder``, or of a synthetic registry of ``patients``."""
    if patients:
        import duckdb

        from analytics.cohort.synth import synthesize

        with tempfile.TemporaryDirectory() as scratch:
            db = synthesize(Path(scratch) / "upload.duckdb", patients, 4, seed=2)
            with duckdb.connect(str(db), read_only=True) as con:
                for table in REGISTRY.tables:
                    con.execute(f"COPY {table} TO '{scratch}/{table}.csv' (HEADER)")
            folder = Path(scratch)
            return {f"{t}.csv": (folder / f"{t}.csv").read_bytes() for t in REGISTRY.tables}
    return {
        f"{t}.csv": (folder / f"{t}.csv").read_bytes()
        for t in REGISTRY.tables
        if (folder / f"{t}.csv").is_file()
    }


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


FIT_LABEL = "Fit the model"
MODEL_QUERY = "adjust=age_years,bmi,symptom_duration_months,thrombophilia,lesion_side"


async def model_fit(port: int, query: str) -> float:
    """Seconds for the Models page to fit its linked model: a click on its Fit button on a
    registry above MODEL_ASK_PATIENTS (a fit at once on a smaller cohort), the run waiting
    in the server's line of fits. RuntimeError when the page shows no model: the line was
    full, or the wait ran out."""
    async with connect(port) as ws:
        page = await run_page(ws, rerun("Models", query), f"/Models?{query}")
        buttons = [e.button for e in page.elements if e.WhichOneof("type") == "button"]
        fit = [button for button in buttons if button.label.startswith(FIT_LABEL)]
        if fit:
            click = rerun("Models", query)
            state = click.rerun_script.widget_states.widgets.add()
            state.id, state.trigger_value = fit[0].id, True
            page = await run_page(ws, click, f"/Models?{query} fit")
        said = page.texts()
        if FIT_QUEUE_FULL in said or FIT_STILL_IN_LINE in said:
            raise RuntimeError(f"/Models?{query}: no model ({said.splitlines()[-1]})")
        return page.seconds


async def model_fairness(port: int, runs: int) -> tuple[list[float], list[float], list[float]]:
    """Patency runs alone, then each while another session fits an adjusted model (a new
    filter each time, so no fit comes from the cache); also the fits' seconds."""
    alone, beside, fits = [], [], []
    for run in range(runs):
        alone.append(await page_run(port, "Patency", f"age_min={50 + run}"))
        heavy = asyncio.create_task(model_fit(port, f"{MODEL_QUERY}&age_min={20 + run}"))
        await asyncio.sleep(1.0)  # its page drawn and its fit under way
        beside.append(await page_run(port, "Patency", f"age_min={70 + run}"))
        fits.append(await heavy)
    return alone, beside, fits


async def repeat(
    action: Callable[[int], Awaitable[float]], every: float, until: float, errors: list[str]
) -> list[float]:
    """``action(step)`` for step 0, 1, ... every ``every`` seconds (or when the last ends)."""
    times, step = [], 0
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            times.append(await action(step))
        except Lost:
            pass  # counted by its Downloads, apart from the errors
        except FAILURES as exc:
            errors.append(str(exc))
        step += 1
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))
    return times


async def user(port: int, i: int, every: float, until: float, errors: list[str]) -> list[float]:
    """One user on page i: a filter change every ``every`` seconds until ``until``."""
    await asyncio.sleep(every * i / 10)  # spread the users over the interval
    page = PAGES[i % len(PAGES)]
    return await repeat(
        lambda step: page_run(port, page, FILTERS[(i + step) % len(FILTERS)]), every, until, errors
    )


async def users(args: argparse.Namespace, until: float, errors: list[str]) -> list[float]:
    times = await asyncio.gather(
        *(user(PORT, i, args.every, until, errors) for i in range(args.sessions))
    )
    return sorted(t for each in times for t in each)


def deck_query(step: int) -> str:
    """Every filter, then every filter in privacy mode: a deck nothing has built yet."""
    privacy = "&privacy=yes" if (step // len(FILTERS)) % 2 else ""
    return FILTERS[step % len(FILTERS)] + privacy


def summary(times: list[float]) -> str:
    if not times:
        return "none finished"
    p95 = times[int(0.95 * (len(times) - 1))]
    return (f"{len(times)} runs, median {statistics.median(times):.2f} s, 95th percentile "
            f"{p95:.2f} s, max {times[-1]:.2f} s")  # fmt: skip


def memory(pid: int) -> str:
    return f"{rss_mib(pid):.0f} MiB (with its child processes {tree_rss_mib(pid):.0f} MiB)"


async def soak(args: argparse.Namespace, pid: int) -> None:
    if args.fair_runs:
        alone, beside = await fairness(PORT, args.fair_runs)
        ratio = statistics.median(beside) / statistics.median(alone)
        print(f"Patency run alone: median {statistics.median(alone):.2f} s; while Subgroups runs "
              f"for another session: median {statistics.median(beside):.2f} s (ratio {ratio:.2f})",
              flush=True)  # fmt: skip
    if args.model_runs:
        alone, beside, fits = await model_fairness(PORT, args.model_runs)
        ratio = statistics.median(beside) / statistics.median(alone)
        print(f"Patency run alone: median {statistics.median(alone):.2f} s; while an adjusted "
              f"model (5 covariates) is fitted for another session: median "
              f"{statistics.median(beside):.2f} s (ratio {ratio:.2f}); the fits: median "
              f"{statistics.median(fits):.1f} s", flush=True)  # fmt: skip
    errors: list[str] = []
    await users(args, time.monotonic() + 2 * args.every, errors)  # every page and filter once
    print(f"server memory after warm-up: {memory(pid)}", flush=True)
    idle = await users(args, time.monotonic() + 60 * args.minutes, errors)
    print(f"{args.sessions} sessions, a filter change every {args.every:g} s for "
          f"{args.minutes:g} min: {summary(idle)}")  # fmt: skip
    print(f"errors: {errors or 'none'}")
    print(f"server memory: {memory(pid)}", flush=True)
    if not args.heavy:
        return
    files = registry_csvs(args.upload, args.upload_patients)
    until = time.monotonic() + 60 * args.minutes
    heavy_errors: list[str] = []
    tally = Downloads()
    loaded, decks, exports, uploads = await asyncio.gather(
        users(args, until, heavy_errors),
        repeat(lambda step: deck_download(PORT, deck_query(step), tally, args.think), args.every,
               until, heavy_errors),
        repeat(lambda step: export_download(PORT, step, tally, args.think), args.every, until,
               heavy_errors),
        repeat(lambda step: upload(PORT, files, f"Soak {step}"), args.every, until, heavy_errors),
    )  # fmt: skip
    rows = sum(data.count(b"\n") - 1 for data in files.values())
    ratio = statistics.median(loaded) / statistics.median(idle) if loaded and idle else float("nan")
    print(
        f"the same sessions while one more downloads decks, one more exports charts and one "
        f"more imports uploads of {rows} rows: {summary(loaded)}; median against idle "
        f"{ratio:.2f} (target at most 1.5)"
    )
    print(f"decks (Make deck to file, less {args.think:g} s): {summary(sorted(decks))}")
    print(f"chart exports (menu opened to file, less {args.think:g} s): "
          f"{summary(sorted(exports))}")  # fmt: skip
    print(tally)
    for what in tally.lost:
        print(f"  lost: {what}")
    print(f"uploads (files sent to the imported page): {summary(sorted(uploads))}")
    print(f"errors: {heavy_errors or 'none'}")
    print(f"server memory at the end: {memory(pid)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between changes")
    parser.add_argument("--minutes", type=float, default=2.0, help="of each phase")
    parser.add_argument("--fair-runs", type=int, default=7, help="0 skips the Subgroups check")
    parser.add_argument(
        "--model-runs", type=int, default=0, help="Patency beside an adjusted-model fit (0: skip)"
    )
    parser.add_argument(
        "--heavy", action="store_true", help="add the deck, export and upload sessions"
    )
    parser.add_argument(
        "--think", type=float, default=2.0,
        help="seconds from a download button's arrival to its click (2)",
    )  # fmt: skip
    parser.add_argument(
        "--upload",
        type=Path,
        default=ROOT / "data" / "demo",
        help="folder of the three CSVs to upload (default: the demo's)",
    )
    parser.add_argument(
        "--upload-patients",
        type=int,
        default=0,
        help="upload a synthetic registry of this many patients instead",
    )
    args = parser.parse_args()  # fmt: skip
    with (
        tempfile.TemporaryDirectory() as imports,
        serve(args.db, PORT, {"COHORT_IMPORT_DIR": imports}) as server,
    ):
        asyncio.run(page_run(PORT, "", ""))  # the first run imports and opens the cohort
        print(f"cohort {args.db}; {os.cpu_count()} cores")
        asyncio.run(soak(args, server.pid))


if __name__ == "__main__":
    main()
