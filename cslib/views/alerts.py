"""Weekly change alerts: the alert list, statuses, recovery, window trade-off.

* The rules themselves (load_alert_rules, write_alert_rule_tables) are in
  cslib.rules.alert_rules; ``rules_table`` shows what the database was built with.
* ``month_alerts`` lists the alerts of the weeks starting in a month for a filtered slice;
  ``with_status`` adds the statuses people set in the app (cslib.store.appstore.AppStore);
  ``alert_recovery`` says whether the score came back after the alert was acknowledged.
* ``window_tradeoff`` re-scores the slice's recent weeks with 1-, 4- and 13-week windows
  in a private in-memory DuckDB (never the app's database) and compares alert counts and lag.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from cslib.store.appstore import ALERT_STATUSES, AppStore
from cslib.store.db import query
from cslib.store.queries import render, render_sql
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.rules.alert_rules import RULE_LABELS, RULES, SEVERITIES

#: what health_alerts says about the score's parts, for any scorecard: the driver (the
#: indicator that moved most with the score; name, label from cfg_indicators, change in
#: points) and every indicator's change (indicator_changes, see month_alerts)
INDICATOR_COLUMNS: tuple[str, ...] = ("driver_indicator", "driver_label", "driver_change", "indicator_changes")
ALERT_COLUMNS: tuple[str, ...] = (
    "alert_id", "account_id", "name", "csm", "csm_team", "week_start", "month", "rule",
    "nature", "severity", "detail", "score", "prev_score", "score_change", "tier", "prev_tier",
    *INDICATOR_COLUMNS,
)
_SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}
_ALERT_MARKER = "/* alert_predicate */ true"


def rules_table(conn) -> pd.DataFrame:
    """The rules the database was built with: rule, label, nature, severity, is_enabled,
    parameters (text for display, e.g. 'min_drop_points = 15')."""
    rules = query(conn, "select rule, nature, severity, is_enabled from cfg_alert_rules")
    params = query(conn, "select rule, param, value from cfg_alert_params")
    roles = query(conn, "select rule, role from cfg_alert_roles")
    text: dict[str, list[str]] = {}
    for row in params.itertuples():
        text.setdefault(row.rule, []).append(f"{row.param} = {_num(row.value)}")
    for rule, group in roles.groupby("rule"):
        text.setdefault(rule, []).append("roles = " + ", ".join(sorted(group["role"])))
    rules["label"] = rules["rule"].map(RULE_LABELS).fillna(rules["rule"])
    rules["parameters"] = rules["rule"].map(lambda r: "; ".join(text.get(r, [])))
    order = {r: i for i, r in enumerate(RULES)}
    rules = rules.sort_values("rule", key=lambda s: s.map(order)).reset_index(drop=True)
    return rules[["rule", "label", "nature", "severity", "is_enabled", "parameters"]]


def _recovery_params(conn) -> tuple[int, float]:
    df = query(conn, "select param, value from cfg_alert_params where rule = 'recovery'")
    values = dict(zip(df["param"], df["value"]))
    return int(values.get("weeks", 2)), float(values.get("points", 10.0))


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


# --------------------------------------------------------------------------- alert list
def month_alerts(conn, filters: Filters, month: str, alert_id: str | None = None) -> pd.DataFrame:
    """Alerts of the weeks starting in ``month`` ('YYYY-MM') for accounts in the slice.

    The slice is taken on the account's ``account_month`` row of that month (an alert of
    an account with no row that month, e.g. before its first revenue, is left out).
    Columns ALERT_COLUMNS; sorted by week, severity (high first), account, rule. Score
    columns are points (0..100; changes in points), NULL where the week has no score.
    indicator_changes is a tuple of (indicator, label, change) in scorecard order (change
    None without a previous week; an empty tuple when the week has no health row): a
    tuple, so the frame hashes for caching. driver_* are None when nothing explains it.
    With ``alert_id``, only that alert (no row when it is not in the month or slice).
    """
    one_alert: dict = {}
    splice: dict = {}
    if alert_id is not None:
        splice = {_ALERT_MARKER: "a.alert_id = $alert_id"}
        one_alert = {"alert_id": alert_id}
    df = query(conn, *render("flows_month_alerts", filters, alias="am", splice=splice, month=month, **one_alert))
    df["week_start"] = pd.to_datetime(df["week_start"]).dt.date
    df["indicator_changes"] = [_change_tuple(v) for v in df["indicator_changes"]]
    for column in ("driver_indicator", "driver_label"):
        df[column] = df[column].astype(object).where(df[column].notna(), None)
    df["driver_change"] = pd.to_numeric(df["driver_change"], errors="coerce").astype(float)
    df["_sev"] = df["severity"].map(_SEVERITY_ORDER)
    df = df.sort_values(["week_start", "_sev", "account_id", "rule"]).drop(columns="_sev")
    return df.reset_index(drop=True)[list(ALERT_COLUMNS)]


def month_panel(conn, filters: Filters, month: str) -> dict[str, pd.DataFrame]:
    """What the page's alert panel needs, from one month_alerts query: {"alerts":
    month_alerts(...), "recovery": alert_recovery of every malignant alert counted from
    the alert's own week (as if never acknowledged; the page recomputes only the
    acknowledged alerts, ``override_recovery``), "summary": alert_summary(...)}."""
    listed = month_alerts(conn, filters, month)
    bad = listed[listed["nature"] == "malignant"]
    refs = pd.DataFrame({
        "alert_id": bad["alert_id"],
        "account_id": bad["account_id"],
        "start_on": bad["week_start"],
        "prev_score": bad["prev_score"].astype(float),
        "score": bad["score"].astype(float),
    })
    return {"alerts": listed, "recovery": _recovery(conn, refs), "summary": alert_summary(listed)}


def with_status(alerts: pd.DataFrame, statuses: pd.DataFrame) -> pd.DataFrame:
    """``alerts`` plus status ('open' when never set), acknowledged_on (date or None),
    updated_by. ``statuses`` is AppStore.alert_statuses() (alert_id, status, updated_by,
    updated_at, acknowledged_at ISO timestamps)."""
    out = alerts.copy()
    st = statuses.set_index("alert_id") if len(statuses) else None
    if st is None:
        out["status"] = "open"
        out["acknowledged_on"] = None
        out["updated_by"] = None
        return out
    out["status"] = out["alert_id"].map(st["status"]).fillna("open")
    ack = out["alert_id"].map(st["acknowledged_at"])
    out["acknowledged_on"] = [
        dt.datetime.fromisoformat(v).date() if isinstance(v, str) and v else None for v in ack
    ]
    out["updated_by"] = out["alert_id"].map(st["updated_by"])
    return out


def recovery_refs(alerts: pd.DataFrame) -> tuple[tuple, ...]:
    """Hashable input of alert_recovery for the malignant alerts of ``alerts`` (needs the
    columns of with_status): (alert_id, account_id, start ISO date, prev_score, score)."""
    bad = alerts[alerts["nature"] == "malignant"]
    starts = [
        (ack if ack is not None and not pd.isna(ack) else week).isoformat()
        for ack, week in zip(bad["acknowledged_on"], bad["week_start"])
    ]
    prev = [None if pd.isna(v) else float(v) for v in bad["prev_score"]]
    score = [None if pd.isna(v) else float(v) for v in bad["score"]]
    return tuple(zip(bad["alert_id"], bad["account_id"], starts, prev, score))


def _opt(value) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def alert_recovery(conn, refs: tuple[tuple, ...]) -> pd.DataFrame:
    """Did the score come back? One row per ref (alert_id, account_id, start_on ISO date,
    prev_score, score): columns alert_id, recovery, best_score, target_score, window_end.

    The window is the weeks starting after start_on, up to start_on + 7 * recovery weeks
    (config). target_score = min(prev_score, score + points) when the alert week's score
    fell from prev_score, else score + points. recovery: 'recovered' (a week in the window
    reached the target), 'pending' (not yet, and the data ends before the window does),
    'not_recovered', or 'n/a' (the alert week has no score).
    """
    frame = pd.DataFrame(list(refs), columns=["alert_id", "account_id", "start_on", "prev_score", "score"])
    frame["start_on"] = [dt.date.fromisoformat(s) for s in frame["start_on"]]
    for column in ("prev_score", "score"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return _recovery(conn, frame)


def _recovery(conn, refs: pd.DataFrame) -> pd.DataFrame:
    """alert_recovery on a frame: alert_id, account_id, start_on (date), prev_score and
    score (float, NaN when missing)."""
    columns = ["alert_id", "recovery", "best_score", "target_score", "window_end"]
    if refs.empty:
        return pd.DataFrame(columns=columns)
    weeks, points = _recovery_params(conn)
    frame = refs.reset_index(drop=True)
    prev, score = frame["prev_score"].to_numpy(float), frame["score"].to_numpy(float)
    # a fall from prev_score caps the target at prev_score (NaN > x is False: no cap)
    with np.errstate(invalid="ignore"):
        target = np.where(prev > score, np.minimum(prev, score + points), score + points)
    frame["target_score"] = target  # NaN when the alert week has no score
    best = query(conn, *render("flows_alert_recovery", alert_ids=frame["alert_id"].tolist(),
                               account_ids=frame["account_id"].tolist(), start_dates=frame["start_on"].tolist(),
                               window_days=weeks * 7))
    out = frame.merge(best, on="alert_id", how="left")
    window_end = pd.to_datetime(out["window_end"])
    last_week = pd.to_datetime(out["last_week"])
    has_target = out["target_score"].notna()
    recovered = out["best_score"].notna() & (out["best_score"] >= out["target_score"] - 1e-9)
    pending = last_week.isna() | (last_week < window_end)
    out["recovery"] = np.select(
        [~has_target, recovered, pending], ["n/a", "recovered", "pending"], default="not_recovered"
    ).tolist()
    out["window_end"] = window_end.dt.date
    return out[columns]


def with_recovery(listed: pd.DataFrame, recovery: pd.DataFrame) -> pd.DataFrame:
    """``listed`` (alerts, e.g. with_status output) plus its ``recovery`` label from
    ``recovery`` (alert_recovery rows, by alert_id); '' for alerts not tracked (benign)."""
    out = listed.merge(recovery[["alert_id", "recovery"]], on="alert_id", how="left")
    out["recovery"] = out["recovery"].fillna("")
    return out


def override_recovery(base: pd.DataFrame, acknowledged: pd.DataFrame) -> pd.DataFrame:
    """``base`` with the rows of ``acknowledged`` (same columns) replacing those alert ids."""
    if acknowledged.empty:
        return base
    kept = base[~base["alert_id"].isin(acknowledged["alert_id"])]
    return pd.concat([kept, acknowledged], ignore_index=True)


def recovery_rate(recovery: pd.DataFrame) -> tuple[float | None, int, int]:
    """(recovered / decided, recovered, decided) where decided = recovered + not_recovered;
    rate None when nothing is decided yet."""
    recovered = int((recovery["recovery"] == "recovered").sum())
    decided = recovered + int((recovery["recovery"] == "not_recovered").sum())
    return (recovered / decided if decided else None), recovered, decided


def alert_summary(alerts: pd.DataFrame) -> pd.DataFrame:
    """Counts per rule: rule, label, nature, severity, alerts, accounts (RULES order)."""
    if alerts.empty:
        return pd.DataFrame(columns=["rule", "label", "nature", "severity", "alerts", "accounts"])
    g = alerts.groupby(["rule", "nature", "severity"], as_index=False).agg(
        alerts=("alert_id", "count"), accounts=("account_id", "nunique")
    )
    g["label"] = g["rule"].map(RULE_LABELS).fillna(g["rule"])
    order = {r: i for i, r in enumerate(RULES)}
    g = g.sort_values("rule", key=lambda s: s.map(order)).reset_index(drop=True)
    return g[["rule", "label", "nature", "severity", "alerts", "accounts"]]


def alert_labels(alerts: pd.DataFrame) -> dict[str, str]:
    """alert_id -> 'DD Mon · account name · rule label' for a picker (needs alert_id,
    week_start, name, rule)."""
    # a month has a handful of weeks and rules: format each once (plain Python is faster
    # than pandas string ops for this)
    weeks = {w: f"{w:%d %b}" for w in set(alerts["week_start"])}
    return {
        alert_id: f"{weeks[week]} · {name} · {RULE_LABELS.get(rule, rule)}"
        for alert_id, week, name, rule in zip(
            alerts["alert_id"].tolist(), alerts["week_start"].tolist(), alerts["name"].tolist(), alerts["rule"].tolist()
        )
    }


def _change_tuple(value) -> tuple[tuple[str, str, float | None], ...]:
    """A health_alerts indicator_changes cell (a list of {indicator, label, change}, or
    NULL) -> ((indicator, label, change), ...)."""
    if value is None or (not isinstance(value, (list, tuple, np.ndarray))):
        return ()
    out = []
    for item in value:
        if isinstance(item, dict):
            out.append((str(item["indicator"]), str(item["label"]), _opt(item["change"])))
        else:
            ind, label, change = item
            out.append((str(ind), str(label), _opt(change)))
    return tuple(out)


def indicator_changes(alert: pd.Series) -> pd.DataFrame:
    """Per-indicator point changes of one alert row (month_alerts): indicator, label,
    change (points; None without a previous week), in scorecard order."""
    rows = [
        {"indicator": ind, "label": label, "change": change}
        for ind, label, change in _change_tuple(alert.get("indicator_changes"))
    ]
    return pd.DataFrame(rows, columns=["indicator", "label", "change"])


def set_status(store: AppStore, alert_ids: tuple[str, ...] | list[str], status: str, user: str) -> int:
    """Set ``status`` on every alert id (AppStore keeps the first acknowledgement time);
    returns how many were set. UserError for an unknown status or no alert."""
    if status not in ALERT_STATUSES:
        raise UserError(f"alert status {status!r} is not one of {', '.join(ALERT_STATUSES)}")
    ids = [a for a in alert_ids if a]
    if not ids:
        raise UserError("choose at least one alert")
    for alert_id in ids:
        store.set_alert_status(alert_id, status, user)
    return len(ids)


# --------------------------------------------------------------------------- window trade-off
TRADEOFF_WINDOWS: tuple[int, ...] = (1, 4, 13)
TRADEOFF_COLUMNS: tuple[str, ...] = (
    "window_weeks", "min_weeks", "accounts", "account_weeks", "score_drop_alerts", "tier_fall_alerts",
    "alerts_per_100_accounts", "tier_changes", "matched_falls", "median_lag_weeks",
)


def window_tradeoff(
    conn,
    filters: Filters,
    month: str,
    windows: tuple[int, ...] = TRADEOFF_WINDOWS,
    n_weeks: int = 26,
    max_accounts: int = 3000,
) -> pd.DataFrame:
    """Alert count and lag of the scorecard window on the slice's recent weeks.

    Takes the accounts active in ``month`` in the slice (at most ``max_accounts``, a
    deterministic sample by hash of account_id when there are more), copies their raw
    weekly usage of the ``n_weeks`` weeks ending with the last week starting in the month
    (plus the history the longest window needs) into a private in-memory DuckDB, and
    scores it with the configured scorecard for each window length (``dataclasses.replace``;
    min_weeks scaled as ceil(window * min_weeks / window_weeks)). Per window: score-drop
    and tier-fall alerts (rules and drop threshold from the database's cfg_alert_params),
    tier changes, and the lag: for each tier fall at that window, the weeks since the
    1-week window first showed a fall of the same account to the same or a lower tier,
    after the longer window's previous tier change and within 13 weeks (median over the
    matched falls; see flows_window_tradeoff.sql). Columns
    TRADEOFF_COLUMNS plus sampled_from (accounts in the slice).
    """
    from cslib.rules.scorecard import load_scorecard, score_weeks, write_config_tables

    accounts = query(conn, *render_sql(
        "select account_id, count(*) over () as n_slice from account_month as am "
        "where am.month = $month and am.is_active and (/* filter_predicate */ true) "
        "order by hash(am.account_id), am.account_id limit $max_accounts",
        filters, alias="am", name="window_tradeoff accounts", month=month, max_accounts=int(max_accounts),
    ))
    empty = pd.DataFrame(columns=[*TRADEOFF_COLUMNS, "sampled_from"])
    if accounts.empty:
        return empty
    ids = accounts["account_id"].tolist()
    last_week = query(conn, *render_sql(
        "select max(week_start) as w from stg_usage_weekly where strftime(week_start, '%Y-%m') <= $month",
        month=month,
    ))["w"].iloc[0]
    if last_week is None or pd.isna(last_week):
        return empty
    last_week = pd.Timestamp(last_week).date()
    first_week = last_week - dt.timedelta(days=7 * (n_weeks - 1))
    history_start = first_week - dt.timedelta(days=7 * (max(windows) + 1))
    usage = query(conn, *render_sql(  # the weekly usage as scored (rolled up, missing weeks filled)
        "select * from stg_usage_weekly where list_contains($ids, account_id) "
        "and week_start between $history_start and $last_week",
        ids=ids, history_start=history_start, last_week=last_week,
    ))
    drop = query(conn, "select value from cfg_alert_params where rule = 'score_drop' and param = 'min_drop_points'")
    min_drop = float(drop["value"].iloc[0]) if len(drop) else 15.0

    base = load_scorecard()
    private = duckdb.connect(":memory:")
    try:
        private.register("usage_df", usage)
        # typed like the model (pandas turns DATE into a timestamp)
        private.execute(
            "create table stg_usage_weekly as select account_id::varchar as account_id, "
            "week_start::date as week_start, metric::varchar as metric, is_feature::boolean as is_feature, "
            "value::double as value, is_filled::boolean as is_filled from usage_df"
        )
        private.execute(
            "create table scored_windows (window_weeks integer, min_weeks integer, account_id varchar, "
            "week_start date, score double, tier varchar)"
        )
        for w in windows:
            min_weeks = max(1, math.ceil(w * base.min_weeks / base.window_weeks))
            card = dataclasses.replace(base, window_weeks=int(w), min_weeks=min(min_weeks, int(w)))
            write_config_tables(private, card)
            score_weeks(private, from_weekly=True)
            private.execute(*render_sql(
                "insert into scored_windows select $window_weeks, $min_weeks, account_id, week_start, score, tier "
                "from health_weekly",
                window_weeks=int(w), min_weeks=card.min_weeks,
            ))
        result = private.execute(*render(
            "flows_window_tradeoff", min_drop=min_drop, first_week=first_week, last_week=last_week,
            base_window=int(min(windows)),
        )).df()
    finally:
        private.close()
    result["sampled_from"] = int(accounts["n_slice"].iloc[0])
    result["accounts"] = len(ids)
    result["alerts_per_100_accounts"] = (
        (result["score_drop_alerts"] + result["tier_fall_alerts"]) * 100.0 / len(ids)
    )
    return result.sort_values("window_weeks").reset_index(drop=True)[[*TRADEOFF_COLUMNS, "sampled_from"]]


# --------------------------------------------------------------------------- report
def alerts_report(conn, args) -> tuple[str, dict[str, pd.DataFrame]]:
    """``report alerts``: the alerts of the weeks starting in the month, with the status
    people set in the app (store beside the database) and the recovery test."""
    from cslib.months import check_month, data_months, default_month

    first, last = data_months(conn)
    month = default_month(conn) if args.month is None else check_month(args.month, first, last)
    alerts = month_alerts(conn, args.filters, month)
    path = getattr(conn, "path", None)
    store = AppStore(_store_path(path))
    alerts = with_status(alerts, store.alert_statuses())
    recovery = alert_recovery(conn, recovery_refs(alerts))
    alerts = alerts.merge(recovery[["alert_id", "recovery"]], on="alert_id", how="left")
    alerts["recovery"] = alerts["recovery"].fillna("")
    alerts["week_start"] = alerts["week_start"].astype(str)
    # JSON: the indicator changes as objects (change rounded like every other number)
    alerts["indicator_changes"] = [
        [{"indicator": ind, "label": label, "change": None if change is None else round(change, 6)}
         for ind, label, change in changes]
        for changes in alerts["indicator_changes"]
    ]
    alerts["acknowledged_on"] = alerts["acknowledged_on"].map(lambda d: d.isoformat() if d else None)
    return month, {"alerts": alerts.drop(columns=["updated_by"]), "summary": alert_summary(alerts)}


def _store_path(db_path) -> Path:
    from cslib.store.appstore import default_path

    return default_path(db_path)
