"""A tiny book for the Renewal model page: two CSMs, hand-computed incentive payouts.

``build_model_book(path)`` writes, through the real pipeline, two months (2026-02,
2026-03) and weekly usage from 2026-01-05 to 2026-03-30 that scores 96.0 (healthy) every
scored week (the usage of account a1 in tests_support/book.py).

=====  ======  ======  ==================  ==========================================
id     CSM     team    MRR Feb / Mar       renewal
=====  ======  ======  ==================  ==========================================
c1     Cara    East    94,339.62 / 100,000  none
c2     Dev     East    1,000 / 1,000        due 2026-03-10, deferred (no order yet)
c3     Dev     East    500 / 500            due 2026-02-10, renewed 2026-02-05
=====  ======  ======  ==================  ==========================================

Cara (the method section 7 worked example): book ARR 1.2M in March, all healthy;
MoM = 100,000 / 94,339.62 = 1.06000004 -> coefficient 1.1; rate 1%:
100,000 x 1% x 1.1 = 1,100.00.
Dev: c2 is overdue at the end of March (deferred counts as unhealthy), healthy in
February. March healthy MRR = 500 (c3), February 1,500: MoM 1/3 -> 0.8 -> 500 x 1% x
0.8 = 4.00. With deferred_is_unhealthy = false: 1,500 / 1,500 -> 1.0 -> 15.00.
"""

from __future__ import annotations

import datetime as dt
import os

from cslib.store import pipeline
from cslib.store.db import replace_atomically
from tests_support.book_cache import cached

MODEL_BOOK_MONTHS = ("2026-02", "2026-03")
_ACCOUNTS = [
    ("c1", "Cobalt Inc", "software", "emea", "enterprise", "outbound", "Cara", "East", "2025-03-01", "established", True),
    ("c2", "Delta Ltd", "retail", "emea", "smb", "inbound", "Dev", "East", "2025-03-10", "established", True),
    ("c3", "Echo Co", "retail", "emea", "smb", "inbound", "Dev", "East", "2025-02-10", "established", True),
]
_MRR = {"c1": (94_339.62, 100_000.0), "c2": (1_000.0, 1_000.0), "c3": (500.0, 500.0)}
_RENEWALS = [
    ("c2", "2026-03-10", 12_000.0, None, None, "deferred"),
    ("c3", "2026-02-10", 6_000.0, "2026-02-05", 6_000.0, "renewed"),
]
_MODULES = ["contracts", "orders", "payments", "invoices", "reports", "approvals", "inventory"]
_FIRST_WEEK = dt.date(2026, 1, 5)
_LAST_WEEK = dt.date(2026, 3, 30)


@cached
def build_model_book(db_path: str | os.PathLike) -> None:
    """Write the book described in the module docstring to ``db_path``."""
    with replace_atomically(db_path) as conn:
        pipeline.create_raw_tables(conn)
        conn.executemany("insert into raw_accounts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _ACCOUNTS)
        conn.executemany(
            "insert into raw_revenue_monthly values (?, ?, ?, ?, ?, ?)",
            [(a, m, "core_suite", "professional", v, 0.0) for a, vs in _MRR.items() for m, v in zip(MODEL_BOOK_MONTHS, vs)],
        )
        usage, modules = [], []
        week = _FIRST_WEEK
        while week <= _LAST_WEEK:
            for account_id in _MRR:
                usage.append((account_id, week, 100, 90, 85, 30, 900))
                modules.extend((account_id, week, m, 100) for m in _MODULES)
            week += dt.timedelta(days=7)
        conn.executemany("insert into raw_usage_weekly values (?, ?, ?, ?, ?, ?, ?)", usage)
        conn.executemany("insert into raw_module_usage_weekly values (?, ?, ?, ?)", modules)
        conn.executemany("insert into raw_renewals values (?, ?, ?, ?, ?, ?)", _RENEWALS)
        pipeline.build_models(conn)


#: a demo big enough for the renewal model (about 350 decided renewals), built in ~6 s
MODEL_DEMO = {"n_accounts": 400, "n_months": 24, "seed": 7, "end_month": "2026-10"}


@cached
def build_model_demo(db_path: str | os.PathLike) -> None:
    """The generator's demo with MODEL_DEMO settings."""
    from sample_data.generator import write_demo

    write_demo(db_path, **MODEL_DEMO)
