"""Column mapping: how a company's own export files become the contract tables.

``python -m cslib import DIR --mapping FILE`` (and ``check``) read a TOML file::

    [tables.subscription_periods]
    file = "subscriptions*.csv"          # glob relative to DIR; several files = one table
    columns = { customer_id = "Customer ID", monthly_amount = "Amount" }   # contract <- source header
    defaults = { product = "core" }      # when the column is absent or a cell is empty
    values = { plan = { "Pro (annual)" = "pro" } }                          # value maps
    date_format = { start_date = "%d/%m/%Y" }                               # strptime formats
    drop = [{ column = "Status", in = ["trial"] }, { column = "monthly_amount", equals = "0" }]

    [tables.accounts]
    attributes = { plan_tier = "Plan Tier", country = "Country" }       # extra columns kept as
                                         # filter and breakdown dimensions (name <- source header)

    [subscriptions]
    overlap = "add"                      # or "replace"
    [subscriptions.products.core]
    overlap = "replace"

    [renewals]
    term_months = 12

Only the mapping's shape is checked here (one line naming the mapping file and the key);
whether a named source column exists is checked by the importer against the file's header.
The mapping is applied inside the importer's staging select, so every cell check and its
message (naming the SOURCE file and line) still applies.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cslib.store import contract
from cslib.errors import UserError
from cslib.rules import tomlfile

TABLE_KEYS = ("file", "columns", "defaults", "values", "date_format", "drop", "attributes")
TOP_KEYS = ("tables", "subscriptions", "renewals")
RENEWAL_KEYS = ("term_months",)
OVERLAP_MODES = ("add", "replace")
DROP_KEYS = ("column", "in", "equals")
_BOOL_WORDS = ("true", "false", "1", "0", "yes", "no")


@dataclass(frozen=True)
class Drop:
    """Drop the rows whose ``column`` (a contract column of the table, else a source header)
    holds one of ``values`` as written in the source (trimmed; numbers also match numerically)."""

    column: str
    values: tuple[str, ...]
    key: str  # where it is in the mapping file, for messages


@dataclass(frozen=True)
class TableMapping:
    table: str
    file: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_format: dict[str, str] = field(default_factory=dict)
    drop: tuple[Drop, ...] = ()
    #: accounts only: attribute name -> source header of an extra column kept as an account
    #: attribute (raw_account_attributes; a filter and breakdown dimension, cslib.filters)
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Mapping:
    path: Path
    tables: dict[str, TableMapping] = field(default_factory=dict)
    term_months: int | None = None
    overlap: str = "add"
    product_overlap: dict[str, str] = field(default_factory=dict)
    #: 'YYYY-MM': the month open-ended subscriptions run through (the export's month);
    #: None = the latest month of revenue or usage in the import
    through: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def overlap_for(self, product: str) -> str:
        return self.product_overlap.get(product, self.overlap)


def _text(value) -> str:
    """A TOML scalar as the text a CSV cell would hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_scalar(value) -> bool:
    return isinstance(value, (str, int, float, bool))


def load_mapping(path: str | os.PathLike) -> Mapping:
    """Read and validate a mapping file; a mistake is one ``UserError`` line naming the key."""
    p = Path(path)
    name = p.name
    if not p.is_file():
        raise UserError(f"{name}: mapping file not found ({p})")
    data = tomlfile.read(p, "mapping file", name=name)

    def fail(key: str, message: str) -> UserError:
        return UserError(f"{name}: {key}: {message}")

    for key in data:
        if key not in TOP_KEYS:
            raise fail(key, f"unknown key (expected one of {', '.join(TOP_KEYS)})")

    tables: dict[str, TableMapping] = {}
    raw_tables = data.get("tables", {})
    if not isinstance(raw_tables, dict):
        raise fail("tables", "expected a table ([tables.<contract table>])")
    for table_name, spec in raw_tables.items():
        if table_name not in contract.ALL_SHAPES:
            raise fail(f"[tables.{table_name}]",
                       f"unknown contract table (one of {', '.join(sorted(contract.ALL_SHAPES))})")
        if not isinstance(spec, dict):
            raise fail(f"tables.{table_name}", "expected a table of keys")
        tables[table_name] = _table_mapping(contract.ALL_SHAPES[table_name], spec, fail)

    renewals = data.get("renewals", {})
    if not isinstance(renewals, dict):
        raise fail("renewals", "expected a table ([renewals])")
    for key in renewals:
        if key not in RENEWAL_KEYS:
            raise fail(f"renewals.{key}", f"unknown key (expected one of {', '.join(RENEWAL_KEYS)})")
    term = renewals.get("term_months")
    if term is not None and (isinstance(term, bool) or not isinstance(term, int) or not 1 <= term <= 120):
        raise fail("renewals.term_months", f"expected a whole number of months 1-120, got {term!r}")

    subs = data.get("subscriptions", {})
    if not isinstance(subs, dict):
        raise fail("subscriptions", "expected a table ([subscriptions])")
    for key in subs:
        if key not in ("overlap", "products", "through"):
            raise fail(f"subscriptions.{key}", "unknown key (expected overlap, products or through)")
    through = subs.get("through")
    if through is not None and (not isinstance(through, str)
                                or not re.fullmatch(r"(199[0-9]|20[0-9]{2}|2100)-(0[1-9]|1[0-2])", through)):
        raise fail("subscriptions.through", f'expected a month "YYYY-MM", got {through!r}')
    overlap = _overlap(subs.get("overlap", "add"), "subscriptions.overlap", fail)
    product_overlap: dict[str, str] = {}
    products = subs.get("products", {})
    if not isinstance(products, dict):
        raise fail("subscriptions.products", "expected a table ([subscriptions.products.<product>])")
    for product, spec in products.items():
        key = f"subscriptions.products.{product}"
        if not isinstance(spec, dict) or set(spec) - {"overlap"} or "overlap" not in spec:
            raise fail(key, 'expected overlap = "add" or "replace"')
        product_overlap[product] = _overlap(spec["overlap"], f"{key}.overlap", fail)
    return Mapping(p, tables, term, overlap, product_overlap, through)


def _overlap(value, key: str, fail) -> str:
    if value not in OVERLAP_MODES:
        raise fail(key, f'expected "add" or "replace", got {value!r}')
    return value


def _table_mapping(table: contract.Table, spec: dict, fail) -> TableMapping:
    prefix = f"tables.{table.name}"
    for key in spec:
        if key not in TABLE_KEYS:
            raise fail(f"{prefix}.{key}", f"unknown key (expected one of {', '.join(TABLE_KEYS)})")
    file = spec.get("file")
    if file is not None and (not isinstance(file, str) or not file.strip()
                             or Path(file).is_absolute() or ".." in Path(file).parts):
        raise fail(f"{prefix}.file", "expected a file name or glob inside the import folder")

    def contract_keys(key: str) -> dict:
        value = spec.get(key, {})
        if not isinstance(value, dict):
            raise fail(f"{prefix}.{key}", "expected a table: { <contract column> = ... }")
        for col in value:
            if col not in table.column_names:
                raise fail(f"{prefix}.{key}.{col}",
                           f"unknown column of {table.name} (one of {', '.join(table.column_names)})")
        return value

    columns = contract_keys("columns")
    for col, source in columns.items():
        if not isinstance(source, str) or not source.strip():
            raise fail(f"{prefix}.columns.{col}", "expected the source file's column name (text)")
    defaults = {col: _text(v) for col, v in contract_keys("defaults").items() if _check_default(
        table.column(col), v, f"{prefix}.defaults.{col}", fail)}
    values: dict[str, dict[str, str]] = {}
    for col, pairs in contract_keys("values").items():
        if not isinstance(pairs, dict) or not all(_is_scalar(v) for v in pairs.values()):
            raise fail(f"{prefix}.values.{col}", '''expected { "source value" = "contract value", ... }''')
        values[col] = {str(k): _text(v) for k, v in pairs.items()}
    date_format: dict[str, str] = {}
    for col, fmt in contract_keys("date_format").items():
        column = table.column(col)
        if column.type != "DATE" and not column.is_month:
            raise fail(f"{prefix}.date_format.{col}", f"{col} is not a date or month column")
        if not isinstance(fmt, str) or "%" not in fmt:
            raise fail(f"{prefix}.date_format.{col}", 'expected a strptime format such as "%d/%m/%Y"')
        date_format[col] = fmt
    drops = spec.get("drop", [])
    if not isinstance(drops, list):
        raise fail(f"{prefix}.drop", 'expected a list: [{ column = "...", in = [...] }, ...]')
    parsed: list[Drop] = []
    for i, item in enumerate(drops):
        key = f"{prefix}.drop[{i}]"
        if not isinstance(item, dict):
            raise fail(key, 'expected { column = "...", in = [...] } or { column = "...", equals = "..." }')
        for k in item:
            if k not in DROP_KEYS:
                raise fail(f"{key}.{k}", "unknown key (expected column, and in or equals)")
        column = item.get("column")
        if not isinstance(column, str) or not column.strip():
            raise fail(f"{key}.column", "expected a column name")
        if ("in" in item) == ("equals" in item):
            raise fail(key, "expected exactly one of in = [...] or equals = ...")
        listed = item["in"] if "in" in item else [item["equals"]]
        if not isinstance(listed, list) or not listed or not all(_is_scalar(v) for v in listed):
            raise fail(f"{key}.{'in' if 'in' in item else 'equals'}", "expected a value or a list of values")
        parsed.append(Drop(column.strip(), tuple(_text(v) for v in listed), key))
    return TableMapping(table.name, file, {k: v.strip() for k, v in columns.items()}, defaults, values,
                        date_format, tuple(parsed), _attributes(table, spec, prefix, fail))


def _attributes(table: contract.Table, spec: dict, prefix: str, fail) -> dict[str, str]:
    """``attributes = { plan_tier = "Plan Tier" }`` of [tables.accounts]: attribute name ->
    source header. Names are lower case (they are shown as 'Plan tier' and written in URLs
    as attr.plan_tier) and must not be a standard account column or filter."""
    from cslib.filters import ATTRIBUTE_NAME_RE, FILTER_COLUMNS

    value = spec.get("attributes")
    if value is None:
        return {}
    key = f"{prefix}.attributes"
    if table.name != "accounts":
        raise fail(key, "only [tables.accounts] keeps extra columns as attributes")
    if not isinstance(value, dict):
        raise fail(key, 'expected a table: { <attribute name> = "<source column>", ... }')
    reserved = set(FILTER_COLUMNS) | set(table.column_names) | {"include_non_target", "month"}
    out: dict[str, str] = {}
    for name, source in value.items():
        if not ATTRIBUTE_NAME_RE.fullmatch(name) or len(name) > 63:
            raise fail(f"{key}.{name}", "an attribute name is lower-case letters, digits and _, "
                       "starting with a letter (such as plan_tier)")
        if name in reserved:
            raise fail(f"{key}.{name}", f"{name} is a standard account column: map it with "
                       f"columns = {{ {name} = ... }} instead")
        if not isinstance(source, str) or not source.strip():
            raise fail(f"{key}.{name}", "expected the source file's column name (text)")
        out[name] = source.strip()
    return out


def _check_default(col: contract.Column, value, key: str, fail) -> bool:
    if not _is_scalar(value):
        raise fail(key, "expected a value (text, number or true/false)")
    text = _text(value).strip()
    ok = True
    if col.type == "BOOLEAN":
        ok = text.lower() in _BOOL_WORDS
    elif col.type == "DOUBLE":
        try:
            ok = math.isfinite(float(text)) and not (col.is_money and float(text) < 0)
        except ValueError:
            ok = False
    elif col.type == "INTEGER":
        ok = re.fullmatch(r"[+-]?[0-9]+", text) is not None
    elif col.type == "DATE":
        ok = re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) is not None
    elif col.is_month:
        ok = re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text) is not None
    if col.enum and text not in col.enum:
        ok = False
    if not ok:
        raise fail(key, f"{value!r} is not a valid {col.type.lower()} for {col.name}")
    return True


def as_mapping(mapping: Mapping | str | os.PathLike | None) -> Mapping | None:
    """A loaded mapping from a path (or None / an already loaded one)."""
    if mapping is None or isinstance(mapping, Mapping):
        return mapping
    return load_mapping(mapping)
