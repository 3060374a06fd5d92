"""The tiny book (tests_support.book) with two account attributes, as an import with a
mapping's ``[tables.accounts] attributes`` would keep them.

=====  ==========  ======  =========  ==============  =============  =========
id     segment     target  plan_tier  country         ARR Mar        tier
=====  ==========  ======  =========  ==============  =============  =========
a1     enterprise  yes     gold       Germany         120,000        healthy
a2     mid_market  yes     silver     United States    48,000        at_risk
a3     smb         yes     gold       France           12,000        unhealthy
a4     smb         NO      gold       Japan            24,000        healthy
a5     mid_market  yes     (none)     United States    36,000        unscored
=====  ==========  ======  =========  ==============  =============  =========

Expected in March 2026 (target accounts only, the default):

* plan_tier gold: a1 + a3 = (10,000 + 1,000) x 12 = ARR 132,000; healthy 120,000 ->
  health rate 120,000 / 132,000 = 90.9%; active accounts 2.
* plan_tier silver: a2 = ARR 48,000, health rate 0.0% (at risk).
* plan_tier gold or silver: 180,000 (a5 has no plan tier, so it is left out).
* country United States: a2 + a5 = 84,000. With plan_tier gold too: nothing.
* gold with non-target accounts: 132,000 + 24,000 = 156,000.
* revenue breakdown by attr.plan_tier, March: gold start MRR 10,000 (a1 9,000 + a3
  1,000; a4 is not a target account), silver 5,000, (none) 2,000 (a5).
"""

from __future__ import annotations

import os

from cslib.store.db import connect
from cslib.filters import create_attribute_table

from tests_support.book import build_tiny_book

ATTRIBUTES = [
    # account_id, attribute, value
    ("a1", "plan_tier", "gold"),
    ("a2", "plan_tier", "silver"),
    ("a3", "plan_tier", "gold"),
    ("a4", "plan_tier", "gold"),
    ("a1", "country", "Germany"),
    ("a2", "country", "United States"),
    ("a3", "country", "France"),
    ("a4", "country", "Japan"),
    ("a5", "country", "United States"),
]


#: plan tiers for tests_support.churn_book's accounts: churned 2026-03..05, target accounts:
#: gold c1 120,000 + c3 24,000; silver c4 60,000 + c5 36,000; none c2 12,000 + c6 6,000
CHURN_PLAN_TIERS = [("c1", "gold"), ("c3", "gold"), ("c4", "silver"), ("c5", "silver"), ("c8", "gold")]


def add_attributes(db_path: str | os.PathLike, rows: list[tuple[str, str, str]]) -> None:
    """Insert (account_id, attribute, value) rows into a built book's raw_account_attributes."""
    conn = connect(db_path, read_only=False)
    try:
        create_attribute_table(conn)
        conn.executemany("insert into raw_account_attributes values (?, ?, ?)", rows)
    finally:
        conn.close()


def build_attribute_book(db_path: str | os.PathLike) -> None:
    """The tiny book plus the attributes above (they feed no model, only filters)."""
    build_tiny_book(db_path)
    add_attributes(db_path, ATTRIBUTES)


def build_churn_attribute_book(db_path: str | os.PathLike) -> None:
    """tests_support.churn_book with CHURN_PLAN_TIERS as attribute plan_tier."""
    from tests_support.churn_book import build_churn_book

    build_churn_book(db_path)
    add_attributes(db_path, [(a, "plan_tier", v) for a, v in CHURN_PLAN_TIERS])
