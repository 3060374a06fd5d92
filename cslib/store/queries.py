"""The one way to build a query: a SQL file, the sidebar's filters and named parameters in,
SQL text and its bound values out.

A query file under ``cslib/sql`` names its values as ``$name`` placeholders (DuckDB's named
parameters; a value used twice is named twice, never passed twice) and, when it takes a
slice of the book, holds the filter marker ``/* filter_predicate */ true`` exactly once
where the filters' predicate goes. :func:`render` checks both: the marker is there exactly
once when filters are given (and absent when not), every placeholder in the text has a
value, and every value passed is used. A mismatch is a programming error
(``AssertionError``), found by any test that runs the query, never a wrong number.

Some files also hold a marker for a piece of SQL the caller chooses from a fixed set (a
breakdown's group column, ``/* group_column */ segment``): ``splice={marker: sql}`` puts it
in, with the same exactly-once check, before the placeholders are counted (so a spliced
attribute look-up's ``$attribute`` is checked like any other). A marker left alone keeps the
SQL written after its comment.

    sql, params = render("revenue_movements", filters, alias="m", month_from="2025-01")
    df = query(conn, sql, params)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cslib.filters import FILTER_MARKER, FILTER_PARAM_PREFIX, Filters
from cslib.store.db import sql_file

#: ``$name`` placeholders (outside comments and string literals)
_PLACEHOLDER_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
#: comments and string literals, blanked before placeholders are read
_NOT_CODE_RE = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)


def placeholders(sql: str) -> set[str]:
    """The named placeholders of ``sql`` (comments and string literals ignored)."""
    code = _NOT_CODE_RE.sub(" ", sql)
    if "?" in code:
        raise AssertionError("positional '?' placeholder: name it ($name) instead")
    return set(_PLACEHOLDER_RE.findall(code))


def render_sql(sql: str, filters: Filters | None = None, *, alias: str = "", catalog: str = "",
               name: str = "query", splice: Mapping[str, str] | None = None,
               **params: Any) -> tuple[str, dict[str, Any]]:
    """``sql`` with each ``splice`` marker replaced by its SQL and the filters' predicate in
    place of the filter marker, and every bound value."""
    for marker, fragment in (splice or {}).items():
        if sql.count(marker) != 1:
            raise AssertionError(f"{name} must hold {marker!r} exactly once (it holds it {sql.count(marker)} times)")
        sql = sql.replace(marker, fragment)
    count = sql.count(FILTER_MARKER)
    bound: dict[str, Any] = {}
    if filters is not None:
        if count != 1:
            raise AssertionError(f"{name} must hold the filter marker exactly once (it holds it {count} times)")
        predicate, bound = filters.where_named(alias, catalog)
        sql = sql.replace(FILTER_MARKER, predicate)
    elif count:
        raise AssertionError(f"{name} takes a slice (it holds the filter marker): pass the filters")
    clash = sorted(p for p in params if p.startswith(FILTER_PARAM_PREFIX))
    if clash:
        raise AssertionError(f"{name}: parameter names starting {FILTER_PARAM_PREFIX!r} are the filters' ({clash})")
    used = placeholders(sql)
    missing = sorted(used - bound.keys() - params.keys())
    unused = sorted(params.keys() - used)
    if missing or unused:
        raise AssertionError(f"{name}: placeholders without a value {missing}, values without a placeholder {unused}")
    bound.update(params)
    return sql, bound


def render(name: str, filters: Filters | None = None, *, alias: str = "", catalog: str = "",
           splice: Mapping[str, str] | None = None, **params: Any) -> tuple[str, dict[str, Any]]:
    """The query file ``<name>.sql`` rendered by :func:`render_sql`."""
    return render_sql(sql_file(name), filters, alias=alias, catalog=catalog, name=f"{name}.sql", splice=splice,
                      **params)
