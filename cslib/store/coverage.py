"""The coverage report of ``python -m cslib check``: rows, accounts and months per table, and
which pages or metrics will be empty or n/a and why.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cslib.store import contract
from cslib.store.mapping import Mapping
from cslib.store.problems import files_label


# ---------------------------------------------------------------------------
# Coverage (check)
# ---------------------------------------------------------------------------


def _date_column(table: contract.Table) -> contract.Column | None:
    """The column a table's months are read from (the first month or date column)."""
    return next((c for c in table.columns if c.is_month or c.type == "DATE"), None)


def coverage(conn: duckdb.DuckDBPyConnection, files: dict[str, list[Path]], mp: Mapping | None) -> list[str]:
    """Rows, accounts and months per table; gaps between tables; what will be empty or n/a."""
    out: list[str] = []
    for table in contract.TABLES:
        raw = f"raw_{table.name}"
        n = conn.execute(f"select count(*) from {raw}").fetchone()[0]
        if table is contract.REVENUE_MONTHLY and "subscription_periods" in files:
            origin = f" (from {files_label(files['subscription_periods'], '')})"
        elif table is contract.RENEWALS and "renewals" not in files and n:
            origin = " (derived from revenue)"
        else:
            origin = f" ({files_label(files[table.name], '')})" if table.name in files else " (no file)"
        text = f"{table.name}{origin}: {n:,} row{'s' if n != 1 else ''}"
        if n and "account_id" in table.column_names:
            accounts = conn.execute(f"select count(distinct account_id) from {raw}").fetchone()[0]
            text += f", {accounts:,} account{'s' if accounts != 1 else ''}"
        col = _date_column(table)
        if n and col is not None:
            expr = col.name if col.is_month else f"strftime({col.name}, '%Y-%m')"
            first, last = conn.execute(f"select min({expr}), max({expr}) from {raw}").fetchone()
            if first is not None:
                text += f", months {first}..{last}"
        out.append(text)

    kept = list(mp.tables["accounts"].attributes) if mp is not None and "accounts" in mp.tables else []
    if kept:  # extra account columns the mapping keeps: filter and breakdown dimensions
        stats = {a: (n, v) for a, n, v in conn.execute(
            "select attribute, count(distinct account_id), count(distinct value) "
            "from raw_account_attributes group by attribute").fetchall()}
        parts = [f"{a} {stats.get(a, (0, 0))[0]:,} accounts, {stats.get(a, (0, 0))[1]:,} values" for a in kept]
        out.append(f"account attributes (filters and breakdowns): {'; '.join(parts)}")

    def count(sql: str) -> int:
        return conn.execute(sql).fetchone()[0]

    revenue = ("select distinct account_id from raw_revenue_monthly "
               "where mrr_subscription + coalesce(mrr_usage, 0) > 0")
    usage_tables = [t.name for t in contract.TABLES if t.name.startswith("usage_")]
    usage = " union ".join(f"select account_id from raw_{t}" for t in usage_tables) or \
        "select null::varchar as account_id where false"
    no_revenue = count(f"select count(*) from raw_accounts where account_id not in ({revenue})")
    no_usage = count(f"select count(*) from ({revenue}) r where account_id not in ({usage})")
    out.append(f"accounts without revenue: {no_revenue:,}")
    out.append(f"accounts with revenue but no usage: {no_usage:,}"
               + (" (never any usage row: their health is unscored)" if no_usage else ""))

    has = {t.name: count(f"select count(*) from raw_{t.name}") > 0 for t in contract.TABLES}
    empty: list[str] = []
    if not any(has[t] for t in usage_tables):
        empty.append("no usage data: every account's health is unscored, so the health rate, nine-box, "
                     "health flows and CSM commissions are n/a")
    elif not has.get("module_usage_weekly", True) and not has.get("usage_metrics", False):
        empty.append("no module usage: module points are 0 for every account")
    if not has["renewals"]:
        empty.append("no renewals (no renewals file and none derived from revenue): renewal rates are n/a "
                     "and there is no renewal model")
    reasons = [t for t in ("csm_logs", "churn_feedback", "churn_events") if t in has]
    if not any(has[t] for t in reasons):
        empty.append(f"no {' or '.join(reasons)}: no churn reasons (every churn shows 'No reason logged')")
    if not has["events"]:
        empty.append("no events: event alerts are empty")
    out.append("will be empty or n/a:" if empty else "will be empty or n/a: nothing")
    out += [f"  - {line}" for line in empty]
    return out
