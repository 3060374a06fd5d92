"""Every Overview tile recomputed from the raw tables in plain pandas, sharing no code with
the SQL models or cslib.views.metrics (issue 13): ARR, health rate and its MoM (with the
point-in-time overdue rule), renewal rates, NRR, GRR and active accounts, for 3 months x 3
slices of the small demo. The month-end health tier is read from health_weekly (the
scorer has its own pandas reference test); everything else starts from raw_* tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cslib.store import db
from cslib.filters import Filters
from cslib.views.metrics import kpi_tiles

MONTHS = ("2026-10", "2026-05", "2025-12")


@pytest.fixture(scope="module")
def raw(small_demo_db):
    conn = db.connect(small_demo_db)
    try:
        q = lambda sql: db.query(conn, sql)  # noqa: E731
        frames = {
            "accounts": q("select account_id, segment, csm_team, is_target from raw_accounts"),
            "revenue": q("select account_id, month, product, mrr_subscription, coalesce(mrr_usage, 0) as mrr_usage "
                         "from raw_revenue_monthly"),
            "renewals": q("select account_id, due_on, due_arr, renewed_on, renewed_arr, outcome from raw_renewals"),
            "health": q("select account_id, week_start, tier from health_weekly"),
        }
    finally:
        conn.close()
    return frames


def _month_end(month: str) -> pd.Timestamp:
    return pd.Period(month, "M").end_time.normalize()


def _shift(month: str, n: int) -> str:
    return str(pd.Period(month, "M") + n)


def _independent_tiles(raw, month: str, segment=None, team=None) -> dict:
    acc = raw["accounts"]
    acc = acc[acc["is_target"]]
    if segment:
        acc = acc[acc["segment"] == segment]
    if team:
        acc = acc[acc["csm_team"] == team]
    ids = set(acc["account_id"])
    rev = raw["revenue"].copy()
    rev["mrr"] = rev["mrr_subscription"] + rev["mrr_usage"]
    total = rev.groupby(["account_id", "month"])["mrr"].sum()

    def mrr(m: str) -> pd.Series:
        s = total.xs(m, level="month") if m in total.index.get_level_values("month") else pd.Series(dtype=float)
        return s[s.index.isin(ids)]

    first_month = rev[rev["mrr"] > 0].groupby("account_id")["month"].min()

    def healthy_arr(m: str) -> float:
        cur = mrr(m)
        active = cur[cur > 0]
        end = _month_end(m)
        h = raw["health"]
        h = h[(h["week_start"] >= pd.Timestamp(m + "-01")) & (h["week_start"] <= end)]
        tier = h.sort_values("week_start").groupby("account_id")["tier"].last()
        out = 0.0
        for a, value in active.items():
            if tier.get(a) != "healthy" or _overdue(a, m):
                continue
            out += value * 12
        return out

    def _overdue(a: str, m: str) -> bool:
        end = _month_end(m)
        r = raw["renewals"]
        r = r[(r["account_id"] == a) & (pd.to_datetime(r["due_on"]) <= end)]
        if r.empty:
            return False
        due = pd.to_datetime(r["due_on"]).max()
        latest = r[pd.to_datetime(r["due_on"]) == due]
        open_ = latest["renewed_on"].isna() | (pd.to_datetime(latest["renewed_on"]) > end)
        if not open_.any():
            return False
        k = due.strftime("%Y-%m")
        while k <= m:  # still paying every month since the due month
            if total.get((a, k), 0.0) <= 0:
                return False
            k = _shift(k, 1)
        return True

    cur, prev = mrr(month), mrr(_shift(month, -1))
    active = cur[cur > 0]
    arr = float(active.sum() * 12)
    healthy = healthy_arr(month)
    healthy_prev = healthy_arr(_shift(month, -1))

    # renewals due in the month, of accounts with a row that month (paying at some time before)
    r = raw["renewals"]
    r = r[r["account_id"].isin(ids) & (pd.to_datetime(r["due_on"]).dt.strftime("%Y-%m") == month)]
    r = r[r["account_id"].map(first_month).fillna("9999-99") <= month]
    decided = r[r["outcome"] != "pending"]
    renewed = decided[decided["outcome"] == "renewed"]
    kept = float(renewed[["renewed_arr", "due_arr"]].min(axis=1).sum())

    # monthly NRR / GRR from product-level movements of last month's paying accounts
    by_product = rev.set_index(["account_id", "month", "product"])[["mrr_subscription", "mrr_usage"]]
    start = expansion = contraction = churn = 0.0
    for a, p_total in prev[prev > 0].items():
        start += p_total
        c_total = cur.get(a, 0.0)
        if c_total <= 0:
            churn -= p_total
            continue
        before = by_product.xs((a, _shift(month, -1)), level=("account_id", "month"))
        after = by_product.xs((a, month), level=("account_id", "month")) if (a, month) in total.index else before.iloc[0:0]
        for product in set(before.index) | set(after.index):
            b = before.loc[product] if product in before.index else pd.Series({"mrr_subscription": 0.0, "mrr_usage": 0.0})
            c = after.loc[product] if product in after.index else pd.Series({"mrr_subscription": 0.0, "mrr_usage": 0.0})
            b_sum, c_sum = float(b.sum()), float(c.sum())
            if b_sum <= 0 and c_sum > 0:
                expansion += c_sum
            elif b_sum > 0 and c_sum <= 0:
                contraction -= b_sum
            else:
                for part in ("mrr_subscription", "mrr_usage"):
                    d = float(c[part] - b[part])
                    if d > 0:
                        expansion += d
                    else:
                        contraction += d

    def ratio(a: float, b: float):
        return a / b if b else None

    return {
        "arr": arr,
        "health_rate": ratio(healthy, arr),
        "health_rate_mom": ratio(healthy, healthy_prev),
        "renewal_rate_arr": ratio(kept, float(decided["due_arr"].sum())),
        "renewal_rate_count": ratio(float(len(renewed)), float(len(decided))),
        "nrr": ratio(start + expansion + contraction + churn, start),
        "grr": ratio(start + contraction + churn, start),
        "active_accounts": len(active),
    }


@pytest.mark.parametrize("month", MONTHS)
@pytest.mark.parametrize("segment,team", [(None, None), ("smb", None), (None, "__first__")])
def test_every_overview_tile_from_the_raw_tables(small_demo_db, raw, month, segment, team):
    if team == "__first__":
        team = sorted(raw["accounts"]["csm_team"].unique())[0]
    expected = _independent_tiles(raw, month, segment, team)
    filters = Filters(segment=(segment,) if segment else (), csm_team=(team,) if team else ())
    conn = db.connect(small_demo_db)
    try:
        tiles = {t["name"]: t["value"] for t in kpi_tiles(conn, filters, month)}
    finally:
        conn.close()
    assert set(tiles) == set(expected)
    for name, value in expected.items():
        if value is None:
            assert tiles[name] is None, name
        else:
            assert tiles[name] is not None and math.isclose(tiles[name], value, rel_tol=1e-9, abs_tol=1e-9), (
                name, tiles[name], value)
