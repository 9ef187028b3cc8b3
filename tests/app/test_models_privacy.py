"""The Models page's counts decided with the sidebar's n, as one masked view (issue 22):
the model's patients and those it leaves out add up to n, so privacy decides on them
together (ui.page.masked with views.model_ledger)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from analytics.filters import CohortFilter
from analytics.present.masking import mask
from analytics.views import N, header_ledger, header_view
from tests.conftest import demo_with_centres
from tests.unit.test_model_privacy import _pinned, _printed

PAGE = "pages/8_Models.py"


@pytest.fixture(scope="module")
def one_without_centre_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's patients in C01, but the first with thrombophilia, in none: a model on
    the centre of the 9 with thrombophilia leaves 1 out and fits 8."""

    def centres(patients):
        first = patients.index[patients["thrombophilia"] == "true"][0]
        return ["" if i == first else "C01" for i in patients.index]

    return demo_with_centres(tmp_path_factory, "one-without-centre", centres, {"name": "C01"})


def test_the_models_page_decides_its_counts_with_the_sidebars_n(
    page_test, one_without_centre_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """With k = 8, the 9 patients with thrombophilia show n = 9 in the sidebar: a model
    that leaves 1 out withholds its 8 patients, and before, n - 8 or more left 1. The
    sidebar drew n before the page decided, so the page takes it as known: the 1 left
    out, 1 to 7 beside n = 9 and an 8 withheld (8 or more), would be pinned, so it is
    withheld with them rather than shown "<8"."""
    monkeypatch.setenv("COHORT_DB", str(one_without_centre_path))
    with duckdb.connect(str(one_without_centre_path), read_only=True) as con:
        header = header_view(con, CohortFilter(thrombophilia=True))
    assert (header.limbs, mask(header_ledger(header), 8).hidden(N)) == (9, False)
    at = page_test(PAGE, privacy="yes", privacy_k="8", thrombophilia="yes", adjust="center")
    assert not at.exception
    (counts,) = [c.value for c in at.caption if c.value.startswith("Cox model (Efron ties) on")]
    found = re.match(r"Cox model \(Efron ties\) on (\S+) patients? with (\S+) events; (\S+) "
                     r"patients? left out", counts)  # fmt: skip
    patients, events, excluded = (_printed(found.group(i)) for i in (1, 2, 3))
    assert excluded == "hidden" and patients == "hidden"
    (n_text,) = [m.value for m in at.sidebar.markdown if m.value.startswith("**n = ")]
    n = _printed(re.match(r"\*\*n = (\S+) (of|patients)", n_text).group(1))
    assert not _pinned(n, patients, excluded, events, 8)
