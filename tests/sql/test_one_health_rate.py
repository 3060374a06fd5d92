"""One health rate on every page (issue 13, point 2), on a generated demo.

For 8 months x 4 slices (whole book, one segment, one CSM team, one lifecycle stage), each
through the function its page calls:
  Overview     cslib.views.metrics.kpi_tiles            health_rate tile
  Nine-box     cslib.views.ninebox.grid_summary         healthy row's share of ARR
  Health flows cslib.views.flows.month_flows            healthy bridge's end / ARR of the trend
               cslib.views.flows.health_rate_trend      health_rate (the page's tile)
  What-if      cslib.views.whatif.run_whatif            health_rate_before ("current")
  Incentives   cslib.views.incentives.payout_tables     sum(healthy MRR) x 12 / sum(MRR) x 12
and the same for the month-over-month (Overview tile, flows trend, incentive books). Overdue
accounts (account_month.is_overdue) are unhealthy on all of them.
"""

from __future__ import annotations

import math

import pytest

from cslib.store import db
from cslib.views import flows, incentives, metrics, ninebox, whatif
from cslib.filters import Filters
from bench.pandas_reference import overdue_flags

MONTHS = ("2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10")
SLICES = {
    "whole book": Filters(),
    "segment smb": Filters(segment=("smb",)),
    "team scale_americas": Filters(csm_team=("scale_americas",)),
    "stage adoption": Filters(lifecycle_stage=("adoption",)),
}
DEMO = {"n_accounts": 600, "n_months": 12, "seed": 7, "end_month": "2026-10"}


@pytest.fixture(scope="session")
def mid_demo(tmp_path_factory):
    """600 accounts x 12 months (2025-11 to 2026-10), built once per test session: enough
    overdue accounts whose score is healthy for the rule to matter."""
    from sample_data.generator import write_demo

    path = tmp_path_factory.mktemp("one_health_rate") / "demo.duckdb"
    write_demo(path, **DEMO)
    conn = db.connect(path)
    yield conn
    conn.close()


def _page_rates(conn, filters: Filters, month: str, scorecard) -> dict[str, float]:
    tiles = {t["name"]: t for t in metrics.kpi_tiles(conn, filters, month)}
    grid = ninebox.grid_summary(conn, filters, month)
    nine_box = float(grid["grid"].loc[grid["grid"]["health_tier"] == "healthy", "arr_share"].sum())
    _matrix, bridges = flows.month_flows(conn, filters, month)
    end = bridges[(bridges["bridge"] == "healthy") & (bridges["step"] == "end")]["arr"].item()
    trend = flows.health_rate_trend(conn, filters, month, "overall").set_index("month").loc[month]
    current = whatif.run_whatif(conn, scorecard, filters, month)["rates"].iloc[0]
    _per_csm, teams = incentives.payout_tables(conn, month, filters)
    return {
        "overview": tiles["health_rate"]["value"],
        "ninebox": nine_box,
        "flows_bridge": end / float(trend["arr"]),
        "flows_trend": float(trend["health_rate"]),
        "whatif_current": float(current["health_rate_before"]),
        "incentives": float(teams["healthy_mrr"].sum() * 12) / float(teams["mrr"].sum() * 12),
        # month over month
        "overview_mom": tiles["health_rate_mom"]["value"],
        "flows_mom": float(trend["health_rate_mom"]),
        "incentives_mom": float(teams["healthy_mrr"].sum()) / float(teams["prev_healthy_mrr"].sum()),
    }


@pytest.mark.parametrize("slice_name", list(SLICES))
def test_every_page_shows_the_same_health_rate(mid_demo, slice_name):
    filters = SLICES[slice_name]
    scorecard = whatif.current_scorecard(mid_demo)
    for month in MONTHS:
        rates = _page_rates(mid_demo, filters, month, scorecard)
        rate = rates["overview"]
        assert rate is not None and 0 < rate < 1, (slice_name, month, rates)
        for page in ("ninebox", "flows_bridge", "flows_trend", "whatif_current", "incentives"):
            assert rates[page] == pytest.approx(rate, rel=1e-9, abs=1e-12), (slice_name, month, page, rates)
        mom = rates["overview_mom"]
        assert mom is not None and not math.isnan(mom)
        for page in ("flows_mom", "incentives_mom"):
            assert rates[page] == pytest.approx(mom, rel=1e-9), (slice_name, month, page, rates)


def test_the_demo_months_exercise_the_overdue_rule(mid_demo):
    """Overdue accounts whose score's tier is healthy exist in the tested months (in the
    whole book and at least one other slice), so the equalities above test the rule."""
    found = mid_demo.execute(
        "select month, segment, csm_team, lifecycle_stage from account_month "
        "where is_overdue and health_tier = 'healthy' and is_target and month between ? and ?",
        [MONTHS[0], MONTHS[-1]],
    ).df()
    assert len(found) >= 3
    assert found["month"].nunique() >= 3
    others = (found["segment"] == "smb") | (found["csm_team"] == "scale_americas") | (
        found["lifecycle_stage"] == "adoption"
    )
    assert others.any()


def test_overdue_accounts_are_unhealthy_everywhere(mid_demo):
    """Each overdue account-month is: not in healthy ARR (kpi components), state 'deferred'
    in the flows, the unhealthy row of the nine-box mart, and outside the incentive books'
    healthy MRR."""
    conn = mid_demo
    bad = conn.execute(
        """
        select count(*) from account_month as a
        left join flows_account_month as f using (account_id, month)
        left join ninebox_account_month as n using (account_id, month)
        where a.is_overdue
            and not (f.state = 'deferred' and n.health_tier = 'unhealthy' and a.is_active)
        """
    ).fetchone()[0]
    assert bad == 0
    n_overdue = conn.execute("select count(*) from account_month where is_overdue").fetchone()[0]
    assert n_overdue > 0
    # the flows' deferred state is exactly is_overdue
    assert conn.execute(
        "select count(*) from flows_account_month where (state = 'deferred') <> is_overdue"
    ).fetchone()[0] == 0


def test_pandas_recomputes_every_overdue_flag(mid_demo):
    """bench.pandas_reference.overdue_flags (pandas, from raw_renewals) = the SQL's
    account_month.is_overdue on every account-month of the demo."""
    rows = db.query(mid_demo, "select account_id, month, is_active, is_overdue from account_month")
    renewals = db.query(mid_demo, "select account_id, due_on, renewed_on from raw_renewals")
    assert rows["is_overdue"].sum() > 20
    assert overdue_flags(rows, renewals).tolist() == rows["is_overdue"].tolist()
