"""Ten signed-in sessions at once, of different roles and centres: does any see another's scope?

Starts oidc-provider-mock (tools.oidc) and `streamlit run` on --db with login, roles and
centre scope, and signs each user in as a browser does, over plain HTTP: the page's Log
in button clicked over Streamlit's websocket answers with the login address, the
provider's form is posted with the user's subject, and Streamlit's callback sets its
signed login cookie. From then on each session talks to the server as tools.soak's do,
over Streamlit's own websocket protocol with that cookie and no drawing (ten chromium
tabs drawing charts would take the processor the server needs on a 2-core machine).

Each session is a user of their own: viewers, analysts and a data manager of the
registry, and analysts and viewers scoped to a centre (SESSIONS). Each stays on one page
and changes the filter every --every seconds for --minutes, each change a run in a new
websocket session (the app reads a link's filter on a session's first run), cycling
through FILTERS, some of which leave fewer than k patients.

First every session runs each of its filters alone, one session at a time: what its
sidebar ends on then (the "n = ... match the filters" line and "The file: ..." line) is
its own view. Under load a session **crossed** scopes when a run's sidebar showed another
number than its view alone where both show one, when a centre's user's file line was
not their centre's (counted by SQL on the file), or when a viewer was sent an n line
with an exact count below k (K_FLOOR). Counted apart, as they show no other scope: a
run that ended on its view's counts masked otherwise ("masked otherwise"), and a run
that sent the n line masked two ways ("n sent two ways": the page start draws it, a
page redraws it once its own counts are masked with it, and the browser receives both
unless Streamlit coalesced them); either way two lines together show more than either.
Prints, per session, its runs' median and 95th percentile, errors, crossings and those
two. A benchmark prints figures; it asserts nothing and is not a test.

    .venv/bin/python -m tools.roles_soak --db /tmp/registry.duckdb
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import requests
from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string
from streamlit.web.server.starlette.starlette_server_config import XSRF_COOKIE_NAME

from tools.oidc import serve_provider, write_secrets
from tools.server import free_port, serve
from tools.soak import FAILURES, TIMEOUT_S, connect, receive, rerun, run_page, widget_rerun

K_FLOOR = 5  # the deployment's k (COHORT_PRIVACY_K unset): a viewer never sees fewer exactly
GROUPS = {"viewer": "vs-viewers", "analyst": "vs-analysts", "data manager": "vs-managers"}
ACCESS = "\n".join(
    ['[access]', 'role_claim = "groups"', 'center_claim = "center"', "", "[access.roles]"]
    + [f'"{group}" = "{role}"' for role, group in GROUPS.items()]
)  # fmt: skip
# subject, role, centre (None: the registry)
SESSIONS = (
    ("vera", "viewer", None), ("vito", "viewer", None), ("anna", "analyst", None),
    ("arne", "analyst", None), ("dora", "data manager", None), ("cara", "analyst", "C01"),
    ("cole", "analyst", "C02"), ("cleo", "viewer", "C01"), ("cruz", "viewer", "C03"),
    ("cyan", "viewer", "C04"),
)  # fmt: skip
PAGES = ("", "Patency", "Clinical_outcomes", "Safety", "Tables", "Centres")
FILTERS = (
    "lesion_side=left", "sex=F", "age_min=80", "age_min=85&sex=M", "thrombophilia=yes",
    "lesion_side=right&age_min=75",
)  # fmt: skip
LOG_IN = "Log in"  # ui.access.LOG_IN (importing ui starts Streamlit's caches outside a server)
# the sidebar's lines: the n in the filter, and the file's ("The file's ... is hidden" where
# its number would give a small count away)
N_LINE, FILE_LINE, FILE_COUNTS = " match the filters", "The file", "The file: "
EXACT_SMALL = re.compile(rf"(?<![<\d,.])[1-{K_FLOOR - 1}] (limb|patient)")


@dataclass
class Session:
    """One signed-in user: their login cookie, their own view of each filter, and what
    their runs under load took and showed."""

    subject: str
    role: str
    centre: str | None
    page: str
    headers: dict[str, str] = field(default_factory=dict)
    xsrf: str = ""
    alone: dict[str, Sidebar] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    crossings: list[str] = field(default_factory=list)
    remasks: list[str] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)


def claims(subject: str, role: str, centre: str | None) -> dict[str, object]:
    user: dict[str, object] = {"sub": subject, "name": subject.title(), "groups": [GROUPS[role]]}
    return user | ({"center": centre} if centre else {})


async def login_address(port: int) -> str:
    """The login address Streamlit sends a browser whose Log in button was clicked."""
    async with connect(port) as ws:
        page = await run_page(ws, rerun("", ""), "the signed-out page")
        button = page.widget("button", LOG_IN).button
        await ws.send(widget_rerun("", "", button.id, trigger_value=True).SerializeToString())
        while True:
            message = await receive(ws)
            if message.WhichOneof("type") == "auth_redirect":
                return message.auth_redirect.url
            if message.WhichOneof("type") == "script_finished":
                raise RuntimeError("Log in sent no login address")


def sign_in(port: int, subject: str, address: str) -> tuple[dict[str, str], str]:
    """The handshake of ``subject``'s browser once signed in: its headers (Streamlit's
    login cookie, got through the provider's form, an XSRF cookie, and the page's origin,
    which the login cookie holds) and the XSRF token that goes with them."""
    base = f"http://127.0.0.1:{port}"
    http = requests.Session()
    form = http.get(base + address, timeout=TIMEOUT_S)
    form.raise_for_status()
    done = http.post(form.url, data={"sub": subject}, timeout=TIMEOUT_S)
    done.raise_for_status()
    cookies = [f"{c.name}={c.value}" for c in http.cookies if c.name.startswith("_streamlit_u")]
    if not cookies:
        raise RuntimeError(f"{subject}: no login cookie after the provider's form")
    xsrf = generate_xsrf_token_string()
    cookies.append(f"{XSRF_COOKIE_NAME}={xsrf}")
    return {"Cookie": "; ".join(cookies), "Origin": base}, xsrf


@dataclass(frozen=True)
class Sidebar:
    """What a run sent of the sidebar's counts: each n line in the order sent (the page
    start draws it, and a page redraws it once its own counts are masked with it; a
    browser ends on the last, but it received each) and the last file line."""

    n_lines: tuple[str, ...]
    file_line: str

    @property
    def shown(self) -> tuple[str, str]:
        """What the browser ends on: the last n line and the file line."""
        return self.n_lines[-1], self.file_line


async def sidebar(port: int, session: Session, query: str) -> tuple[float, Sidebar]:
    """One run of the session's page for ``query`` in a new websocket session: its
    seconds and its sidebar's counts."""
    async with connect(port, session.headers, session.xsrf) as ws:
        run = await run_page(ws, rerun(session.page, query), f"{session.subject} ?{query}")
    lines = run.texts().splitlines()
    n_lines = tuple(line for line in lines if N_LINE in line)
    files = [line for line in lines if line.startswith(FILE_LINE)]
    if not n_lines or not files:
        raise RuntimeError(f"{session.subject} ?{query}: no sidebar counts ({lines[:2]})")
    return run.seconds, Sidebar(n_lines, files[-1])


def file_line(db: Path, centre: str | None) -> str:
    """The sidebar's file line for a centre's user, counted by SQL on the file."""
    with duckdb.connect(str(db), read_only=True) as con:
        limbs, patients = con.execute(
            "SELECT count(*), count(DISTINCT patient_id) FROM limbs JOIN patients "
            "USING (patient_id) WHERE center = ?",
            [centre],
        ).fetchone()
    return f"{FILE_COUNTS}{limbs:,} limbs in {patients:,} patients."


def crossed(session: Session, query: str, sent: Sidebar, own_file: str | None) -> str:
    """Why a run's sidebar shows another scope than the session's; "" when it does not.
    A count the run shows exactly that differs from the session's view alone is a
    crossing; a count shown in one and masked in the other is not (:func:`remasked`)."""
    alone = session.alone[query].shown
    now, before = _exact(sent.shown[0]), _exact(alone[0])
    files = (sent.file_line, alone[1])
    if (
        len(now) != len(before)
        or any(a != b for a, b in zip(now, before, strict=True) if a and b)
        or (all(f.startswith(FILE_COUNTS) for f in files) and files[0] != files[1])
    ):
        return f"?{query}: {sent.shown} where alone {alone}"
    if own_file and sent.file_line.startswith(FILE_COUNTS) and sent.file_line != own_file:
        return f"?{query}: {sent.file_line!r}, not the centre's {own_file!r}"
    small = [line for line in sent.n_lines if EXACT_SMALL.search(line)]
    if session.role == "viewer" and small:
        return f"?{query}: an exact count below {K_FLOOR}: {small[0]!r}"
    return ""


def remasked(session: Session, query: str, sent: Sidebar) -> str:
    """A run (no crossing) that ends on its view's counts masked otherwise than the view
    alone did: the two runs together show more than either."""
    alone = session.alone[query].shown
    return "" if sent.shown == alone else f"?{query}: {sent.shown[0]!r} where alone {alone[0]!r}"


def sent_twice(query: str, sent: Sidebar) -> str:
    """A run that sent the n masked two ways: the browser received both, which together
    show more than either."""
    ways = dict.fromkeys(sent.n_lines)
    return f"?{query}: {' then '.join(map(repr, ways))}" if len(ways) > 1 else ""


def _exact(line: str) -> list[str]:
    """A line's words, a word that is a mark ("hidden", "<5") as ""."""
    return ["" if word.strip("*") in ("hidden", f"<{K_FLOOR}") else word for word in line.split()]


async def changes(port: int, session: Session, own: str | None, until: float, every: float):
    """The session's filter changes every ``every`` seconds until ``until``."""
    step = 0
    while time.monotonic() < until:
        started = time.monotonic()
        query = FILTERS[step % len(FILTERS)]
        try:
            seconds, sent = await sidebar(port, session, query)
            session.seconds.append(seconds)
            if why := crossed(session, query, sent, own):
                session.crossings.append(why)
            elif why := remasked(session, query, sent):
                session.remasks.append(why)
            if why := sent_twice(query, sent):
                session.twice.append(why)
        except FAILURES as exc:
            session.errors.append(str(exc))
        step += 1
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))


async def soak(port: int, sessions: list[Session], db: Path, args: argparse.Namespace) -> None:
    for session in sessions:  # each view alone, one session at a time
        for query in FILTERS:
            session.alone[query] = (await sidebar(port, session, query))[1]
    owns = [file_line(db, s.centre) if s.centre else None for s in sessions]
    until = time.monotonic() + 60 * args.minutes
    await asyncio.gather(*(
        changes(port, s, own, until, args.every) for s, own in zip(sessions, owns, strict=True)
    ))  # fmt: skip


def report(sessions: list[Session], args: argparse.Namespace) -> None:
    print(f"{len(sessions)} signed-in sessions, a filter change every {args.every:g} s for "
          f"{args.minutes:g} min each:")  # fmt: skip
    for s in sessions:
        times = sorted(s.seconds)
        p95 = times[int(0.95 * (len(times) - 1))] if times else float("nan")
        median = statistics.median(times) if times else float("nan")
        print(f"  {s.subject:5} {s.role:12} {s.centre or 'registry':8} /{s.page:18} "
              f"{len(times):3} runs, median {median:.2f} s, 95th percentile {p95:.2f} s, "
              f"errors {len(s.errors)}, crossings {len(s.crossings)}, masked otherwise "
              f"{len(s.remasks)}, n sent two ways {len(s.twice)}")  # fmt: skip
    for s in sessions:
        for kind, whats in (
            ("error", s.errors),
            ("crossing", s.crossings),
            ("masked otherwise", s.remasks),
            ("n sent two ways", s.twice),
        ):
            for what in dict.fromkeys(whats):  # each once
                print(f"  {s.subject} {kind} ({whats.count(what)}): {what}")
    crossings = sum(len(s.crossings) for s in sessions)
    print(f"any session saw another's scope: {'yes, ' + str(crossings) if crossings else 'no'}")
    remasks = sum(len(s.remasks) for s in sessions)
    print(f"runs that masked their own view otherwise than alone: {remasks}")
    twice = sum(len(s.twice) for s in sessions)
    print(f"runs that sent the sidebar's n masked two ways: {twice}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a registry with centres C01-C04")
    parser.add_argument("--every", type=float, default=3.0, help="seconds between changes")
    parser.add_argument("--minutes", type=float, default=2.0)
    args = parser.parse_args()
    users = [claims(*row) for row in SESSIONS]
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as scratch,
        serve_provider(users) as discovery,
        serve(args.db, port, {
            "COHORT_IMPORT_DIR": str(Path(scratch) / "imports"),
            "STREAMLIT_SECRETS_FILES": str(
                write_secrets(Path(scratch) / "secrets.toml", port, discovery, ACCESS)
            ),
        }),
    ):  # fmt: skip
        sessions = [
            Session(subject, role, centre, PAGES[i % len(PAGES)])
            for i, (subject, role, centre) in enumerate(SESSIONS)
        ]
        for session in sessions:
            address = asyncio.run(login_address(port))
            session.headers, session.xsrf = sign_in(port, session.subject, address)
        print(f"cohort {args.db}; {os.cpu_count()} cores; signed in: "
              f"{', '.join(s.subject for s in sessions)}", flush=True)  # fmt: skip
        asyncio.run(soak(port, sessions, args.db, args))
        report(sessions, args)


if __name__ == "__main__":
    main()
