"""A dashboard server for the development tools: `streamlit run app.py` on one cohort file."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60
SERVER_LOG = "DASHBOARD_SERVER_LOG"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(
    db: Path, port: int, env: dict[str, str] | None = None
) -> contextlib.AbstractContextManager[subprocess.Popen]:
    """The dashboard on 127.0.0.1:``port`` over cohort ``db``, up and healthy, stopped after."""
    return serve_app(ROOT / "app.py", port, {"COHORT_DB": str(db), **(env or {})})


@contextlib.contextmanager
def serve_app(
    app: Path, port: int, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """`streamlit run app` on 127.0.0.1:``port`` with the project's settings."""
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL, stderr=_log(),
    )  # fmt: skip
    try:
        _wait_until_healthy(f"http://127.0.0.1:{port}")
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


def _log() -> int | IO[bytes]:
    """Where the server's log goes: the file SERVER_LOG names (to read a redacted error in
    a browser test), else nowhere."""
    path = os.environ.get(SERVER_LOG)
    return open(path, "ab") if path else subprocess.DEVNULL


def _wait_until_healthy(base: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"streamlit did not start within {START_TIMEOUT_S} s")
