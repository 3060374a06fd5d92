"""Books for "n/a, never a false zero" (cslib.views.metrics.health_data_status and friends).

1. ``mixed_health_conn()``: an in-memory book built from hand-written raw rows and
   ``health_weekly`` rows (no scorer), where each CSM's book lacks health data for a
   different reason. See MIXED below.
2. A company imported without usage data: every account is unscored, so health is n/a.

``write_no_usage_csvs(folder)`` writes the contract CSVs of three accounts over three
months (2026-01 .. 2026-03), accounts and monthly revenue only (no usage_weekly.csv, no
renewals.csv); ``build_no_usage_book(path)`` imports them with the real importer
(``cslib.store.importer.import_dir``, what ``python -m cslib import`` runs).

=====  ===========  ==========  =====  =====  =================  ==========
id     name         segment     CSM    team   MRR Jan/Feb/Mar    March
=====  ===========  ==========  =====  =====  =================  ==========
n1     Nimbus Labs  smb         Ada    North  1000/1000/1000     flat
n2     Orbit Foods  mid_market  Ben    South  2000/2000/2500     upsell +500
n3     Pillar Bank  enterprise  Ada    North  3000/3000/2700     contraction -300
=====  ===========  ==========  =====  =====  =================  ==========

Expected in March 2026 (all three are target accounts):
ARR (1000 + 2500 + 2700) x 12 = 74,400 ($74.4K); ARR Feb 72,000, delta +$2.4K;
NRR (6000 + 500 - 300) / 6000 = 103.3%; GRR (6000 - 300) / 6000 = 95.0%;
health rate, health-rate MoM, the nine-box, the bridges and every commission: n/a with
the reason "no usage data was imported" (cslib.views.metrics.NO_USAGE_IMPORTED), never 0.
No value shown is 0.0%, so a page that shows "0.0%" shows a false zero.
"""

from __future__ import annotations

import re
from pathlib import Path

MONTH = "2026-03"
ACCOUNTS_CSV = """\
account_id,name,industry,region,segment,source_channel,csm,csm_team,signed_on,lifecycle_stage,is_target
n1,Nimbus Labs,software,north,smb,inbound,Ada,North,2025-06-01,,true
n2,Orbit Foods,food,south,mid_market,partner,Ben,South,2025-06-01,,true
n3,Pillar Bank,finance,north,enterprise,outbound,Ada,North,2025-06-01,,true
"""
MRR = {
    "n1": (1000, 1000, 1000),
    "n2": (2000, 2000, 2500),
    "n3": (3000, 3000, 2700),
}
MONTHS = ("2026-01", "2026-02", "2026-03")
EXPECTED_ARR = 74_400.0
EXPECTED_PREVIOUS_ARR = 72_000.0
EXPECTED_NRR = 6200 / 6000
EXPECTED_GRR = 5700 / 6000


def revenue_csv() -> str:
    lines = ["account_id,month,product,plan,mrr_subscription,mrr_usage"]
    for account, amounts in MRR.items():
        for month, mrr in zip(MONTHS, amounts):
            lines.append(f"{account},{month},core_suite,standard,{mrr},0")
    return "\n".join(lines) + "\n"


def write_no_usage_csvs(folder: Path) -> Path:
    """accounts.csv and revenue_monthly.csv in ``folder`` (created); returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "accounts.csv").write_text(ACCOUNTS_CSV, encoding="utf-8")
    (folder / "revenue_monthly.csv").write_text(revenue_csv(), encoding="utf-8")
    return folder


def build_no_usage_book(path: Path) -> Path:
    """The book imported into the database ``path`` by the real importer."""
    from cslib.store.importer import import_dir

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = write_no_usage_csvs(path.parent / f"{path.stem}_csv")
    import_dir(folder, path)
    return path


# --------------------------------------------------------------------------- 1. mixed health
# Months 2024-01 .. 2024-03, MRR 1000 / 3000 / 2000 / 1500 every month, all smb target
# accounts on core_suite. cfg_score_params.min_weeks = 3 (written here, as the scorer would).
# health_weekly rows (first Monday of each month; tier per month Jan / Feb / Mar):
#
# =======  =====  =====  ==============================  ===============================
# account  CSM    team   health rows                     why
# =======  =====  =====  ==============================  ===============================
# s        Ada    North  healthy / healthy / healthy     scored
# u        Ben    North  unscored x3 (1 week in window)  too few weeks (needs 3 weeks)
# w        Cy     South  none                            no usage this month
# v        Dee    South  - / unscored / at_risk          scored in March only
# =======  =====  =====  ==============================  ===============================
#
# March, whole book: ARR (1000 + 3000 + 2000 + 1500) x 12 = 90,000; healthy ARR 12,000;
# health rate 12,000 / 90,000 = 2/15 (unscored ARR stays in the denominator); MoM
# 12,000 / 12,000 = 1. Renewals: s due 2024-03-10 renewed (12,000 kept of 12,000); u due
# 2024-03-20 pending.
MIXED_ACCOUNTS = {"s": ("Ada", "North"), "u": ("Ben", "North"), "w": ("Cy", "South"), "v": ("Dee", "South")}
MIXED_MRR = {"s": 1000, "u": 3000, "w": 2000, "v": 1500}
MIXED_MONTHS = ("2024-01", "2024-02", "2024-03")
MIXED_MONDAY = {"2024-01": "2024-01-01", "2024-02": "2024-02-05", "2024-03": "2024-03-04"}
MIXED_TIERS = {
    "s": {"2024-01": "healthy", "2024-02": "healthy", "2024-03": "healthy"},
    "u": {"2024-01": "unscored", "2024-02": "unscored", "2024-03": "unscored"},
    "v": {"2024-02": "unscored", "2024-03": "at_risk"},
}
MIXED_MIN_WEEKS = 3
_SCORES = {"healthy": 80.0, "at_risk": 50.0, "unscored": None}


def mixed_health_conn(with_health: bool = True, with_renewals: bool = True):
    """The MIXED book in a new in-memory DuckDB connection (models stg_revenue,
    mrr_movements, account_month built by their real SQL). ``with_health=False``: no
    health_weekly rows at all (no usage imported); ``with_renewals=False``: no renewals."""
    import duckdb

    from cslib.store.db import sql_file
    from cslib.store.pipeline import create_raw_tables
    from cslib.rules.value_tiers import ValueTiers, write_value_tier_table
    from tests_support.sql import HEALTH_WEEKLY_DDL

    con = duckdb.connect()
    create_raw_tables(con)
    con.execute(HEALTH_WEEKLY_DDL)
    con.execute("create table cfg_score_params as select 4 as window_weeks, ? as min_weeks", [MIXED_MIN_WEEKS])
    con.executemany(
        "insert into raw_accounts (account_id, name, industry, region, segment, source_channel, csm, "
        "csm_team, signed_on, lifecycle_stage, is_target) "
        "values (?, ?, 'retail', 'north', 'smb', 'web', ?, ?, date '2023-01-01', null, true)",
        [[a, a.upper(), csm, team] for a, (csm, team) in MIXED_ACCOUNTS.items()],
    )
    con.executemany(
        "insert into raw_revenue_monthly (account_id, month, product, plan, mrr_subscription, mrr_usage) "
        "values (?, ?, 'core_suite', 'plan', ?, 0)",
        [[a, m, mrr] for a, mrr in MIXED_MRR.items() for m in MIXED_MONTHS],
    )
    if with_health:
        con.executemany(
            "insert into health_weekly (account_id, week_start, weeks_in_window, score, tier) values (?, ?, ?, ?, ?)",
            [[a, MIXED_MONDAY[m], 4 if t != "unscored" else 1, _SCORES[t], t]
             for a, months in MIXED_TIERS.items() for m, t in months.items()],
        )
    if with_renewals:
        con.executemany(
            "insert into raw_renewals (account_id, due_on, due_arr, renewed_on, renewed_arr, outcome) "
            "values (?, ?, ?, ?, ?, ?)",
            [["s", "2024-03-10", 12000.0, "2024-03-08", 12000.0, "renewed"],
             ["u", "2024-03-20", 36000.0, None, None, "pending"]],
        )
    write_value_tier_table(con, ValueTiers())
    for model in ("stg_revenue", "mrr_movements", "account_month"):
        con.execute(sql_file(model))
    return con


# --------------------------------------------------------------------------- page checks
#: a percentage that reads zero ("0.0%", not "100.0%" or "10.0%")
FALSE_ZERO = re.compile(r"(?<![\d.])0\.0%")


def apptest_text(at) -> str:
    """Everything an AppTest run shows as text: tiles (label, value, delta, help), titles,
    Markdown, captions, alerts, text and the cells of every table."""
    parts: list[str] = []
    for m in at.metric:
        parts += [m.label, m.value, m.delta or "", m.help or ""]
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "success", "error", "text"):
        parts += [str(e.value) for e in at.get(kind)]
    for frame in at.dataframe:
        parts.append(frame.value.to_string())
    return "\n".join(parts)
