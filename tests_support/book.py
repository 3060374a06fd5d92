"""Test books: a tiny hand-made customer book with known answers, and a small demo.

``build_tiny_book(path)`` writes five accounts over three months (2026-01 .. 2026-03)
through the real pipeline (raw tables -> default scorecard and value tiers -> models).
Weekly usage is the same every week from 2025-12-29 to 2026-03-30, so every window of
the default scorecard (4 weeks, linear weights, min 2 weeks) scores exactly the weekly
points below.

Accounts (all on product core_suite unless noted; MRR per month Jan / Feb / Mar):

=====  ==========  ======  ==================  ================  ===================
id     segment     target  MRR                 weekly points     tier
=====  ==========  ======  ==================  ================  ===================
a1     enterprise  yes     9000/9000/10000 *   26+15+20+20+15    healthy   (96.0)
a2     mid_market  yes     5000/5000/4000      10+5+10+10+0      at_risk   (35.0)
a3     smb         yes     1000/1000/1000      1+0+0+0+0         unhealthy (1.0)
a4     smb         NO      2000/2000/2000      as a1             healthy   (96.0)
a5     mid_market  yes     -/2000/3000         no usage rows     unscored
=====  ==========  ======  ==================  ================  ===================
(* a1 in March: core_suite 9000 + analytics 1000, a cross-sell.)

Points (default scorecard): modules = 5 per core module, 2 per reports/approvals/
inventory, 1 per customers/contacts; a1/a4 use the four core modules + reports,
approvals, inventory = 26. a1/a4 seats: purchased 100, activated 90 (0.90 -> 20),
logged in 85 (0.94 -> 20), BI 30 (0.33 -> 15), records 900 (10 per seat -> 15).
a2: contracts + orders = 10; 50 purchased, 30 activated (0.6 -> 10), 15 logged in
(0.5 -> 10), BI 0 (0), 60 records (2 per seat -> 5). a3: customers only = 1; 20
purchased, 4 activated (0.2 -> 0), 0 logged in, 0 BI, 2 records (0.5 -> 0).

Renewals, all due in March 2026 (kept = min(renewed, due) for renewed rows):
a1 due 108,000 renewed 120,000 (kept 108,000); a2 due 60,000 renewed 48,000 (kept
48,000); a3 due 12,000 deferred; a4 (non-target) due 24,000 renewed 24,000.

Expected Overview numbers, target accounts only (the default):

=========================  ===================================  ===========
KPI                        computation                          shown
=========================  ===================================  ===========
ARR Mar                    (10000+4000+1000+3000) * 12          $216K
ARR Feb                    (9000+5000+1000+2000) * 12           $204K
ARR Jan                    (9000+5000+1000) * 12                $180K
health rate Mar            120000 / 216000 = 0.5556             55.6%
health rate Feb            108000 / 204000 = 0.5294             52.9%
health-rate MoM Mar        120000 / 108000 = 1.1111             111.1%
renewal rate (ARR) Mar     (108000+48000) / (108000+60000+12000)  86.7%
renewal rate (count) Mar   2 / 3                                66.7%
NRR Mar                    (17000 + 2000 - 1000) / 17000        105.9%
GRR Mar                    (17000 - 1000) / 17000               94.1%
active accounts Mar        a1, a2, a3, a5                       4
=========================  ===================================  ===========

Slices in March: segment enterprise -> ARR $120K, health 100.0%; segment smb ->
ARR $12.0K, health 0.0%; mid_market -> ARR $84.0K; with non-target accounts ->
ARR $240K, health rate 144000 / 240000 = 60.0%, renewal (ARR) 180000/204000 = 88.2%,
renewal (count) 3/4 = 75.0%.
"""

from __future__ import annotations

import datetime as dt
import os

from cslib.store import pipeline
from cslib.store.db import replace_atomically
from tests_support.book_cache import cached

TINY_MONTHS = ("2026-01", "2026-02", "2026-03")
#: the hand-computed answers (fractions for rates, currency per year for ARR)
TINY_EXPECTED = {
    "2026-03": {
        "arr": 216_000.0,
        "healthy_arr": 120_000.0,
        "health_rate": 120_000 / 216_000,
        "health_rate_mom": 120_000 / 108_000,
        "renewal_rate_arr": 156_000 / 180_000,
        "renewal_rate_count": 2 / 3,
        "nrr": 18_000 / 17_000,
        "grr": 16_000 / 17_000,
        "active_accounts": 4,
    },
    "2026-02": {"arr": 204_000.0, "health_rate": 108_000 / 204_000},
    "2026-01": {"arr": 180_000.0, "health_rate": 108_000 / 180_000},
}
TINY_TIERS = {"a1": "healthy", "a2": "at_risk", "a3": "unhealthy", "a4": "healthy", "a5": "unscored"}

_ACCOUNTS = [
    # account_id, name, industry, region, segment, source_channel, csm, csm_team, signed_on, stage, is_target
    ("a1", "Acme Works", "manufacturing", "emea", "enterprise", "outbound", "Ana Lima", "Enterprise", "2025-12-15", "onboarding", True),
    ("a2", "Birch Retail", "retail", "north_america", "mid_market", "partner", "Ben Okafor", "Growth", "2025-12-20", "onboarding", True),
    ("a3", "Cedar Foods", "retail", "emea", "smb", "inbound", "Ben Okafor", "Growth", "2025-12-22", "onboarding", True),
    ("a4", "Dune Labs", "software", "apac", "smb", "inbound", "Chen Wei", "Growth", "2025-12-28", "onboarding", False),
    ("a5", "Elm Logistics", "manufacturing", "north_america", "mid_market", "partner", "Chen Wei", "Growth", "2026-01-25", "onboarding", True),
]
_MRR = {  # account -> (jan, feb, mar) core_suite subscription MRR
    "a1": (9000, 9000, 9000),
    "a2": (5000, 5000, 4000),
    "a3": (1000, 1000, 1000),
    "a4": (2000, 2000, 2000),
    "a5": (None, 2000, 3000),
}
_USAGE = {  # account -> (purchased, activated, logged_in, bi, records, {module: records})
    "a1": (100, 90, 85, 30, 900, dict.fromkeys(
        ["contracts", "orders", "payments", "invoices", "reports", "approvals", "inventory"], 100)),
    "a2": (50, 30, 15, 0, 60, {"contracts": 30, "orders": 30}),
    "a3": (20, 4, 0, 0, 2, {"customers": 2}),
}
_USAGE["a4"] = _USAGE["a1"]
_RENEWALS = [
    # account_id, due_on, due_arr, renewed_on, renewed_arr, outcome
    ("a1", "2026-03-15", 108_000.0, "2026-03-10", 120_000.0, "renewed"),
    ("a2", "2026-03-20", 60_000.0, "2026-03-25", 48_000.0, "renewed"),
    ("a3", "2026-03-31", 12_000.0, None, None, "deferred"),
    ("a4", "2026-03-05", 24_000.0, "2026-03-05", 24_000.0, "renewed"),
]
_FIRST_WEEK = dt.date(2025, 12, 29)  # a Monday
_LAST_WEEK = dt.date(2026, 3, 30)


def _weeks() -> list[dt.date]:
    out, week = [], _FIRST_WEEK
    while week <= _LAST_WEEK:
        out.append(week)
        week += dt.timedelta(days=7)
    return out


@cached
def build_tiny_book(db_path: str | os.PathLike) -> None:
    """Write the hand-made book described in the module docstring to ``db_path``."""
    with replace_atomically(db_path) as conn:
        pipeline.create_raw_tables(conn)
        conn.executemany("insert into raw_accounts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _ACCOUNTS)
        revenue = []
        for account_id, mrrs in _MRR.items():
            for month, mrr in zip(TINY_MONTHS, mrrs):
                if mrr is not None:
                    revenue.append((account_id, month, "core_suite", "professional", float(mrr), 0.0))
        revenue.append(("a1", "2026-03", "analytics", "standard", 1000.0, 0.0))
        conn.executemany("insert into raw_revenue_monthly values (?, ?, ?, ?, ?, ?)", revenue)
        usage, modules = [], []
        for account_id, (purchased, activated, logged_in, bi, records, per_module) in _USAGE.items():
            for week in _weeks():
                usage.append((account_id, week, purchased, activated, logged_in, bi, records))
                modules.extend((account_id, week, m, n) for m, n in per_module.items())
        conn.executemany("insert into raw_usage_weekly values (?, ?, ?, ?, ?, ?, ?)", usage)
        conn.executemany("insert into raw_module_usage_weekly values (?, ?, ?, ?)", modules)
        conn.executemany("insert into raw_renewals values (?, ?, ?, ?, ?, ?)", _RENEWALS)
        pipeline.build_models(conn)


#: size of the small demo used by app and browser tests
SMALL_DEMO = {"n_accounts": 150, "n_months": 15, "seed": 7, "end_month": "2026-10"}


@cached
def build_small_demo(db_path: str | os.PathLike) -> None:
    """The generator's demo, small: 150 accounts x 15 months ending 2026-10."""
    from sample_data.generator import write_demo

    write_demo(db_path, **SMALL_DEMO)
