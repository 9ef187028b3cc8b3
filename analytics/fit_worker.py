"""A process that fits adjusted models for the dashboard, one request at a time.

``python -m analytics.fit_worker`` reads pickled requests (cohort path, filter, endpoint,
covariates) on its standard input and writes each result, ``("model", AdjustedModel)``
or ``("error", message)``, pickled on its standard output. The dashboard's server starts
it and alone talks to it (ui.heavy), so both ends are the product's own code. It exists
so that lifelines' seconds of Newton steps hold this process's Python lock, not the
server's: in the server they slowed every other session's page run 2.3 times.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import BinaryIO

from analytics.views import models_view_of_file

NICENESS = 10  # a tenth of a page run's share of a contended core


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


if __name__ == "__main__":
    os.nice(NICENESS)  # the server's page runs come first when both want a core
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot break a result
    serve(sys.stdin.buffer, answers)
