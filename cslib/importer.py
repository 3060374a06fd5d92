"""Import a folder of contract CSVs into a new database, all or nothing.

``import_dir(src_dir, db_path)`` reads ``<table>.csv`` files named after the contract
tables (``cslib.contract``) with DuckDB's own CSV reader (every cell as VARCHAR, the
path bound as a parameter), validates them in SQL and reports the FIRST problem as a
one-line ``UserError`` naming file, line and column. Only then are the typed rows
loaded into ``raw_<table>`` and the models built, all inside
``db.replace_atomically``: on any error the old database file is untouched.

Line numbers are 1-based physical file lines (header = line 1). Python only looks at
the file bytes to read the header line and, on the error path, to map a record to its
line when the file has blank lines or quoted line breaks.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from . import contract, pipeline, renewals
from .db import replace_atomically, sql_file
from .errors import UserError

#: Accepted spellings of booleans (case-insensitive, surrounding spaces ignored).
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
#: Dates and months must fall in this range (inclusive).
MIN_DATE, MAX_DATE = "1990-01-01", "2100-12-31"
MIN_MONTH, MAX_MONTH = "1990-01", "2100-12"

_OPTIONAL_FILES = {
    "usage_weekly": "health scores will be unscored",
    "module_usage_weekly": "module points will be 0",
    "renewals": "renewal rates will be empty",
    "csm_logs": "churn reasons and risk flags will be empty",
    "events": "event alerts will be empty",
}
_INTEGER_RE = r"\s*[+-]?[0-9]+\s*"
_DATE_RE = r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*"
#: a date, or a timestamp YYYY-MM-DD HH:MM[:SS[.fff]][Z|+hh:mm] (only its date is kept)
_TIMESTAMP_RE = (
    r"\s*[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?\s*"
)
_MONTH_RE = r"\s*[0-9]{4}-(0[1-9]|1[0-2])\s*"
_MAX_HEADER_BYTES = 1 << 20
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class ImportSummary:
    """What an import loaded: rows per raw table (contract name -> count) and warnings."""

    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """E.g. ``"5 tables, 12,345 rows"`` (tables with at least one row)."""
        filled = sum(1 for n in self.rows.values() if n > 0)
        total = sum(self.rows.values())
        return f"{filled} table{'s' if filled != 1 else ''}, {total:,} row{'s' if total != 1 else ''}"


def import_dir(
    src_dir: str | os.PathLike,
    db_path: str | os.PathLike,
    scorecard_path: str | os.PathLike | None = None,
    build: bool = True,
    term_months: int | None = None,
) -> ImportSummary:
    """Validate every contract CSV in ``src_dir`` and load them into a new ``db_path``.

    Needs ``accounts.csv`` (unless ``subscription_periods.csv`` is given, then accounts are
    synthesized) and exactly one revenue shape (``revenue_monthly.csv`` or
    ``subscription_periods.csv``); the other tables are optional. With ``build`` the SQL
    models are built too (``pipeline.build_models``). All or nothing: a bad file raises
    ``UserError`` (one line: file, line, column) and leaves ``db_path`` as it was.
    """
    src = Path(src_dir)
    if not src.exists():
        raise UserError(f"{src}: folder not found")
    if not src.is_dir():
        raise UserError(f"{src}: not a folder")
    files, warnings = _plan_files(src)
    summary = ImportSummary(warnings=warnings)
    with replace_atomically(db_path) as conn:
        conn.execute("set enable_progress_bar = false")  # the CLI's stderr is for one error line
        pipeline.create_raw_tables(conn)
        _load_all(conn, files, summary)
        for table in contract.TABLES:
            summary.rows[table.name] = conn.execute(
                f"select count(*) from raw_{table.name}"
            ).fetchone()[0]
        _check_reason_codes(conn, files, summary)  # after counting: rows are what the files held
        renewals.prepare_renewals(conn, term_months, summary.warnings)  # derived when none imported; import_meta
        if build:
            pipeline.build_models(conn, scorecard_path)
            from .scorecard import unlisted_features_warning

            unlisted = unlisted_features_warning(conn)  # features scoring the default points
            if unlisted:
                summary.warnings.append(unlisted)
    return summary


# ---------------------------------------------------------------------------
# Which files
# ---------------------------------------------------------------------------


def _plan_files(src: Path) -> tuple[dict[str, Path], list[str]]:
    """Map contract name -> CSV path for the files present; warnings for the rest."""
    files: dict[str, Path] = {}
    warnings: list[str] = []
    for entry in sorted(src.iterdir()):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        stem = entry.name[: -len(entry.suffix)] if entry.suffix in (".csv", ".parquet") else None
        if stem in contract.ALL_SHAPES:
            if stem in files:
                raise UserError(f"{src}: both {files[stem].name} and {entry.name} found; keep one")
            files[stem] = entry
        else:
            warnings.append(f"ignored unknown file {entry.name}")
    has_monthly = "revenue_monthly" in files
    has_periods = "subscription_periods" in files
    if has_monthly and has_periods:
        raise UserError(
            f"{src}: both revenue_monthly.csv and subscription_periods.csv found; keep one revenue file"
        )
    if not (has_monthly or has_periods):
        raise UserError(f"{src}: no revenue file (need revenue_monthly.csv or subscription_periods.csv)")
    if "accounts" not in files and not has_periods:
        raise UserError(f"{src}: no accounts.csv (required)")
    for name, effect in _OPTIONAL_FILES.items():
        if name not in files:
            warnings.append(f"no {name}.csv: {effect}")
    return files, warnings


def _load_all(conn: duckdb.DuckDBPyConnection, files: dict[str, Path], summary: ImportSummary) -> None:
    """Validate and load each file in contract order (accounts first: others reference it)."""
    accounts_source = "accounts.csv"
    for table in contract.TABLES:
        if table is contract.REVENUE_MONTHLY and "subscription_periods" in files:
            periods = contract.SUBSCRIPTION_PERIODS
            path = files["subscription_periods"]
            lines = _stage(conn, periods, path, summary)
            if "accounts" not in files:
                conn.execute(sql_file("import_synthesize_accounts"))
                n = conn.execute("select count(*) from raw_accounts").fetchone()[0]
                accounts_source = "subscription_periods.csv"
                summary.warnings.append(
                    f"no accounts.csv: created {n:,} accounts from subscription_periods.csv "
                    "(name = id, segment 'smb', other attributes 'unknown', is_target true)"
                )
            _check_rows(conn, periods, lines, accounts_source)
            conn.execute(sql_file("import_expand_periods"))
            conn.execute("drop table _typed_subscription_periods")
        elif table.name in files:
            lines = _stage(conn, table, files[table.name], summary)
            _check_rows(conn, table, lines, accounts_source)
            cols = ", ".join(table.column_names)
            conn.execute(
                f"insert into raw_{table.name} ({cols}) "
                f"select {cols} from _typed_{table.name} order by _row"
            )
            conn.execute(f"drop table _typed_{table.name}")


def _check_reason_codes(conn: duckdb.DuckDBPyConnection, files: dict[str, Path], summary: ImportSummary) -> None:
    """Default taxonomy when none was given; warn about log codes not in the taxonomy.

    Such logs are kept (as 'unclassified' on the Churn reasons page), never dropped.
    """
    from .churn import prepare_churn_tables, unclassified_codes, unclassified_warning

    if prepare_churn_tables(conn) and ("csm_logs" in files or "reason_taxonomy" in files):
        what = "no rows in reason_taxonomy.csv" if "reason_taxonomy" in files else "no reason_taxonomy.csv"
        summary.warnings.append(f"{what}: using the default reason taxonomy (cslib/config/reason_taxonomy.csv)")
    warning = unclassified_warning(unclassified_codes(conn))
    if warning:
        summary.warnings.append(warning)


# ---------------------------------------------------------------------------
# Reading and cell checks
# ---------------------------------------------------------------------------


def _stage(
    conn: duckdb.DuckDBPyConnection, table: contract.Table, path: Path, summary: ImportSummary
) -> _Lines:
    """Read ``path`` into ``_typed_<name>`` (``_row`` = 0-based record index + typed columns).

    Returns the file's record -> line mapper for later messages.
    """
    if path.suffix == ".parquet":
        return _stage_parquet(conn, table, path, summary)
    header = _read_header(path)
    positions = _match_header(path, table, header, summary)
    stg = f"_stg_{table.name}"
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    select = ", ".join(
        f"c{positions[c.name]} as {c.name}" if c.name in positions else f"cast(null as varchar) as {c.name}"
        for c in table.columns
    )
    try:
        conn.execute(
            f"create or replace temp table {stg} as select {select} from read_csv(?, "
            f"columns = {columns}, header = true, auto_detect = false, all_varchar = true, "
            "delim = ',', quote = '\"', escape = '\"', skip = 0, comment = '', "
            "strict_mode = true, encoding = 'utf-8')",
            [str(path)],
        )
    except duckdb.Error as err:
        raise UserError(_csv_error_message(path, str(err))) from None
    n_rows = conn.execute(f"select count(*) from {stg}").fetchone()[0]
    if table is contract.ACCOUNTS and n_rows == 0:
        raise UserError(f"{path.name}: no data rows (at least one account is required)")
    return _check_and_type(conn, table, stg, positions, _Lines(path, n_rows))


def _stage_parquet(
    conn: duckdb.DuckDBPyConnection, table: contract.Table, path: Path, summary: ImportSummary
) -> _ParquetRows:
    """Read a Parquet file into the same all-VARCHAR staging table as a CSV, so every
    check and message is shared. Columns are addressed by position (``#k``), so no name
    from the file ever becomes SQL; dates and timestamps become ``YYYY-MM-DD`` text and
    whole floating-point counts become integers, as a warehouse may write them."""
    try:
        schema = conn.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as err:
        first = str(err).strip().splitlines()[0][:200]
        raise UserError(f"{path.name}: not a readable Parquet file ({first})") from None
    header = [name for name, *_ in schema]
    source_types = [str(kind).upper() for _, kind, *_ in schema]
    positions = _match_header(path, table, header, summary)

    def as_text(col: contract.Column) -> str:
        if col.name not in positions:
            return f"cast(null as varchar) as {col.name}"
        ref, kind = f"#{positions[col.name] + 1}", source_types[positions[col.name]]
        if kind.startswith(("DATE", "TIMESTAMP")):
            expr = f"strftime(cast({ref} as date), '%Y-%m-%d')"
        elif col.type == "INTEGER" and kind.startswith(("DOUBLE", "FLOAT", "DECIMAL", "REAL")):
            expr = (f"case when isfinite({ref}) and {ref} = trunc({ref}) "
                    f"then cast(cast({ref} as bigint) as varchar) else cast({ref} as varchar) end")
        else:
            expr = f"cast({ref} as varchar)"
        return f"{expr} as {col.name}"

    stg = f"_stg_{table.name}"
    select = ", ".join(as_text(c) for c in table.columns)
    conn.execute(f"create or replace temp table {stg} as select {select} from read_parquet(?)", [str(path)])
    n_rows = conn.execute(f"select count(*) from {stg}").fetchone()[0]
    if table is contract.ACCOUNTS and n_rows == 0:
        raise UserError(f"{path.name}: no data rows (at least one account is required)")
    return _check_and_type(conn, table, stg, positions, _ParquetRows(path, n_rows))


def _check_and_type(conn, table: contract.Table, stg: str, positions: dict[str, int], lines):
    """Run the cell checks on the staging table, then cast it into ``_typed_<name>``."""
    problem = _first_cell_problem(conn, table, stg, positions)
    if problem is not None:
        row, column, message = problem
        raise UserError(f"{lines.path.name}, {lines.label} {lines(row)}, column {column}: {message}")
    casts = ", ".join(f"{_typed_expr(c)} as {c.name}" for c in table.columns)
    uses_bool = any(c.type == "BOOLEAN" for c in table.columns)
    conn.execute(
        f"create or replace temp table _typed_{table.name} as "
        f"select rowid as _row, {casts} from {stg} order by rowid",
        {"true_words": list(TRUE_WORDS)} if uses_bool else None,
    )
    conn.execute(f"drop table {stg}")
    return lines


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
    path: Path, table: contract.Table, header: list[str], summary: ImportSummary
) -> dict[str, int]:
    """Contract column -> position in the file; raise on duplicates or missing columns."""
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
    for col in table.columns:
        if col.required and col.name not in seen:
            raise UserError(f"{path.name}: missing required column '{col.name}' ({col.type})")
    extra = [h.strip() or f"<unnamed column {i + 1}>" for i, h in enumerate(header)
             if names[i] not in table.column_names]
    if extra:
        summary.warnings.append(f"{path.name}: ignored extra column(s) {', '.join(extra)}")
    return {name: i for name, i in seen.items() if name in table.column_names}


def _cell_checks(col: contract.Column) -> list[tuple[str, list, str]]:
    """(SQL condition, bound params, message kind) per check, in priority order.

    ``{c}`` is the column; conditions only see non-empty cells.
    """
    checks: list[tuple[str, list, str]] = []
    if col.type == "INTEGER":
        checks.append(("not regexp_full_match({c}, ?) or try_cast({c} as integer) is null", [_INTEGER_RE], "integer"))
        checks.append(("try_cast({c} as integer) < 0", [], "negative_count"))
    elif col.type == "DOUBLE":
        checks.append(("try_cast({c} as double) is null", [], "number"))
        checks.append(("isnan(try_cast({c} as double)) or isinf(try_cast({c} as double))", [], "finite"))
        if col.is_money:
            checks.append(("try_cast({c} as double) < 0", [], "negative_money"))
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


def _cell_message(col: contract.Column, kind: str, value: str | None) -> str:
    v = _show(value)
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
        return f"{_show(value.strip())} is a {day}, not a Monday"
    if kind == "boolean":
        return f"expected true/false (or yes/no, 1/0), got {v}"
    if kind == "month":
        return f"expected a month YYYY-MM (month 01-12), got {v}"
    if kind == "month_range":
        return f"month {v} is out of range ({MIN_MONTH} to {MAX_MONTH})"
    if kind == "enum":
        return f"{v} is not one of {', '.join(col.enum or ())}"
    raise AssertionError(kind)


def _first_cell_problem(
    conn: duckdb.DuckDBPyConnection, table: contract.Table, stg: str, positions: dict[str, int]
) -> tuple[int, str, str] | None:
    """(record index, column, message) of the first bad cell in file order, or None.

    One aggregate scan: ``min(rowid) filter (where <check>)`` for every check.
    """
    aggregates: list[str] = []
    params: list = []
    meta: list[tuple[int, int, contract.Column, str]] = []
    for col_order, col in enumerate(table.columns):
        if col.name not in positions:
            continue
        if col.required and not col.nullable:
            aggregates.append(f"min(rowid) filter (where {col.name} is null or trim({col.name}) = '')")
            meta.append((col_order, 0, col, "empty"))
        for check_order, (cond, cond_params, kind) in enumerate(_cell_checks(col), start=1):
            cond = cond.format(c=col.name)
            aggregates.append(
                f"min(rowid) filter (where {col.name} is not null and trim({col.name}) <> '' and ({cond}))"
            )
            params.extend(cond_params)
            meta.append((col_order, check_order, col, kind))
    if not aggregates:
        return None
    firsts = conn.execute(f"select {', '.join(aggregates)} from {stg}", params).fetchone()
    hits = [(row, col_order, check_order, col, kind)
            for row, (col_order, check_order, col, kind) in zip(firsts, meta) if row is not None]
    if not hits:
        return None
    row, _, _, col, kind = min(hits, key=lambda h: h[:3])
    value = conn.execute(f"select {col.name} from {stg} where rowid = ?", [row]).fetchone()[0]
    return row, col.name, _cell_message(col, kind, value)


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


# ---------------------------------------------------------------------------
# Row checks on the typed table: rules, duplicate keys, unknown accounts
# ---------------------------------------------------------------------------


def _check_rows(
    conn: duckdb.DuckDBPyConnection, table: contract.Table, lines: _Lines, accounts_source: str
) -> None:
    """Raise on the first rule violation, duplicate key or unknown account (by file line)."""
    typed = f"_typed_{table.name}"
    problems: list[tuple[int, str]] = []

    if table is contract.RENEWALS:
        for col in ("renewed_on", "renewed_arr"):
            hit = conn.execute(
                f"select min(_row) from {typed} where outcome = ? and {col} is null", ["renewed"]
            ).fetchone()[0]
            if hit is not None:
                problems.append((hit, f"column {col}: outcome 'renewed' needs {col}"))
    if table is contract.SUBSCRIPTION_PERIODS:
        hit = conn.execute(
            f"select _row, end_date, start_date from {typed} where end_date < start_date "
            "order by _row limit 1"
        ).fetchone()
        if hit is not None:
            problems.append((hit[0], f"column end_date: {hit[1]} is before start_date {hit[2]}"))

    if table is contract.REASON_TAXONOMY:
        # codes are matched normalised (cslib.churn.normalise_code): 'Price' and 'price ' collide
        norm = "regexp_replace(lower(regexp_replace(reason_code, '^\\s+|\\s+$', '', 'g')), '[\\s-]+', '_', 'g')"
        hit = conn.execute(
            f"select * from (select _row, min(_row) over (partition by {norm}) as first_row, {norm} as code "
            f"from {typed}) where _row > first_row order by _row limit 1"
        ).fetchone()
        if hit is not None:
            problems.append((hit[0], f"column reason_code: duplicate code {_show(hit[2])} after normalising "
                                     f"(first on {lines.label} {lines(hit[1])})"))

    if table.key:
        key = ", ".join(table.key)
        hit = conn.execute(
            f"select * from (select _row, min(_row) over (partition by {key}) as first_row, {key} "
            f"from {typed}) where _row > first_row order by _row limit 1"
        ).fetchone()
        if hit is not None:
            values = ", ".join(_show(str(v)) for v in hit[2:])
            label = key if len(table.key) == 1 else f"({key})"
            shown = values if len(table.key) == 1 else f"({values})"
            problems.append(
                (hit[0], f"duplicate {label} {shown} (first on {lines.label} {lines(hit[1])})")
            )

    if table.references_accounts:
        id_col = "customer_id" if table is contract.SUBSCRIPTION_PERIODS else "account_id"
        hit = conn.execute(
            f"select _row, {id_col} from {typed} t where not exists "
            f"(select 1 from raw_accounts a where a.account_id = t.{id_col}) order by _row limit 1"
        ).fetchone()
        if hit is not None:
            problems.append(
                (hit[0], f"column {id_col}: unknown account {_show(hit[1])} (not in {accounts_source})")
            )

    if problems:
        row, message = min(problems, key=lambda p: p[0])
        sep = ", " if message.startswith("column ") else ": "
        raise UserError(f"{lines.path.name}, {lines.label} {lines(row)}{sep}{message}")


# ---------------------------------------------------------------------------
# Messages and line numbers
# ---------------------------------------------------------------------------


def _show(value: str | None, limit: int = 40) -> str:
    """A cell value quoted for a one-line message."""
    if value is None:
        return "''"
    text = " ".join(str(value).split()) if ("\n" in str(value) or "\r" in str(value)) else str(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"'{text}'"


def _csv_error_message(path: Path, message: str) -> str:
    """One line from a DuckDB CSV reader error."""
    match = re.search(r"CSV Error on Line: (\d+)", message)
    line = int(match.group(1)) if match else None
    if "Invalid unicode" in message or "not utf-8" in message.lower():
        line = _first_bad_utf8_line(path) or line
        return f"{path.name}: not valid UTF-8" + (f" (line {line})" if line else "")
    where = f"{path.name}, line {line}" if line else path.name
    found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if found:
        expected, got = found.groups()
        return f"{where}: expected {expected} fields like the header, found {got}"
    if "unterminated quote" in message:
        return f"{where}: unterminated quoted value"
    if "invalid state" in message:
        mixed = _first_mixed_line_ending(path)
        if mixed:
            return f"{path.name}, line {mixed}: mixed line endings (LF and CRLF); save the file with one kind"
        return f"{where}: not a well-formed CSV file (a stray quote or carriage return?)"
    if "Maximum line size" in message:
        return f"{where}: line too long (missing line breaks or an unterminated quote?)"
    reason = next((ln.strip() for ln in message.splitlines()[1:] if ln.strip()
                   and not ln.startswith(("Original Line", "Possible", "*"))), "")
    first = message.splitlines()[0] if message else "unreadable CSV"
    return f"{where}: cannot read CSV ({(reason or first)[:160]})"


def _first_mixed_line_ending(path: Path) -> int | None:
    """1-based line whose ending (LF vs CRLF) differs from the first line's (error path only)."""
    lines = path.read_bytes().split(b"\n")[:-1]
    if not lines:
        return None
    first_crlf = lines[0].endswith(b"\r")
    for number, line in enumerate(lines, start=1):
        if line.endswith(b"\r") != first_crlf:
            return number
    return None


def _first_bad_utf8_line(path: Path) -> int | None:
    """1-based line of the first invalid UTF-8 byte (error path only)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        return data.count(b"\n", 0, err.start) + 1
    return None


class _ParquetRows:
    """Maps a 0-based record index to the 1-based row of a Parquet file (messages say 'row')."""

    label = "row"

    def __init__(self, path: Path, n_records: int) -> None:
        self.path = path
        self.n_records = n_records

    def __call__(self, row: int) -> int:
        return row + 1


class _Lines:
    """Maps a 0-based record index (after the header) to the 1-based file line it starts on.

    Fast path: every record is one line (no blank lines, no quoted line breaks), checked by
    counting line feeds; otherwise walk the file with the csv module. Error path only.
    """

    label = "line"

    def __init__(self, path: Path, n_records: int) -> None:
        self.path = path
        self.n_records = n_records
        self._one_line_per_record: bool | None = None

    def __call__(self, row: int) -> int:
        if self._one_line_per_record is None:
            newlines, last = 0, b""
            with open(self.path, "rb") as f:
                while chunk := f.read(1 << 20):
                    newlines += chunk.count(b"\n")
                    last = chunk[-1:]
            # header + records lines, the last one with or without a final line feed
            self._one_line_per_record = newlines == self.n_records + (1 if last == b"\n" else 0)
        if self._one_line_per_record:
            return row + 2
        with open(self.path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader, None)
            index, before = -1, reader.line_num
            for fields in reader:
                if fields:
                    index += 1
                    if index == row:
                        return before + 1
                before = reader.line_num
        return row + 2
