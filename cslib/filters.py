"""Slicing the customer book: the sidebar filters, as bound-parameter SQL.

Filter columns come from a whitelist (``FILTER_COLUMNS``); values are always bound.
Every filter applies to the ``account_month`` mart (or any relation with the same
column names), so each page and report slices the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import duckdb

from .db import query

#: filter name -> account_month column (a whitelist; nothing else becomes an identifier)
FILTER_COLUMNS: dict[str, str] = {
    "segment": "segment",
    "industry": "industry",
    "region": "region",
    "source_channel": "source_channel",
    "csm_team": "csm_team",
    "csm": "csm",
    "lifecycle_stage": "lifecycle_stage",
}


@dataclass(frozen=True)
class Filters:
    """Selected values per dimension; an empty tuple means 'all'."""

    segment: tuple[str, ...] = ()
    industry: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    source_channel: tuple[str, ...] = ()
    csm_team: tuple[str, ...] = ()
    csm: tuple[str, ...] = ()
    lifecycle_stage: tuple[str, ...] = ()
    include_non_target: bool = False
    #: an empty scope (a user who may see nothing of what they asked for): no rows at all,
    #: expressed as a false predicate, never as a magic filter value
    deny_all: bool = False

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if not self.deny_all:
            del out["deny_all"]
        return out

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> "Filters":
        """Build from loose input (CLI args, URL parameters); unknown keys are ignored."""
        kwargs: dict[str, Any] = {}
        for name in FILTER_COLUMNS:
            raw = values.get(name)
            if raw is None or raw == "" or raw == []:
                continue
            items = raw.split(",") if isinstance(raw, str) else list(raw)
            kwargs[name] = tuple(sorted({str(v).strip() for v in items if str(v).strip()}))
        inc = values.get("include_non_target")
        if inc is not None:
            kwargs["include_non_target"] = str(inc).lower() in ("1", "true", "yes", "on")
        return cls(**kwargs)

    def where(self, alias: str = "") -> tuple[str, list[Any]]:
        """SQL predicate (no leading WHERE/AND) and its parameters, for ``alias.column``."""
        prefix = f"{alias}." if alias else ""
        if self.deny_all:
            return "false", []
        clauses: list[str] = []
        params: list[Any] = []
        if not self.include_non_target:
            clauses.append(f"{prefix}is_target")
        for name, column in FILTER_COLUMNS.items():
            values = getattr(self, name)
            if values:
                clauses.append(f"list_contains(?, {prefix}{column})")
                params.append(list(values))
        return (" and ".join(clauses) or "true", params)


def filter_options(conn: duckdb.DuckDBPyConnection, within: Filters | None = None) -> dict[str, list[str]]:
    """Distinct values of every filter dimension, from ``account_month``; with ``within``,
    only those of its rows (a logged-in user's scope, cslib.access.scope, so the sidebar
    never lists teams or CSMs outside it). Default: every row, non-target included."""
    where, params = (within or Filters(include_non_target=True)).where("a")
    out: dict[str, list[str]] = {}
    for name, column in FILTER_COLUMNS.items():  # column names from the whitelist only
        df = query(
            conn,
            f"select distinct a.{column} as v from account_month as a "
            f"where a.{column} is not null and {where} order by 1",
            params,
        )
        out[name] = df["v"].astype(str).tolist()
    return out


def available_months(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Months (YYYY-MM, ascending) that have revenue in the database."""
    df = query(conn, "select distinct month from account_month order by month")
    return df["month"].tolist()
