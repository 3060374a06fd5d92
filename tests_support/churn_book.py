"""A hand-made book for the Churn reasons page, with every expected number worked out.

``build_churn_book(path)`` writes eight accounts over 2025-07 .. 2026-06 through the real
pipeline (raw tables -> default taxonomy, scorecard, value tiers -> models). Product
core_suite only; MRR is constant while active. Churn month = first month without revenue;
churned ARR = last MRR x 12.

=====  ==========  ======  =================  ======  =====================================  ===================
id     segment     target  revenue months     MRR     churn_reason logs (logged_on, code)    reason matched
=====  ==========  ======  =================  ======  =====================================  ===================
c1     enterprise  yes     2025-07..2026-03   10000   2026-04-10 'Competitor'                competitor (Apr)
c2     smb         yes     2026-01..2026-02    1000   2026-02-20 'onboarding_failed'         onboarding_failed (Mar)
c3     smb         yes     2025-07..2026-04    2000   2026-03-02 'price' (60 days before)    price (May)
c4     mid_market  yes     2025-07..2026-03    5000   2026-03-25 'price', 2026-04-15         out_of_business (Apr)
                                                      'Out-of-Business' (inside the month)
c5     mid_market  yes     2025-07..2026-04    3000   2026-03-01 'price' (61 days before)    no_reason_logged (May)
c6     smb         yes     2026-01..2026-03     500   2026-04-02 'Mystery Code'              unclassified (Apr)
c7     enterprise  yes     2025-07..2026-06    8000   (none; renewed 2026-03-10)             (no churn)
c8     smb         NO      2025-07..2026-03    1500   2026-04-05 'price'                     price (Apr, non-target)
=====  ==========  ======  =================  ======  =====================================  ===================

Expected for 2026-03 .. 2026-05, target accounts only (6 churns, ARR 258,000):

=================  ========  ===========  =============  ================
reason             churns    churned ARR  account share  ARR share
=================  ========  ===========  =============  ================
competitor         1         120,000      1/6            120/258
out_of_business    1          60,000      1/6             60/258
no_reason_logged   1          36,000      1/6             36/258
price              1          24,000      1/6             24/258
onboarding_failed  1          12,000      1/6             12/258
unclassified       1           6,000      1/6              6/258
=================  ========  ===========  =============  ================

Categories: competition 120,000; customer 60,000; no_reason_logged 36,000; price 24,000;
service 12,000; unclassified 6,000. Segments: enterprise 1 / 120,000; mid_market 2 /
96,000; smb 3 / 42,000. Avoidable (c1, c2, c3): 3 / 156,000; unavoidable (c4): 1 / 60,000;
unknown (c5, c6): 2 / 42,000. Lifecycle stage of the last paid month: c2 (tenure 2) and c6
(tenure 3) onboarding, the rest adoption (tenure 9 or 10). Contract stage: c1 renewed
on 2025-09-10 (due 2025-09-15) -> later_renewal; the others first_renewal.
With non-target accounts, April adds c8: price, 18,000.

Health (default scorecard): c1 uses the product like tests_support.book's a1 every week
from 2025-07-07 to 2026-03-30 (score 96.0, healthy): the 13 weeks before April
(2026-01-05 .. 2026-03-30) are all healthy. c2 uses it like a3 from 2026-01-05 to
2026-02-23 (8 weeks): the first week is unscored (1 week < min 2), 7 weeks unhealthy at
score 1.0. The other accounts have no usage (no scored weeks).

Risk flags (account c7 unless noted):
* risk_flag 'Bug-Instability' 2026-05-10 -> bug_instability, owner R&D lead, resolved by the
  touchpoint of 2026-06-05 (26 days).
* complaint event 2026-06-01 -> complaint, Support lead, resolved 2026-06-05 (4 days).
* nps 4 from role 'Dept_Head' 2026-06-10 -> nps_detractor, CS director, open; age on
  2026-06-30: 20 days. (nps 8 from key_user and nps 3 from user raise nothing.)
* c4 risk_flag 'late_go_live' 2026-02-10: no later touchpoint, no renewal: open.
Board for June: complaint (resolved), nps_detractor (open). May..June adds bug_instability.

Notes (c7): touchpoint 2026-06-05 'Quarterly review 100% done'; note 2026-06-08
'<script>alert("x")</script> & <b>bold</b>'.
"""

from __future__ import annotations

import datetime as dt
import os

from cslib.store import pipeline
from cslib.store.db import replace_atomically
from tests_support.book_cache import cached

CHURN_MONTHS = tuple(f"{y}-{m:02d}" for y, m in
                     [(2025, 7), (2025, 8), (2025, 9), (2025, 10), (2025, 11), (2025, 12),
                      (2026, 1), (2026, 2), (2026, 3), (2026, 4), (2026, 5), (2026, 6)])
SCRIPT_NOTE = '<script>alert("x")</script> & <b>bold</b>'
PERIOD = ("2026-03", "2026-05")
TOTAL_ARR = 258_000.0
EXPECTED_BY_REASON = {  # reason -> (churns, churned ARR)
    "competitor": (1, 120_000.0),
    "out_of_business": (1, 60_000.0),
    "no_reason_logged": (1, 36_000.0),
    "price": (1, 24_000.0),
    "onboarding_failed": (1, 12_000.0),
    "unclassified": (1, 6_000.0),
}
EXPECTED_BY_CATEGORY = {
    "competition": (1, 120_000.0),
    "customer": (1, 60_000.0),
    "no_reason_logged": (1, 36_000.0),
    "price": (1, 24_000.0),
    "service": (1, 12_000.0),
    "unclassified": (1, 6_000.0),
}
EXPECTED_BY_SEGMENT = {
    "enterprise": (1, 120_000.0),
    "mid_market": (2, 96_000.0),
    "smb": (3, 42_000.0),
}
EXPECTED_BY_AVOIDABLE = {
    "avoidable": (3, 156_000.0),
    "unavoidable": (1, 60_000.0),
    "unknown": (2, 42_000.0),
}

_ACCOUNTS = [
    # account_id, name, industry, region, segment, source_channel, csm, csm_team, signed_on, stage, is_target
    ("c1", "Apex Tools", "manufacturing", "emea", "enterprise", "outbound", "Ana Lima", "Enterprise", "2025-06-20", None, True),
    ("c2", "Brook Cafe", "retail", "emea", "smb", "inbound", "Ben Okafor", "Growth", "2025-12-20", None, True),
    ("c3", "Coral Shop", "retail", "apac", "smb", "partner", "Ben Okafor", "Growth", "2025-06-25", None, True),
    ("c4", "Delta Freight", "logistics", "north_america", "mid_market", "partner", "Chen Wei", "Growth", "2025-06-10", None, True),
    ("c5", "Echo Legal", "services", "emea", "mid_market", "events", "Chen Wei", "Growth", "2025-06-11", None, True),
    ("c6", "Fern Florist", "retail", "emea", "smb", "inbound", "Ben Okafor", "Growth", "2025-12-28", None, True),
    ("c7", "Gale Systems", "software", "apac", "enterprise", "referral", "Ana Lima", "Enterprise", "2025-06-01", None, True),
    ("c8", "Hive Studio", "software", "emea", "smb", "inbound", "Chen Wei", "Growth", "2025-06-15", None, False),
]
_REVENUE = {  # account -> (first month, last month, MRR)
    "c1": ("2025-07", "2026-03", 10_000.0),
    "c2": ("2026-01", "2026-02", 1_000.0),
    "c3": ("2025-07", "2026-04", 2_000.0),
    "c4": ("2025-07", "2026-03", 5_000.0),
    "c5": ("2025-07", "2026-04", 3_000.0),
    "c6": ("2026-01", "2026-03", 500.0),
    "c7": ("2025-07", "2026-06", 8_000.0),
    "c8": ("2025-07", "2026-03", 1_500.0),
}
_LOGS = [
    # log_id, account_id, logged_on, author, kind, reason_code, note
    ("L01", "c4", "2026-02-10", "Chen Wei", "risk_flag", "late_go_live", "Go-live slipped"),
    ("L02", "c2", "2026-02-20", "Ben Okafor", "churn_reason", "onboarding_failed", "Stalled before go-live"),
    ("L03", "c5", "2026-03-01", "Chen Wei", "churn_reason", "price", "Too early to count"),
    ("L04", "c3", "2026-03-02", "Ben Okafor", "churn_reason", "price", "Budget cut"),
    ("L05", "c4", "2026-03-25", "Chen Wei", "churn_reason", "price", "Asked for a discount"),
    ("L06", "c6", "2026-04-02", "Ben Okafor", "churn_reason", "Mystery Code", None),
    ("L07", "c8", "2026-04-05", "Chen Wei", "churn_reason", "price", None),
    ("L08", "c1", "2026-04-10", "Ana Lima", "churn_reason", "Competitor", "Moved to a rival"),
    ("L09", "c4", "2026-04-15", "Chen Wei", "churn_reason", "Out-of-Business", "Closed the business"),
    ("L10", "c7", "2026-05-10", "Ana Lima", "risk_flag", "Bug-Instability", "Errors on the invoice page"),
    ("L11", "c7", "2026-06-05", "Ana Lima", "touchpoint", None, "Quarterly review 100% done"),
    ("L12", "c7", "2026-06-08", "Ana Lima", "note", None, SCRIPT_NOTE),
]
_EVENTS = [
    # account_id, occurred_on, kind, score, role, note
    ("c7", "2026-06-01", "complaint", None, "admin", "Invoices page slow"),
    ("c7", "2026-06-02", "nps", 8.0, "key_user", None),
    ("c7", "2026-06-03", "nps", 3.0, "user", None),
    ("c7", "2026-06-10", "nps", 4.0, "Dept_Head", "Too many clicks"),
]
_RENEWALS = [
    ("c1", "2025-09-15", 120_000.0, "2025-09-10", 120_000.0, "renewed"),
    ("c7", "2026-03-15", 96_000.0, "2026-03-10", 96_000.0, "renewed"),
]
_HEALTHY_USAGE = (100, 90, 85, 30, 900, dict.fromkeys(
    ["contracts", "orders", "payments", "invoices", "reports", "approvals", "inventory"], 100))
_UNHEALTHY_USAGE = (20, 4, 0, 0, 2, {"customers": 2})
_USAGE = {  # account -> (first Monday, last Monday, usage)
    "c1": (dt.date(2025, 7, 7), dt.date(2026, 3, 30), _HEALTHY_USAGE),
    "c2": (dt.date(2026, 1, 5), dt.date(2026, 2, 23), _UNHEALTHY_USAGE),
}


def _months(first: str, last: str) -> list[str]:
    return [m for m in CHURN_MONTHS if first <= m <= last]


@cached
def build_churn_book(db_path: str | os.PathLike) -> None:
    """Write the book described in the module docstring to ``db_path``."""
    with replace_atomically(db_path) as conn:
        pipeline.create_raw_tables(conn)
        conn.executemany("insert into raw_accounts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _ACCOUNTS)
        revenue = [
            (account_id, month, "core_suite", "professional", mrr, 0.0)
            for account_id, (first, last, mrr) in _REVENUE.items()
            for month in _months(first, last)
        ]
        conn.executemany("insert into raw_revenue_monthly values (?, ?, ?, ?, ?, ?)", revenue)
        usage, modules = [], []
        for account_id, (first, last, spec) in _USAGE.items():
            purchased, activated, logged_in, bi, records, per_module = spec
            week = first
            while week <= last:
                usage.append((account_id, week, purchased, activated, logged_in, bi, records))
                modules.extend((account_id, week, m, n) for m, n in per_module.items())
                week += dt.timedelta(days=7)
        conn.executemany("insert into raw_usage_weekly values (?, ?, ?, ?, ?, ?, ?)", usage)
        conn.executemany("insert into raw_module_usage_weekly values (?, ?, ?, ?)", modules)
        conn.executemany("insert into raw_renewals values (?, ?, ?, ?, ?, ?)", _RENEWALS)
        conn.executemany("insert into raw_csm_logs values (?, ?, ?, ?, ?, ?, ?)", _LOGS)
        conn.executemany("insert into raw_events values (?, ?, ?, ?, ?, ?)", _EVENTS)
        pipeline.build_models(conn)
