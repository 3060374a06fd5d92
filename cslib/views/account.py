"""One account, as it stood at the end of a month: the Account page's numbers.

Every section reads only what was known at the month's end (no hindsight): the header's
ARR and tiers are the month's row of ``ninebox_account_month`` (the tiers the Nine-box
shows, an overdue account unhealthy); scores and indicator points up to the month's last
week; MRR movements, nine-box path, alerts, CSM logs, events and red-light flags up to the
month; a renewal counts as renewed only when its order is dated by the month end (see
``account_renewals.sql``). Notes and touchpoints that CSMs add in the app live in the app
store (cslib.store.appstore), so they survive every re-import.

Access: ``header`` returns nothing for an account outside the viewer's scope (a
``Filters`` from cslib.rules.access.scope, applied to any month of the account), and the page
shows nothing else of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from cslib.store.appstore import ALERT_STATUSES, AppStore
from cslib.store.db import query
from cslib.store.queries import render
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.months import MONTH_RE, month_end

#: weeks of score history the page draws (about a year)
SCORE_WEEKS = 52
#: weeks compared by "what moved the score" (the month-end week vs four weeks before)
CHANGE_WEEKS = 4
#: rows the search returns
SEARCH_LIMIT = 20


def check_month(month) -> str:
    """``month`` if it is 'YYYY-MM', else a one-line UserError."""
    if not isinstance(month, str) or not MONTH_RE.match(month):
        raise UserError(f"month must be YYYY-MM, got {month!r}")
    return month


def month_end_week(month: str) -> dt.date:
    """The Monday of the month's last week that starts inside the month (its month-end week)."""
    end = month_end(month)
    return end - dt.timedelta(days=end.weekday())


@dataclass(frozen=True)
class Header:
    """The account at the month end. ``arr`` etc. are None for a month before its first
    revenue month; ``is_active`` is False in a month without revenue."""

    account_id: str
    name: str
    segment: str | None
    industry: str | None
    region: str | None
    csm: str | None
    csm_team: str | None
    lifecycle_stage: str | None
    is_target: bool
    is_active: bool
    arr: float | None
    health_score: float | None
    health_tier: str | None
    score_tier: str | None
    is_overdue: bool
    value_tier: str | None

    @property
    def cell_id(self) -> str | None:
        """The nine-box cell '<value_tier>|<health_tier>' (None when not in a cell)."""
        if not self.is_active or self.value_tier is None or self.health_tier in (None, "unscored"):
            return None
        return f"{self.value_tier}|{self.health_tier}"


def _opt(value):
    return None if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA else value


def header(conn, account_id: str, month: str, scope: Filters) -> Header | None:
    """The account at ``month``'s end, or None when it does not exist or lies outside ``scope``."""
    check_month(month)
    df = query(conn, *render("account_header", scope, alias="m", account_id=str(account_id), month=month))
    if df.empty:
        return None
    r = {k: _opt(v) for k, v in df.iloc[0].to_dict().items()}
    return Header(
        account_id=str(r["account_id"]),
        name=str(r["name"] or r["account_id"]),
        segment=r["segment"],
        industry=r["industry"],
        region=r["region"],
        csm=r["csm"],
        csm_team=r["csm_team"],
        lifecycle_stage=r["lifecycle_stage"],
        is_target=bool(r["is_target"]) if r["is_target"] is not None else True,
        is_active=bool(r["is_active"]) if r["is_active"] is not None else False,
        arr=float(r["arr"]) if r["arr"] is not None else None,
        health_score=float(r["health_score"]) if r["health_score"] is not None else None,
        health_tier=r["health_tier"],
        score_tier=r["score_tier"],
        is_overdue=bool(r["is_overdue"]) if r["is_overdue"] is not None else False,
        value_tier=r["value_tier"],
    )


def search(conn, text: str, month: str, scope: Filters, limit: int = SEARCH_LIMIT) -> pd.DataFrame:
    """Accounts of ``month`` in ``scope`` whose name, id or CSM contains ``text``
    (case-insensitive), active and largest ARR first: account_id, name, segment, csm, arr,
    is_active. An empty text finds nothing."""
    check_month(month)
    text = " ".join(str(text or "").split()).lower()
    if not text:
        return pd.DataFrame(columns=["account_id", "name", "segment", "csm", "arr", "is_active"])
    return query(conn, *render("account_search", scope, alias="m", text=text, month=month,
                               limit=int(max(1, min(limit, 200)))))


def scores(conn, account_id: str, month: str, weeks: int = SCORE_WEEKS) -> pd.DataFrame:
    """Weekly score and each indicator's points for the ``weeks`` weeks up to ``month``'s
    month-end week (long: week_start, score, tier, indicator, indicator_label, ordinal,
    max_points, value, window_points)."""
    last = month_end_week(month)
    first = last - dt.timedelta(weeks=weeks - 1)
    df = query(conn, *render("account_scores", account_id=str(account_id), first_week_on=first,
                                    last_week_on=last))
    df["week_start"] = pd.to_datetime(df["week_start"]).dt.date
    return df


def score_changes(long_scores: pd.DataFrame, weeks: int = CHANGE_WEEKS) -> pd.DataFrame:
    """What moved the score: per indicator, its points in the latest week of
    ``long_scores`` and ``weeks`` weeks earlier, and the change, largest fall first.

    Columns: indicator, indicator_label, max_points, points_before, points_now,
    change_points (NaN where either week has no points). Empty without two such weeks."""
    columns = ["indicator", "indicator_label", "max_points", "points_before", "points_now", "change_points"]
    if long_scores.empty:
        return pd.DataFrame(columns=columns)
    latest = max(long_scores["week_start"])
    before = latest - dt.timedelta(weeks=weeks)
    now = long_scores[long_scores["week_start"] == latest].set_index("indicator")
    then = long_scores[long_scores["week_start"] == before].set_index("indicator")
    if then.empty:
        return pd.DataFrame(columns=columns)
    out = now[["indicator_label", "max_points", "ordinal"]].copy()
    out["points_before"] = then["window_points"].reindex(out.index).astype("float64")
    out["points_now"] = now["window_points"].astype("float64")
    out["change_points"] = out["points_now"] - out["points_before"]
    out = out.reset_index().sort_values(["change_points", "ordinal"], na_position="last")
    return out[columns].reset_index(drop=True)


def score_change(long_scores: pd.DataFrame, weeks: int = CHANGE_WEEKS) -> tuple[float | None, float | None]:
    """(score in the latest week, score ``weeks`` weeks earlier); None where unscored or absent."""
    if long_scores.empty:
        return None, None
    per_week = long_scores.drop_duplicates("week_start").set_index("week_start")["score"]
    latest = max(per_week.index)
    before = latest - dt.timedelta(weeks=weeks)
    now = _opt(per_week.get(latest))
    then = _opt(per_week.get(before))
    return (float(now) if now is not None else None, float(then) if then is not None else None)


def month_rows(conn, account_id: str, month: str) -> pd.DataFrame:
    """The account's months up to ``month``: month, is_active, arr, health_score,
    health_tier, value_tier, is_overdue and the month's MRR movements (new_mrr ... churn_mrr)."""
    check_month(month)
    return query(conn, *render("account_months", account_id=str(account_id), month=month))


def revenue(conn, account_id: str, month: str) -> pd.DataFrame:
    """MRR changes by product up to ``month``, newest first: month, product, prev_mrr, mrr,
    change_mrr, movement."""
    check_month(month)
    return query(conn, *render("account_revenue", account_id=str(account_id), month=month))


def renewals(conn, account_id: str, month: str) -> pd.DataFrame:
    """Renewals as known at ``month``'s end, latest due first: due_on, due_arr, renewed_on,
    renewed_arr, status (renewed | lapsed | overdue | upcoming), p_renewal, driver_1..3."""
    check_month(month)
    df = query(conn, *render("account_renewals", account_id=str(account_id), month_end_on=month_end(month)))
    for column in ("due_on", "renewed_on"):
        df[column] = pd.to_datetime(df[column]).dt.date
    df["p_renewal"] = df["p_renewal"].astype("float64")
    return df


def next_renewal(renewal_rows: pd.DataFrame) -> pd.Series | None:
    """The renewal that matters now: an overdue one (the latest), else the next upcoming."""
    if renewal_rows.empty:
        return None
    overdue = renewal_rows[renewal_rows["status"] == "overdue"]
    if not overdue.empty:
        return overdue.sort_values("due_on").iloc[-1]
    upcoming = renewal_rows[renewal_rows["status"] == "upcoming"]
    if not upcoming.empty:
        return upcoming.sort_values("due_on").iloc[0]
    return None


def alert_rows(conn, account_id: str, month: str) -> pd.DataFrame:
    """Health alerts raised up to ``month``, newest first: alert_id, week_start, month,
    rule, nature, severity, detail, score, score_change, tier, driver_label."""
    check_month(month)
    df = query(conn, *render("account_alerts", account_id=str(account_id), month=month))
    df["week_start"] = pd.to_datetime(df["week_start"]).dt.date
    return df


def with_statuses(rows: pd.DataFrame, store: AppStore | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(``alert_rows`` with status, updated_by, updated_at from the app store (open unless
    changed), the status history of those alerts: alert_id, status, updated_by, updated_at,
    newest first)."""
    out = rows.copy()
    if store is None or out.empty:
        out["status"] = ALERT_STATUSES[0]
        out["updated_by"] = None
        out["updated_at"] = None
        return out, AppStore.empty_history()
    statuses = store.alert_statuses().set_index("alert_id")
    ids = out["alert_id"].astype(str)
    status = ids.map(statuses["status"]).astype(object)
    out["status"] = status.where(status.notna(), ALERT_STATUSES[0])
    out["updated_by"] = ids.map(statuses["updated_by"])
    out["updated_at"] = ids.map(statuses["updated_at"])
    return out, store.alert_history(tuple(ids))


def flags(conn, account_id: str, month: str) -> pd.DataFrame:
    """Red-light flags raised up to ``month``'s end, as known then (resolved later = open):
    flag_id, raised_on, flag_label, owner_department, raised_by, note, resolved_on, resolved_by."""
    check_month(month)
    df = query(conn, *render("account_flags", account_id=str(account_id), last_on=month_end(month)))
    for column in ("raised_on", "resolved_on"):
        df[column] = pd.to_datetime(df[column]).dt.date
    return df


def timeline_rows(conn, account_id: str, month: str) -> pd.DataFrame:
    """CSM logs and customer events up to ``month``'s end, newest first: happened_on (date),
    source ('csm_log' | 'event'), kind, who, score, reason, text."""
    check_month(month)
    df = query(conn, *render("account_timeline", account_id=str(account_id), last_on=month_end(month)))
    df["happened_on"] = pd.to_datetime(df["happened_on"]).dt.date
    return df


def with_notes(rows: pd.DataFrame, store: AppStore | None, account_id: str, month: str) -> pd.DataFrame:
    """``timeline_rows`` with the app store's notes and touchpoints of the account dated up
    to ``month``'s end (source 'app_note', who = the author recorded from the login),
    newest first; on one day, notes before logs before events."""
    check_month(month)
    df = rows
    if store is not None:
        notes = store.account_notes(account_id)
        if not notes.empty:
            notes = notes.assign(happened_on=pd.to_datetime(notes["happened_on"]).dt.date)
            notes = notes[notes["happened_on"] <= month_end(month)]
            added = pd.DataFrame({
                "happened_on": notes["happened_on"],
                "source": "app_note",
                "kind": notes["kind"],
                "who": notes["updated_by"],
                "score": float("nan"),
                "reason": None,
                "text": notes["body"],
            })
            df = added.reset_index(drop=True) if df.empty else pd.concat([added, df], ignore_index=True)
    if df.empty:
        return df
    order = df["source"].map({"app_note": 0, "csm_log": 1, "event": 2})
    df = df.assign(_order=order).sort_values(["happened_on", "_order"], ascending=[False, True], kind="stable")
    return df.drop(columns="_order").reset_index(drop=True)


def add_note(store: AppStore, account: Header | None, kind: str, happened_on, body: str, author) -> int:
    """Record a note or touchpoint on a visible account (UserError for no account)."""
    if account is None:
        raise UserError("no such account in your book")
    return store.add_account_note(account.account_id, kind, happened_on, body, author)


def account_url(account_id: str, month: str | None = None, name: str | None = None) -> str:
    """The Account page's relative address for an account (``account?id=...&month=...``,
    the name last so a table's link column can show it)."""
    from urllib.parse import urlencode

    params: dict[str, str] = {"id": str(account_id)}
    if month:
        params["month"] = month
    if name:
        params["name"] = str(name)
    return "account?" + urlencode(params)


#: the regular expression a link column uses to show the name at the end of account_url
LINK_TEXT_RE = r"[?&]name=([^&#]*)$"


def with_links(frame: pd.DataFrame, month: str | None, id_column: str = "account_id",
               name_column: str = "name", link_column: str = "account_link") -> pd.DataFrame:
    """A copy of ``frame`` with ``link_column``: each row's Account page address."""
    out = frame.copy()
    names = out[name_column] if name_column in out.columns else out[id_column]
    out[link_column] = [account_url(i, month, n if isinstance(n, str) and n else i)
                        for i, n in zip(out[id_column], names)]
    return out


# --------------------------------------------------------------------------- report
def account_report(conn, args) -> tuple[str, dict[str, pd.DataFrame]]:
    """``report account --id ID [--month YYYY-MM]``: what the Account page shows for the
    month (the header, what moved the score, the month path, MRR changes, renewals, alerts
    with their status and the timeline with the app's notes). The account must lie in the
    filters given (with ``--as``, the user's book); non-target accounts are included."""
    from dataclasses import asdict, replace

    from cslib.store.appstore import default_path
    from cslib.months import check_month as check_in_data, data_months, default_month

    if not args.account_id:
        raise UserError("the account report needs --id ACCOUNT_ID")
    first, last = data_months(conn)
    month = default_month(conn) if args.month is None else check_in_data(args.month, first, last)
    scope = replace(args.filters, include_non_target=True)
    head = header(conn, args.account_id, month, scope)
    if head is None:
        raise UserError(f"no account {args.account_id!r} in the data (or outside the filters given)")
    path = getattr(conn, "path", None)
    store = AppStore(default_path(path)) if path is not None else None
    alerts_now, _ = with_statuses(alert_rows(conn, head.account_id, month), store)
    long = scores(conn, head.account_id, month)
    renewal_rows = renewals(conn, head.account_id, month)
    timeline = with_notes(timeline_rows(conn, head.account_id, month), store, head.account_id, month)
    for frame, columns in ((renewal_rows, ("due_on", "renewed_on")), (alerts_now, ("week_start",)),
                           (timeline, ("happened_on",))):
        for column in columns:
            if column in frame.columns:
                frame[column] = frame[column].map(lambda d: None if pd.isna(d) else d.isoformat())
    return month, {
        "header": pd.DataFrame([{**asdict(head), "cell_id": head.cell_id}]),
        "score_changes": score_changes(long),
        "months": month_rows(conn, head.account_id, month),
        "revenue": revenue(conn, head.account_id, month),
        "renewals": renewal_rows,
        "alerts": alerts_now.drop(columns=["updated_by"]),
        "timeline": timeline,
    }
