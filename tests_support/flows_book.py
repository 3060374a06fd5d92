"""A hand-made book with one account for every health-flow path, and its known answers.

``build_flows_book(path)`` writes 15 accounts over three months (2025-12, 2026-01,
2026-02) through the real pipeline. The month under test is February 2026 (last month
January). Weekly usage follows one of three constant profiles per month (the tiny book's
profiles, tests_support/book.py): H scores 96.0 (healthy), A 35.0 (at risk), U 1.0
(unhealthy); '-' = no usage rows. Every month has four or five Mondays, so the month-end
window (4 weeks) holds only that month's profile and the month-end tier is exact.

=================  ==================  =======  =====================================
account            MRR Dec/Jan/Feb     tiers    path in February (from -> to)
=================  ==================  =======  =====================================
f_new              - / - / 1000        -/-/H    new -> healthy            ARR 12,000
f_new_unhealthy    - / - / 800         -/-/U    new -> unhealthy          ARR 9,600
f_won_back         2000 / - / 2000     H/-/H    won back -> healthy       ARR 24,000
f_upgraded         3000/3000/3500      A/A/H    at risk -> healthy        42,000 (was 36,000)
f_downgraded       4000/4000/4000      H/H/A    healthy -> at risk        48,000
f_churned          5000/5000/-         H/H/-    healthy -> churned        last month 60,000
f_deferred         1500/1500/1500      H/H/H    healthy -> deferred       18,000 (renewal due
                                                2026-02-10, outcome deferred)
f_expansion        2500/2500/3000      H/H/H    healthy -> healthy        30,000 -> 36,000
f_contraction      6000/6000/5000      H/H/H    healthy -> healthy        72,000 -> 60,000
f_flat             1000/1000/1000      H/H/H    healthy -> healthy        12,000 (no step)
f_unhealthy        1000/1000/800       U/U/U    unhealthy -> unhealthy    12,000 -> 9,600
f_fell             2000/2000/2000      A/A/U    at risk -> unhealthy      24,000
f_unh_churned      700/700/-           U/U/-    unhealthy -> churned      last month 8,400
f_late             1200/1200/1200      H/H/H    deferred -> healthy       14,400 (renewal due
                                                2026-01-20, renewed late on 2026-02-05)
f_unscored         900/900/900         -/-/-    unscored -> unscored      10,800
=================  ==================  =======  =====================================

Healthy bridge, February: start (January healthy: f_downgraded 48,000 + f_churned 60,000
+ f_deferred 18,000 + f_expansion 30,000 + f_contraction 72,000 + f_flat 12,000) = 240,000;
+ new 12,000; + won back 24,000; + expansion 6,000; + upgraded 42,000 + 14,400 = 56,400;
- contraction 12,000; - downgraded 48,000; - churned 60,000; - deferred 18,000;
end 200,400 (f_new 12,000 + f_won_back 24,000 + f_upgraded 42,000 + f_expansion 36,000
+ f_contraction 60,000 + f_flat 12,000 + f_late 14,400).

Unhealthy bridge (unhealthy + deferred), February: start (f_unhealthy 12,000 +
f_unh_churned 8,400 + f_late deferred 14,400) = 34,800; + new 9,600; + downgraded to
unhealthy 24,000 (f_fell); + deferred 18,000; - contraction 2,400; - upgraded out 14,400
(f_late); - churned 8,400; end 61,200 (9,600 + 24,000 + 18,000 + 9,600).

February ARR (active accounts): 12,000 + 9,600 + 24,000 + 42,000 + 48,000 + 18,000 + 36,000
+ 60,000 + 12,000 + 9,600 + 24,000 + 14,400 + 10,800 = 320,400; health rate 200,400 /
320,400; health-rate MoM 200,400 / 240,000 = 83.5%.
"""

from __future__ import annotations

import datetime as dt
import os

from cslib.store import pipeline
from cslib.store.db import replace_atomically
from tests_support.book_cache import cached

FLOWS_MONTHS = ("2025-12", "2026-01", "2026-02")
_PROFILES = {  # purchased, activated, logged_in, bi, records, {module: records}
    "H": (100, 90, 85, 30, 900, dict.fromkeys(
        ["contracts", "orders", "payments", "invoices", "reports", "approvals", "inventory"], 100)),
    "A": (50, 30, 15, 0, 60, {"contracts": 30, "orders": 30}),
    "U": (20, 4, 0, 0, 2, {"customers": 2}),
}
#: account -> ((mrr Dec, Jan, Feb), (profile Dec, Jan, Feb)); None / '-' = none
PATHS: dict[str, tuple[tuple, str]] = {
    "f_new": ((None, None, 1000), "--H"),
    "f_new_unhealthy": ((None, None, 800), "--U"),
    "f_won_back": ((2000, None, 2000), "H-H"),
    "f_upgraded": ((3000, 3000, 3500), "AAH"),
    "f_downgraded": ((4000, 4000, 4000), "HHA"),
    "f_churned": ((5000, 5000, None), "HH-"),
    "f_deferred": ((1500, 1500, 1500), "HHH"),
    "f_expansion": ((2500, 2500, 3000), "HHH"),
    "f_contraction": ((6000, 6000, 5000), "HHH"),
    "f_flat": ((1000, 1000, 1000), "HHH"),
    "f_unhealthy": ((1000, 1000, 800), "UUU"),
    "f_fell": ((2000, 2000, 2000), "AAU"),
    "f_unh_churned": ((700, 700, None), "UU-"),
    "f_late": ((1200, 1200, 1200), "HHH"),
    "f_unscored": ((900, 900, 900), "---"),
}
_TEAMS = {"f_new": "North", "f_won_back": "North", "f_upgraded": "North", "f_downgraded": "North",
          "f_churned": "North", "f_deferred": "North", "f_expansion": "North"}
_RENEWALS = [
    # account_id, due_on, due_arr, renewed_on, renewed_arr, outcome
    ("f_deferred", "2026-02-10", 18_000.0, None, None, "deferred"),
    ("f_late", "2026-01-20", 14_400.0, "2026-02-05", 14_400.0, "renewed"),
    ("f_expansion", "2026-02-15", 30_000.0, "2026-02-14", 36_000.0, "renewed"),
    # due the day after its last paid month: never overdue (due 2026-01-31 it would be
    # overdue at the January month end, point in time, and leave the unhealthy group)
    ("f_churned", "2026-02-01", 60_000.0, None, None, "churned"),
]

#: the hand-computed answers for February 2026 (ARR in currency per year)
EXPECTED_MATRIX_ACCOUNTS = {
    ("new", "healthy"): 1, ("new", "unhealthy"): 1, ("won_back", "healthy"): 1,
    ("at_risk", "healthy"): 1, ("healthy", "at_risk"): 1, ("healthy", "churned"): 1,
    ("healthy", "deferred"): 1, ("healthy", "healthy"): 3, ("unhealthy", "unhealthy"): 1,
    ("at_risk", "unhealthy"): 1, ("unhealthy", "churned"): 1, ("deferred", "healthy"): 1,
    ("unscored", "unscored"): 1,
}
EXPECTED_MATRIX_ARR = {
    ("new", "healthy"): 12_000, ("new", "unhealthy"): 9_600, ("won_back", "healthy"): 24_000,
    ("at_risk", "healthy"): 42_000, ("healthy", "at_risk"): 48_000, ("healthy", "churned"): 60_000,
    ("healthy", "deferred"): 18_000, ("healthy", "healthy"): 36_000 + 60_000 + 12_000,
    ("unhealthy", "unhealthy"): 9_600, ("at_risk", "unhealthy"): 24_000,
    ("unhealthy", "churned"): 8_400, ("deferred", "healthy"): 14_400, ("unscored", "unscored"): 10_800,
}
EXPECTED_HEALTHY_BRIDGE = {
    "start": 240_000, "new": 12_000, "won_back": 24_000, "expansion": 6_000, "moved_in": 56_400,
    "contraction": -12_000, "moved_out": -48_000, "churned": -60_000, "deferred": -18_000, "end": 200_400,
}
EXPECTED_UNHEALTHY_BRIDGE = {
    "start": 34_800, "new": 9_600, "won_back": 0, "expansion": 0, "moved_in": 24_000, "deferred": 18_000,
    "contraction": -2_400, "moved_out": -14_400, "churned": -8_400, "end": 61_200,
}
EXPECTED_FEB = {"arr": 320_400.0, "healthy_arr": 200_400.0, "prev_healthy_arr": 240_000.0,
                "unhealthy_arr": 61_200.0, "deferred_arr": 18_000.0}


def _mondays(month: str) -> list[dt.date]:
    day = dt.date(int(month[:4]), int(month[5:]), 1)
    day += dt.timedelta(days=(7 - day.weekday()) % 7)
    out = []
    while day.strftime("%Y-%m") == month:
        out.append(day)
        day += dt.timedelta(days=7)
    return out


@cached
def build_flows_book(db_path: str | os.PathLike) -> None:
    """Write the book of the module docstring to ``db_path`` (raw tables -> models)."""
    with replace_atomically(db_path) as conn:
        pipeline.create_raw_tables(conn)
        for account_id in PATHS:
            team = _TEAMS.get(account_id, "South")
            conn.execute(
                "insert into raw_accounts values (?, ?, 'retail', 'emea', 'mid_market', 'inbound', ?, ?, "
                "date '2025-11-01', null, true)",
                [account_id, account_id.replace("_", " ").title(), f"CSM {team}", team],
            )
        revenue, usage, modules = [], [], []
        for account_id, (mrrs, profiles) in PATHS.items():
            for month, mrr, profile in zip(FLOWS_MONTHS, mrrs, profiles):
                if mrr is not None:
                    revenue.append((account_id, month, "core_suite", "professional", float(mrr), 0.0))
                if profile == "-":
                    continue
                purchased, activated, logged_in, bi, records, per_module = _PROFILES[profile]
                for week in _mondays(month):
                    usage.append((account_id, week, purchased, activated, logged_in, bi, records))
                    modules.extend((account_id, week, m, n) for m, n in per_module.items())
        conn.executemany("insert into raw_revenue_monthly values (?, ?, ?, ?, ?, ?)", revenue)
        conn.executemany("insert into raw_usage_weekly values (?, ?, ?, ?, ?, ?, ?)", usage)
        conn.executemany("insert into raw_module_usage_weekly values (?, ?, ?, ?)", modules)
        conn.executemany("insert into raw_renewals values (?, ?, ?, ?, ?, ?)", _RENEWALS)
        pipeline.build_models(conn)
