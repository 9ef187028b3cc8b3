"""A real OpenID Connect provider for the browser tests and the soak tools: oidc-provider-mock
on 127.0.0.1 with users whose claims the caller sets, and the secrets file that points the
dashboard's login (``[auth]``) and roles (``[access]``) at it."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from tools.server import free_port

PROVIDER_START_S = 30
CLIENT_ID, CLIENT_SECRET = "venous-dashboard", "venous-dashboard-secret"


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + PROVIDER_START_S
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {PROVIDER_START_S} s")


@contextlib.contextmanager
def serve_provider(users: Sequence[Mapping[str, object]]) -> Iterator[str]:
    """oidc-provider-mock on 127.0.0.1 knowing ``users`` (each its claims, ``sub`` among
    them): its discovery document's URL, the provider stopped after."""
    port = free_port()
    claims = [arg for user in users for arg in ("--user-claims", json.dumps(user))]
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port",
         str(port), *claims],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        discovery = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
        _wait_for(discovery)
        yield discovery
    finally:
        process.terminate()
        process.wait(timeout=30)


def write_secrets(path: Path, port: int, discovery: str, access: str) -> Path:
    """A secrets file at ``path``: login against the provider at ``discovery`` for a
    dashboard on 127.0.0.1:``port``, and ``access`` (the TOML of its ``[access]`` tables)."""
    path.write_text(
        f"""[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "a-cookie-secret-for-tests-only"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
server_metadata_url = "{discovery}"

{access}"""
    )
    return path
