"""A hand-made book for the nine-box grid: every cell count, ARR and movement known.

``build_ninebox_book(path, with_alerts=True)`` writes eleven accounts over four months
(2025-12 .. 2026-03) through the real pipeline (default scorecard and value tiers:
ARR >= 60,000 high, >= 15,000 mid, else low). Weekly usage runs from 2025-12-01 to
2026-03-30 with four fixed profiles, so every window of the default scorecard
(4 weeks, linear weights 4/3/2/1, min 2 weeks) scores exactly the profile's points:

=======  ==================================================  ======  ================
profile  modules + instance + activation + login + bi        score   weakest (gap)
=======  ==================================================  ======  ================
H        26 + 15 + 20 + 20 + 15                              96.0    modules (4)
L        26 + 15 + 20 +  0 + 15 (10 of 90 seats logged in)   76.0    login_rate (20)
A        10 +  5 + 10 + 10 +  0                              35.0    modules (20)
U         1 +  0 +  0 +  0 +  0                               1.0    modules (29)
=======  ==================================================  ======  ================

n2 switches from H to A in the week of 2026-03-16, so its March month-end week
(2026-03-30) scores (9 * 35 + 1 * 96) / 10 = 41.1 (at risk) and its last four weekly
scores are 96.0, 71.6 (= (4*35 + 6*96)/10), 53.3, 41.1: change -54.9.

Accounts (MRR per month Dec / Jan / Feb / Mar; ARR = 12 x MRR):

====  ===========  ======  ======================  =======  ======================  =====================
id    team         target  MRR                     profile  Feb cell                Mar cell
====  ===========  ======  ======================  =======  ======================  =====================
n1    Enterprise   yes     10000 x 4               H        high|healthy 120,000    high|healthy 120,000
n2    Enterprise   yes     -/6000/6000/6000        H -> A   high|healthy 72,000     high|at_risk 72,000
n3    Growth       yes     -/2000/2000/2000        U        mid|unhealthy 24,000    mid|unhealthy 24,000
n4    Growth       yes     -/4000/4000/5000        L        mid|healthy 48,000      high|healthy 60,000
n5    Growth       yes     -/1000/1000/1000        A        low|at_risk 12,000      low|at_risk 12,000
n6    Growth       yes     -/500/500/-             U        low|unhealthy 6,000     churned
n7    Enterprise   yes     -/-/-/1500              H *      (not yet a customer)    mid|healthy 18,000 (new)
n8    Growth       yes     -/3000/3000/3000        none     unscored 36,000         unscored 36,000
n9    Enterprise   yes     -/2000/0/2000           A        (inactive)              mid|at_risk 24,000 (reactivated)
n10   Growth       NO      -/8000/8000/8000        H        high|healthy 96,000     high|healthy 96,000
n11   Enterprise   yes     -/800/800/800           U        low|unhealthy 9,600     low|unhealthy 9,600
====  ===========  ======  ======================  =======  ======================  =====================
(* n7 has usage from 2026-03-02 only.) n11's name is HTML/Markdown on purpose.
n1 is the only account with revenue in 2025-12, so in March it is in its fourth month
(lifecycle stage 'adoption'); every other account is 'onboarding' in every month.

Grid (target accounts, the default), see NINEBOX_EXPECTED below: March 9 active
accounts, ARR 375,600 = nine cells 339,600 + unscored 36,000; February 8 accounts,
ARR 327,600 = 291,600 + 36,000.

Renewals: n1 due 2026-02-10 renewed and 2027-02-10 pending (120,000); n2 due 2026-04-15
pending (72,000); n3 due 2026-03-25 renewed (24,000); n5 due 2026-04-20 pending
(12,000; never overdue: an overdue account would sit in the unhealthy row, see
tests/sql/test_overdue_book.py). Alerts (table health_alerts, when built with it):
al1 n2 2026-03-16, al2 n2 2026-03-23, al3 n2 2026-02-16, al4 n1 2026-03-30,
al5 n4 2026-03-02 (just outside March's window: weeks starting after 2026-03-03).
"""

from __future__ import annotations

import datetime as dt
import os

from cslib.store import pipeline
from cslib.store.db import replace_atomically
from tests_support.book_cache import cached

NINEBOX_MONTHS = ("2025-12", "2026-01", "2026-02", "2026-03")
SCRIPT_NAME = "<script>alert('x')</script> **Bold** Ltd"

_ALL_MODULES = ["contracts", "orders", "payments", "invoices", "reports", "approvals", "inventory"]
#: profile -> (purchased, activated, logged_in, bi, records, {module: records})
PROFILES = {
    "H": (100, 90, 85, 30, 900, dict.fromkeys(_ALL_MODULES, 100)),
    "L": (100, 90, 10, 30, 900, dict.fromkeys(_ALL_MODULES, 100)),
    "A": (50, 30, 15, 0, 60, {"contracts": 30, "orders": 30}),
    "U": (20, 4, 0, 0, 2, {"customers": 2}),
}
_ACCOUNTS = [
    # account_id, name, industry, region, segment, source_channel, csm, csm_team, signed_on, stage, is_target
    ("n1", "Acme Works", "manufacturing", "emea", "enterprise", "outbound", "Ana Lima", "Enterprise", "2025-11-20", "adoption", True),
    ("n2", "Birch Retail", "retail", "emea", "enterprise", "partner", "Ana Lima", "Enterprise", "2025-12-20", "onboarding", True),
    ("n3", "Cedar Foods", "retail", "apac", "mid_market", "inbound", "Ben Okafor", "Growth", "2025-12-22", "onboarding", True),
    ("n4", "Dune Labs", "software", "apac", "mid_market", "inbound", "Ben Okafor", "Growth", "2025-12-28", "onboarding", True),
    ("n5", "Elm Logistics", "logistics", "north_america", "smb", "partner", "Chen Wei", "Growth", "2025-12-28", "onboarding", True),
    ("n6", "Fir Systems", "software", "north_america", "smb", "inbound", "Chen Wei", "Growth", "2025-12-29", "onboarding", True),
    ("n7", "Gale Media", "media", "emea", "mid_market", "outbound", "Ana Lima", "Enterprise", "2026-02-25", "onboarding", True),
    ("n8", "Hazel Health", "healthcare", "emea", "mid_market", "partner", "Ben Okafor", "Growth", "2025-12-30", "onboarding", True),
    ("n9", "Ivy Travel", "travel", "apac", "mid_market", "inbound", "Ana Lima", "Enterprise", "2025-12-30", "onboarding", True),
    ("n10", "Juniper Ltd", "software", "emea", "enterprise", "outbound", "Chen Wei", "Growth", "2025-12-30", "onboarding", False),
    ("n11", SCRIPT_NAME, "retail", "emea", "smb", "inbound", "Ana Lima", "Enterprise", "2025-12-30", "onboarding", True),
]
_MRR = {  # account -> MRR for (Dec, Jan, Feb, Mar); None = no revenue row
    "n1": (10000, 10000, 10000, 10000),
    "n2": (None, 6000, 6000, 6000),
    "n3": (None, 2000, 2000, 2000),
    "n4": (None, 4000, 4000, 5000),
    "n5": (None, 1000, 1000, 1000),
    "n6": (None, 500, 500, None),
    "n7": (None, None, None, 1500),
    "n8": (None, 3000, 3000, 3000),
    "n9": (None, 2000, None, 2000),
    "n10": (None, 8000, 8000, 8000),
    "n11": (None, 800, 800, 800),
}
_FIRST_WEEK = dt.date(2025, 12, 1)  # a Monday
_LAST_WEEK = dt.date(2026, 3, 30)


def _profile(account_id: str, week: dt.date) -> str | None:
    """The usage profile of an account in a week (None = no usage row)."""
    if account_id == "n2":
        return "H" if week < dt.date(2026, 3, 16) else "A"
    if account_id == "n6":
        return "U" if week < dt.date(2026, 3, 2) else None
    if account_id == "n7":
        return "H" if week >= dt.date(2026, 3, 2) else None
    return {"n1": "H", "n3": "U", "n4": "L", "n5": "A", "n9": "A", "n10": "H", "n11": "U"}.get(account_id)


_RENEWALS = [
    # account_id, due_on, due_arr, renewed_on, renewed_arr, outcome
    ("n1", "2026-02-10", 120_000.0, "2026-02-05", 120_000.0, "renewed"),
    ("n1", "2027-02-10", 120_000.0, None, None, "pending"),
    ("n2", "2026-04-15", 72_000.0, None, None, "pending"),
    ("n3", "2026-03-25", 24_000.0, "2026-03-20", 24_000.0, "renewed"),
    ("n5", "2026-04-20", 12_000.0, None, None, "pending"),
]
ALERTS = [
    # alert_id, account_id, week_start, severity
    ("al1", "n2", "2026-03-16", "high"),
    ("al2", "n2", "2026-03-23", "medium"),
    ("al3", "n2", "2026-02-16", "low"),
    ("al4", "n1", "2026-03-30", "low"),
    ("al5", "n4", "2026-03-02", "medium"),
]

#: hand-computed grids (target accounts only): cell -> (accounts, arr)
MARCH_GRID = {
    "high|healthy": (2, 180_000.0),  # n1 120,000 + n4 60,000
    "mid|healthy": (1, 18_000.0),  # n7
    "low|healthy": (0, 0.0),
    "high|at_risk": (1, 72_000.0),  # n2
    "mid|at_risk": (1, 24_000.0),  # n9
    "low|at_risk": (1, 12_000.0),  # n5
    "high|unhealthy": (0, 0.0),
    "mid|unhealthy": (1, 24_000.0),  # n3
    "low|unhealthy": (1, 9_600.0),  # n11
}
FEBRUARY_GRID = {
    "high|healthy": (2, 192_000.0),  # n1 + n2
    "mid|healthy": (1, 48_000.0),  # n4
    "low|healthy": (0, 0.0),
    "high|at_risk": (0, 0.0),
    "mid|at_risk": (0, 0.0),  # n9 inactive
    "low|at_risk": (1, 12_000.0),  # n5
    "high|unhealthy": (0, 0.0),
    "mid|unhealthy": (1, 24_000.0),  # n3
    "low|unhealthy": (2, 15_600.0),  # n6 6,000 + n11 9,600
}
UNSCORED = {"2026-03": (1, 36_000.0), "2026-02": (1, 36_000.0)}  # n8
TOTALS = {"2026-03": (9, 375_600.0), "2026-02": (8, 327_600.0)}


def _weeks() -> list[dt.date]:
    out, week = [], _FIRST_WEEK
    while week <= _LAST_WEEK:
        out.append(week)
        week += dt.timedelta(days=7)
    return out


@cached
def build_ninebox_book(db_path: str | os.PathLike, with_alerts: bool = True) -> None:
    """Write the book described in the module docstring to ``db_path`` (atomically).

    ``with_alerts=False`` leaves the database without a ``health_alerts`` table.
    """
    with replace_atomically(db_path) as conn:
        pipeline.create_raw_tables(conn)
        conn.executemany("insert into raw_accounts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _ACCOUNTS)
        revenue = []
        for account_id, mrrs in _MRR.items():
            for month, mrr in zip(NINEBOX_MONTHS, mrrs):
                if mrr is not None:
                    revenue.append((account_id, month, "core_suite", "professional", float(mrr), 0.0))
        conn.executemany("insert into raw_revenue_monthly values (?, ?, ?, ?, ?, ?)", revenue)
        usage, modules = [], []
        for account_id, *_ in _ACCOUNTS:
            for week in _weeks():
                name = _profile(account_id, week)
                if name is None:
                    continue
                purchased, activated, logged_in, bi, records, per_module = PROFILES[name]
                usage.append((account_id, week, purchased, activated, logged_in, bi, records))
                modules.extend((account_id, week, m, n) for m, n in per_module.items())
        conn.executemany("insert into raw_usage_weekly values (?, ?, ?, ?, ?, ?, ?)", usage)
        conn.executemany("insert into raw_module_usage_weekly values (?, ?, ?, ?)", modules)
        conn.executemany("insert into raw_renewals values (?, ?, ?, ?, ?, ?)", _RENEWALS)
        pipeline.build_models(conn)
        # the alerts model's rows are replaced by the hand-made ALERTS (its columns
        # alert_id, account_id, week_start are all the nine-box reads); without alerts
        # the table is dropped, as in a database built before the alerts model existed
        conn.execute("drop table if exists health_alerts")
        if with_alerts:
            conn.execute(
                "create or replace table health_alerts "
                "(alert_id varchar, account_id varchar, week_start date, severity varchar)"
            )
            conn.executemany("insert into health_alerts values (?, ?, ?, ?)", ALERTS)
