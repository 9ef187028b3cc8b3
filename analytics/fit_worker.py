"""A process that fits adjusted models for the dashboard, one request at a time.

``python -m analytics.fit_worker SERVER_PID`` reads pickled requests (cohort path,
filter, endpoint, covariates) on its standard input and writes each result,
``("model", AdjustedModel)`` or ``("error", message)``, pickled on its standard output.
The dashboard's server starts it and alone talks to it (ui.heavy), so both ends are the
product's own code. It exists so that lifelines' seconds of Newton steps hold this
process's Python lock, not the server's: in the server they slowed every other session's
page run 2.3 times.

It ends with the server: at the end of its input, when the server kills it on exit, and
on its own within PARENT_CHECK_S of the server's end however that came (a SIGKILL, a
crash), even in the middle of a fit, so no fit outlives the server that asked for it.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
from typing import BinaryIO

from analytics.views import models_view_of_file

NICENESS = 10  # a tenth of a page run's share of a contended core
PARENT_CHECK_S = 0.5


def serve(requests: BinaryIO, results: BinaryIO) -> None:
    """Answer requests until the input ends."""
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        try:
            answer: tuple[str, object] = ("model", models_view_of_file(*request))
        except Exception as exc:
            answer = ("error", f"{type(exc).__name__}: {exc}")
        pickle.dump(answer, results)
        results.flush()


def end_with(parent: int) -> None:
    """End this process as soon as ``parent`` is no longer its parent (it ended)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which ends this
    # the server as it started this process: it may have ended during the imports above
    server = int(sys.argv[1]) if len(sys.argv) > 1 else os.getppid()
    threading.Thread(target=end_with, args=(server,), daemon=True).start()
    os.nice(NICENESS)  # the server's page runs come first when both want a core
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot break a result
    serve(sys.stdin.buffer, answers)
