"""A hand-made book for the point-in-time overdue rule (issue 13), through the real pipeline.

``build_overdue_book(path)`` writes four accounts over five months (2026-07 .. 2026-11).
Every paying month uses the flows book's healthy usage profile H (score 96.0), so every
account's score tier is healthy whenever it pays; only the overdue rule makes one unhealthy.
Default value tiers (ARR >= 60,000 high, >= 15,000 mid, else low) and incentive plan
(1% of healthy MRR x the MoM coefficient; MoM 1.0 -> 1.0; no history -> 1.0).

=======  ====  =========================  ==========================================  =================
account  CSM   MRR Jul/Aug/Sep/Oct/Nov     renewal                                     overdue at the end of
=======  ====  =========================  ==========================================  =================
o_churn  Olga  1000/1000/1000/-/-          due 2026-09-03, no order, outcome churned   Sep (then churned)
o_late   Lee   2000 x 5                    due 2026-08-20, renewed late on 2026-10-05  Aug, Sep
o_ok     Kim   3000 x 5                    due 2026-09-10, renewed early on 2026-09-08  never
o_edge   Kim   1500 x 5                    due 2026-09-10, renewed on 2026-09-30        never (ordered by
                                                                                        the month end)
=======  ====  =========================  ==========================================  =================

o_churn is the issue's case: at the September month end its renewal was due with no order
and it still paid; that it churned in October (and not renewed late) was not known then.

September: ARR 90,000 (12,000 + 24,000 + 36,000 + 18,000); healthy ARR 54,000 (o_ok +
o_edge; o_churn and o_late are overdue) -> health rate 60%; August healthy 66,000 (o_late
overdue) -> MoM 54,000 / 66,000. October: ARR 78,000, all healthy (o_late's order came on
10-05). Nine-box, September: low|unhealthy o_churn 12,000; mid|unhealthy o_late 24,000;
mid|healthy o_ok + o_edge 54,000. Commissions, September: Olga 0 (her only account is
overdue; it would be 10.00 with hindsight), Lee 0, Kim 1% x 4,500 x 1.0 = 45.00.
"""

from __future__ import annotations

import os

from cslib.store import pipeline
from cslib.store.db import replace_atomically
from tests_support.flows_book import _PROFILES, _mondays
from tests_support.book_cache import cached

OVERDUE_MONTHS = ("2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
#: account -> (CSM, MRR per month, None = no revenue)
ACCOUNTS: dict[str, tuple[str, tuple]] = {
    "o_churn": ("Olga", (1000, 1000, 1000, None, None)),
    "o_late": ("Lee", (2000,) * 5),
    "o_ok": ("Kim", (3000,) * 5),
    "o_edge": ("Kim", (1500,) * 5),
}
RENEWALS = [
    # account_id, due_on, due_arr, renewed_on, renewed_arr, outcome
    ("o_churn", "2026-09-03", 12_000.0, None, None, "churned"),
    ("o_late", "2026-08-20", 24_000.0, "2026-10-05", 24_000.0, "renewed"),
    ("o_ok", "2026-09-10", 36_000.0, "2026-09-08", 36_000.0, "renewed"),
    ("o_edge", "2026-09-10", 18_000.0, "2026-09-30", 18_000.0, "renewed"),
]
#: account -> months overdue at the month end (the hand-computed answer)
EXPECTED_OVERDUE = {"o_churn": ["2026-09"], "o_late": ["2026-08", "2026-09"]}


@cached
def build_overdue_book(db_path: str | os.PathLike) -> None:
    """Write the book of the module docstring to ``db_path`` (raw tables -> models)."""
    with replace_atomically(db_path) as conn:
        pipeline.create_raw_tables(conn)
        for account_id, (csm, _mrrs) in ACCOUNTS.items():
            conn.execute(
                "insert into raw_accounts values (?, ?, 'retail', 'emea', 'mid_market', 'inbound', ?, 'North', "
                "date '2026-06-01', null, true)",
                [account_id, account_id.replace("_", " ").title(), csm],
            )
        revenue, usage, modules = [], [], []
        purchased, activated, logged_in, bi, records, per_module = _PROFILES["H"]
        for account_id, (_csm, mrrs) in ACCOUNTS.items():
            for month, mrr in zip(OVERDUE_MONTHS, mrrs):
                if mrr is None:
                    continue
                revenue.append((account_id, month, "core_suite", "professional", float(mrr), 0.0))
                for week in _mondays(month):
                    usage.append((account_id, week, purchased, activated, logged_in, bi, records))
                    modules.extend((account_id, week, m, n) for m, n in per_module.items())
        conn.executemany("insert into raw_revenue_monthly values (?, ?, ?, ?, ?, ?)", revenue)
        conn.executemany("insert into raw_usage_weekly values (?, ?, ?, ?, ?, ?, ?)", usage)
        conn.executemany("insert into raw_module_usage_weekly values (?, ?, ?, ?)", modules)
        conn.executemany("insert into raw_renewals values (?, ?, ?, ?, ?, ?)", RENEWALS)
        pipeline.build_models(conn)
