"""Hand-made revenue books for the Negative churn page, with their answers worked out.

``build_movement_book(target)``: eight accounts over six months (2026-01 .. 2026-06),
one per movement type and edge case. MRR per month (Jan Feb Mar Apr May Jun); all
products are subscription MRR except m3's usage:

====  ==========  ======  ============================================  =========================
id    segment     target  revenue                                       movements
====  ==========  ======  ============================================  =========================
m1    enterprise  yes     core_suite 1000 1000 1200 1200 1200 1200      Jan new; Mar upsell +200
m2    mid_market  yes     core_suite 500 x6; analytics 100 from Apr     Jan new; Apr cross-sell +100
m3    smb         yes     e_invoicing 50 base + usage 100 100 160 130   Jan new; Mar usage +60;
                          130 130                                       Apr contraction -30
m4    mid_market  yes     core_suite 400 x6; integrations 100 Jan-Apr   Jan new; May contraction -100
                                                                        (product dropped, not churn)
m5    smb         yes     core_suite 300 300 - - 250 250                Jan new; Mar churn -300;
                                                                        May reactivation +250
m6    smb         yes     core_suite - - - 200 - -                      Apr new +200; May churn -200
                                                                        (same-month new and churn)
m7    enterprise  yes     core_suite - 2000 2000 2000 2000 1900         Feb new; Jun contraction -100
m8    smb         NO      core_suite 100 100 - - - -                    Jan new; Mar churn -100
====  ==========  ======  ============================================  =========================

The first month of the data counts as new for every account paying in it (so a period
starts at the data's second month at the earliest: cslib.views.revenue.period_bounds). Target
accounts only (the default), per month:

=====  =======  =====  =====  ======  =====  =====  ======  =====  =======
month  opening  new    react  upsell  cross  usage  contr   churn  closing
=====  =======  =====  =====  ======  =====  =====  ======  =====  =======
Jan    0        2450   0      0       0      0      0       0      2450
Feb    2450     2000   0      0       0      0      0       0      4450
Mar    4450     0      0      200     0      60     0       -300   4410
Apr    4410     200    0      0       100    0      -30     0      4680
May    4680     0      250    0       0      0      -100    -200   4630
Jun    4630     0      0      0       0      0      -100    0      4530
=====  =======  =====  =====  ======  =====  =====  ======  =====  =======

m1 has weekly usage (the tiny book's healthy profile) from 2026-05-04, so its June
tier is healthy; the others have no usage rows (unscored).

``build_t12m_book(target)``: four accounts over 14 months (2025-01 .. 2026-02), for the
trailing-12-month rates (core_suite subscription MRR):

t1: 100 Jan-May 2025, 150 Jun 2025 - Jan 2026 (upsell), 120 Feb 2026 (contraction)
t2: 200 Jan-Mar 2025, nothing Apr-May (churn), 180 from Jun 2025 (reactivation)
t3: 300, except 250 in Mar 2025 (a dip: contraction -50, then expansion +50)
t4: 500 May-Jul 2025 (new inside the window), 600 from Aug 2025
"""

from __future__ import annotations

import datetime as dt
import os

import duckdb

from cslib.store import pipeline
from cslib.store.db import replace_atomically
from tests_support.book_cache import cached

MOVEMENT_MONTHS = ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06")
T12M_MONTHS = tuple(f"2025-{m:02d}" for m in range(1, 13)) + ("2026-01", "2026-02")

_ACCOUNTS = [
    # account_id, name, industry, region, segment, source_channel, csm, csm_team, signed_on, stage, is_target
    ("m1", "Acme Works", "manufacturing", "emea", "enterprise", "outbound", "Ana Lima", "Enterprise", "2025-12-15", "onboarding", True),
    ("m2", "Birch Retail", "retail", "north_america", "mid_market", "partner", "Ben Okafor", "Growth", "2025-12-20", "onboarding", True),
    ("m3", "Cedar Foods", "retail", "emea", "smb", "inbound", "Ben Okafor", "Growth", "2025-12-22", "onboarding", True),
    ("m4", "Dune Labs", "software", "apac", "mid_market", "partner", "Chen Wei", "Growth", "2025-12-28", "onboarding", True),
    ("m5", "Elm Logistics", "software", "emea", "smb", "inbound", "Chen Wei", "Growth", "2025-12-10", "onboarding", True),
    ("m6", "Fir Studio", "software", "emea", "smb", "inbound", "Chen Wei", "Growth", "2026-04-02", "onboarding", True),
    ("m7", "Granite Bank", "finance", "north_america", "enterprise", "outbound", "Ana Lima", "Enterprise", "2026-01-20", "onboarding", True),
    ("m8", "Hazel Shop", "retail", "apac", "smb", "inbound", "Ben Okafor", "Growth", "2025-12-01", "onboarding", False),
]
_SUBSCRIPTION = {  # (account, product) -> MRR per month Jan..Jun (None = no row)
    ("m1", "core_suite"): (1000, 1000, 1200, 1200, 1200, 1200),
    ("m2", "core_suite"): (500,) * 6,
    ("m2", "analytics"): (None, None, None, 100, 100, 100),
    ("m4", "core_suite"): (400,) * 6,
    ("m4", "integrations"): (100, 100, 100, 100, None, None),
    ("m5", "core_suite"): (300, 300, None, None, 250, 250),
    ("m6", "core_suite"): (None, None, None, 200, None, None),
    ("m7", "core_suite"): (None, 2000, 2000, 2000, 2000, 1900),
    ("m8", "core_suite"): (100, 100, None, None, None, None),
}
_M3_USAGE = (100, 100, 160, 130, 130, 130)  # e_invoicing usage MRR on a 50 base

#: hand-computed movements of the target accounts (the docstring's table)
MOVEMENT_EXPECTED = {
    # month: (opening, new, reactivation, upsell, cross_sell, usage, contraction, churn, closing)
    "2026-01": (0, 2450, 0, 0, 0, 0, 0, 0, 2450),
    "2026-02": (2450, 2000, 0, 0, 0, 0, 0, 0, 4450),
    "2026-03": (4450, 0, 0, 200, 0, 60, 0, -300, 4410),
    "2026-04": (4410, 200, 0, 0, 100, 0, -30, 0, 4680),
    "2026-05": (4680, 0, 250, 0, 0, 0, -100, -200, 4630),
    "2026-06": (4630, 0, 0, 0, 0, 0, -100, 0, 4530),
}

_T12M_MRR = {  # account -> MRR per month 2025-01 .. 2026-02 (None = no row)
    "t1": (100,) * 5 + (150,) * 8 + (120,),
    "t2": (200,) * 3 + (None, None) + (180,) * 9,
    "t3": (300, 300, 250) + (300,) * 11,
    "t4": (None,) * 4 + (500,) * 3 + (600,) * 7,
}

# the tiny book's healthy usage profile (96.0 points a week)
_HEALTHY_USAGE = (100, 90, 85, 30, 900)
_HEALTHY_MODULES = ("contracts", "orders", "payments", "invoices", "reports", "approvals", "inventory")


def _movement_rows() -> tuple[list[tuple], list[tuple], list[tuple]]:
    revenue = []
    for (account_id, product), mrrs in _SUBSCRIPTION.items():
        for month, mrr in zip(MOVEMENT_MONTHS, mrrs):
            if mrr is not None:
                revenue.append((account_id, month, product, "standard", float(mrr), 0.0))
    for month, usage in zip(MOVEMENT_MONTHS, _M3_USAGE):
        revenue.append(("m3", month, "e_invoicing", "usage", 50.0, float(usage)))
    usage_rows, module_rows = [], []
    week = dt.date(2026, 5, 4)  # a Monday
    while week <= dt.date(2026, 6, 29):
        usage_rows.append(("m1", week, *_HEALTHY_USAGE))
        module_rows.extend(("m1", week, module, 100) for module in _HEALTHY_MODULES)
        week += dt.timedelta(days=7)
    return revenue, usage_rows, module_rows


def _write(conn: duckdb.DuckDBPyConnection, accounts, revenue, usage=(), modules=()) -> None:
    pipeline.create_raw_tables(conn)
    conn.executemany("insert into raw_accounts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", accounts)
    conn.executemany("insert into raw_revenue_monthly values (?, ?, ?, ?, ?, ?)", revenue)
    if usage:
        conn.executemany("insert into raw_usage_weekly values (?, ?, ?, ?, ?, ?, ?)", list(usage))
        conn.executemany("insert into raw_module_usage_weekly values (?, ?, ?, ?)", list(modules))
    pipeline.build_models(conn)


def _build(target, writer) -> duckdb.DuckDBPyConnection | None:
    """``target`` None: an in-memory connection (returned); else a database file path."""
    if target is None:
        conn = duckdb.connect()
        writer(conn)
        return conn
    with replace_atomically(target) as conn:
        writer(conn)
    return None


@cached
def build_movement_book(target: str | os.PathLike | None = None):
    """The movement book (module docstring) in memory (returned) or at ``target``."""
    revenue, usage, modules = _movement_rows()
    return _build(target, lambda conn: _write(conn, _ACCOUNTS, revenue, usage, modules))


@cached
def build_t12m_book(target: str | os.PathLike | None = None):
    """The trailing-12-month book (module docstring) in memory (returned) or at ``target``."""
    accounts = [
        (a, f"Account {a}", "software", "emea", "smb", "inbound", "Ana Lima", "Growth", "2024-12-01", "onboarding", True)
        for a in _T12M_MRR
    ]
    revenue = [
        (a, month, "core_suite", "standard", float(mrr), 0.0)
        for a, mrrs in _T12M_MRR.items()
        for month, mrr in zip(T12M_MONTHS, mrrs)
        if mrr is not None
    ]
    return _build(target, lambda conn: _write(conn, accounts, revenue))
