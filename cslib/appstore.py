"""The app-owned writable store: playbook texts and alert statuses.

The analytics database is rebuilt and atomically replaced by every import, demo and
re-score, so what people type into the app cannot live there. It lives in a small
SQLite file beside it (``HEALTHGRID_APP_DB``; default: the database path with the
suffix ``.appstate.sqlite``). SQLite rather than a second DuckDB file because this is
small transactional state written by many sessions and read by the CLI at the same
time: SQLite's WAL mode lets readers and one writer share the file across processes,
while a DuckDB file takes a process-wide lock. Every write is a short transaction with
bound parameters, and every change is also appended to a history table (who, when).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from . import settings
from .errors import UserError

ALERT_STATUSES = ("open", "acknowledged", "closed")
MAX_TEXT_CHARS = 4000

_SCHEMA = """
create table if not exists playbook (
    cell_id text primary key,
    body text not null,
    updated_by text not null,
    updated_at text not null
);
create table if not exists playbook_history (
    cell_id text not null,
    body text not null,
    updated_by text not null,
    updated_at text not null
);
create table if not exists alert_status (
    alert_id text primary key,
    status text not null check (status in ('open', 'acknowledged', 'closed')),
    updated_by text not null,
    updated_at text not null,
    acknowledged_at text
);
create table if not exists alert_status_history (
    alert_id text not null,
    status text not null,
    updated_by text not null,
    updated_at text not null
);
"""


def default_path(db_path: str | os.PathLike | None = None) -> Path:
    """``HEALTHGRID_APP_DB`` if set, else the analytics database path + ``.appstate.sqlite``."""
    explicit = settings.get("HEALTHGRID_APP_DB")
    if explicit:
        return Path(explicit)
    db = settings.db_path(db_path)
    return db.with_name(db.stem + ".appstate.sqlite")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


class AppStore:
    """Small transactional state next to the analytics database (see module doc)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            conn.execute("pragma journal_mode=wal")
            conn.executescript(_SCHEMA)
            with conn:  # one transaction: commit on success, roll back on error
                yield conn
        finally:
            conn.close()

    # -- playbooks --------------------------------------------------------------------

    def playbooks(self) -> pd.DataFrame:
        """Edited playbooks: cell_id, body, updated_by, updated_at (defaults are not here)."""
        with self._connect() as conn:
            rows = conn.execute(
                "select cell_id, body, updated_by, updated_at from playbook order by cell_id"
            ).fetchall()
        return pd.DataFrame(rows, columns=["cell_id", "body", "updated_by", "updated_at"])

    def set_playbook(self, cell_id: str, body: str, user: str) -> None:
        """Store ``body`` as the playbook of ``cell_id`` (plain text), recording who and when."""
        body = _clean_text(body, "playbook")
        user = _clean_user(user)
        now = _now()
        with self._connect() as conn:
            conn.execute(
                "insert into playbook (cell_id, body, updated_by, updated_at) values (?, ?, ?, ?) "
                "on conflict (cell_id) do update set body = excluded.body, "
                "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                (cell_id, body, user, now),
            )
            conn.execute(
                "insert into playbook_history (cell_id, body, updated_by, updated_at) "
                "values (?, ?, ?, ?)",
                (cell_id, body, user, now),
            )

    def playbook_history(self, cell_id: str) -> pd.DataFrame:
        with self._connect() as conn:
            rows = conn.execute(
                "select body, updated_by, updated_at from playbook_history where cell_id = ? "
                "order by updated_at desc, rowid desc",
                (cell_id,),
            ).fetchall()
        return pd.DataFrame(rows, columns=["body", "updated_by", "updated_at"])

    # -- alert statuses -----------------------------------------------------------------

    def alert_statuses(self) -> pd.DataFrame:
        """alert_id, status, updated_by, updated_at, acknowledged_at (alerts never touched
        are open and are not in this frame)."""
        with self._connect() as conn:
            rows = conn.execute(
                "select alert_id, status, updated_by, updated_at, acknowledged_at "
                "from alert_status order by alert_id"
            ).fetchall()
        return pd.DataFrame(
            rows, columns=["alert_id", "status", "updated_by", "updated_at", "acknowledged_at"]
        )

    def set_alert_status(self, alert_id: str, status: str, user: str) -> None:
        """Set an alert's status; the first acknowledgement's time is kept."""
        if status not in ALERT_STATUSES:
            raise UserError(f"alert status {status!r} is not one of {', '.join(ALERT_STATUSES)}")
        user = _clean_user(user)
        now = _now()
        acknowledged_at = now if status in ("acknowledged", "closed") else None
        with self._connect() as conn:
            conn.execute(
                "insert into alert_status (alert_id, status, updated_by, updated_at, acknowledged_at) "
                "values (?, ?, ?, ?, ?) on conflict (alert_id) do update set "
                "status = excluded.status, updated_by = excluded.updated_by, "
                "updated_at = excluded.updated_at, "
                "acknowledged_at = coalesce(alert_status.acknowledged_at, excluded.acknowledged_at)",
                (alert_id, status, user, now, acknowledged_at),
            )
            conn.execute(
                "insert into alert_status_history (alert_id, status, updated_by, updated_at) "
                "values (?, ?, ?, ?)",
                (alert_id, status, user, now),
            )


def _clean_text(text: str, what: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise UserError(f"the {what} text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise UserError(f"the {what} text is longer than {MAX_TEXT_CHARS} characters")
    return text


def _clean_user(user: str) -> str:
    user = (user or "").strip()
    return user[:200] if user else "anonymous"
