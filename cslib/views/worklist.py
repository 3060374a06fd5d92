"""The worklist: health alerts and red-light flags as work to be done, not only a list.

An item is an alert (``health_alerts``) or a red-light flag (``churn_risk_flags``) of the
slice, raised in the ``WINDOW_DAYS`` up to a month's end (a flag only while still open in
the data at that day). People work items in the app: a status (alerts: open,
acknowledged, closed, the same status every page reads; flags: open, resolved), an owner
and a due date, and a comment; many at once, in one transaction. Everything is kept in
the app store with who and when (cslib.store.appstore), so it survives re-imports, and the
history shows on each account's page.

The list follows the sidebar filters and the viewer's book (cslib.rules.access.scope): a CSM
sees their accounts' items, a director their teams', an executive everything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from cslib.rules.alert_rules import RULE_LABELS
from cslib.store.appstore import AppStore, may_set_alert
from cslib.store.db import query
from cslib.store.queries import render
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.months import month_end

#: how far back the list reaches from the month's end
WINDOW_DAYS = 90
#: statuses that count as done
DONE = ("closed", "resolved")
ITEM_COLUMNS = ["item_kind", "item_id", "account_id", "name", "csm", "csm_team", "arr", "code", "label",
                "severity", "detail", "raised_on", "age_days"]


def items(conn, filters: Filters, month: str, window_days: int = WINDOW_DAYS) -> pd.DataFrame:
    """Alerts and flags of the slice raised in the ``window_days`` to ``month``'s end,
    oldest first (columns ITEM_COLUMNS; label: the rule's or flag's name; age_days at the
    month's end)."""
    last = month_end(month)
    first = last - dt.timedelta(days=int(window_days))
    sql, params = render("worklist_items", filters, alias="am", month=month, last_on=last, first_on=first)
    df = query(conn, sql, params)
    df["raised_on"] = pd.to_datetime(df["raised_on"]).dt.date
    is_alert = df["item_kind"] == "alert"
    df["label"] = [RULE_LABELS.get(c, c) if a else lbl for a, c, lbl in zip(is_alert, df["code"], df["label"])]
    df["age_days"] = df["age_days"].astype("int64")
    return df[ITEM_COLUMNS]


def with_state(frame: pd.DataFrame, store: AppStore | None) -> pd.DataFrame:
    """``items`` with what people set: status ('open' unless changed), owner (the assigned
    owner, else the account's CSM), assigned (an owner was set), due_on, comment,
    updated_by, updated_at, overdue (due date before today and not done)."""
    out = frame.copy()
    for column in ("status", "assigned_owner", "due_on", "comment", "updated_by", "updated_at"):
        out[column] = None
    if store is not None and not out.empty:
        work = store.work_items().set_index(["item_kind", "item_id"])
        keys = list(zip(out["item_kind"], out["item_id"]))
        for column, source in (("assigned_owner", "owner"), ("due_on", "due_on"), ("comment", "comment"),
                               ("updated_by", "updated_by"), ("updated_at", "updated_at"), ("status", "status")):
            out[column] = [work[source].get(k) if k in work.index else None for k in keys]
        alerts = store.alert_statuses().set_index("alert_id")["status"]
        out["status"] = [alerts.get(i, s) if kind == "alert" else s
                         for kind, i, s in zip(out["item_kind"], out["item_id"], out["status"])]
    out["status"] = [s if isinstance(s, str) and s else "open" for s in out["status"]]
    out["assigned"] = out["assigned_owner"].map(lambda v: isinstance(v, str) and v != "")
    out["owner"] = [o if isinstance(o, str) and o else c for o, c in zip(out["assigned_owner"], out["csm"])]
    out["due_on"] = [dt.date.fromisoformat(d) if isinstance(d, str) and d else None for d in out["due_on"]]
    today = dt.date.today()
    out["overdue"] = [d is not None and d < today and s not in DONE for d, s in zip(out["due_on"], out["status"])]
    return out.drop(columns="assigned_owner")


@dataclass(frozen=True)
class Choice:
    """What a user narrowed the list to (empty: everything)."""

    owners: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ("open", "acknowledged")
    severities: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    max_age_days: int | None = None


def choose(frame: pd.DataFrame, choice: Choice) -> pd.DataFrame:
    """The rows of a ``with_state`` frame that match ``choice`` (severity applies to alerts;
    a flag has none and passes when flags are wanted)."""
    keep = pd.Series(True, index=frame.index)
    if choice.owners:
        keep &= frame["owner"].isin(choice.owners)
    if choice.statuses:
        keep &= frame["status"].isin(choice.statuses)
    if choice.kinds:
        keep &= frame["item_kind"].isin(choice.kinds)
    if choice.severities:
        keep &= (frame["item_kind"] == "flag") | frame["severity"].isin(choice.severities)
    if choice.max_age_days is not None:
        keep &= frame["age_days"] <= int(choice.max_age_days)
    return frame[keep]


def summary(frame: pd.DataFrame) -> dict:
    """Counts of a ``with_state`` frame: items, open (not done), unassigned open, overdue."""
    not_done = ~frame["status"].isin(DONE)
    return {
        "items": int(len(frame)),
        "open": int(not_done.sum()),
        "unassigned": int((not_done & ~frame["assigned"]).sum()),
        "overdue": int(frame["overdue"].sum()),
    }


def apply(store: AppStore, chosen: pd.DataFrame, grant, author, *, status: str | None = None,
          owner: str | None = None, due_on=None, comment: str | None = None) -> int:
    """Change the ``chosen`` rows (of ``items``) in one transaction; the count changed.

    UserError when the user may not change one of them (an alert or flag is changed by
    its account's CSM, a director of its team or an executive), or the change is invalid
    (cslib.store.appstore.AppStore.update_work_items)."""
    if chosen.empty:
        raise UserError("choose at least one alert or flag")
    refused = [n for n, c, t in zip(chosen["name"], chosen["csm"], chosen["csm_team"]) if not may_set_alert(grant, c, t)]
    if refused:
        raise UserError(f"you may not change the items of {refused[0]}"
                        + (f" and {len(refused) - 1} more" if len(refused) > 1 else ""))
    keys = list(zip(chosen["item_kind"], chosen["item_id"], chosen["account_id"]))
    return store.update_work_items(keys, author, status=status, owner=owner, due_on=due_on, comment=comment)
