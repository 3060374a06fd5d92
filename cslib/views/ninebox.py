"""The nine-box grid: health tier x value tier, its accounts, movement and playbooks.

method section 2. Every function reads the ``account_month`` mart for one month and a
``Filters`` slice; only active accounts (MRR > 0) are placed. Cells are identified by
``"<value_tier>|<health_tier>"`` (e.g. ``"high|unhealthy"``), which is also the key of a
playbook in ``cslib/config/playbooks.toml`` and in the app store.

Unscored accounts (active, but too little usage data in the window for a score) are not
in any of the nine cells: ``grid_summary`` reports them in a separate ``unscored`` row, so
that the nine cells plus unscored add up exactly to the slice's accounts and ARR, and
every share (``arr_share``, ``accounts_share``) is of that total. Money is ARR per year.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cslib import settings
from cslib.store.db import query
from cslib.store.queries import render
from cslib.months import MONTH_RE, check_month, data_months, default_month, shift_month
from cslib.errors import UserError
from cslib.export import to_csv
from cslib.filters import Filters
from cslib.rules import tomlfile

HEALTH_TIERS: tuple[str, ...] = ("healthy", "at_risk", "unhealthy")
VALUE_TIERS: tuple[str, ...] = ("high", "mid", "low")
#: every cell id, in display order (rows: health tier; columns: value tier)
CELL_IDS: tuple[str, ...] = tuple(f"{v}|{h}" for h in HEALTH_TIERS for v in VALUE_TIERS)
HEALTH_LABELS: dict[str, str] = {"healthy": "Healthy", "at_risk": "At risk", "unhealthy": "Unhealthy"}
VALUE_LABELS: dict[str, str] = {"high": "High value", "mid": "Mid value", "low": "Low value"}
#: movement states that are not cells (see ninebox_movement.sql)
OTHER_STATES: dict[str, str] = {
    "new": "New account",
    "reactivated": "Reactivated",
    "churned": "Churned",
    "unscored": "Unscored",
    "outside_slice": "Outside the filters",
}
#: "compare books" owners: name -> account_month column (a whitelist)
BOOK_OWNERS: dict[str, str] = {"csm_team": "csm_team", "csm": "csm"}
PLAYBOOKS_PATH = settings.CONFIG_DIR / "playbooks.toml"

GRID_COLUMNS: tuple[str, ...] = (
    "health_tier",
    "value_tier",
    "cell_id",
    "accounts",
    "arr",
    "arr_share",
    "accounts_share",
    "prev_accounts",
    "prev_arr",
    "delta_accounts",
    "delta_arr",
)
_OWNER_MARKER = "/* owner_column */ csm_team"


# --------------------------------------------------------------------------- helpers
def cell_id(value_tier: str, health_tier: str) -> str:
    """'high', 'unhealthy' -> 'high|unhealthy'."""
    return f"{value_tier}|{health_tier}"


def split_cell(cell: str) -> tuple[str, str]:
    """'high|unhealthy' -> ('high', 'unhealthy'); UserError for anything not a cell."""
    if cell not in CELL_IDS:
        raise UserError(f"unknown nine-box cell {cell!r} (expected <value>|<health>, e.g. high|unhealthy)")
    value_tier, health_tier = cell.split("|")
    return value_tier, health_tier


def cell_label(cell: str) -> str:
    """'high|unhealthy' -> 'High value · Unhealthy'; movement states get their own label."""
    if cell in OTHER_STATES:
        return OTHER_STATES[cell]
    value_tier, health_tier = split_cell(cell)
    return f"{VALUE_LABELS[value_tier]} · {HEALTH_LABELS[health_tier]}"


def _check_month(conn, month: Any) -> tuple[str, str | None]:
    """(month, previous month or None when it is before the data); UserError if bad."""
    if not isinstance(month, str) or not MONTH_RE.match(month):
        raise UserError(f"month must be YYYY-MM, got {month!r}")
    first, last = data_months(conn)
    check_month(month, first, last)
    previous = shift_month(month, -1)
    return month, (previous if previous >= first else None)


def _check_tiers(health_tier: str, value_tier: str, allow_unscored: bool = True) -> None:
    allowed = HEALTH_TIERS + (("unscored",) if allow_unscored else ())
    if health_tier not in allowed:
        raise UserError(f"health tier must be one of {', '.join(allowed)}, got {health_tier!r}")
    if value_tier not in VALUE_TIERS:
        raise UserError(f"value tier must be one of {', '.join(VALUE_TIERS)}, got {value_tier!r}")


# --------------------------------------------------------------------------- the grid
def _cells(conn, filters: Filters, month: str) -> tuple[pd.DataFrame, bool]:
    """The 12 rows of ninebox_cells.sql and whether a previous month exists."""
    month, previous = _check_month(conn, month)
    df = query(conn, *render("ninebox_cells", filters, alias="a", this_month=month, prev_month=previous))
    return df, previous is not None


def _finish(frame: pd.DataFrame, has_previous: bool) -> pd.DataFrame:
    out = frame.copy()
    if not has_previous:  # the month before the data is unknown, not zero
        out["prev_accounts"] = float("nan")
        out["prev_arr"] = float("nan")
    out["delta_accounts"] = out["accounts"] - out["prev_accounts"]
    out["delta_arr"] = out["arr"] - out["prev_arr"]
    return out


def grid_summary(conn, filters: Filters, month: str) -> dict[str, pd.DataFrame]:
    """The month's nine-box grid for the slice, with unscored accounts and the total.

    Returns a dict of frames:
    * ``grid``: exactly 9 rows (health_tier healthy/at_risk/unhealthy x value_tier
      high/mid/low, in that order) with GRID_COLUMNS: accounts (active accounts of the
      month), arr (sum of ARR), arr_share / accounts_share (fractions of the slice's
      total, unscored included), prev_accounts / prev_arr (the previous month's members
      of the slice; NaN when the month is the first of the data), delta_* = this - prev.
    * ``unscored``: one row, the same columns (health_tier 'unscored', value_tier 'all'):
      active accounts without a month-end score, kept outside the nine cells.
    * ``total``: one row, the slice's total (the nine cells plus unscored).
    ``month`` is 'YYYY-MM' inside the data, else UserError.
    """
    cells, has_previous = _cells(conn, filters, month)
    scored = cells[cells["health_tier"] != "unscored"].reset_index(drop=True)
    scored = scored.assign(cell_id=scored["value_tier"] + "|" + scored["health_tier"])
    sums = ["accounts", "arr", "arr_share", "accounts_share", "prev_accounts", "prev_arr"]
    unscored_sum = cells.loc[cells["health_tier"] == "unscored", sums].sum()
    total_sum = cells[sums].sum()

    def one_row(values: pd.Series, health_tier: str) -> pd.DataFrame:
        row = {"health_tier": health_tier, "value_tier": "all", "cell_id": health_tier, **values.to_dict()}
        frame = pd.DataFrame([row])
        for column in ("accounts", "prev_accounts"):
            frame[column] = frame[column].astype("int64")
        return frame

    unscored = one_row(unscored_sum, "unscored")
    total = one_row(total_sum, "total")
    if total.loc[0, "accounts"] == 0:  # no shares of nothing
        for frame in (scored, unscored, total):
            frame["arr_share"] = float("nan")
            frame["accounts_share"] = float("nan")
    return {
        "grid": _finish(scored, has_previous)[list(GRID_COLUMNS)],
        "unscored": _finish(unscored, has_previous)[list(GRID_COLUMNS)],
        "total": _finish(total, has_previous)[list(GRID_COLUMNS)],
    }


def grid(conn, filters: Filters, month: str) -> pd.DataFrame:
    """The 9 cells of ``grid_summary`` (see there for the columns)."""
    return grid_summary(conn, filters, month)["grid"]


# --------------------------------------------------------------------------- drill-down
def _open_alerts(conn, month: str, account_ids: list[str], closed_alert_ids: tuple[str, ...]) -> pd.DataFrame:
    """account_id, open_alerts over the 4 weeks before the month's end, for ``account_ids``."""
    if not account_ids:
        return pd.DataFrame({"account_id": pd.Series(dtype=str), "open_alerts": pd.Series(dtype="int64")})
    return query(conn, *render("ninebox_open_alerts", month=month, account_ids=list(account_ids),
                               closed_alert_ids=[str(a) for a in closed_alert_ids]))


def cell_accounts(
    conn,
    filters: Filters,
    month: str,
    health_tier: str,
    value_tier: str,
    search: str = "",
    closed_alert_ids: tuple[str, ...] = (),
    limit: int | None = None,
) -> pd.DataFrame:
    """The accounts of one cell (health_tier may also be 'unscored'), largest ARR first;
    only the ``limit`` largest when given (the page shows the top of a big cell).

    Columns: account_id, name, csm, csm_team, segment, arr, health_score (month-end),
    score_trend (list of the 4 weekly scores ending with the month-end week, oldest
    first; a week without a score is left out), score_change_4w (the month-end week's
    score - the score three weeks before; NaN if either is missing),
    weakest_indicator (the scorecard's indicator name) and weakest_indicator_label (its
    label, cfg_indicators; ties to the first in scorecard order),
    weakest_gap_points (max possible points - window points, >= 0), next_renewal_on,
    next_renewal_arr, next_renewal_outcome, open_alerts (alerts of the 4 weeks before the
    month's end in ``health_alerts`` whose id is not in ``closed_alert_ids``), is_overdue
    (a renewal overdue at the month end: the account is in the unhealthy row whatever its
    score, and its next renewal is the open one).
    ``search`` keeps accounts whose name, CSM or id contains it (case-insensitive).
    """
    _check_tiers(health_tier, value_tier)
    month, _ = _check_month(conn, month)
    needle = (search or "").strip().lower()
    month_start = dt.date(int(month[:4]), int(month[5:7]), 1)
    month_end = dt.date(int(shift_month(month, 1)[:4]), int(shift_month(month, 1)[5:7]), 1) - dt.timedelta(days=1)
    df = query(conn, *render(
        "ninebox_cell_accounts", filters, alias="a", search=needle, month=month, health_tier=health_tier,
        value_tier=value_tier, limit=_limit(limit), first_week_on=month_start - dt.timedelta(days=21),
        month_start=month_start, month_end=month_end,
    ))
    df["score_trend"] = [_trend_list(trend) for trend in df["score_trend"]]
    for column in ("arr", "health_score", "score_change_4w", "weakest_gap_points", "next_renewal_arr"):
        df[column] = pd.to_numeric(df[column], errors="coerce").astype(float)
    alerts = _open_alerts(conn, month, df["account_id"].tolist(), tuple(closed_alert_ids))
    df = df.merge(alerts, on="account_id", how="left")
    df["open_alerts"] = df["open_alerts"].fillna(0).astype("int64")
    df["next_renewal_on"] = pd.to_datetime(df["next_renewal_on"]).dt.date
    return df[
        [
            "account_id",
            "name",
            "csm",
            "csm_team",
            "segment",
            "arr",
            "health_score",
            "score_trend",
            "score_change_4w",
            "weakest_indicator",
            "weakest_indicator_label",
            "weakest_gap_points",
            "next_renewal_on",
            "next_renewal_arr",
            "next_renewal_outcome",
            "open_alerts",
            "is_overdue",
        ]
    ].reset_index(drop=True)


def _limit(limit: int | None) -> int:
    if limit is None:
        return 2**62
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise UserError(f"limit must be a whole number >= 0, got {limit!r}")
    return limit


def _trend_list(trend) -> list[float | None]:
    """A DuckDB list cell -> list of floats with None for missing weeks ([] for NULL)."""
    if trend is None or isinstance(trend, (float, type(pd.NA))) or not hasattr(trend, "__iter__"):
        return []
    if isinstance(trend, np.ma.MaskedArray):  # DuckDB hands lists with NULLs over masked
        return [None if masked else float(v) for v, masked in zip(trend.data, np.ma.getmaskarray(trend))]
    if isinstance(trend, np.ndarray):
        return trend.astype(float).tolist()
    return [None if v is None or pd.isna(v) else float(v) for v in trend]


def accounts_csv(accounts: pd.DataFrame) -> bytes:
    """UTF-8 CSV of a ``cell_accounts`` frame (the trend as 'w1 w2 w3 w4', '' = no data)."""
    out = accounts.copy()
    out["score_trend"] = [
        " ".join("" if v is None else f"{v:.1f}" for v in trend) for trend in out["score_trend"]
    ]
    return to_csv(out).encode("utf-8")  # formula-safe, money at cents


# --------------------------------------------------------------------------- movement
def cell_movement(conn, filters: Filters, month: str, health_tier: str, value_tier: str) -> dict[str, pd.DataFrame]:
    """How accounts moved into and out of a cell since the previous month.

    Returns a dict of frames (state names: a cell id, or new / reactivated / churned /
    unscored / outside_slice, see ninebox_movement.sql):
    * ``entered``: from_state, accounts, arr (this month's ARR), label, largest first;
    * ``left``: to_state, accounts, arr (last month's ARR, the ARR that left), label;
    * ``stayed``: one row, accounts, prev_arr, arr, arr_change (= arr - prev_arr);
    * ``accounts``: one row per mover: account_id, name, direction ('entered'|'left'),
      prev_state, this_state, prev_arr, arr.
    Invariants: entered - left accounts = the cell's delta_accounts, and
    entered arr - left arr + stayed arr_change = its delta_arr (for a month with a
    previous month in the data; in the first month every account is 'new').
    """
    _check_tiers(health_tier, value_tier, allow_unscored=False)
    month, previous = _check_month(conn, month)
    cell = cell_id(value_tier, health_tier)
    rows = query(conn, *render("ninebox_movement", filters, alias="a", this_month=month, prev_month=previous,
                               cell_id=cell, health_tier=health_tier, value_tier=value_tier))
    # a few thousand rows at most: plain Python is faster here than pandas' groupby
    records = rows.to_dict("records")
    entered = [r for r in records if r["this_state"] == cell and r["prev_state"] != cell]
    left = [r for r in records if r["prev_state"] == cell and r["this_state"] != cell]
    stayed = [r for r in records if r["prev_state"] == cell and r["this_state"] == cell]
    movers = [{**r, "direction": "entered"} for r in entered] + [{**r, "direction": "left"} for r in left]
    movers.sort(key=lambda r: (r["direction"], -r["arr"], -r["prev_arr"], r["account_id"]))
    return {
        "entered": _by_state(entered, "prev_state", "arr", "from_state"),
        "left": _by_state(left, "this_state", "prev_arr", "to_state"),
        "stayed": pd.DataFrame(
            [
                {
                    "accounts": len(stayed),
                    "prev_arr": float(sum(r["prev_arr"] for r in stayed)),
                    "arr": float(sum(r["arr"] for r in stayed)),
                    "arr_change": float(sum(r["arr"] - r["prev_arr"] for r in stayed)),
                }
            ]
        ),
        "accounts": pd.DataFrame(
            movers, columns=["account_id", "name", "direction", "prev_state", "this_state", "prev_arr", "arr"]
        ),
    }


def _by_state(records: list[dict], state: str, money: str, name: str) -> pd.DataFrame:
    """Movers grouped by the state they came from / went to: name, accounts, arr, label."""
    totals: dict[str, list] = {}
    for r in records:
        entry = totals.setdefault(r[state], [0, 0.0])
        entry[0] += 1
        entry[1] += float(r[money])
    ordered = sorted(totals.items(), key=lambda kv: (-kv[1][1], kv[0]))
    return pd.DataFrame(
        {
            name: [k for k, _ in ordered],
            "accounts": pd.Series([v[0] for _, v in ordered], dtype="int64"),
            "arr": pd.Series([v[1] for _, v in ordered], dtype=float),
            "label": [cell_label(k) for k, _ in ordered],
        }
    )


# --------------------------------------------------------------------------- compare books
def books(conn, filters: Filters, month: str, by: str = "csm_team") -> pd.DataFrame:
    """The month's grid per owner (``by`` in BOOK_OWNERS: 'csm_team' or 'csm').

    Long format, 12 rows per owner (health tier incl. 'unscored' x value tier): owner,
    health_tier, value_tier, cell_id, accounts, arr, arr_share and accounts_share (of the
    owner's own total), owner_accounts, owner_arr. Owners with no active account in the
    slice are absent.
    """
    if by not in BOOK_OWNERS:
        raise UserError(f"compare books by one of {', '.join(BOOK_OWNERS)}, got {by!r}")
    month, _ = _check_month(conn, month)
    df = query(conn, *render("ninebox_books", filters, alias="a", splice={_OWNER_MARKER: BOOK_OWNERS[by]},
                             month=month))
    df["cell_id"] = [
        "unscored" if h == "unscored" else cell_id(v, h) for h, v in zip(df["health_tier"], df["value_tier"])
    ]
    return df[
        ["owner", "health_tier", "value_tier", "cell_id", "accounts", "arr", "arr_share",
         "accounts_share", "owner_accounts", "owner_arr"]
    ]


def books_table(long: pd.DataFrame, measure: str = "arr") -> pd.DataFrame:
    """One row per owner from ``books``: owner, accounts, arr, then the share of the
    owner's ARR (measure 'arr') or accounts ('accounts') in each of the nine cells and
    in 'unscored', as fractions summing to 1 per owner; largest book first."""
    if measure not in ("arr", "accounts"):
        raise UserError(f"measure must be 'arr' or 'accounts', got {measure!r}")
    share = f"{measure}_share"
    collapsed = long.assign(column=long["cell_id"]).groupby(["owner", "column"], as_index=False)[share].sum()
    wide = collapsed.pivot(index="owner", columns="column", values=share)
    wide = wide.reindex(columns=[*CELL_IDS, "unscored"]).fillna(0.0)
    totals = long.groupby("owner")[["owner_accounts", "owner_arr"]].first()
    out = totals.rename(columns={"owner_accounts": "accounts", "owner_arr": "arr"}).join(wide)
    out = out.reset_index().sort_values(["arr", "owner"], ascending=[False, True])
    out.columns.name = None
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- playbooks
def default_playbooks(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The shipped playbooks (``cslib/config/playbooks.toml``): cell_id, title, body.

    UserError (naming the file) when a cell is missing or unknown, or a key is wrong.
    """
    where = Path(path) if path is not None else PLAYBOOKS_PATH
    doc = tomlfile.read(where, "playbook file")
    unknown = sorted(set(doc) - set(CELL_IDS))
    if unknown:
        raise UserError(f"{where}: unknown cell '{unknown[0]}' (cells are <value>|<health>)")
    rows = []
    for cell in CELL_IDS:
        entry = doc.get(cell)
        if not isinstance(entry, dict):
            raise UserError(f"{where}: missing cell '{cell}'")
        extra = sorted(set(entry) - {"title", "body"})
        if extra:
            raise UserError(f"{where}: cell '{cell}': unknown key '{extra[0]}'")
        title, body = entry.get("title"), entry.get("body")
        if not isinstance(title, str) or not isinstance(body, str) or not body.strip():
            raise UserError(f"{where}: cell '{cell}' needs a title and a non-empty body")
        rows.append({"cell_id": cell, "title": title.strip(), "body": _unwrap(body)})
    return pd.DataFrame(rows)


def _unwrap(text: str) -> str:
    """TOML paragraphs wrapped at ~90 columns -> one line per paragraph."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def playbooks(store, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """The nine playbooks: defaults merged with the edits in ``store`` (a cslib.store.appstore.AppStore).

    Columns: cell_id, value_tier, health_tier, title, body, source ('default' | 'edited'),
    updated_by, updated_at (None for defaults). An edit replaces the default body; the
    title stays the shipped one. Edits for cell ids that are not cells are ignored.
    """
    out = default_playbooks(path)
    edits = store.playbooks().set_index("cell_id")
    out["value_tier"] = [c.split("|")[0] for c in out["cell_id"]]
    out["health_tier"] = [c.split("|")[1] for c in out["cell_id"]]
    is_edited = out["cell_id"].isin(edits.index)
    out["source"] = ["edited" if e else "default" for e in is_edited]
    out["body"] = [edits.at[c, "body"] if e else b for c, e, b in zip(out["cell_id"], is_edited, out["body"])]
    out["updated_by"] = [edits.at[c, "updated_by"] if e else None for c, e in zip(out["cell_id"], is_edited)]
    out["updated_at"] = [edits.at[c, "updated_at"] if e else None for c, e in zip(out["cell_id"], is_edited)]
    return out[["cell_id", "value_tier", "health_tier", "title", "body", "source", "updated_by", "updated_at"]]


def save_playbook(store, cell: str, body: str, user: str) -> None:
    """Store an edited playbook for ``cell`` (who = ``user``, '' -> 'anonymous').

    UserError for an unknown cell, an empty text or one over the store's limit.
    """
    split_cell(cell)
    store.set_playbook(cell, body, user)


def closed_alert_ids(store) -> tuple[str, ...]:
    """Ids of the alerts marked closed in the app store (sorted; hashable for caching)."""
    statuses = store.alert_statuses()
    return tuple(sorted(statuses.loc[statuses["status"] == "closed", "alert_id"].astype(str)))


# --------------------------------------------------------------------------- report
def ninebox_report(conn, args) -> tuple[str, dict[str, pd.DataFrame]]:
    """``python -m cslib report ninebox``: the grid (9 rows) and the unscored row.

    When nothing in the slice is scored (cslib.views.metrics.health_data_status), the grid is
    n/a: its numbers are null (not 0) and ``note`` says why; the unscored row keeps them.
    """
    from cslib.views.metrics import NO_HEALTH_DATA, health_data_status

    month = args.month or default_month(conn)  # the app's default month (cslib.months)
    summary = grid_summary(conn, args.filters, month)
    grid = summary["grid"].copy()
    status = health_data_status(conn, args.filters, month)
    grid["note"] = None if status.ok else f"{NO_HEALTH_DATA}: {status.reason}"
    if not status.ok:
        for column in ("accounts", "arr", "arr_share", "accounts_share", "prev_accounts", "prev_arr",
                       "delta_accounts", "delta_arr"):
            grid[column] = pd.Series([None] * len(grid), index=grid.index, dtype=object)
    return month, {"grid": grid, "unscored": summary["unscored"]}
