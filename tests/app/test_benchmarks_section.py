"""The "Against published benchmarks" section of the Overview and Negative churn pages
(issue 17, point 2): the same numbers as ``report benchmarks`` on the small demo."""

from __future__ import annotations

import math

import pytest

from cslib.views import benchmarks as bm
from cslib.store.db import open_checked
from cslib.filters import Filters

PAGES = {"overview": None, "negative_churn": "pages/negative_churn.py"}


@pytest.mark.parametrize("page", list(PAGES))
def test_section_shows_the_report_numbers(small_demo_db, app_on, page):
    at = app_on(small_demo_db, month="2026-10").run()
    if PAGES[page]:
        at.switch_page(PAGES[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert "Against published benchmarks" in [s.value for s in at.subheader]
    shown = next(d.value for d in at.dataframe if "NRR vs published" in list(d.value.columns))
    conn = open_checked(small_demo_db)
    try:
        expected = bm.comparison(conn, Filters(), "2025-11", "2026-10")
    finally:
        conn.close()
    assert list(shown["ACV band"]) == list(expected["band_label"])
    assert list(shown["Accounts"]) == list(expected["base_accounts"])
    for ours, theirs in zip(shown["Our NRR"], expected["nrr"]):
        assert ours == ("n/a" if math.isnan(theirs) else f"{theirs * 100:.1f}%")
    flags = [bm.FLAG_LABELS.get(f, "–") for f in expected["grr_flag"]]
    assert list(shown["GRR vs published"]) == flags
    captions = " ".join(c.value for c in at.caption)
    assert "SaaS Capital, 2023" in captions and "Bessemer Venture Partners, 2019" in captions
