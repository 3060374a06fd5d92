"""Health flows (method section 3): tier migrations tied to ARR, month over month.

Everything reads the ``flows_account_month`` model (cslib/sql/marts/flows_account_month.sql
defines each account's monthly *state* and its step in the two bridges):

* ``transition_matrix``: accounts and ARR from last month's state (or new / won back) to
  this month's state (or churned); ``matrix_table`` pivots it for display.
* ``bridges``: the healthy-ARR and unhealthy-ARR bridges; start + sum(steps) = end.
* ``health_rate_trend``: health rate and health-rate MoM per month, overall or per CSM
  team or CSM.

States: healthy / at_risk / unhealthy / unscored (month-end tier), deferred (overdue at
the month end, ``account_month.is_overdue``: the latest renewal due by then had no renewal
order by then, whatever its later outcome; it overrides the tier and counts as unhealthy),
churned (MRR went to 0). Money is ARR (currency per year). The healthy bridge's end over
ARR is the Overview's health rate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cslib.store.db import query
from cslib.store.queries import render
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.ratios import ratio

FROM_STATES: tuple[str, ...] = ("new", "won_back", "healthy", "at_risk", "unhealthy", "unscored", "deferred")
TO_STATES: tuple[str, ...] = ("healthy", "at_risk", "unhealthy", "unscored", "deferred", "churned")
STATE_LABELS: dict[str, str] = {
    "new": "New",
    "won_back": "Won back",
    "healthy": "Healthy",
    "at_risk": "At risk",
    "unhealthy": "Unhealthy",
    "unscored": "Unscored",
    "deferred": "Deferred",
    "churned": "Churned",
}
BRIDGES: tuple[str, ...] = ("healthy", "unhealthy")
#: bridge -> ((step, label, sign), ...) in display order, between 'start' and 'end'
BRIDGE_STEPS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "healthy": (
        ("new", "+ New healthy", 1),
        ("won_back", "+ Won back healthy", 1),
        ("expansion", "+ Expansion of healthy", 1),
        ("moved_in", "+ Upgraded to healthy", 1),
        ("contraction", "− Contraction of healthy", -1),
        ("moved_out", "− Downgraded from healthy", -1),
        ("churned", "− Churned", -1),
        ("deferred", "− Deferred", -1),
    ),
    "unhealthy": (
        ("new", "+ New unhealthy", 1),
        ("won_back", "+ Won back unhealthy", 1),
        ("expansion", "+ Expansion of unhealthy", 1),
        ("moved_in", "+ Downgraded to unhealthy", 1),
        ("deferred", "+ Deferred (renewal overdue)", 1),
        ("contraction", "− Contraction of unhealthy", -1),
        ("moved_out", "− Upgraded out of unhealthy", -1),
        ("churned", "− Churned", -1),
    ),
}
BRIDGE_TITLES = {"healthy": "Healthy ARR", "unhealthy": "Unhealthy ARR (incl. deferred)"}
#: group-by levels of the trend -> flows_account_month column (a whitelist)
TREND_LEVELS: dict[str, str | None] = {"overall": None, "csm_team": "csm_team", "csm": "csm"}
_GROUP_MARKER = "/* group_key */ 'all'"


def resolve_month(conn, month: str | None) -> str:
    """``month`` checked against the data ('YYYY-MM'), or the app's default month when None
    (the latest, or the last with usage: ``cslib.months.default_month``)."""
    from cslib.months import check_month, data_months, default_month

    first, last = data_months(conn)
    return default_month(conn) if month is None else check_month(month, first, last)


def _month_parts(conn, filters: Filters, month: str) -> pd.DataFrame:
    """flows_month.sql for the slice and month: part ('matrix' | 'bridge'), key_a, key_b,
    accounts, arr (one scan serves the matrix and both bridges)."""
    return query(conn, *render("flows_month", filters, alias="f", month=month))


def _matrix_from(parts: pd.DataFrame) -> pd.DataFrame:
    found = parts[parts["part"] == "matrix"].rename(columns={"key_a": "from_state", "key_b": "to_state"})
    grid = pd.MultiIndex.from_product([FROM_STATES, TO_STATES], names=["from_state", "to_state"])
    out = (
        found.set_index(["from_state", "to_state"])[["accounts", "arr"]]
        .reindex(grid)
        .fillna(0)
        .reset_index()
    )
    out["accounts"] = out["accounts"].astype("int64")
    out["arr"] = out["arr"].astype(float)
    return out


def _bridges_from(parts: pd.DataFrame) -> pd.DataFrame:
    found = parts[parts["part"] == "bridge"].rename(columns={"key_a": "bridge", "key_b": "step"})
    found = found.set_index(["bridge", "step"])
    rows = []
    for bridge in BRIDGES:
        plan = [("start", "Last month", 0, "start")]
        plan += [(step, label, sign, "step") for step, label, sign in BRIDGE_STEPS[bridge]]
        plan += [("end", "This month", 0, "end")]
        for order, (step, label, _sign, kind) in enumerate(plan):
            key = (bridge, step)
            arr = float(found.loc[key, "arr"]) if key in found.index else 0.0
            accounts = int(found.loc[key, "accounts"]) if key in found.index else 0
            rows.append(
                {"bridge": bridge, "step": step, "label": label, "kind": kind,
                 "arr": 0.0 if math.isnan(arr) else arr, "accounts": accounts, "order": order}
            )
    return pd.DataFrame(rows)


def transition_matrix(conn, filters: Filters, month: str) -> pd.DataFrame:
    """Long transition matrix of ``month``: from_state, to_state, accounts, arr.

    One row per (from, to) pair in FROM_STATES x TO_STATES (zeros included). arr is this
    month's ARR of the accounts, or last month's for to_state 'churned'. The slice is
    taken on this month's rows (a churned account keeps its attributes).
    """
    return _matrix_from(_month_parts(conn, filters, month))


def matrix_table(matrix: pd.DataFrame, value: str = "accounts") -> pd.DataFrame:
    """Pivot of ``transition_matrix`` for display: rows FROM_STATES labels, columns
    TO_STATES labels and 'Total'; ``value`` is 'accounts' or 'arr'. Rows and columns
    that are all zero are kept (the matrix is the same shape every month)."""
    if value not in ("accounts", "arr"):
        raise UserError(f"matrix value must be accounts or arr, got {value!r}")
    wide = matrix.pivot(index="from_state", columns="to_state", values=value)
    wide = wide.reindex(index=list(FROM_STATES), columns=list(TO_STATES)).fillna(0)
    wide["total"] = wide.sum(axis=1)
    wide.index = [STATE_LABELS[s] for s in wide.index]
    wide.columns = [STATE_LABELS.get(c, "Total") for c in wide.columns]
    wide.index.name = "From \\ to"
    return wide.astype("int64") if value == "accounts" else wide.round(2)


def bridges(conn, filters: Filters, month: str) -> pd.DataFrame:
    """Both bridges of ``month``: bridge ('healthy' | 'unhealthy'), step, label, kind
    ('start' | 'step' | 'end'), arr (signed; start and end positive), accounts, order.

    Every step of BRIDGE_STEPS is present (0 when nothing moved). Invariant, per bridge:
    start + sum(step arr) = end (to floating-point rounding).
    """
    return _bridges_from(_month_parts(conn, filters, month))


def month_flows(conn, filters: Filters, month: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(transition_matrix(...), bridges(...))`` of the month from one query (what the
    page needs for its matrix and bridge panels)."""
    parts = _month_parts(conn, filters, month)
    return _matrix_from(parts), _bridges_from(parts)


def health_rate_trend(
    conn, filters: Filters, month: str, level: str = "overall", n_months: int = 12
) -> pd.DataFrame:
    """Health rate and health-rate MoM per month and group for the ``n_months`` months
    ending with ``month``.

    level: 'overall' (group 'all'), 'csm_team' or 'csm'. Columns: month, group, active_accounts,
    arr, healthy_arr, unhealthy_arr, deferred_arr, prev_healthy_arr, health_rate
    (healthy_arr / arr), health_rate_mom (healthy_arr / prev_healthy_arr), scored_accounts
    (active accounts with a month-end score). Healthy ARR leaves deferred (overdue) accounts
    out (they count as unhealthy, method section 3), as the Overview does. Ratios are fractions, NaN when the denominator
    is 0 or the month before the data is needed. A group-month with active accounts but
    none scored has no health data: healthy_arr, unhealthy_arr, health_rate and
    health_rate_mom are NaN there, never 0 (cslib.views.metrics.health_data_status says why).
    Each month uses its own slice (as cslib.views.metrics does).
    """
    from cslib.months import data_months, shift_month

    if level not in TREND_LEVELS:
        raise UserError(f"level must be one of {', '.join(TREND_LEVELS)}, got {level!r}")
    first, _last = data_months(conn)
    start = max(shift_month(month, -(n_months - 1)), first)
    query_start = shift_month(start, -1)
    calendar = [query_start]
    while calendar[-1] < month:
        calendar.append(shift_month(calendar[-1], 1))
    column = TREND_LEVELS[level]
    splice = {} if column is None else {_GROUP_MARKER: f"f.{column}"}
    raw = query(conn, *render("flows_health_trend", filters, alias="f", splice=splice,
                              first_month=query_start, last_month=month))
    columns = ["active_accounts", "arr", "healthy_arr", "unhealthy_arr", "deferred_arr"]
    out_columns = ["month", "group", *columns, "prev_healthy_arr", "health_rate", "health_rate_mom", "scored_accounts"]
    frames = []
    for group, part in raw.groupby("group_name", sort=True):
        frame = part.set_index("month")[[*columns, "scored_accounts"]].reindex(calendar).fillna(0)
        # a month with active accounts but no score has no health data: unknown, not zero
        no_health = (frame["active_accounts"] > 0) & (frame["scored_accounts"] == 0)
        frame["prev_healthy_arr"] = frame["healthy_arr"].where(~no_health).shift(1)
        if query_start < first:
            frame.loc[first, "prev_healthy_arr"] = np.nan
        frame.loc[no_health, ["healthy_arr", "unhealthy_arr"]] = np.nan
        frame["group"] = group
        frames.append(frame.rename_axis("month").reset_index())
    if not frames:
        return pd.DataFrame(columns=out_columns)
    out = pd.concat(frames, ignore_index=True)
    out = out[out["month"] >= start].reset_index(drop=True)
    out["active_accounts"] = out["active_accounts"].astype("int64")
    out["scored_accounts"] = out["scored_accounts"].astype("int64")
    out["health_rate"] = ratio(out["healthy_arr"], out["arr"])
    out["health_rate_mom"] = ratio(out["healthy_arr"], out["prev_healthy_arr"])
    return out[out_columns]


def team_table(trend: pd.DataFrame, month: str) -> pd.DataFrame:
    """One row per group of ``health_rate_trend`` for ``month``: group, active_accounts,
    arr, healthy_arr, unhealthy_arr, health_rate, health_rate_mom; largest ARR first."""
    rows = trend[trend["month"] == month]
    cols = ["group", "active_accounts", "arr", "healthy_arr", "unhealthy_arr", "health_rate", "health_rate_mom"]
    return rows[cols].sort_values("arr", ascending=False).reset_index(drop=True)


#: The Health flows page's tiles: (name, label, format, help), in display order.
TILE_SPECS: tuple[tuple[str, str, str, str], ...] = (
    ("healthy_arr", "Healthy ARR", "money",
     "ARR of active accounts whose month-end tier is healthy and that have no overdue renewal."),
    ("unhealthy_arr", "Unhealthy ARR", "money",
     "ARR of unhealthy accounts plus deferred accounts (a renewal overdue with no renewal order: "
     "counted as unhealthy)."),
    ("health_rate", "Health rate", "percent", "Healthy ARR / ARR (deferred accounts are not healthy)."),
    ("health_rate_mom", "Health-rate MoM", "percent",
     "Healthy ARR this month / last month; above 100% the book climbs, below 100% is alarming."),
)


#: whether a rise of each tile is good (cslib.deltas): less unhealthy ARR is good
TILE_UP_IS_GOOD: dict[str, bool | None] = {
    "healthy_arr": True, "unhealthy_arr": False, "health_rate": True, "health_rate_mom": True,
}


def month_tiles(trend: pd.DataFrame, month: str, health_ok: bool = True) -> pd.DataFrame:
    """The page's tiles for ``month`` from an overall :func:`health_rate_trend` frame: one
    row per TILE_SPECS entry (name, label, value, delta, format, help, up_is_good). Without health data
    (``health_ok`` false) every value and delta is None (n/a), never 0."""
    rows = trend.set_index("month")
    months = list(rows.index)
    now = rows.loc[month] if month in months else None  # an empty slice: every tile n/a
    prev = rows.iloc[months.index(month) - 1] if now is not None and months.index(month) > 0 else None
    out = []
    for name, label, fmt, help_text in TILE_SPECS:
        value = None if now is None or pd.isna(now[name]) else float(now[name])
        before = None if prev is None or pd.isna(prev[name]) else float(prev[name])
        delta = value - before if value is not None and before is not None else None
        if not health_ok:
            value = delta = None
        out.append({"name": name, "label": label, "value": value, "delta": delta, "format": fmt, "help": help_text,
                    "up_is_good": TILE_UP_IS_GOOD[name]})
    return pd.DataFrame(out)


def flows_report(conn, args) -> tuple[str, dict[str, pd.DataFrame]]:
    """``report flows``: tiles (the page's four tiles: name, label, value, delta, format),
    matrix_accounts, matrix_arr (from-state rows, to-state columns), healthy_bridge and
    unhealthy_bridge (label, kind, arr, accounts, note) of the month.

    When nothing in the slice is scored this month (cslib.views.metrics.health_data_status) the
    bridges are n/a: arr and accounts are null (not 0) and ``note`` says why. The matrix
    stays: it counts accounts, and shows them all in the Unscored column.
    """
    from cslib.views.metrics import NO_HEALTH_DATA, health_data_status

    month = resolve_month(conn, args.month)
    matrix, both = month_flows(conn, args.filters, month)
    status = health_data_status(conn, args.filters, month)
    tiles = month_tiles(health_rate_trend(conn, args.filters, month, "overall"), month, status.ok)
    tables = {
        "tiles": tiles[["name", "label", "value", "delta", "format"]],
        "matrix_accounts": matrix_table(matrix, "accounts").reset_index(names="from"),
        "matrix_arr": matrix_table(matrix, "arr").reset_index(names="from"),
    }
    for bridge in BRIDGES:
        part = both[both["bridge"] == bridge][["step", "label", "kind", "arr", "accounts"]].reset_index(drop=True)
        part["note"] = None if status.ok else f"{NO_HEALTH_DATA}: {status.reason}"
        if not status.ok:
            for column in ("arr", "accounts"):
                part[column] = pd.Series([None] * len(part), index=part.index, dtype=object)
        tables[f"{bridge}_bridge"] = part
    return month, tables
