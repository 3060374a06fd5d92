"""Churn reasons (method sections 4 and 6): the taxonomy, breakdowns, the check against
the health score, red-light flags and notes search.

The taxonomy is data (``raw_reason_taxonomy``: an imported ``reason_taxonomy.csv`` or the
shipped ``cslib/config/reason_taxonomy.csv``). Reason codes are compared after
``normalise_code`` (the SQL models use the same rule). The models ``churn_taxonomy``,
``churn_logs``, ``churn_events`` and ``churn_risk_flags`` (cslib/sql) hold the per-row work;
the functions here run parametrised queries over them for a period and the sidebar filters.

Periods are inclusive month ranges ('YYYY-MM'); a churn belongs to the month its MRR first
is 0 (``churn_month``). Money is ARR (per year); shares are fractions (0.25 = 25%).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from pathlib import Path

import duckdb
import pandas as pd

from cslib import labels, settings
from cslib.store import contract
from cslib.store.db import query
from cslib.store.queries import render, render_sql
from cslib.months import check_month
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.settings import CONFIG_DIR

#: The taxonomy used when the data brings none (import without reason_taxonomy.csv, demo).
DEFAULT_TAXONOMY_PATH = CONFIG_DIR / "reason_taxonomy.csv"
#: A churn_reason log (or churn event) matches a churn when it is dated inside the churn
#: month or at most this many days before its first day or after its last day (the nearest
#: log wins). The default of the setting HEALTHGRID_REASON_WINDOW_DAYS, which is written to
#: cfg_churn when the models are built (read the database's with ``reason_window_days``).
REASON_WINDOW_DAYS = 60
#: The widest window the setting accepts (days).
MAX_REASON_WINDOW_DAYS = 365
WINDOW_SETTING = "HEALTHGRID_REASON_WINDOW_DAYS"
#: Weeks of health before the churn month that are held against the logged reason.
HEALTH_WEEKS_BEFORE_CHURN = 13
#: The qualitative-vs-quantitative flag rule (documented in docs/pages.md), on the share of
#: healthy weeks among the scored weeks before its churns: a reason that means low usage
#: is contradicted when at least this share was healthy ("mostly healthy") ...
MOSTLY_HEALTHY_SHARE = 0.5
#: ... any other reason is invisible to usage when at least this share was healthy ...
INVISIBLE_HEALTHY_SHARE = 0.25
#: ... judged only when at least this many of its churns had a scored week.
MIN_SCORED_CHURNS = 3
#: Reasons that mean low usage: mostly healthy scores contradict them.
REASONS_EXPECTING_LOW_USAGE = ("never_adopted", "onboarding_failed")
#: signal_check values
SIGNAL_CONTRADICTS = "contradicts usage"
SIGNAL_INVISIBLE = "invisible to usage"
SIGNAL_AGREES = "usage warned"
SIGNAL_TOO_FEW = "too few scored churns"

#: pseudo reason codes (not in any taxonomy)
NO_REASON = "no_reason_logged"
UNCLASSIFIED = "unclassified"

#: breakdown name -> churn_events column (a whitelist; nothing else becomes an identifier)
BREAKDOWNS: dict[str, str] = {
    "reason": "reason_code",
    "category": "category",
    "avoidable": "avoidability",
    "segment": "segment",
    "industry": "industry",
    "region": "region",
    "source_channel": "source_channel",
    "lifecycle_stage": "lifecycle_stage",
    "contract_stage": "contract_stage",
    "csm_team": "csm_team",
}
BREAKDOWN_LABELS: dict[str, str] = {
    "reason": "Reason",
    "category": "Category",
    "avoidable": "Avoidable",
    "segment": "Segment",
    "industry": "Industry",
    "region": "Region",
    "source_channel": labels.column_label("source_channel"),
    "lifecycle_stage": "Lifecycle stage at churn",
    "contract_stage": "Contract stage",
    "csm_team": "CSM team",
}
#: period kinds for the page control and their labels
PERIODS: dict[str, str] = {"month": "Month", "quarter": "Quarter", "t12m": "Trailing 12 months"}

_GROUP_MARKER = "/* group_column */ reason_code"
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_TAXONOMY_BOOL = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


# --------------------------------------------------------------------------- taxonomy
def normalise_code(code: str | None) -> str | None:
    """A reason code as compared: trimmed, lower case, runs of whitespace/hyphens -> '_'.

    ``' Out of-Business '`` -> ``'out_of_business'``; empty or None -> None.
    """
    if code is None:
        return None
    text = re.sub(r"[\s-]+", "_", str(code).strip().lower())
    return text or None


def load_taxonomy(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read a taxonomy CSV (default: the shipped one) into the contract's columns.

    Returns reason_code, label, category, owner_department (str) and is_avoidable (bool),
    in file order. UserError (one line, naming the file) on a missing column, a bad
    boolean, an empty or duplicate (after ``normalise_code``) code.
    """
    path = Path(path) if path is not None else DEFAULT_TAXONOMY_PATH
    table = contract.REASON_TAXONOMY
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise UserError(f"{path}: taxonomy file not found") from None
    if not rows:
        raise UserError(f"{path}: file is empty")
    header = [h.strip().lower() for h in rows[0]]
    for col in table.columns:
        if col.name not in header:
            raise UserError(f"{path.name}: missing required column '{col.name}' ({col.type})")
    pos = {name: header.index(name) for name in table.column_names}
    out: dict[str, list] = {name: [] for name in table.column_names}
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {name: (row[i].strip() if i < len(row) else "") for name, i in pos.items()}
        code = normalise_code(cells["reason_code"])
        if code is None:
            raise UserError(f"{path.name}, line {line}, column reason_code: empty value (required)")
        if code in seen:
            raise UserError(
                f"{path.name}, line {line}, column reason_code: duplicate code '{code}' "
                f"after normalising (first on line {seen[code]})"
            )
        seen[code] = line
        flag = _TAXONOMY_BOOL.get(cells["is_avoidable"].lower())
        if flag is None:
            raise UserError(
                f"{path.name}, line {line}, column is_avoidable: expected true/false, "
                f"got '{cells['is_avoidable']}'"
            )
        for name in ("reason_code", "label", "category", "owner_department"):
            out[name].append(cells[name])
        out["is_avoidable"].append(flag)
    frame = pd.DataFrame(out)
    for name in ("reason_code", "label", "category", "owner_department"):
        frame[name] = frame[name].astype("str")
    frame["is_avoidable"] = frame["is_avoidable"].astype(bool)
    return frame[table.column_names]


def window_days_setting() -> int:
    """HEALTHGRID_REASON_WINDOW_DAYS as an int; UserError (one line) unless it is a whole
    number of days from 0 to MAX_REASON_WINDOW_DAYS."""
    text = settings.get(WINDOW_SETTING).strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise UserError(f"{WINDOW_SETTING}: expected a whole number of days, got '{text[:40]}'")
    days = int(text)
    if not 0 <= days <= MAX_REASON_WINDOW_DAYS:
        raise UserError(f"{WINDOW_SETTING}: expected 0 to {MAX_REASON_WINDOW_DAYS} days, got {days}")
    return days


def reason_window_days(conn) -> int:
    """The matching window the database's churn models were built with (cfg_churn)."""
    try:
        return int(query(conn, "select reason_window_days from cfg_churn").iloc[0, 0])
    except (duckdb.CatalogException, IndexError):
        return REASON_WINDOW_DAYS


def prepare_churn_tables(conn: duckdb.DuckDBPyConnection, window_days: int | None = None) -> bool:
    """Before the churn models: fill an empty ``raw_reason_taxonomy`` with the shipped
    default and write ``cfg_churn`` (reason_window_days, health_weeks).

    ``window_days`` None -> the setting HEALTHGRID_REASON_WINDOW_DAYS (validated).
    Creates ``raw_reason_taxonomy`` and ``raw_churn_feedback`` if the database predates them.
    Returns True when the default taxonomy was loaded. Called by pipeline.build_models and
    by the importer.
    """
    window = window_days_setting() if window_days is None else int(window_days)
    for table in (contract.REASON_TAXONOMY, contract.CHURN_FEEDBACK):
        conn.execute(
            contract.raw_table_ddl(table).replace("create or replace table", "create table if not exists", 1)
        )
    loaded = False
    if conn.execute("select count(*) from raw_reason_taxonomy").fetchall()[0][0] == 0:
        frame = load_taxonomy()
        cols = ", ".join(contract.REASON_TAXONOMY.column_names)
        conn.register("_default_taxonomy", frame)
        try:
            conn.execute(f"insert into raw_reason_taxonomy ({cols}) select {cols} from _default_taxonomy")
        finally:
            conn.unregister("_default_taxonomy")
        loaded = True
    conn.execute(*render_sql(
        "create or replace table cfg_churn as select cast($reason_window_days as integer) as reason_window_days, "
        "cast($health_weeks as integer) as health_weeks",
        reason_window_days=window, health_weeks=HEALTH_WEEKS_BEFORE_CHURN,
    ))
    return loaded


def unclassified_codes(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """churn_reason / risk_flag logs in ``raw_csm_logs`` and churn events in
    ``raw_churn_feedback`` whose code is not in ``raw_reason_taxonomy`` (or empty): file,
    code_as_logged, n_logs; csm_logs.csv first, each file in order of first appearance."""
    return query(conn, *render("churn_unclassified_codes"))


def unclassified_warning(codes: pd.DataFrame, shown: int = 5) -> str | None:
    """The import warning for ``unclassified_codes`` output, or None when there are none
    (one sentence per file, joined with '; ')."""
    if codes.empty:
        return None
    what = {"csm_logs.csv": "churn-reason/risk-flag log", "churn_feedback.csv": "churn event"}
    parts = []
    for file in dict.fromkeys(codes["file"]):
        rows = codes[codes["file"] == file]
        total = int(rows["n_logs"].sum())
        names = [f"'{c}'" if c else "(empty)" for c in rows["code_as_logged"].head(shown)]
        more = len(rows) - shown
        listed = ", ".join(names) + (f" and {more} more" if more > 0 else "")
        parts.append(
            f"{file}: {total:,} {what.get(file, 'row')}{'s' if total != 1 else ''} with a "
            f"reason code not in the taxonomy, kept as 'unclassified' (codes: {listed})"
        )
    return "; ".join(parts)


def taxonomy(conn) -> pd.DataFrame:
    """The normalised taxonomy (churn_taxonomy) in file order."""
    return query(
        conn,
        "select reason_code, label, category, is_avoidable, owner_department "
        "from churn_taxonomy order by sort_order",
    )


def unclassified_logs(conn) -> pd.DataFrame:
    """Logs (all months, all accounts) kept as unclassified: code_as_logged, kind, n_logs."""
    return query(
        conn,
        "select coalesce(reason_code_as_logged, '') as code_as_logged, kind, count(*) as n_logs "
        "from churn_logs where not is_classified group by all order by n_logs desc, code_as_logged",
    )


# --------------------------------------------------------------------------- periods
def _month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def _month_of(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def period_bounds(period: str, month: str, months: tuple[str, ...]) -> tuple[str, str]:
    """(first, last) month of a period anchored on ``month``, clipped to ``months``.

    'month': the month itself; 'quarter': the calendar quarter containing it;
    't12m': the 12 months ending with it. ``months`` is the data's ascending month list.
    """
    if period not in PERIODS:
        raise UserError(f"unknown period '{period}' (choose from {', '.join(PERIODS)})")
    i = _month_index(month)
    if period == "month":
        first, last = i, i
    elif period == "quarter":
        first = i - i % 3
        last = first + 2
    else:
        first, last = i - 11, i
    lo, hi = _month_of(first), _month_of(last)
    if months:
        lo, hi = max(lo, months[0]), min(hi, months[-1])
    return lo, hi


def period_label(month_from: str, month_to: str) -> str:
    """'Mar 2026' or 'Jan 2026 – Mar 2026'."""

    def label(m: str) -> str:
        return dt.date(int(m[:4]), int(m[5:7]), 1).strftime("%b %Y")

    return label(month_from) if month_from == month_to else f"{label(month_from)} – {label(month_to)}"


def _months_between(month_from: str, month_to: str) -> list[str]:
    return [_month_of(i) for i in range(_month_index(month_from), _month_index(month_to) + 1)]


# --------------------------------------------------------------------------- queries
def _run(conn, name: str, filters: Filters, group_column: str | None = None, **params) -> pd.DataFrame:
    """Run the query file <name>.sql for the slice (cslib.store.queries.render), with the
    breakdown's group column (a whitelisted expression) in place of its marker."""
    splice = {} if group_column is None else {_GROUP_MARKER: group_column}
    return query(conn, *render(name, filters, splice=splice, **params))


def churn_summary(conn, filters: Filters, month_from: str, month_to: str) -> dict:
    """The period's totals: churned_accounts, churned_arr, avoidable_accounts/_arr,
    no_reason_accounts, unclassified_accounts, onboarding_accounts, scored_accounts,
    healthy_at_churn_accounts, and avoidable_arr_share (NaN when no churned ARR)."""
    row = _run(conn, "churn_summary", filters, month_from=month_from, month_to=month_to).iloc[0].to_dict()
    out = {k: (float(v) if k.endswith("_arr") else int(v)) for k, v in row.items()}
    out["avoidable_arr_share"] = out["avoidable_arr"] / out["churned_arr"] if out["churned_arr"] else float("nan")
    return out


def reason_match_rate(conn, filters: Filters, month_from: str, month_to: str) -> dict:
    """How many of the period's churns have a reason: churns matched to a churn-reason log or
    churn event within the window / all churns, by count and by churned ARR.

    Keys: churned_accounts, churned_arr, matched_accounts, matched_arr, unmatched_accounts,
    unmatched_arr, unclassified_accounts (matched, but the code is not in the taxonomy),
    match_rate, arr_match_rate (fractions; NaN when nothing churned), window_days (the
    database's matching window) and unused_reason_entries (churn-reason entries logged in
    the period that are the reason of no churn, see :func:`unmatched_reasons`). The Churn
    reasons page and ``report churn-reasons`` both call this.
    """
    s = churn_summary(conn, filters, month_from, month_to)
    unused = len(unmatched_reasons(conn, filters, month_from, month_to))
    matched_accounts = s["churned_accounts"] - s["no_reason_accounts"]
    matched_arr = s["churned_arr"] - s["no_reason_arr"]
    return {
        "churned_accounts": s["churned_accounts"],
        "churned_arr": s["churned_arr"],
        "matched_accounts": matched_accounts,
        "matched_arr": matched_arr,
        "unmatched_accounts": s["no_reason_accounts"],
        "unmatched_arr": s["no_reason_arr"],
        "unclassified_accounts": s["unclassified_accounts"],
        "match_rate": matched_accounts / s["churned_accounts"] if s["churned_accounts"] else float("nan"),
        "arr_match_rate": matched_arr / s["churned_arr"] if s["churned_arr"] else float("nan"),
        "window_days": reason_window_days(conn),
        "unused_reason_entries": unused,
    }


def unmatched_reasons(conn, filters: Filters, month_from: str, month_to: str) -> pd.DataFrame:
    """Churn-reason entries (CSM ``churn_reason`` logs and churn events) of the slice logged
    in the period that are the reason of no churn: too far from every churn of the account
    (a wider HEALTHGRID_REASON_WINDOW_DAYS may match them), beaten by a nearer entry, or the
    account never churned.

    Columns: logged_on, account_id, name, source ('csm_log' | 'churn_event'), reason_code (as
    logged), nearest_churn_month, days_from_nearest_churn (NULL when the account has no
    churn), note, log_id. Oldest first.
    """
    return _run(conn, "churn_unmatched_reasons", filters, month_from=month_from, month_to=month_to)


def churn_breakdown(conn, filters: Filters, month_from: str, month_to: str, by: str = "reason") -> pd.DataFrame:
    """Churned accounts and ARR of the period by ``by`` (a key of BREAKDOWNS, or
    ``attr.<name>``: an account attribute; churns without a value show as 'unknown').

    Columns: value, churned_accounts, churned_arr, account_share, arr_share (fractions of
    the period's totals, each column adds to 1), label; for ``by='reason'`` also category,
    avoidability, owner_department. Sorted by churned ARR, largest first.
    """
    from cslib.filters import attribute_value_sql, breakdown_attribute

    attribute = breakdown_attribute(conn, by, BREAKDOWNS)  # attr.<name>: an account attribute
    if attribute is not None:  # its name is bound as $attribute
        value_sql = attribute_value_sql("churns.account_id", param="attribute")
        df = _run(conn, "churn_breakdown", filters, group_column=value_sql, month_from=month_from, month_to=month_to,
                  attribute=attribute)
    elif by not in BREAKDOWNS:
        raise UserError(f"unknown breakdown '{by}' (choose from {', '.join(BREAKDOWNS)})")
    else:
        df = _run(conn, "churn_breakdown", filters, group_column=BREAKDOWNS[by], month_from=month_from,
                  month_to=month_to)
    df["value"] = df["value"].astype("str").where(df["value"].notna(), "unknown")
    df["churned_accounts"] = df["churned_accounts"].astype(int)
    if by == "reason":
        df["label"] = df["reason_label"]
        return df[["value", "label", "churned_accounts", "churned_arr", "account_share", "arr_share",
                   "category", "avoidability", "owner_department"]]
    df["label"] = df["value"].map(labels.label)
    return df[["value", "label", "churned_accounts", "churned_arr", "account_share", "arr_share"]]


def churn_trend(conn, filters: Filters, month_from: str, month_to: str) -> pd.DataFrame:
    """Churned accounts and ARR per month (every month of the range) and category.

    Columns: month, category, churned_accounts, churned_arr; months without churn appear
    once with category None and zeros, so the axis has every month.
    """
    df = _run(conn, "churn_trend", filters, month_from=month_from, month_to=month_to)
    empty = [m for m in _months_between(month_from, month_to) if m not in set(df["month"])]
    if empty:
        fill = pd.DataFrame({"month": empty, "category": None, "churned_accounts": 0, "churned_arr": 0.0})
        df = pd.concat([df, fill], ignore_index=True) if len(df) else fill
    df["churned_accounts"] = df["churned_accounts"].astype(int)
    return df.sort_values(["month", "category"], na_position="first").reset_index(drop=True)


def signal_check(reason_code: str, scored_accounts: int, healthy_week_share: float) -> str:
    """The qualitative-vs-quantitative verdict for one reason (see the constants above).

    ``healthy_week_share`` in [0, 1]. Fewer than MIN_SCORED_CHURNS scored churns ->
    SIGNAL_TOO_FEW; a reason in REASONS_EXPECTING_LOW_USAGE with a share >=
    MOSTLY_HEALTHY_SHARE -> SIGNAL_CONTRADICTS; any other reason with a share >=
    INVISIBLE_HEALTHY_SHARE -> SIGNAL_INVISIBLE; otherwise SIGNAL_AGREES.
    """
    if scored_accounts < MIN_SCORED_CHURNS or pd.isna(healthy_week_share):
        return SIGNAL_TOO_FEW
    if reason_code in REASONS_EXPECTING_LOW_USAGE:
        return SIGNAL_CONTRADICTS if healthy_week_share >= MOSTLY_HEALTHY_SHARE else SIGNAL_AGREES
    return SIGNAL_INVISIBLE if healthy_week_share >= INVISIBLE_HEALTHY_SHARE else SIGNAL_AGREES


def reason_vs_health(conn, filters: Filters, month_from: str, month_to: str) -> pd.DataFrame:
    """Per logged reason: churned_accounts, churned_arr, scored_accounts, mean_score (0-100),
    healthy/at_risk/unhealthy_week_share (of scored weeks in the HEALTH_WEEKS_BEFORE_CHURN
    weeks before churn), healthy_at_churn_share, signal_check and is_flagged."""
    df = _run(conn, "churn_vs_health", filters, month_from=month_from, month_to=month_to)
    for col in ("churned_accounts", "scored_accounts", "weeks_scored"):
        df[col] = df[col].fillna(0).astype(int)
    df["signal_check"] = [
        signal_check(code, n, share)
        for code, n, share in zip(df["reason_code"], df["scored_accounts"], df["healthy_week_share"])
    ]
    df["is_flagged"] = df["signal_check"].isin([SIGNAL_CONTRADICTS, SIGNAL_INVISIBLE])
    return df


def _as_of(month_to: str) -> dt.date:
    i = _month_index(month_to) + 1
    return dt.date(i // 12, i % 12 + 1, 1) - dt.timedelta(days=1)


def risk_flags(conn, filters: Filters, month_from: str, month_to: str, limit: int = 500) -> pd.DataFrame:
    """Red-light flags raised in the period, status as of the period's last day.

    Columns: flag_id, raised_on, account_id, name, source ('csm_log' | 'nps' | 'complaint'),
    flag_code, flag_label, owner_department, status ('open' | 'resolved'), age_days,
    resolved_on, days_to_resolve, resolved_by, raised_by, score, note, csm.
    Open flags first, oldest first; at most ``limit`` rows.
    """
    as_of = _as_of(month_to)
    first_day = dt.date(int(month_from[:4]), int(month_from[5:7]), 1)
    return _run(conn, "churn_flags", filters, as_of=as_of, first_day=first_day, limit=int(limit))


def risk_flag_owners(conn, filters: Filters, month_from: str, month_to: str) -> pd.DataFrame:
    """Flags of the period per routing owner (definitions of ``risk_flags``):
    owner_department, open, resolved, total, median_open_age_days (NaN when none open).
    Sorted by open flags, most first."""
    as_of = _as_of(month_to)
    first_day = dt.date(int(month_from[:4]), int(month_from[5:7]), 1)
    return _run(conn, "churn_flag_owners", filters, as_of=as_of, first_day=first_day)


def search_notes(conn, filters: Filters, month_from: str, month_to: str, text: str = "",
                 limit: int = 200) -> pd.DataFrame:
    """CSM log notes of the filtered accounts logged in the period that contain ``text``
    (case-insensitive literal substring, a bound parameter: '%' and '_' are plain
    characters; empty = every note), newest first, at most ``limit`` rows.

    Columns: logged_on, account_id, name, author, kind, reason_code, note, log_id. Notes are
    returned as stored: show them as plain text.
    """
    return _run(conn, "churn_notes", filters, month_from=month_from, month_to=month_to, text=text.strip(),
                limit=int(limit))


# --------------------------------------------------------------------------- report


def churn_reasons_report(conn, args) -> tuple[str, dict[str, pd.DataFrame]]:
    """``python -m cslib report churn-reasons --from YYYY-MM --to YYYY-MM [--by FIELD]``.

    The period defaults to --month (or the latest month) when --from/--to are not given;
    --from alone runs to the latest month, --to alone is a single month. --by defaults to
    'reason'. Three tables: ``breakdown``, the page's breakdown for that field,
    ``match_rate``, one row of :func:`reason_match_rate`, and ``summary``, the page's tiles
    (one row of :func:`churn_summary`), for the period and filters.
    """
    bounds = query(conn, "select min(month) as lo, max(month) as hi from account_month").iloc[0]
    if bounds["lo"] is None or pd.isna(bounds["lo"]):
        raise UserError("the database has no revenue months (import data or run the demo first)")
    first, last = str(bounds["lo"]), str(bounds["hi"])
    by = args.by or "reason"
    if by not in BREAKDOWNS and not by.startswith("attr."):  # attr.<name>: checked by churn_breakdown
        raise UserError(f"unknown --by '{by}' (choose from {', '.join(BREAKDOWNS)})")
    from cslib.months import default_month

    anchor = check_month(args.month, first, last, "--month") if args.month else default_month(conn)
    month_to = check_month(args.month_to, first, last, "--to") if args.month_to else None
    month_from = check_month(args.month_from, first, last, "--from") if args.month_from else None
    if month_from is None and month_to is None:
        month_from = month_to = anchor
    elif month_from is None:
        month_from = month_to
    elif month_to is None:
        month_to = last
    if month_from > month_to:
        raise UserError(f"--from {month_from} is after --to {month_to}")
    described = month_from if month_from == month_to else f"{month_from}..{month_to}"
    table = churn_breakdown(conn, args.filters, month_from, month_to, by)
    rate = pd.DataFrame([reason_match_rate(conn, args.filters, month_from, month_to)])
    summary = pd.DataFrame([churn_summary(conn, args.filters, month_from, month_to)])
    return described, {"breakdown": table.rename(columns={"value": by}), "match_rate": rate, "summary": summary}
