"""The plain-pandas page queries the benchmark compares against give the SQL's numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from cslib import db, metrics, ninebox, pandas_reference
from cslib.filters import Filters

SLICES = [Filters(), Filters(segment=("smb",)), Filters(include_non_target=True, lifecycle_stage=("established",))]


@pytest.fixture(scope="module")
def demo(small_demo_db):
    conn = db.connect(small_demo_db)
    frame = db.query(conn, f"select {', '.join(pandas_reference.COLUMNS)} from account_month")
    yield conn, frame
    conn.close()


@pytest.mark.parametrize("filters", SLICES, ids=str)
def test_kpi_components_equal_the_sql(demo, filters):
    conn, frame = demo
    months = sorted(frame["month"].unique())
    sql = metrics._components(conn, filters, months[0], months[-1]).reset_index(drop=True)
    ref = pandas_reference.kpi_components(frame, filters, months[0], months[-1])
    assert len(sql) >= 3
    pd.testing.assert_frame_equal(ref[sql.columns], sql, check_dtype=False, atol=1e-6)


@pytest.mark.parametrize("filters", SLICES, ids=str)
def test_ninebox_cells_equal_the_sql(demo, filters):
    conn, frame = demo
    month = frame["month"].max()
    summary = ninebox.grid_summary(conn, filters, month)
    sql = pd.concat([summary["grid"], summary["unscored"]])
    sql = sql[sql["accounts"] > 0].set_index(["health_tier"])[["accounts", "arr"]].groupby(level=0).sum()
    ref = pandas_reference.ninebox_cells(frame, filters, month).groupby("health_tier")[["accounts", "arr"]].sum()
    pd.testing.assert_frame_equal(ref.sort_index(), sql.sort_index(), check_dtype=False, atol=1e-6)
