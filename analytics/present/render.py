"""Server-side figure export (PNG, SVG, PDF) with kaleido driving Debian's chromium.

One kaleido browser per process, started on first use and kept: starting
chromium takes seconds, a render then takes a fraction of one. MathJax is off
(no chart uses TeX) and plotly.js comes from the installed plotly package, so
nothing is fetched from the network. No browser is ever downloaded.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # plotly loads when a figure is rendered, not when the CLI starts
    import plotly.graph_objects as go

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
RENDER_TIMEOUT_S = 60
FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
SLIDE_SIZE = (1600, 900)  # 16:9 pixels; PNG at 2x is 3200 x 1800, sharp on a projector
PNG_SCALE = 2
INSTALL_HINT = (
    "Figure export needs Debian's chromium: sudo apt-get install chromium "
    "(or set CHROMIUM_PATH to a Chromium or Chrome executable)."
)

_lock = threading.Lock()
_started = False


class ExportUnavailable(RuntimeError):
    """Chromium is missing or the render failed; the message says what to do."""


def plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def render(fig: go.Figure, fmt: str, size: tuple[int, int] = SLIDE_SIZE) -> bytes:
    """The figure as PNG, SVG or PDF bytes at ``size`` (PNG at twice the pixels)."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
    import kaleido

    width, height = size
    opts = {
        "format": fmt,
        "width": width,
        "height": height,
        "scale": PNG_SCALE if fmt == "png" else 1,
    }
    with _lock:
        _start(kaleido)
        try:
            return kaleido.calc_fig_sync(fig, opts=opts)
        except Exception as exc:  # kaleido and choreographer raise many types
            raise ExportUnavailable(f"the figure could not be rendered ({exc})") from None


def _start(kaleido) -> None:
    global _started
    if _started:
        return
    if not CHROMIUM.exists():
        raise ExportUnavailable(INSTALL_HINT)
    kaleido.start_sync_server(
        n=1, timeout=RENDER_TIMEOUT_S, mathjax=False, plotlyjs=str(plotly_js()),
        path=str(CHROMIUM), silence_warnings=True,
    )  # fmt: skip
    _started = True
