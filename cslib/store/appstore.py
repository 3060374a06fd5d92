"""The app-owned writable store: playbook texts, alert statuses and account notes.

The analytics database is rebuilt and atomically replaced by every import, demo and
re-score, so what people type into the app cannot live there. It lives in a small
SQLite file beside it (``HEALTHGRID_APP_DB``; default: the database path with the
suffix ``.appstate.sqlite``). SQLite rather than a second DuckDB file because this is
small transactional state written by many sessions and read by the CLI at the same
time: SQLite's WAL mode lets readers and one writer share the file across processes,
while a DuckDB file takes a process-wide lock. Every write is a short transaction with
bound parameters, and every change is also appended to a history table (who, when).

Who: the app passes an ``Author``. With login configured it is the signed-in user
(``Author.from_login``: e-mail and name from the identity provider, ``verified``);
without login, the name a visitor gave once per session (``Author.unverified``), whose
label always ends in "(unverified)". ``updated_by`` holds that label, ``author_email``
and ``verified`` the parts. A plain string (library and command-line callers) is stored
as given, unverified. Who may write what (``may_edit_playbooks``, ``may_set_alert``) is
decided from the user's grant (cslib.rules.access).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cslib import settings
from cslib.errors import UserError

ALERT_STATUSES = ("open", "acknowledged", "closed")
#: a red-light flag's status in the worklist (the data resolves flags too: a later touchpoint)
FLAG_STATUSES = ("open", "resolved")
WORK_KINDS = ("alert", "flag")
#: the most items one worklist action changes
MAX_WORK_ITEMS = 2000
#: what a CSM records on an account page: a note, or a touchpoint (call, meeting, e-mail)
NOTE_KINDS = ("note", "call", "meeting", "email")
MAX_TEXT_CHARS = 4000
MAX_NAME_CHARS = 80
UNVERIFIED = "(unverified)"
#: a CSM's forecast call on a renewal (Renewal forecast page, cslib.views.forecast)
RENEWAL_CALLS = ("commit", "probable", "at_risk", "lost")
#: roles that edit company-wide content (the nine-box playbooks); CSMs read them
PLAYBOOK_EDITORS = ("executive", "director")

_SCHEMA = """
create table if not exists playbook (
    cell_id text primary key,
    body text not null,
    updated_by text not null,
    updated_at text not null,
    author_email text,
    verified integer not null default 0
);
create table if not exists playbook_history (
    cell_id text not null,
    body text not null,
    updated_by text not null,
    updated_at text not null,
    author_email text,
    verified integer not null default 0
);
create table if not exists alert_status (
    alert_id text primary key,
    status text not null check (status in ('open', 'acknowledged', 'closed')),
    updated_by text not null,
    updated_at text not null,
    acknowledged_at text,
    author_email text,
    verified integer not null default 0
);
create table if not exists work_item (
    item_kind text not null check (item_kind in ('alert', 'flag')),
    item_id text not null,
    account_id text not null,
    status text,
    owner text,
    due_on text,
    comment text,
    updated_by text not null,
    updated_at text not null,
    author_email text,
    verified integer not null default 0,
    primary key (item_kind, item_id)
);
create table if not exists work_item_history (
    item_kind text not null,
    item_id text not null,
    account_id text not null,
    status text,
    owner text,
    due_on text,
    comment text,
    updated_by text not null,
    updated_at text not null,
    author_email text,
    verified integer not null default 0
);
create index if not exists work_item_history_by_account on work_item_history (account_id);
create table if not exists saved_view (
    view_id integer primary key autoincrement,
    name text not null,
    page text not null,
    query text not null,
    is_shared integer not null default 1,
    updated_by text not null,
    updated_at text not null,
    author_email text,
    verified integer not null default 0
);
create table if not exists account_note (
    note_id integer primary key autoincrement,
    account_id text not null,
    kind text not null check (kind in ('note', 'call', 'meeting', 'email')),
    happened_on text not null,
    body text not null,
    updated_by text not null,
    updated_at text not null,
    author_email text,
    verified integer not null default 0
);
create index if not exists account_note_by_account on account_note (account_id, happened_on);
create table if not exists alert_status_history (
    alert_id text not null,
    status text not null,
    updated_by text not null,
    updated_at text not null,
    author_email text,
    verified integer not null default 0
);
create table if not exists renewal_call (
    account_id text not null,
    due_on text not null,
    call text not null check (call in ('commit', 'probable', 'at_risk', 'lost')),
    note text,
    updated_by text not null,
    updated_at text not null,
    author_email text,
    verified integer not null default 0,
    primary key (account_id, due_on)
);
create table if not exists renewal_call_history (
    account_id text not null,
    due_on text not null,
    call text not null,
    note text,
    updated_by text not null,
    updated_at text not null,
    author_email text,
    verified integer not null default 0
);
"""
_TABLES = ("playbook", "playbook_history", "alert_status", "alert_status_history", "account_note", "work_item",
           "work_item_history", "saved_view")
#: columns added after the first release: a store written before them gets them (old rows
#: were typed names: unverified)
_ADDED_COLUMNS = (("author_email", "text"), ("verified", "integer not null default 0"))


def _clean_name(text: str) -> str:
    """A person's name or e-mail as one printable line (control characters dropped)."""
    text = "".join(ch for ch in str(text or "") if unicodedata.category(ch)[0] != "C" or ch == " ")
    return " ".join(text.split())[:MAX_NAME_CHARS]


@dataclass(frozen=True)
class Author:
    """Who made a change: the signed-in user (verified) or a name given without login."""

    name: str
    email: str | None = None
    verified: bool = False

    @classmethod
    def from_login(cls, email: str | None, name: str | None = None) -> "Author":
        """The signed-in user (the identity provider's e-mail and name); UserError without
        an e-mail."""
        email = _clean_name(email or "").lower()
        if not email:
            raise UserError("the login gave no e-mail address: cannot record who made the change")
        name = _clean_name(name or "")
        if any(ch in name for ch in "@<>"):  # a display name dressed as an address is dropped:
            name = ""                        # the e-mail is the identity
        return cls(name=name, email=email, verified=True)

    @classmethod
    def unverified(cls, name: str) -> "Author":
        """A name given without login (recorded with "(unverified)"); UserError when empty."""
        name = _clean_name(name)
        if name.endswith(UNVERIFIED):  # typed in: it is said once, by us
            name = name[: -len(UNVERIFIED)].rstrip()
        if not name:
            raise UserError("enter your name")
        return cls(name=name, email=None, verified=False)

    @property
    def label(self) -> str:
        """What the history shows: 'Dana Diaz <dana@example.com>', 'dana@example.com' or
        'Kim (unverified)'."""
        if self.verified:
            return f"{self.name} <{self.email}>" if self.name and self.name != self.email else str(self.email)
        return f"{self.name} {UNVERIFIED}"


def _author_fields(author: "Author | str") -> tuple[str, str | None, int]:
    """(updated_by label, author_email, verified) for the store."""
    if isinstance(author, Author):
        return author.label[: MAX_NAME_CHARS * 2 + 3], author.email, int(author.verified)
    return _clean_user(author), None, 0


def may_edit_playbooks(grant) -> bool:
    """Executives and directors edit the company-wide playbooks; CSMs read them."""
    return grant is not None and grant.role in PLAYBOOK_EDITORS


def may_set_alert(grant, csm: str | None, csm_team: str | None) -> bool:
    """An executive changes any alert; a director the alerts of their teams' accounts; a
    CSM the alerts of their own accounts (by the account's CSM name and team)."""
    if grant is None:
        return False
    if grant.role == "executive":
        return True
    if grant.role == "director":
        return csm_team is not None and csm_team in grant.teams
    if grant.role == "csm":
        return csm is not None and grant.csm is not None and csm == grant.csm
    return False


def may_add_note(grant, csm: str | None, csm_team: str | None) -> bool:
    """Who may add a note or touchpoint to an account: the same people who may change its
    alerts (an executive; a director for their teams; the account's CSM)."""
    return may_set_alert(grant, csm, csm_team)


def default_path(db_path: str | os.PathLike | None = None) -> Path:
    """``HEALTHGRID_APP_DB`` if set, else the analytics database path + ``.appstate.sqlite``."""
    explicit = settings.get("HEALTHGRID_APP_DB")
    if explicit:
        return Path(explicit)
    db = settings.db_path(db_path)
    return db.with_name(db.stem + ".appstate.sqlite")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


class StoreUnavailable(UserError):
    """The app store cannot be opened, read or written (a folder in the way, not SQLite,
    read-only, locked for too long). ``reason`` says why without the path (for pages);
    the message names the path (for the command line and the server log)."""

    def __init__(self, path: Path, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: the app store (playbooks, alert statuses) cannot be used: {reason}")


def _reason(err: BaseException) -> str:
    if isinstance(err, (FileExistsError, NotADirectoryError)):
        return "a file is in the place of its folder"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()
    return str(err).split("\n")[0] or type(err).__name__


class AppStore:
    """Small transactional state next to the analytics database (see module doc)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            if self.path.is_dir():
                raise IsADirectoryError(21, "Is a directory")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10)
        except (OSError, sqlite3.Error) as err:
            raise StoreUnavailable(self.path, _reason(err)) from None
        try:
            try:
                conn.execute("pragma journal_mode=wal")
                conn.executescript(_SCHEMA)
                _add_columns(conn)
            except sqlite3.Error as err:  # not an SQLite file, read-only, locked
                raise StoreUnavailable(self.path, _reason(err)) from None
            try:
                with conn:  # one transaction: commit on success, roll back on error
                    yield conn
            except sqlite3.Error as err:
                raise StoreUnavailable(self.path, _reason(err)) from None
        finally:
            conn.close()

    # -- playbooks --------------------------------------------------------------------

    def playbooks(self) -> pd.DataFrame:
        """Edited playbooks: cell_id, body, updated_by (the author's label), updated_at,
        author_email, verified (defaults are not here)."""
        with self._connect() as conn:
            rows = conn.execute(
                "select cell_id, body, updated_by, updated_at, author_email, verified "
                "from playbook order by cell_id"
            ).fetchall()
        return _frame(rows, ["cell_id", "body", "updated_by", "updated_at", "author_email", "verified"])

    def set_playbook(self, cell_id: str, body: str, author: "Author | str") -> None:
        """Store ``body`` as the playbook of ``cell_id`` (plain text), recording who and when."""
        body = _clean_text(body, "playbook")
        user, email, verified = _author_fields(author)
        now = _now()
        with self._connect() as conn:
            conn.execute(
                "insert into playbook (cell_id, body, updated_by, updated_at, author_email, verified) "
                "values (?, ?, ?, ?, ?, ?) "
                "on conflict (cell_id) do update set body = excluded.body, "
                "updated_by = excluded.updated_by, updated_at = excluded.updated_at, "
                "author_email = excluded.author_email, verified = excluded.verified",
                (cell_id, body, user, now, email, verified),
            )
            conn.execute(
                "insert into playbook_history (cell_id, body, updated_by, updated_at, author_email, verified) "
                "values (?, ?, ?, ?, ?, ?)",
                (cell_id, body, user, now, email, verified),
            )

    def playbook_history(self, cell_id: str) -> pd.DataFrame:
        """Every edit of ``cell_id``, newest first: body, updated_by, updated_at,
        author_email, verified."""
        with self._connect() as conn:
            rows = conn.execute(
                "select body, updated_by, updated_at, author_email, verified from playbook_history "
                "where cell_id = ? order by updated_at desc, rowid desc",
                (cell_id,),
            ).fetchall()
        return _frame(rows, ["body", "updated_by", "updated_at", "author_email", "verified"])

    # -- alert statuses -----------------------------------------------------------------

    def alert_statuses(self) -> pd.DataFrame:
        """alert_id, status, updated_by (the author's label), updated_at, acknowledged_at,
        author_email, verified (alerts never touched are open and are not in this frame)."""
        with self._connect() as conn:
            rows = conn.execute(
                "select alert_id, status, updated_by, updated_at, acknowledged_at, author_email, verified "
                "from alert_status order by alert_id"
            ).fetchall()
        return _frame(rows, ALERT_STATUS_COLUMNS)

    @staticmethod
    def empty_alert_statuses() -> pd.DataFrame:
        """The frame of ``alert_statuses`` with no rows (every alert open)."""
        return _frame([], ALERT_STATUS_COLUMNS)

    def set_alert_status(self, alert_id: str, status: str, author: "Author | str") -> None:
        """Set an alert's status; the first acknowledgement's time is kept."""
        if status not in ALERT_STATUSES:
            raise UserError(f"alert status {status!r} is not one of {', '.join(ALERT_STATUSES)}")
        user, email, verified = _author_fields(author)
        with self._connect() as conn:
            _write_alert_status(conn, alert_id, status, (user, _now(), email, verified))

    def alert_status_history(self, alert_id: str) -> pd.DataFrame:
        """Every status change of ``alert_id``, newest first: status, updated_by, updated_at,
        author_email, verified."""
        return self.alert_history([alert_id]).drop(columns="alert_id")

    # -- account notes and touchpoints ----------------------------------------------------

    def add_account_note(self, account_id: str, kind: str, happened_on: "dt.date | str", body: str,
                         author: "Author | str") -> int:
        """Record a note or touchpoint on an account (who and when recorded); its note_id.

        UserError for an unknown kind, a date that is not YYYY-MM-DD, or an empty or too
        long text."""
        if kind not in NOTE_KINDS:
            raise UserError(f"note kind {kind!r} is not one of {', '.join(NOTE_KINDS)}")
        account_id = str(account_id or "").strip()
        if not account_id:
            raise UserError("a note needs an account")
        day = _iso_date(happened_on, "note date")
        body = _clean_text(body, "note")
        user, email, verified = _author_fields(author)
        with self._connect() as conn:
            cursor = conn.execute(
                "insert into account_note (account_id, kind, happened_on, body, updated_by, updated_at, "
                "author_email, verified) values (?, ?, ?, ?, ?, ?, ?, ?)",
                (account_id, kind, day, body, user, _now(), email, verified),
            )
            return int(cursor.lastrowid)

    def account_notes(self, account_id: str) -> pd.DataFrame:
        """The notes and touchpoints of an account, newest first: note_id, kind,
        happened_on, body, updated_by (the author's label), updated_at, author_email,
        verified."""
        with self._connect() as conn:
            rows = conn.execute(
                "select note_id, kind, happened_on, body, updated_by, updated_at, author_email, verified "
                "from account_note where account_id = ? order by happened_on desc, note_id desc",
                (str(account_id),),
            ).fetchall()
        return _frame(rows, NOTE_COLUMNS)

    @staticmethod
    def empty_history() -> pd.DataFrame:
        """The frame of ``alert_history`` with no rows."""
        return _frame([], ALERT_HISTORY_COLUMNS)

    def alert_history(self, alert_ids: "list[str] | tuple[str, ...]") -> pd.DataFrame:
        """Every status change of these alerts, newest first: alert_id, status, updated_by,
        updated_at, author_email, verified."""
        ids = [str(a) for a in alert_ids]
        if not ids:
            return self.empty_history()
        with self._connect() as conn:
            rows = conn.execute(
                "select alert_id, status, updated_by, updated_at, author_email, verified "
                "from alert_status_history where alert_id in (select value from json_each(?)) "
                "order by updated_at desc, rowid desc",
                (json.dumps(ids),),
            ).fetchall()
        return _frame(rows, ALERT_HISTORY_COLUMNS)


    # -- worklist: statuses, owners, due dates and comments of alerts and flags -----------

    def update_work_items(self, items: "list[tuple[str, str, str]]", author: "Author | str", *,
                          status: str | None = None, owner: str | None = None, due_on=None,
                          comment: str | None = None) -> int:
        """Change many alerts and flags in one transaction (all or none); the count changed.

        ``items``: (item_kind 'alert' | 'flag', item_id, account_id). ``status``: an alert
        status (open, acknowledged, closed; kept in ``alert_status`` as everywhere) or a flag
        status (open, resolved); ``owner``: who works the item (a name; '' clears it);
        ``due_on``: a date (YYYY-MM-DD; '' clears it); ``comment``: required when closing an
        alert or resolving a flag. Fields not given keep their value. Every change is kept
        in ``work_item_history`` with who and when (alert statuses also in
        ``alert_status_history``)."""
        items = list(dict.fromkeys((str(k), str(i), str(a)) for k, i, a in items))
        if not items:
            raise UserError("choose at least one alert or flag")
        if len(items) > MAX_WORK_ITEMS:
            raise UserError(f"at most {MAX_WORK_ITEMS} items in one action ({len(items)} chosen)")
        unknown = sorted({k for k, _, _ in items} - set(WORK_KINDS))
        if unknown:
            raise UserError(f"unknown item kind {unknown[0]!r}")
        kinds = {k for k, _, _ in items}
        if status is not None:
            allowed = set(ALERT_STATUSES if kinds == {"alert"} else FLAG_STATUSES if kinds == {"flag"}
                          else set(ALERT_STATUSES) | set(FLAG_STATUSES))
            if status not in allowed:
                raise UserError(f"status {status!r} is not one of {', '.join(sorted(allowed))}")
        if owner is not None:
            owner = _clean_name(owner)
        if due_on is not None and str(due_on) != "":
            due_on = _iso_date(due_on, "due date")
        comment = _optional_text(comment, "comment")
        closing = status in ("closed", "resolved")
        if closing and comment is None:
            raise UserError("say in a comment why the items are closed or resolved")
        if status is None and owner is None and due_on is None and comment is None:
            raise UserError("nothing to change: choose a status, an owner, a due date or a comment")
        user, email, verified = _author_fields(author)
        now = _now()
        with self._connect() as conn:
            for kind, item_id, account_id in items:
                item_status = status
                if kind == "alert" and status == "resolved":
                    item_status = "closed"
                if kind == "flag" and status in ("acknowledged", "closed"):
                    item_status = "resolved" if status == "closed" else None
                if kind == "alert" and item_status is not None:  # the status every page reads
                    _write_alert_status(conn, item_id, item_status, (user, now, email, verified))
                values = (kind, item_id, account_id, item_status, owner, due_on, comment, user, now, email, verified)
                conn.execute(
                    "insert into work_item (item_kind, item_id, account_id, status, owner, due_on, comment, "
                    "updated_by, updated_at, author_email, verified) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "on conflict (item_kind, item_id) do update set "
                    "status = coalesce(excluded.status, work_item.status), "
                    "owner = case when excluded.owner is null then work_item.owner "
                    "             when excluded.owner = '' then null else excluded.owner end, "
                    "due_on = case when excluded.due_on is null then work_item.due_on "
                    "              when excluded.due_on = '' then null else excluded.due_on end, "
                    "comment = coalesce(excluded.comment, work_item.comment), "
                    "updated_by = excluded.updated_by, updated_at = excluded.updated_at, "
                    "author_email = excluded.author_email, verified = excluded.verified",
                    values,
                )
                conn.execute(
                    "insert into work_item_history (item_kind, item_id, account_id, status, owner, due_on, "
                    "comment, updated_by, updated_at, author_email, verified) "
                    "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    values,
                )
        return len(items)

    def work_items(self) -> pd.DataFrame:
        """The worklist state people set: item_kind, item_id, account_id, status (flags;
        alerts' statuses are in ``alert_statuses``), owner, due_on, comment, updated_by,
        updated_at, author_email, verified."""
        with self._connect() as conn:
            rows = conn.execute(
                "select item_kind, item_id, account_id, status, owner, due_on, comment, updated_by, updated_at, "
                "author_email, verified from work_item order by item_kind, item_id"
            ).fetchall()
        return _frame(rows, WORK_ITEM_COLUMNS)

    def work_history(self, account_id: str) -> pd.DataFrame:
        """Every worklist change on an account's alerts and flags, newest first (columns of
        ``work_items``)."""
        with self._connect() as conn:
            rows = conn.execute(
                "select item_kind, item_id, account_id, status, owner, due_on, comment, updated_by, updated_at, "
                "author_email, verified from work_item_history where account_id = ? "
                "order by updated_at desc, rowid desc",
                (str(account_id),),
            ).fetchall()
        return _frame(rows, WORK_ITEM_COLUMNS)


    # -- saved views: a named page + slice (its URL query), shared or the owner's own ----------

    def save_view(self, name: str, page: str, query: str, author: "Author | str", shared: bool = True) -> int:
        """Store a view; its view_id. UserError for an empty or too long name or query."""
        name = _clean_name(name)
        if not name:
            raise UserError("give the view a name")
        page = str(page or "").strip()
        if not page or len(page) > 200:
            raise UserError("a view needs its page")
        query = str(query or "")
        if len(query) > MAX_TEXT_CHARS:
            raise UserError(f"the view's address is longer than {MAX_TEXT_CHARS} characters")
        user, email, verified = _author_fields(author)
        with self._connect() as conn:
            cursor = conn.execute(
                "insert into saved_view (name, page, query, is_shared, updated_by, updated_at, author_email, verified) "
                "values (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, page, query, int(bool(shared)), user, _now(), email, verified),
            )
            return int(cursor.lastrowid)

    def saved_views(self, author: "Author | str | None" = None) -> pd.DataFrame:
        """Views shared with everyone, plus ``author``'s own unshared ones, newest first:
        view_id, name, page, query, is_shared, updated_by, updated_at, author_email, verified."""
        label = _author_fields(author)[0] if author is not None else None
        with self._connect() as conn:
            rows = conn.execute(
                "select view_id, name, page, query, is_shared, updated_by, updated_at, author_email, verified "
                "from saved_view where is_shared = 1 or updated_by = ? order by updated_at desc, view_id desc",
                (label,),
            ).fetchall()
        frame = _frame(rows, VIEW_COLUMNS)
        frame["is_shared"] = frame["is_shared"].astype(bool)
        return frame

    def delete_view(self, view_id: int, author: "Author | str") -> bool:
        """Delete a view its owner saved; False when it is not theirs (or gone)."""
        label = _author_fields(author)[0]
        with self._connect() as conn:
            cursor = conn.execute("delete from saved_view where view_id = ? and updated_by = ?", (int(view_id), label))
            return cursor.rowcount > 0

    # -- renewal forecast calls: the CSM's call per renewal (account id + due date) ----------

    def set_renewal_call(self, account_id: str, due_on: "dt.date | str", call: str, note: str | None,
                         author: "Author | str") -> None:
        """Store the call (commit, probable, at_risk, lost) and an optional plain-text note
        on the renewal of ``account_id`` due on ``due_on``, recording who and when (also in
        ``renewal_call_history``). UserError for an unknown call, a bad date or a too long note."""
        if call not in RENEWAL_CALLS:
            raise UserError(f"call {call!r} is not one of {', '.join(RENEWAL_CALLS)}")
        account_id = str(account_id or "").strip()
        if not account_id:
            raise UserError("a call needs an account")
        day = _iso_date(due_on, "due date")
        note = _optional_text(note, "note")
        user, email, verified = _author_fields(author)
        values = (account_id, day, call, note, user, _now(), email, verified)
        with self._connect() as conn:
            conn.execute(
                "insert into renewal_call (account_id, due_on, call, note, updated_by, updated_at, author_email, "
                "verified) values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (account_id, due_on) do update set "
                "call = excluded.call, note = excluded.note, updated_by = excluded.updated_by, "
                "updated_at = excluded.updated_at, author_email = excluded.author_email, verified = excluded.verified",
                values,
            )
            conn.execute(
                "insert into renewal_call_history (account_id, due_on, call, note, updated_by, updated_at, "
                "author_email, verified) values (?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )

    def renewal_calls(self) -> pd.DataFrame:
        """The current call of every called renewal (RENEWAL_CALL_COLUMNS; due_on as YYYY-MM-DD)."""
        with self._connect() as conn:
            rows = conn.execute(
                "select account_id, due_on, call, note, updated_by, updated_at, author_email, verified "
                "from renewal_call order by account_id, due_on"
            ).fetchall()
        return _frame(rows, RENEWAL_CALL_COLUMNS)

    def renewal_call_history(self, account_id: str) -> pd.DataFrame:
        """Every call made on an account's renewals, newest first (RENEWAL_CALL_COLUMNS)."""
        with self._connect() as conn:
            rows = conn.execute(
                "select account_id, due_on, call, note, updated_by, updated_at, author_email, verified "
                "from renewal_call_history where account_id = ? order by updated_at desc, rowid desc",
                (str(account_id),),
            ).fetchall()
        return _frame(rows, RENEWAL_CALL_COLUMNS)


#: Columns of ``AppStore.renewal_calls`` and ``renewal_call_history``.
RENEWAL_CALL_COLUMNS = ["account_id", "due_on", "call", "note", "updated_by", "updated_at", "author_email",
                        "verified"]


#: Columns of ``AppStore.saved_views``.
VIEW_COLUMNS = ["view_id", "name", "page", "query", "is_shared", "updated_by", "updated_at", "author_email", "verified"]

#: Columns of ``AppStore.work_items`` and ``work_history``.
WORK_ITEM_COLUMNS = ["item_kind", "item_id", "account_id", "status", "owner", "due_on", "comment", "updated_by",
                     "updated_at", "author_email", "verified"]

#: Columns of ``AppStore.account_notes``.
NOTE_COLUMNS = ["note_id", "kind", "happened_on", "body", "updated_by", "updated_at", "author_email", "verified"]

#: Columns of ``AppStore.alert_history``.
ALERT_HISTORY_COLUMNS = ["alert_id", "status", "updated_by", "updated_at", "author_email", "verified"]

#: Columns of ``AppStore.alert_statuses``.
ALERT_STATUS_COLUMNS = ["alert_id", "status", "updated_by", "updated_at", "acknowledged_at", "author_email", "verified"]


def _frame(rows: list, columns: list[str]) -> pd.DataFrame:
    """Rows read from the store as a frame, ``verified`` as booleans."""
    frame = pd.DataFrame(rows, columns=columns)
    frame["verified"] = frame["verified"].astype(bool)
    return frame


def _add_columns(conn: sqlite3.Connection) -> None:
    """Give a store written by an earlier version the columns added since (see _ADDED_COLUMNS)."""
    for table in _TABLES:
        present = {row[1] for row in conn.execute(f"pragma table_info({table})")}
        for column, definition in _ADDED_COLUMNS:
            if column not in present:
                try:
                    conn.execute(f"alter table {table} add column {column} {definition}")
                except sqlite3.OperationalError as err:  # another process added it a moment ago
                    if "duplicate column" not in str(err):
                        raise


def _write_alert_status(conn: sqlite3.Connection, alert_id: str, status: str, who: tuple) -> None:
    """Upsert an alert's status and append it to its history, inside the caller's transaction;
    ``who`` = (updated_by, updated_at, author_email, verified). The first acknowledgement's
    time is kept."""
    user, now, email, verified = who
    acknowledged_at = now if status in ("acknowledged", "closed") else None
    conn.execute(
        "insert into alert_status (alert_id, status, updated_by, updated_at, acknowledged_at, "
        "author_email, verified) values (?, ?, ?, ?, ?, ?, ?) on conflict (alert_id) do update set "
        "status = excluded.status, updated_by = excluded.updated_by, "
        "updated_at = excluded.updated_at, author_email = excluded.author_email, "
        "verified = excluded.verified, "
        "acknowledged_at = coalesce(alert_status.acknowledged_at, excluded.acknowledged_at)",
        (alert_id, status, user, now, acknowledged_at, email, verified),
    )
    conn.execute(
        "insert into alert_status_history (alert_id, status, updated_by, updated_at, author_email, "
        "verified) values (?, ?, ?, ?, ?, ?)",
        (alert_id, status, user, now, email, verified),
    )


def _iso_date(value, what: str) -> str:
    """'YYYY-MM-DD' of a date or a string starting with one; UserError naming ``what``."""
    try:
        return dt.date.fromisoformat(str(value)[:10]).isoformat()
    except ValueError:
        raise UserError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def _optional_text(text: str | None, what: str) -> str | None:
    """Plain text (CRLF to LF, stripped) or None when empty; UserError when too long."""
    text = (text or "").replace("\r\n", "\n").strip() or None
    if text is not None and len(text) > MAX_TEXT_CHARS:
        raise UserError(f"the {what} is longer than {MAX_TEXT_CHARS} characters")
    return text


def _clean_text(text: str, what: str) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise UserError(f"the {what} text is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise UserError(f"the {what} text is longer than {MAX_TEXT_CHARS} characters")
    return text


def _clean_user(user: str) -> str:
    """A caller's plain-string author (library, command line): one line, else 'anonymous'."""
    user = _clean_name(user)
    return user if user else "anonymous"
