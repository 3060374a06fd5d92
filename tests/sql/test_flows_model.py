"""Health flows on the hand-made book of tests_support/flows_book.py (one account per path).

Every expected number is computed by hand in that module's docstring.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cslib.store import db
from cslib.views import flows
from cslib.cli.main import main
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.cli.reports import ReportArgs
from tests_support.flows_book import (
    EXPECTED_FEB,
    EXPECTED_HEALTHY_BRIDGE,
    EXPECTED_MATRIX_ACCOUNTS,
    EXPECTED_MATRIX_ARR,
    EXPECTED_UNHEALTHY_BRIDGE,
    build_flows_book,
)

MONTH = "2026-02"


@pytest.fixture(scope="module")
def flows_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("flows") / "flows.duckdb"
    build_flows_book(path)
    return path


@pytest.fixture(scope="module")
def conn(flows_db):
    c = db.connect(flows_db)
    yield c
    c.close()


def test_states_per_account(conn):
    df = db.query(conn, "select account_id, from_state, state from flows_account_month where month = ?", [MONTH])
    got = {r.account_id: (r.from_state, r.state) for r in df.itertuples()}
    assert got == {
        "f_new": ("new", "healthy"), "f_new_unhealthy": ("new", "unhealthy"),
        "f_won_back": ("won_back", "healthy"), "f_upgraded": ("at_risk", "healthy"),
        "f_downgraded": ("healthy", "at_risk"), "f_churned": ("healthy", "churned"),
        "f_deferred": ("healthy", "deferred"), "f_expansion": ("healthy", "healthy"),
        "f_contraction": ("healthy", "healthy"), "f_flat": ("healthy", "healthy"),
        "f_unhealthy": ("unhealthy", "unhealthy"), "f_fell": ("at_risk", "unhealthy"),
        "f_unh_churned": ("unhealthy", "churned"), "f_late": ("deferred", "healthy"),
        "f_unscored": ("unscored", "unscored"),
    }
    # a late renewal is deferred only while it waits: January, not February
    jan = db.query(conn, "select state from flows_account_month where month = '2026-01' and account_id = 'f_late'")
    assert jan["state"].tolist() == ["deferred"]
    # the account won back was churned in January (no row in the matrix that month besides churned)
    jan_wb = db.query(conn, "select state from flows_account_month where month = '2026-01' and account_id = 'f_won_back'")
    assert jan_wb["state"].tolist() == ["churned"]


def test_transition_matrix_equals_hand_computed(conn):
    m = flows.transition_matrix(conn, Filters(), MONTH)
    assert len(m) == len(flows.FROM_STATES) * len(flows.TO_STATES)
    nonzero = m[m["accounts"] > 0]
    assert {(r.from_state, r.to_state): r.accounts for r in nonzero.itertuples()} == EXPECTED_MATRIX_ACCOUNTS
    assert {(r.from_state, r.to_state): r.arr for r in nonzero.itertuples()} == pytest.approx(EXPECTED_MATRIX_ARR)
    # this month's ARR = every non-churned column; churned column = last month's ARR lost
    assert m.loc[m["to_state"] != "churned", "arr"].sum() == pytest.approx(EXPECTED_FEB["arr"])
    assert m.loc[m["to_state"] == "churned", "arr"].sum() == pytest.approx(68_400)


def test_matrix_table_shape_and_totals(conn):
    table = flows.matrix_table(flows.transition_matrix(conn, Filters(), MONTH), "accounts")
    assert list(table.index) == [flows.STATE_LABELS[s] for s in flows.FROM_STATES]
    assert list(table.columns) == [flows.STATE_LABELS[s] for s in flows.TO_STATES] + ["Total"]
    assert table.loc["Healthy", "Total"] == 6
    assert table.loc["Healthy", "Healthy"] == 3
    assert int(table["Total"].sum()) == 15
    with pytest.raises(UserError):
        flows.matrix_table(flows.transition_matrix(conn, Filters(), MONTH), "mrr")


@pytest.mark.parametrize(
    ("bridge", "expected"), [("healthy", EXPECTED_HEALTHY_BRIDGE), ("unhealthy", EXPECTED_UNHEALTHY_BRIDGE)]
)
def test_bridges_equal_hand_computed_and_reconcile(conn, bridge, expected):
    both = flows.bridges(conn, Filters(), MONTH)
    part = both[both["bridge"] == bridge]
    assert dict(zip(part["step"], part["arr"])) == pytest.approx(expected)
    assert list(part["step"]) == ["start", *[s for s, _, _ in flows.BRIDGE_STEPS[bridge]], "end"]
    start = part.loc[part["kind"] == "start", "arr"].item()
    steps = part.loc[part["kind"] == "step", "arr"].sum()
    end = part.loc[part["kind"] == "end", "arr"].item()
    assert start + steps == pytest.approx(end, abs=1e-6)
    # and the bridge's end is the month-end total of the group
    trend = flows.health_rate_trend(conn, Filters(), MONTH)
    feb = trend[trend["month"] == MONTH].iloc[0]
    assert end == pytest.approx(feb["healthy_arr" if bridge == "healthy" else "unhealthy_arr"])
    jan = trend[trend["month"] == "2026-01"].iloc[0]
    assert start == pytest.approx(jan["healthy_arr" if bridge == "healthy" else "unhealthy_arr"])


def test_bridge_signs_follow_the_step_list(conn):
    both = flows.bridges(conn, Filters(), MONTH)
    for bridge in flows.BRIDGES:
        for step, _label, sign in flows.BRIDGE_STEPS[bridge]:
            arr = both[(both["bridge"] == bridge) & (both["step"] == step)]["arr"].item()
            assert arr * sign >= 0, (bridge, step, arr)


def test_bridges_reconcile_every_month_and_slice(conn):
    for month in ("2026-01", "2026-02"):
        for filters in (Filters(), Filters(csm_team=("North",)), Filters(csm_team=("South",))):
            both = flows.bridges(conn, filters, month)
            for bridge in flows.BRIDGES:
                part = both[both["bridge"] == bridge]
                start = part.loc[part["kind"] == "start", "arr"].item()
                end = part.loc[part["kind"] == "end", "arr"].item()
                assert start + part.loc[part["kind"] == "step", "arr"].sum() == pytest.approx(end, abs=1e-6)


def test_health_rate_trend_overall_and_by_team(conn):
    trend = flows.health_rate_trend(conn, Filters(), MONTH)
    feb = trend[trend["month"] == MONTH].iloc[0]
    for key, value in EXPECTED_FEB.items():
        assert feb[key] == pytest.approx(value), key
    assert feb["health_rate"] == pytest.approx(200_400 / 320_400)
    assert feb["health_rate_mom"] == pytest.approx(200_400 / 240_000)
    first = trend[trend["month"] == "2025-12"].iloc[0]
    assert first["health_rate_mom"] != first["health_rate_mom"]  # NaN: no month before the data

    teams = flows.health_rate_trend(conn, Filters(), MONTH, "csm_team")
    feb_teams = teams[teams["month"] == MONTH].set_index("group")
    # North: f_new 12,000 + f_won_back 24,000 + f_upgraded 42,000 + f_expansion 36,000 healthy;
    # f_downgraded 48,000 at risk; f_deferred 18,000 deferred
    assert feb_teams.loc["North", "healthy_arr"] == pytest.approx(114_000)
    assert feb_teams.loc["North", "arr"] == pytest.approx(180_000)
    # North January healthy: f_downgraded 48,000 + f_churned 60,000 + f_deferred 18,000 + f_expansion 30,000
    assert feb_teams.loc["North", "health_rate_mom"] == pytest.approx(114_000 / 156_000)
    assert feb_teams["healthy_arr"].sum() == pytest.approx(EXPECTED_FEB["healthy_arr"])
    table = flows.team_table(teams, MONTH)
    assert list(table["group"]) == ["North", "South"]  # largest ARR first
    with pytest.raises(UserError):
        flows.health_rate_trend(conn, Filters(), MONTH, "region; drop table x")


def test_filters_slice_the_matrix(conn):
    m = flows.transition_matrix(conn, Filters(csm_team=("North",)), MONTH)
    assert int(m["accounts"].sum()) == 7
    assert m.loc[(m["from_state"] == "healthy") & (m["to_state"] == "deferred"), "arr"].item() == 18_000


def test_flows_report_and_cli(conn, flows_db, capsys):
    month, tables = flows.flows_report(conn, ReportArgs(month=MONTH, filters=Filters()))
    assert month == MONTH
    assert set(tables) == {"tiles", "matrix_accounts", "matrix_arr", "healthy_bridge", "unhealthy_bridge"}
    hb = tables["healthy_bridge"].set_index("step")["arr"]
    assert hb["end"] == pytest.approx(200_400)
    tiles = tables["tiles"].set_index("name")["value"]  # the page's tiles agree with its bridges
    assert tiles["healthy_arr"] == pytest.approx(200_400) and tiles["unhealthy_arr"] == pytest.approx(61_200)

    assert main(["report", "flows", "--db", str(flows_db), "--month", MONTH]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["month"] == MONTH
    rows = {r["step"]: r["arr"] for r in payload["unhealthy_bridge"]}
    assert rows["end"] == pytest.approx(61_200) and rows["deferred"] == pytest.approx(18_000)
    healthy_row = next(r for r in payload["matrix_accounts"] if r["from"] == "Healthy")
    assert healthy_row["Deferred"] == 1 and healthy_row["Total"] == 6

    assert main(["report", "flows", "--db", str(flows_db), "--month", "2031-01"]) == 2
    assert "not in the data" in capsys.readouterr().err


def test_month_flows_is_the_matrix_and_both_bridges_from_one_query(conn):
    matrix, both = flows.month_flows(conn, Filters(), MONTH)
    pd.testing.assert_frame_equal(matrix, flows.transition_matrix(conn, Filters(), MONTH))
    pd.testing.assert_frame_equal(both, flows.bridges(conn, Filters(), MONTH))
    nonzero = matrix[matrix["accounts"] > 0]
    assert {(r.from_state, r.to_state): r.accounts for r in nonzero.itertuples()} == EXPECTED_MATRIX_ACCOUNTS
    healthy = both[both["bridge"] == "healthy"]
    assert dict(zip(healthy["step"], healthy["arr"])) == pytest.approx(EXPECTED_HEALTHY_BRIDGE)
    # start: the six healthy in January (downgraded, churned, deferred, expansion, contraction,
    # flat); end: the seven healthy now (new, won back, upgraded, late, expansion, contraction, flat)
    assert healthy.set_index("step").loc[["start", "end"], "accounts"].tolist() == [6, 7]
    assert matrix["accounts"].dtype == "int64" and both["accounts"].dtype == "int64"
