"""The point-in-time overdue rule on a hand-computed book (tests_support/overdue_book.py),
through the functions the pages call: the Overview's KPIs, the flows, the nine-box, the
what-if's "current" and the CSM commissions (issue 13, acceptance point 1)."""

from __future__ import annotations

import pytest

from cslib.store import db
from cslib.views import flows, incentives, metrics, ninebox, whatif
from cslib.filters import Filters
from bench.pandas_reference import overdue_flags
from tests_support.overdue_book import EXPECTED_OVERDUE, build_overdue_book

ALL = Filters()


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("overdue_book") / "overdue.duckdb"
    build_overdue_book(path)
    conn = db.connect(path)
    yield conn
    conn.close()


def test_overdue_month_ends_by_hand(conn):
    df = db.query(conn, "select account_id, month, is_active, is_overdue from account_month order by account_id, month")
    got = df[df["is_overdue"]].groupby("account_id")["month"].apply(list).to_dict()
    assert got == EXPECTED_OVERDUE
    # the pandas recomputation from the raw renewals agrees row by row
    renewals = db.query(conn, "select account_id, due_on, renewed_on from raw_renewals")
    assert overdue_flags(df, renewals).tolist() == df["is_overdue"].tolist()


def test_health_rate_counts_the_overdue_account_unhealthy(conn):
    series = metrics.kpi_series(conn, ALL, end_month="2026-10", n_months=4).set_index("month")
    assert series["arr"].tolist() == [90_000.0, 90_000.0, 90_000.0, 78_000.0]
    # July all healthy; August o_late overdue; September o_churn and o_late; October none
    assert series["healthy_arr"].tolist() == [90_000.0, 66_000.0, 54_000.0, 78_000.0]
    assert series.loc["2026-09", "health_rate"] == pytest.approx(0.6)
    assert series.loc["2026-09", "health_rate_mom"] == pytest.approx(54_000 / 66_000)
    tiles = {t["name"]: t for t in metrics.kpi_tiles(conn, ALL, "2026-09")}
    assert tiles["health_rate"]["value"] == pytest.approx(0.6)
    assert tiles["health_rate"]["previous"] == pytest.approx(66_000 / 90_000)


def test_flows_state_and_bridges(conn):
    states = db.query(conn, "select account_id, month, from_state, state from flows_account_month")
    states = {(r.account_id, r.month): (r.from_state, r.state) for r in states.itertuples()}
    assert states[("o_churn", "2026-09")] == ("healthy", "deferred")
    assert states[("o_churn", "2026-10")] == ("deferred", "churned")
    assert states[("o_late", "2026-08")] == ("healthy", "deferred")
    assert states[("o_late", "2026-10")] == ("deferred", "healthy")
    assert states[("o_edge", "2026-09")] == ("healthy", "healthy")

    _matrix, bridges = flows.month_flows(conn, ALL, "2026-09")
    healthy = bridges[bridges["bridge"] == "healthy"].set_index("step")["arr"]
    assert (healthy["start"], healthy["deferred"], healthy["end"]) == (66_000.0, -12_000.0, 54_000.0)
    unhealthy = bridges[bridges["bridge"] == "unhealthy"].set_index("step")["arr"]
    assert (unhealthy["start"], unhealthy["deferred"], unhealthy["end"]) == (24_000.0, 12_000.0, 36_000.0)
    _matrix, october = flows.month_flows(conn, ALL, "2026-10")
    unhealthy = october[october["bridge"] == "unhealthy"].set_index("step")["arr"]
    assert (unhealthy["churned"], unhealthy["moved_out"], unhealthy["end"]) == (-12_000.0, -24_000.0, 0.0)
    trend = flows.health_rate_trend(conn, ALL, "2026-09").set_index("month").loc["2026-09"]
    assert (trend["healthy_arr"], trend["deferred_arr"]) == (54_000.0, 36_000.0)
    assert trend["health_rate"] == pytest.approx(0.6)


def test_ninebox_puts_the_overdue_account_in_the_unhealthy_row(conn):
    grid = ninebox.grid_summary(conn, ALL, "2026-09")["grid"].set_index("cell_id")
    cells = {c: (int(n), float(a)) for c, n, a in zip(grid.index, grid["accounts"], grid["arr"]) if n}
    assert cells == {"mid|healthy": (2, 54_000.0), "low|unhealthy": (1, 12_000.0), "mid|unhealthy": (1, 24_000.0)}
    assert grid.loc[grid["health_tier"] == "healthy", "arr_share"].sum() == pytest.approx(0.6)
    # August: o_churn still healthy (its renewal is not yet due)
    august = ninebox.grid(conn, ALL, "2026-08").set_index("cell_id")
    assert int(august.loc["low|healthy", "accounts"]) == 1
    accounts = ninebox.cell_accounts(conn, ALL, "2026-09", "unhealthy", "low")
    row = accounts.iloc[0]
    assert accounts["account_id"].tolist() == ["o_churn"] and bool(row["is_overdue"])
    assert row["health_score"] == 96.0  # the score's own tier is healthy
    assert str(row["next_renewal_on"]) == "2026-09-03"  # the open, overdue renewal
    late = ninebox.cell_accounts(conn, ALL, "2026-09", "unhealthy", "mid").iloc[0]
    assert (late["account_id"], str(late["next_renewal_on"])) == ("o_late", "2026-08-20")
    moves = ninebox.cell_movement(conn, ALL, "2026-09", "unhealthy", "low")
    assert moves["accounts"][["account_id", "direction"]].values.tolist() == [["o_churn", "entered"]]


def test_whatif_current_is_the_overview_rate(conn):
    result = whatif.run_whatif(conn, whatif.current_scorecard(conn), ALL, "2026-09")
    rates = result["rates"].iloc[0]
    assert rates["health_rate_before"] == pytest.approx(0.6)
    assert rates["health_rate_after"] == pytest.approx(0.6)  # a scorecard edit cannot cure overdue
    acc = result["accounts"].set_index("account_id")
    assert acc.loc["o_churn", "tier_before"] == "unhealthy" and bool(acc.loc["o_churn", "is_overdue"])


def test_commission_is_zero_for_the_overdue_book(conn):
    def payouts(month):
        return incentives.csm_payouts(conn, month, ALL).set_index("csm")

    september = payouts("2026-09")
    assert september.loc["Olga", "overdue_accounts"] == 1
    assert september.loc["Olga", "healthy_mrr"] == 0.0 and september.loc["Olga", "commission"] == 0.0
    assert september.loc["Lee", "commission"] == 0.0
    assert september.loc["Kim", "commission"] == pytest.approx(45.00)  # 1% x 4,500 x 1.0
    # August, before o_churn's renewal was due: Olga is paid; Lee (overdue) is not
    august = payouts("2026-08")
    assert august.loc["Olga", "commission"] == pytest.approx(10.00)
    assert august.loc["Lee", "commission"] == 0.0
    # October: Lee's late order arrived on 10-05, no healthy MRR last month -> no-history 1.0
    october = payouts("2026-10")
    assert october.loc["Lee", "commission"] == pytest.approx(20.00)
    assert october.loc["Olga", "accounts"] == 0  # o_churn churned (listed for last month's book)


def test_a_file_built_before_is_overdue_asks_for_a_rebuild(tmp_path):
    """A database whose marts still carry the old is_deferred column is refused with the
    rebuild command, not a SQL error on the first page."""
    import duckdb

    from cslib.errors import UserError

    path = tmp_path / "old.duckdb"
    build_overdue_book(path)
    with duckdb.connect(str(path)) as old:
        for table in ("account_month", "flows_account_month", "ninebox_account_month"):
            old.execute(f"alter table {table} rename column is_overdue to is_deferred")
    with pytest.raises(UserError, match=r"older version.*account_month\.is_overdue.*cslib score"):
        db.open_checked(path)
