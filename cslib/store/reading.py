"""Reading a contract file: its header, the all-VARCHAR staging select (with the column
mapping applied), the cell checks in SQL, and the typed ``_typed_<table>``.

A clean file is checked in one aggregate scan and inserted straight into its raw table
(``_stage_direct``); a file with any bad cell takes the staged path, which lists every problem.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cslib import settings
from cslib.store import contract
from cslib.errors import UserError
from cslib.store.mapping import Mapping, TableMapping
from cslib.store.file_messages import Lines, ParquetRows, control_char, csv_error_message, show, visible
from cslib.store.problems import ImportSummary, Problems, files_label, has_rows


#: Accepted spellings of booleans (case-insensitive, surrounding spaces ignored).
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
#: Dates and months must fall in this range (inclusive).
MIN_DATE, MAX_DATE = "1990-01-01", "2100-12-31"
MIN_MONTH, MAX_MONTH = "1990-01", "2100-12"

_INTEGER_RE = r"\s*[+-]?[0-9]+\s*"
_DATE_RE = r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*"
#: a date, or a timestamp YYYY-MM-DD HH:MM[:SS[.fff]][Z|+hh:mm] (only its date is kept)
_TIMESTAMP_RE = (
    r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?\s*"
)
_MONTH_RE = r"\s*[0-9]{4}-(0[1-9]|1[0-2])\s*"
_MAX_HEADER_BYTES = 1 << 20
#: Control characters refused in text cells: C0 controls and DEL, except tab, line feed and
#: carriage return (a quoted note may span lines). RE2 syntax, bound as a parameter.
_CONTROL_RE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
#: Text columns not checked for control characters (the big usage tables, for speed): their
#: account_id must match accounts.csv, whose ids are checked; module and metric names are
#: matched against the scorecard (a name with a control character matches nothing).
_CONTROL_EXEMPT = {("usage_weekly", "account_id"), ("module_usage_weekly", "account_id"),
                   ("module_usage_weekly", "module"), ("usage_metrics", "account_id"),
                   ("usage_metrics", "metric")}
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")



# ---------------------------------------------------------------------------
# Reading and cell checks
# ---------------------------------------------------------------------------

#: ``_row`` = file index << FILE_SHIFT | 0-based record index within the file.
FILE_SHIFT = 40


class Source:
    """Where a table's rows came from: maps an encoded ``_row`` to 'file, line N'."""

    def __init__(self) -> None:
        self.parts: list[tuple[Path, Lines | ParquetRows]] = []
        #: loaded straight into raw_<name> (``_stage_direct``): ``_typed_<name>`` is a view of it
        self.direct = False

    @property
    def label(self) -> str:
        return files_label([p for p, _ in self.parts], "")

    def file(self, row: int) -> str:
        return self.parts[row >> FILE_SHIFT][0].name

    def where(self, row: int) -> str:
        path, lines = self.parts[row >> FILE_SHIFT]
        return f"{path.name}, {lines.label} {lines(row & ((1 << FILE_SHIFT) - 1))}"

    def line(self, row: int, relative_to: int) -> str:
        """'line N' in the same file as ``relative_to``, else 'other.csv, line N'."""
        path, lines = self.parts[row >> FILE_SHIFT]
        local = f"{lines.label} {lines(row & ((1 << FILE_SHIFT) - 1))}"
        return local if row >> FILE_SHIFT == relative_to >> FILE_SHIFT else f"{path.name}, {local}"


def stage(
    conn: duckdb.DuckDBPyConnection, table: contract.Table, paths: list[Path], summary: ImportSummary,
    tmap: TableMapping | None, mp: Mapping | None, problems: Problems,
) -> Source | None:
    """Read ``paths`` into ``_typed_<name>`` (``_row`` = encoded record index + typed columns),
    applying the mapping inside the all-VARCHAR staging select. Cell problems are added to
    ``problems`` (bad cells then read as empty); a file-level problem skips the table (None)."""
    stg = f"_stg_{table.name}"
    source = Source()
    fast = len(paths) == 1 and not (tmap and tmap.drop)  # rowid = record index: no _row column
    try:
        first_header: list[str] | None = None
        for i, path in enumerate(paths):
            if path.suffix == ".parquet":
                header, types = _parquet_schema(conn, path)
            else:
                header, types = _read_header(path), None
            if first_header is None:
                plan = _match_header(path, table, header, summary, tmap, mp)
                first_header = [h.strip().lower() for h in header]
            elif [h.strip().lower() for h in header] != first_header:
                raise UserError(f"{path.name}: its columns differ from {paths[0].name} "
                                f"(all files of {table.name} need the same header)")
            params: dict = {"path": str(path)}
            select = _staging_select(table, plan, tmap, types, params)
            select += "".join(f", {_source_text(pos, types)} as _attr_{k}"  # kept attributes, by position
                              for k, (_, pos) in enumerate(plan.attributes))
            where = _drop_where(plan, types, params)
            if types is None:
                columns = "{" + ", ".join(f"'c{k}': 'VARCHAR'" for k in range(len(header))) + "}"
                reader = (f"read_csv($path, columns = {columns}, header = true, auto_detect = false, "
                          "all_varchar = true, delim = ',', quote = '\"', escape = '\"', skip = 0, "
                          "comment = '', strict_mode = true, encoding = 'utf-8')")
            else:
                reader = "read_parquet($path)"
            if fast and table.name not in _NOT_DIRECT and not plan.attributes:
                n_rows = _stage_direct(conn, table, select, reader, params, plan, tmap)
                if n_rows is not None:
                    source.parts.append((path, ParquetRows(path, n_rows) if types is not None
                                         else Lines(path, n_rows)))
                    source.direct = True
                    return source
            if fast:
                sql = f"create or replace temp table {stg} as select {select} from {reader}"
            else:
                params["file_base"] = i << FILE_SHIFT
                body = (f"select cast($file_base + ordinality - 1 as bigint) as _row, {select} "
                        f"from {reader} with ordinality {where}")
                sql = f"create or replace temp table {stg} as {body}" if i == 0 else f"insert into {stg} {body}"
            try:
                conn.execute(sql, params)
            except duckdb.Error as err:
                if types is not None:
                    raise UserError(f"{path.name}: not a readable Parquet file "
                                    f"({str(err).strip().splitlines()[0][:200]})") from None
                raise UserError(csv_error_message(path, str(err))) from None
            n_rows = None if not fast else conn.execute(f"select count(*) from {stg}").fetchone()[0]
            if plan.drops:  # say how many rows the drop rules left out (a second scan, only with drops)
                kept = conn.execute(f"select count(*) from {stg} where _row >> {FILE_SHIFT} = ?", [i]).fetchone()[0]
                n_rows = conn.execute(f"select count(*) from {reader}", {"path": str(path)}).fetchone()[0]
                if n_rows > kept:
                    summary.warnings.append(f"{path.name}: dropped {n_rows - kept:,} of {n_rows:,} rows "
                                            f"(tables.{table.name}.drop in {mp.name})")
            source.parts.append((path, ParquetRows(path, n_rows) if types is not None else Lines(path, n_rows)))
    except UserError as err:
        conn.execute(f"drop table if exists {stg}")
        problems.add_error(err)
        return None
    row_expr = "rowid" if fast else "_row"
    checked = _checked_columns(table, plan, tmap)
    _cell_problems(conn, table, stg, row_expr, checked, source, tmap, problems)
    casts = ", ".join(f"{_typed_expr(c)} as {c.name}" for c in table.columns)
    casts += "".join(f", _attr_{k}" for k in range(len(plan.attributes)))
    uses_bool = any(c.type == "BOOLEAN" for c in table.columns)
    conn.execute(
        f"create or replace temp table _typed_{table.name} as "
        f"select {row_expr} as _row, {casts} from {stg}",  # in record order, as staged
        {"true_words": list(TRUE_WORDS)} if uses_bool else None,
    )
    conn.execute(f"drop table {stg}")
    return source


def _parquet_schema(conn: duckdb.DuckDBPyConnection, path: Path) -> tuple[list[str], list[str]]:
    try:
        schema = conn.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as err:
        first = str(err).strip().splitlines()[0][:200]
        raise UserError(f"{path.name}: not a readable Parquet file ({first})") from None
    return [name for name, *_ in schema], [str(kind).upper() for _, kind, *_ in schema]


@dataclass
class _HeaderPlan:
    """Contract column -> source position, and each drop rule's source position."""

    positions: dict[str, int]
    drops: list[tuple[int, tuple[str, ...]]]
    #: accounts: (attribute name, source position) of each extra column the mapping keeps
    attributes: list[tuple[str, int]] = field(default_factory=list)


def _default_of(col: contract.Column, tmap: TableMapping | None) -> str | None:
    if tmap is not None and col.name in tmap.defaults:
        return tmap.defaults[col.name]
    return col.default


def _source_text(pos: int, types: list[str] | None, col: contract.Column | None = None) -> str:
    """SQL for a source cell as text: ``c<k>`` of a CSV; a Parquet column (``#k``, by position,
    so no name from the file ever becomes SQL) with dates and timestamps as ``YYYY-MM-DD`` and
    whole floating-point counts as integers, as a warehouse may write them."""
    if types is None:
        return f"c{pos}"
    ref, kind = f"#{pos + 1}", types[pos]
    if kind.startswith(("DATE", "TIMESTAMP")):
        return f"strftime(cast({ref} as date), '%Y-%m-%d')"
    if col is not None and col.type == "INTEGER" and kind.startswith(("DOUBLE", "FLOAT", "DECIMAL", "REAL")):
        return (f"case when isfinite({ref}) and {ref} = trunc({ref}) "
                f"then cast(cast({ref} as bigint) as varchar) else cast({ref} as varchar) end")
    return f"cast({ref} as varchar)"


def _staging_select(table: contract.Table, plan: _HeaderPlan, tmap: TableMapping | None,
                    types: list[str] | None, params: dict) -> str:
    """The all-VARCHAR select list: each contract column from its source cell, through the
    mapping's value map, date format, then the default when empty; values are bound."""

    def bind(value) -> str:
        name = f"p{len(params)}"
        params[name] = value
        return f"${name}"

    def expr(col: contract.Column) -> str:
        e = _source_text(plan.positions[col.name], types, col) if col.name in plan.positions \
            else "cast(null as varchar)"
        if tmap is not None and col.name in tmap.values:
            whens = " ".join(f"when {bind(k)} then {bind(v)}" for k, v in tmap.values[col.name].items())
            e = f"case trim({e}) {whens} else {e} end"
        if tmap is not None and col.name in tmap.date_format and col.name in plan.positions:
            out = "%Y-%m" if col.is_month else "%Y-%m-%d"
            e = f"coalesce(strftime(try_strptime(trim({e}), {bind(tmap.date_format[col.name])}), '{out}'), {e})"
        elif tmap is not None and col.type == "DATE" and col.name in plan.positions:
            # a mapped date column accepts an ISO timestamp and keeps its date
            e = (f"case when regexp_full_match(trim({e}), '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}[ T].*') "
                 f"then left(trim({e}), 10) else {e} end")
        default = _default_of(col, tmap)
        if default is not None:
            e = f"case when {e} is null or trim({e}) = '' then {bind(default)} else {e} end"
        elif col.default_from:
            e = f"case when {e} is null or trim({e}) = '' then {expr(table.column(col.default_from))} else {e} end"
        if col.normalised:
            return f"regexp_replace(lower(trim({e})), '[\\s-]+', '_', 'g')"
        if col.type == "VARCHAR" and not col.is_month:
            return f"trim({e})"  # every text cell of every file, ids and names included
        return e  # numbers, dates, months and booleans are trimmed by their checks and casts

    return ", ".join(f"{expr(c)} as {c.name}" for c in table.columns)


def _drop_where(plan: _HeaderPlan, types: list[str] | None, params: dict) -> str:
    """``where not (...)`` for the mapping's drop rules (trimmed text, or equal as numbers)."""
    conds = []
    for pos, values in plan.drops:
        cell = f"trim({_source_text(pos, types)})"
        names = []
        for v in values:
            name = f"p{len(params)}"
            params[name] = v
            names.append(f"${name}")
            try:
                number = float(v)
            except ValueError:
                continue
            if math.isfinite(number):
                nname = f"p{len(params)}"
                params[nname] = number
                conds.append(f"coalesce(try_cast({cell} as double) = ${nname}, false)")
        conds.append(f"coalesce({cell} in ({', '.join(names)}), false)")
    return f"where not ({' or '.join(conds)})" if conds else ""


def _read_header(path: Path) -> list[str]:
    """The header's field names (the first CSV record), as written."""
    try:
        with open(path, "rb") as f:
            head = f.read(_MAX_HEADER_BYTES + 1)
    except OSError as err:
        raise UserError(f"{path.name}: cannot read ({err.strerror})") from None
    head = head.removeprefix(b"\xef\xbb\xbf")
    if not head.strip():
        raise UserError(f"{path.name}: file is empty")
    end = _header_end(head)
    if end > _MAX_HEADER_BYTES:
        raise UserError(f"{path.name}, line 1: header line too long (is this a CSV file?)")
    try:
        text = head[:end].decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path.name}: not valid UTF-8 (line 1)") from None
    return next(csv.reader([text]), [])


def _header_end(head: bytes) -> int:
    """Offset of the first line break outside double quotes (or len(head))."""
    breaks = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    first = min(breaks, default=len(head))
    if b'"' not in head[:first]:
        return first
    in_quotes = False
    for i, byte in enumerate(head):
        if byte == 0x22:
            in_quotes = not in_quotes
        elif byte in (0x0A, 0x0D) and not in_quotes:
            return i
    return len(head)


def _match_header(
    path: Path, table: contract.Table, header: list[str], summary: ImportSummary,
    tmap: TableMapping | None = None, mp: Mapping | None = None,
) -> _HeaderPlan:
    """Contract column -> position in the file (by the mapping's source name, else by the
    contract name); raise on duplicate or missing columns (all missing ones in one line)."""
    names = [h.strip().lower() for h in header]
    if len(names) == 1 and any(sep in header[0] for sep in (";", "\t", "|")):
        sep = next(s for s in (";", "\t", "|") if s in header[0])
        raise UserError(
            f"{path.name}: only one column found; the file must be comma-separated "
            f"(the header contains {sep!r})"
        )
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name and name in seen:
            raise UserError(
                f"{path.name}: duplicate column '{name}' in the header (columns {seen[name] + 1} and {i + 1})"
            )
        seen[name] = i

    def not_found(key: str, column: str) -> UserError:
        shown = ", ".join(h.strip() for h in header[:30]) + (", ..." if len(header) > 30 else "")
        return UserError(f"{mp.name}: {key}: column {column!r} not in {path.name} (its columns: {shown})")

    positions: dict[str, int] = {}
    for col in table.columns:
        if tmap is not None and col.name in tmap.columns:
            source = tmap.columns[col.name]
            if source.lower() not in seen:
                raise not_found(f"tables.{table.name}.columns.{col.name}", source)
            positions[col.name] = seen[source.lower()]
        elif col.name in seen:
            positions[col.name] = seen[col.name]
    missing = [c for c in table.columns
               if c.required and c.name not in positions and _default_of(c, tmap) is None]
    if len(missing) == 1:
        raise UserError(f"{path.name}: missing required column '{missing[0].name}' ({missing[0].type})")
    if missing:
        listed = ", ".join(f"'{c.name}' ({c.type})" for c in missing)
        raise UserError(f"{path.name}: missing required columns {listed}")
    drops: list[tuple[int, tuple[str, ...]]] = []
    for rule in (tmap.drop if tmap else ()):
        if rule.column in positions:
            drops.append((positions[rule.column], rule.values))
        elif rule.column.lower() in seen:
            drops.append((seen[rule.column.lower()], rule.values))
        else:
            raise not_found(f"{rule.key}.column", rule.column)
    attributes: list[tuple[str, int]] = []
    for name, source in (tmap.attributes if tmap else {}).items():
        if source.lower() not in seen:
            raise not_found(f"tables.{table.name}.attributes.{name}", source)
        attributes.append((name, seen[source.lower()]))
    used = set(positions.values()) | {pos for pos, _ in drops} | {pos for _, pos in attributes}
    extra = [h.strip() or f"<unnamed column {i + 1}>" for i, h in enumerate(header) if i not in used]
    if extra:
        summary.warnings.append(f"{path.name}: ignored extra column(s) {', '.join(extra)}")
    return _HeaderPlan(positions, drops, attributes)


def _cell_checks(col: contract.Column, table: contract.Table | None = None) -> list[tuple[str, list, str]]:
    """(SQL condition, bound params, message kind) per check, in priority order.

    ``{c}`` is the column; conditions only see non-empty cells.
    """
    checks: list[tuple[str, list, str]] = []
    if col.type == "VARCHAR" and not col.is_month and (table is None or (table.name, col.name) not in _CONTROL_EXEMPT):
        checks.append(("regexp_matches({c}, ?)", [_CONTROL_RE], "control"))
    if col.type == "INTEGER":
        checks.append(("not regexp_full_match({c}, ?) or try_cast({c} as integer) is null", [_INTEGER_RE], "integer"))
        checks.append(("try_cast({c} as integer) < 0", [], "negative_count"))
    elif col.type == "DOUBLE":
        checks.append(("try_cast({c} as double) is null", [], "number"))
        checks.append(("isnan(try_cast({c} as double)) or isinf(try_cast({c} as double))", [], "finite"))
        if col.is_money:
            checks.append(("try_cast({c} as double) < 0", [], "negative_money"))
            checks.append(("try_cast({c} as double) > ?", [_money_ceiling(col)], "ceiling"))
        elif col.non_negative:
            checks.append(("try_cast({c} as double) < 0", [], "negative_value"))
    elif col.type == "DATE" and col.accepts_timestamp:  # the date part of a timestamp is kept
        checks.append(("not regexp_full_match({c}, ?) or try_cast(left(trim({c}), 10) as date) is null",
                       [_TIMESTAMP_RE], "timestamp"))
        checks.append(("try_cast(left(trim({c}), 10) as date) not between cast(? as date) and cast(? as date)",
                       [MIN_DATE, MAX_DATE], "date_range"))
    elif col.type == "DATE":
        checks.append(("not regexp_full_match({c}, ?) or try_cast(trim({c}) as date) is null", [_DATE_RE], "date"))
        checks.append(("try_cast(trim({c}) as date) not between cast(? as date) and cast(? as date)",
                       [MIN_DATE, MAX_DATE], "date_range"))
        if col.is_monday:
            checks.append(("isodow(try_cast(trim({c}) as date)) <> 1", [], "monday"))
    elif col.type == "BOOLEAN":
        checks.append(("not list_contains(?, lower(trim({c})))", [list(TRUE_WORDS + FALSE_WORDS)], "boolean"))
    if col.is_month:
        checks.append(("not regexp_full_match({c}, ?)", [_MONTH_RE], "month"))
        checks.append(("trim({c}) not between ? and ?", [MIN_MONTH, MAX_MONTH], "month_range"))
    if col.enum:
        checks.append(("not list_contains(?, {c})", [list(col.enum)], "enum"))
    return checks


def _money_ceiling(col: contract.Column) -> float:
    """The largest amount a money cell may hold: HEALTHGRID_MAX_MRR, 12 times that for ARR."""
    return settings.max_mrr() * (12 if col.name.endswith("_arr") else 1)


def _cell_message(col: contract.Column, kind: str, value: str | None) -> str:
    v = show(value)
    if kind == "control":
        return f"control character {control_char(value)} in {show(visible(value))} (text may not contain them)"
    if kind == "ceiling":
        per = "a year: 12 x HEALTHGRID_MAX_MRR" if col.name.endswith("_arr") else "a month: HEALTHGRID_MAX_MRR"
        return f"amount {v} is above the ceiling of {_money_ceiling(col):,.0f} ({per})"
    if kind == "empty":
        return "empty value (required)"
    if kind == "integer":
        return f"expected a whole number, got {v}"
    if kind == "negative_count":
        return f"expected a count >= 0, got {v}"
    if kind == "number":
        return f"expected a number, got {v}"
    if kind == "finite":
        return f"expected a finite number, got {v}"
    if kind == "negative_value":
        return f"expected a value >= 0, got {v}"
    if kind == "timestamp":
        return f"expected a date YYYY-MM-DD or a timestamp YYYY-MM-DD HH:MM:SS, got {v}"
    if kind == "negative_money":
        return f"negative amount {v} (money must be >= 0)"
    if kind == "date":
        return f"expected a date YYYY-MM-DD, got {v}"
    if kind == "date_range":
        return f"date {v} is out of range ({MIN_DATE} to {MAX_DATE})"
    if kind == "monday":
        day = _DAY_NAMES[dt.date.fromisoformat(value.strip()).weekday()]
        return f"{show(value.strip())} is a {day}, not a Monday"
    if kind == "boolean":
        return f"expected true/false (or yes/no, 1/0), got {v}"
    if kind == "month":
        return f"expected a month YYYY-MM (month 01-12), got {v}"
    if kind == "month_range":
        return f"month {v} is out of range ({MIN_MONTH} to {MAX_MONTH})"
    if kind == "enum":
        return f"{v} is not one of {', '.join(col.enum or ())}"
    raise AssertionError(kind)


def _column_conditions(table: contract.Table, checked: set[str]
                       ) -> list[tuple[int, contract.Column, list[tuple[str, list, str]]]]:
    """(column order, column, [(SQL condition on the staged VARCHAR column, bound ``?``
    params, message kind), ...]) for every checked column with checks, in priority order."""
    per_col: list[tuple[int, contract.Column, list[tuple[str, list, str]]]] = []
    for col_order, col in enumerate(table.columns):
        if col.name not in checked:
            continue
        conds: list[tuple[str, list, str]] = []
        if col.required and not col.nullable:
            conds.append((f"({col.name} is null or trim({col.name}) = '')", [], "empty"))
        for cond, cond_params, kind in _cell_checks(col, table):
            conds.append((f"({col.name} is not null and trim({col.name}) <> '' and ({cond.format(c=col.name)}))",
                          list(cond_params), kind))
        if conds:
            per_col.append((col_order, col, conds))
    return per_col


def _checked_columns(table: contract.Table, plan: _HeaderPlan, tmap: TableMapping | None) -> set[str]:
    """The columns whose cells are checked: in the file, or given by a default."""
    return {c.name for c in table.columns if c.name in plan.positions or _default_of(c, tmap) is not None
            or c.default_from}


#: Tables never loaded by ``_stage_direct``: later steps read their ``_typed_`` table
#: (subscription periods are expanded into revenue; accounts keep attribute columns).
_NOT_DIRECT = frozenset({"subscription_periods", "accounts"})


def _clean_cell(col: contract.Column) -> tuple[str, str, list] | None:
    """(typed, condition, bound ``?`` params) for a cell in its plain form, or None.

    ``typed`` is the cell's typed value (a ``try_cast``); ``condition``, written over that
    value as ``{t}``, is true only for a cell that passes every check of ``_cell_checks``
    and whose typed value is what ``_typed_expr`` gives: a number or a date whose typed
    value prints back as exactly the cell (digits, no spaces, no sign, no time), within
    range. Such a test is a cast and a comparison where the checks run regular
    expressions on every cell; the fast path runs the checks only on the cells it does not
    clear, so a file is refused exactly when the checks find a problem, and it casts each
    cell once for both."""
    c = col.name
    if col.enum or col.is_month:
        return None
    if col.type == "INTEGER":
        return f"try_cast({c} as integer)", f"{{t}} >= 0 and cast({{t}} as varchar) = {c}", []
    if col.type == "DOUBLE":
        typed = f"try_cast({c} as double)"
        if col.is_money:
            return typed, "isfinite({t}) and {t} >= 0 and {t} <= ?", [_money_ceiling(col)]
        return typed, "isfinite({t})" + (" and {t} >= 0" if col.non_negative else ""), []
    if col.type == "DATE":
        monday = " and isodow({t}) = 1" if col.is_monday else ""
        return (f"try_cast({c} as date)",
                f"{{t}} between cast(? as date) and cast(? as date) and cast({{t}} as varchar) = {c}{monday}",
                [MIN_DATE, MAX_DATE])
    return None


def _stage_direct(conn: duckdb.DuckDBPyConnection, table: contract.Table, select: str, reader: str,
                  params: dict, plan: _HeaderPlan, tmap: TableMapping | None) -> int | None:
    """The fast path for one file without drop rules (the big usage exports): one scan of
    the file checks every cell (the same conditions as ``_cell_problems``) and inserts the
    typed rows straight into the empty ``raw_<name>``; ``_typed_<name>`` becomes a view of
    it (``_row`` = rowid = record index), so the rows are stored once, not staged as text,
    typed and copied. Returns the number of records, or None (nothing written) when a
    cell has a problem or raw_<name> is not empty: the caller then stages as usual, which
    lists the problems."""
    raw = f"raw_{table.name}"
    if has_rows(conn, raw):
        return None
    try:
        per_col = _column_conditions(table, _checked_columns(table, plan, tmap))
    except UserError:
        return None  # a bad setting (HEALTHGRID_MAX_MRR): the usual path reports it for the whole import
    named = dict(params)

    def bind(cond: str, cond_params: list) -> str:
        parts = cond.split("?")
        assert len(parts) == len(cond_params) + 1
        text = parts[0]
        for value, rest in zip(cond_params, parts[1:]):
            name = f"k{len(named)}"
            named[name] = value
            text += f"${name}{rest}"
        return f"({text})"

    conditions, plain, typed = [], [], {}
    for _, col, conds in per_col:
        checks = " or ".join(bind(cond, cond_params) for cond, cond_params, _ in conds)
        clean = _clean_cell(col)
        if clean is None:
            conditions.append(f"({checks})")
            continue
        # a cell in its plain form skips the checks (a CASE evaluates its ELSE only for
        # the rows its WHEN did not select) and is stored as its typed value, cast once
        # for both; any other cell gets every check and the usual cast
        value, cond, cond_params = clean
        t, ok = f"__typed_{col.name}", f"__plain_{col.name}"
        plain.append(f"{value} as {t}, coalesce({bind(cond.format(t=t), cond_params)}, false) as {ok}")
        conditions.append(f"(case when {ok} then false else {checks} end)")
        typed[col.name] = f"case when {ok} then {t} else {_typed_expr(col)} end"
    source = f"(select {select} from {reader})"
    if plain:
        source = f"(select *, {', '.join(plain)} from {source})"
    # only "is any cell bad?" matters here: one condition per row (its parts share their
    # trims and casts), not one count per check
    bad = " or ".join(conditions) or "false"
    cols = ", ".join(table.column_names)
    casts = ", ".join(f"{typed.get(c.name, _typed_expr(c))} as {c.name}" for c in table.columns)
    if any(c.type == "BOOLEAN" for c in table.columns):
        named["true_words"] = list(TRUE_WORDS)
    # one scan: the first bad cell stops the insert with an error, and the failed statement
    # leaves raw_<name> as it was (empty; its next insert numbers rows from 0 again)
    named["bad_cell"] = "a cell has a problem"
    try:
        n_rows = conn.execute(
            f"insert into {raw} ({cols}) select {casts} from {source} "
            f"where case when {bad} then error($bad_cell) else true end", named
        ).fetchone()[0]
    except duckdb.Error:
        return None  # a bad cell or an unreadable file: the usual path names the problems
    conn.execute(f"create or replace temp view _typed_{table.name} as select rowid as _row, {cols} from {raw}")
    return n_rows


def _cell_problems(
    conn: duckdb.DuckDBPyConnection, table: contract.Table, stg: str, row_expr: str, checked: set[str],
    source: Source, tmap: TableMapping | None, problems: Problems,
) -> None:
    """Add every bad cell to ``problems`` (at most Problems.LIMIT listed per column, all
    counted), then empty those cells so the table can still be typed and row-checked.

    The success path is one aggregate scan: ``count(*) filter (where <check>)`` per check;
    only columns with problems are read again, with a CASE that gives each cell its first
    failing check (so a cell counts once).
    """
    per_col = _column_conditions(table, checked)
    if not per_col:
        return
    aggregates = [f"count(*) filter (where {cond})" for _, _, conds in per_col for cond, _, _ in conds]
    params = [p for _, _, conds in per_col for _, ps, _ in conds for p in ps]
    counts = iter(conn.execute(f"select {', '.join(aggregates)} from {stg}", params).fetchone())
    bad = [(col_order, col, conds) for col_order, col, conds in per_col if sum(next(counts) for _ in conds)]
    for col_order, col, conds in bad:
        case = " ".join(f"when {cond} then {k}" for k, (cond, _, _) in enumerate(conds))
        case_params = [p for _, ps, _ in conds for p in ps]
        rows = conn.execute(
            f"select r, k, v, n from (select r, k, v, row_number() over (partition by r >> {FILE_SHIFT} order by r) "
            f"as i, count(*) over (partition by r >> {FILE_SHIFT}) as n from (select {row_expr} as r, "
            f"{col.name} as v, case {case} end as k from {stg}) where k is not null) where i <= {Problems.LIMIT} "
            "order by r",
            case_params,
        ).fetchall()
        by_file: dict[str, tuple[list[tuple[tuple, str]], int]] = {}
        for row, k, value, total in rows:
            kind = conds[k][2]
            message = _cell_message(col, kind, value)
            if kind == "date" and tmap is not None and col.name in tmap.date_format:
                message = (f"expected a date like {tmap.date_format[col.name]!r} "
                           f"(tables.{table.name}.date_format), got {show(value)}")
            items, _ = by_file.setdefault(source.file(row), ([], total))
            items.append(((row, col_order), f"{source.where(row)}, column {col.name}: {message}"))
        for file, (items, total) in by_file.items():
            problems.extend(file, items, total)
        conn.execute(f"update {stg} set {col.name} = null where {' or '.join(c for c, _, _ in conds)}",
                     case_params)


def _typed_expr(col: contract.Column) -> str:
    """SQL casting the validated VARCHAR cell to the contract type."""
    name = col.name
    if col.type == "INTEGER":
        return f"cast(trim({name}) as integer)"
    if col.type == "DOUBLE":
        return f"cast(trim({name}) as double)"
    if col.type == "DATE" and col.accepts_timestamp:  # validated: YYYY-MM-DD, maybe a time after it
        return f"cast(left(trim({name}), 10) as date)"
    if col.type == "DATE":
        return f"cast(trim({name}) as date)"
    if col.type == "BOOLEAN":  # validated: every cell is one of TRUE_WORDS / FALSE_WORDS
        return f"list_contains($true_words, lower(trim({name})))"
    if col.is_month:
        return f"trim({name})"
    return f"case when trim({name}) = '' then null else {name} end" if col.nullable else name
