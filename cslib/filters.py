"""Slicing the customer book: the sidebar filters, as bound-parameter SQL.

Filter columns come from a whitelist (``FILTER_COLUMNS``); values are always bound.
Every filter applies to the ``account_month`` mart (or any relation with the same
column names), so each page and report slices the same way.

Account attributes (extra account columns an import keeps: plan tier, country, ...) are
stored long in ``raw_account_attributes`` (account_id, attribute, value), so a name from
the data never becomes an SQL identifier: an attribute filter is
``account_id in (select ... where attribute = $filter_i and list_contains($filter_j, value))``
with the attribute's name and values bound. In URLs and on the command line an attribute is
``attr.<name>`` (``?attr.plan_tier=gold,silver``, ``--attr plan_tier=gold,silver``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

import duckdb

from cslib.store.db import query
from cslib.errors import UserError

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

#: the long table of account attributes (one row per account x attribute with a value)
ATTRIBUTE_TABLE = "raw_account_attributes"
ATTRIBUTE_TABLE_DDL = (
    f"create table if not exists {ATTRIBUTE_TABLE} "
    "(account_id VARCHAR not null, attribute VARCHAR not null, value VARCHAR not null)"
)
#: an attribute's name: lower case, digits and underscores, starting with a letter
ATTRIBUTE_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
#: the prefix of an attribute in URLs, ``--by`` and ``filter_options`` keys
ATTRIBUTE_PREFIX = "attr."


def create_attribute_table(conn) -> None:
    """Create the (empty) ``raw_account_attributes`` table unless the database has it."""
    conn.execute(ATTRIBUTE_TABLE_DDL)


def has_attribute_table(conn) -> bool:
    """Whether the database has ``raw_account_attributes`` (a file built before attributes
    existed has not; it then simply has no attributes)."""
    from cslib.store.queries import render_sql  # it imports this module

    df = query(conn, *render_sql(
        "select count(*) as n from duckdb_tables() where database_name = current_database() "
        "and schema_name = current_schema() and table_name = $table",
        name="has_attribute_table", table=ATTRIBUTE_TABLE,
    ))
    return bool(df["n"].iloc[0])


def attribute_names(conn) -> list[str]:
    """The attributes present in the data, sorted (none without the table)."""
    if not has_attribute_table(conn):
        return []
    df = query(conn, f"select distinct attribute from {ATTRIBUTE_TABLE} order by 1")
    return df["attribute"].astype(str).tolist()


def attribute_label(name: str) -> str:
    """How a page names an attribute: 'plan_tier' -> 'Plan tier'."""
    from cslib.labels import column_label

    return column_label(name) or name


def attribute_value_sql(account_id_ref: str, catalog: str = "", param: str = "attribute") -> str:
    """A scalar SQL expression: the value of one attribute (its name bound as ``$param``,
    for :func:`cslib.store.queries.render`) for the account ``account_id_ref`` (a column
    reference written by the caller, never from data); NULL when the account has no
    value. For ``--by attr.<name>`` breakdowns."""
    table = f"{catalog}.{ATTRIBUTE_TABLE}" if catalog else ATTRIBUTE_TABLE
    return (
        f"(select hg_attr.value from {table} as hg_attr "
        f"where hg_attr.account_id = {account_id_ref} and hg_attr.attribute = ${param})"
    )


def breakdown_attribute(conn, by: str | None, choices) -> str | None:
    """The attribute name of a ``--by attr.<name>`` breakdown (None when ``by`` is not an
    attribute); an attribute the data lacks is a UserError listing every choice."""
    if not by or not by.startswith(ATTRIBUTE_PREFIX):
        return None
    name = by[len(ATTRIBUTE_PREFIX):]
    present = attribute_names(conn)
    if name not in present:
        listed = ", ".join([*choices, *(f"{ATTRIBUTE_PREFIX}{a}" for a in present)])
        raise UserError(f"cannot break down by '{by}': no such account attribute (choose from {listed})")
    return name


def check_values(conn, filters: "Filters") -> None:
    """Raise one UserError line when ``filters`` name a value no account has (a typo on the
    command line, or a team spelled as on screen, would otherwise select nothing,
    silently): names the dimension, the value and a few values the data has."""
    chosen = {name: getattr(filters, name) for name in FILTER_COLUMNS if getattr(filters, name)}
    if not chosen or filters.deny_all:
        return
    options = filter_options(conn)
    for name, values in chosen.items():
        unknown = [v for v in values if v not in options.get(name, [])]
        if unknown:
            have = options.get(name, [])
            shown = ", ".join(have[:12]) + (f" and {len(have) - 12} more" if len(have) > 12 else "")
            raise UserError(f"no account has {name} '{unknown[0]}' (the data has: {shown or 'none'})")


def check_attributes(conn, filters: "Filters") -> None:
    """Raise one UserError line when ``filters`` name an attribute the data does not have
    (a typo on the command line would otherwise select nothing, silently)."""
    if not filters.attributes:
        return
    present = attribute_names(conn)
    for name, _ in filters.attributes:
        if name not in present:
            known = (f"the data has: {', '.join(present)}" if present else
                     "the data has none; an import keeps extra account columns with a mapping's "
                     "[tables.accounts] attributes")
            raise UserError(f"unknown account attribute '{name}' ({known})")


def _values(raw: Any) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return tuple(sorted({str(v).strip() for v in items if str(v).strip()}))


def parse_attribute_args(items: list[str] | tuple[str, ...] | None) -> dict[str, tuple[str, ...]]:
    """``--attr NAME=V1,V2`` arguments (repeatable; a name given twice adds values) ->
    {name: values}. A malformed one is a UserError."""
    out: dict[str, set[str]] = {}
    for item in items or ():
        name, sep, raw = str(item).partition("=")
        name = name.strip()
        if name.startswith(ATTRIBUTE_PREFIX):
            name = name[len(ATTRIBUTE_PREFIX):]
        if not sep or not ATTRIBUTE_NAME_RE.fullmatch(name):
            raise UserError(f"--attr {item!r}: expected NAME=VALUE[,VALUE...] with a lower-case "
                            "attribute name such as plan_tier=gold,silver")
        values = _values(raw)
        if not values:
            raise UserError(f"--attr {item!r}: no value given (expected NAME=VALUE[,VALUE...])")
        out.setdefault(name, set()).update(values)
    return {name: tuple(sorted(v)) for name, v in out.items()}


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
    #: account attributes: ((name, values), ...) sorted by name; accounts with one of the
    #: values (an account without a value for the attribute is left out)
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    include_non_target: bool = False
    #: an empty scope (a user who may see nothing of what they asked for): no rows at all,
    #: expressed as a false predicate, never as a magic filter value
    deny_all: bool = False

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if not self.deny_all:
            del out["deny_all"]
        if self.attributes:
            out["attributes"] = dict(self.attributes)  # {name: values}
        else:
            del out["attributes"]
        return out

    def attribute_values(self, name: str) -> tuple[str, ...]:
        """The values selected for attribute ``name`` (empty: all)."""
        return dict(self.attributes).get(name, ())

    def with_attributes(self, selected: dict[str, Any]) -> "Filters":
        """A copy with these attribute selections ({name: values}; empty values dropped)."""
        from dataclasses import replace

        cleaned = {name: _values(v) for name, v in selected.items()}
        return replace(self, attributes=tuple(sorted((n, v) for n, v in cleaned.items() if v)))

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> "Filters":
        """Build from loose input (CLI args, URL parameters); unknown keys are ignored.

        Attributes: ``attr.<name>`` keys (``"gold,silver"`` or a list), and ``attr``, a list
        of ``NAME=V1,V2`` items (``--attr``, repeatable). A key whose name is not a valid
        attribute name is ignored, as any unknown key; a malformed ``--attr`` item is a
        UserError."""
        kwargs: dict[str, Any] = {}
        for name in FILTER_COLUMNS:
            raw = values.get(name)
            if raw is None or raw == "" or raw == []:
                continue
            kwargs[name] = _values(raw)
        inc = values.get("include_non_target")
        if inc is not None:
            kwargs["include_non_target"] = str(inc).lower() in ("1", "true", "yes", "on")
        attrs: dict[str, set[str]] = {}
        for key, raw in values.items():
            if not isinstance(key, str) or not key.startswith(ATTRIBUTE_PREFIX) or raw is None:
                continue
            name = key[len(ATTRIBUTE_PREFIX):]
            if ATTRIBUTE_NAME_RE.fullmatch(name) and _values(raw):
                attrs.setdefault(name, set()).update(_values(raw))
        for name, picked in parse_attribute_args(values.get("attr")).items():
            attrs.setdefault(name, set()).update(picked)
        if attrs:
            kwargs["attributes"] = tuple(sorted((n, tuple(sorted(v))) for n, v in attrs.items()))
        return cls(**kwargs)

    def where_named(self, alias: str = "", catalog: str = "") -> tuple[str, dict[str, Any]]:
        """SQL predicate (no leading WHERE/AND) for ``alias.column`` and its named parameters
        (``$filter_1``, ``$filter_2``, ...), for :func:`cslib.store.queries.render`, which
        puts it in place of a query's filter marker.

        Attribute filters read ``raw_account_attributes`` (``catalog.raw_account_attributes``
        when the query runs in another database with the file attached as ``catalog``)."""
        values: dict[str, Any] = {}

        def bind(value: Any) -> str:
            name = f"{FILTER_PARAM_PREFIX}{len(values) + 1}"
            values[name] = value
            return f"${name}"

        return self._predicate(alias, catalog, bind), values

    def _predicate(self, alias: str, catalog: str, bind) -> str:
        prefix = f"{alias}." if alias else ""
        if self.deny_all:
            return "false"
        clauses: list[str] = []
        if not self.include_non_target:
            clauses.append(f"{prefix}is_target")
        for name, column in FILTER_COLUMNS.items():
            values = getattr(self, name)
            if values:
                clauses.append(f"list_contains({bind(list(values))}, {prefix}{column})")
        table = f"{catalog}.{ATTRIBUTE_TABLE}" if catalog else ATTRIBUTE_TABLE
        for name, values in self.attributes:
            if not values:
                continue
            clauses.append(
                f"{prefix}account_id in (select hg_attr.account_id from {table} as hg_attr "
                f"where hg_attr.attribute = {bind(name)} and list_contains({bind(list(values))}, hg_attr.value))"
            )
        return " and ".join(clauses) or "true"


#: named parameters the filter predicate binds (``$filter_1``, ...); a query's own
#: parameters may not use this prefix
FILTER_PARAM_PREFIX = "filter_"


#: where a query takes a slice: :func:`cslib.store.queries.render` replaces the comment and
#: the "true" after it by ``Filters.where_named(alias)`` (whitelisted identifiers, values
#: as ``$filter_N``)
FILTER_MARKER = "/* filter_predicate */ true"


def filter_options(conn: duckdb.DuckDBPyConnection, within: Filters | None = None) -> dict[str, list[str]]:
    """Distinct values of every filter dimension, from ``account_month``; with ``within``,
    only those of its rows (a logged-in user's scope, cslib.rules.access.scope, so the sidebar
    never lists teams or CSMs outside it). Default: every row, non-target included.

    Then one key ``attr.<name>`` per account attribute in the data (sorted by name): the
    values of the accounts in that scope."""
    from cslib.store.queries import render_sql  # it imports this module

    scope = within or Filters(include_non_target=True)
    out: dict[str, list[str]] = {}
    for name, column in FILTER_COLUMNS.items():  # column names from the whitelist only
        df = query(conn, *render_sql(
            f"select distinct a.{column} as v from account_month as a "
            f"where a.{column} is not null and {FILTER_MARKER} order by 1",
            scope, alias="a", name="filter_options",
        ))
        out[name] = df["v"].astype(str).tolist()
    out.update(filter_options_attributes(conn, within or Filters(include_non_target=True)))
    return out


def faceted_options(conn: duckdb.DuckDBPyConnection, selected: Filters,
                    within: Filters | None = None) -> dict[str, list[str]]:
    """Options that narrow each other: for every standard dimension, the values present in
    the rows that match every *other* selected dimension (and the selected account
    attributes), within ``within`` (a user's scope; default every row, non-target
    included). Choosing team "Strategic" leaves only its CSMs in the CSM list; a
    dimension's own selection never narrows its own list. Attribute keys as in
    ``filter_options`` (not narrowed). One query of the distinct combinations, then sets."""
    import pandas as pd

    from cslib.store.queries import render_sql  # it imports this module

    base = within or Filters(include_non_target=True)
    table = f"{ATTRIBUTE_TABLE}"
    attr_clauses, attr_params = [], {}
    if selected.attributes and has_attribute_table(conn):
        for i, (name, values) in enumerate(selected.attributes, start=1):
            attr_clauses.append(
                f"a.account_id in (select hg_attr.account_id from {table} as hg_attr "
                f"where hg_attr.attribute = $attribute_{i} and list_contains($attribute_values_{i}, hg_attr.value))"
            )
            attr_params.update({f"attribute_{i}": name, f"attribute_values_{i}": list(values)})
    columns = ", ".join(f"a.{column}" for column in FILTER_COLUMNS.values())  # whitelist only
    sql = (f"select distinct {columns} from account_month as a where {FILTER_MARKER}"
           + "".join(f" and {c}" for c in attr_clauses))
    combos = query(conn, *render_sql(sql, base, alias="a", name="faceted_options", **attr_params))
    masks = {
        name: combos[column].isin(list(getattr(selected, name))) if getattr(selected, name) else None
        for name, column in FILTER_COLUMNS.items()
    }
    out: dict[str, list[str]] = {}
    for name, column in FILTER_COLUMNS.items():
        keep = pd.Series(True, index=combos.index)
        for other, mask in masks.items():
            if other != name and mask is not None:
                keep &= mask
        values = combos.loc[keep, column].dropna().astype(str).unique().tolist()
        out[name] = sorted(values)
    for key, values in filter_options_attributes(conn, base).items():
        out[key] = values
    return out


def filter_options_attributes(conn: duckdb.DuckDBPyConnection, within: Filters) -> dict[str, list[str]]:
    """``attr.<name>`` -> the values of the accounts in ``within`` (sorted)."""
    if not has_attribute_table(conn):
        return {}
    from cslib.store.queries import render_sql  # it imports this module

    df = query(conn, *render_sql(
        f"select x.attribute, x.value from {ATTRIBUTE_TABLE} as x "
        f"where x.account_id in (select a.account_id from account_month as a where {FILTER_MARKER}) "
        "group by all order by 1, 2",
        within, alias="a", name="filter_options_attributes",
    ))
    return {f"{ATTRIBUTE_PREFIX}{name}": group["value"].astype(str).tolist()
            for name, group in df.groupby("attribute", sort=True)}


def available_months(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Months (YYYY-MM, ascending) that have revenue in the database."""
    df = query(conn, "select distinct month from account_month order by month")
    return df["month"].tolist()
