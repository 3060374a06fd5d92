"""Filter values with SQL or HTML text are data, never code (issue 8): every page's query
function binds them, so they match nothing and change nothing."""

from __future__ import annotations

import pytest

from cslib.views import churn
from cslib.store import db
from cslib.views import flows, metrics, ninebox, revenue
from cslib.filters import Filters
from tests_support.book import build_tiny_book

HOSTILE = (
    "smb' or '1'='1",
    "smb'); drop table account_month; --",
    "<script>alert(1)</script>",
    '" onmouseover="alert(1)',
    "%",
)


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("inject") / "tiny.duckdb"
    build_tiny_book(path)
    c = db.connect(path)
    yield c
    c.close()


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("dimension", ["segment", "csm_team", "lifecycle_stage", "csm"])
def test_hostile_filter_values_match_nothing(conn, dimension, value):
    filters = Filters.from_mapping({dimension: [value]})
    tiles = {t["name"]: t for t in metrics.kpi_tiles(conn, filters, "2026-03")}
    assert tiles["arr"]["value"] == 0
    assert ninebox.grid(conn, filters, "2026-03")["accounts"].sum() == 0
    assert revenue.movements(conn, filters, "2026-02", "2026-03")["closing_mrr"].sum() == 0
    flows.bridges(conn, filters, "2026-03")
    churn.churn_summary(conn, filters, "2026-01", "2026-03")
    # nothing was dropped or changed
    assert db.query(conn, "select count(*) as n from account_month")["n"].iloc[0] > 0


def test_a_normal_filter_still_matches(conn):
    tiles = {t["name"]: t for t in metrics.kpi_tiles(conn, Filters(), "2026-03")}
    assert tiles["arr"]["value"] == pytest.approx(216_000.0)
