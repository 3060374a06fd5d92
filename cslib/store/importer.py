"""Import a folder of contract CSVs into a new database, all or nothing.

``import_dir(src_dir, db_path)`` reads ``<table>.csv`` files named after the contract
tables (``cslib.store.contract``), or the files a column mapping names (``cslib.store.mapping``), with
DuckDB's own CSV reader (every cell as VARCHAR, the path bound as a parameter; source
columns are addressed by position, so no name from a file ever becomes SQL). The mapping
(renames, defaults, value maps, date formats, row drops) is applied inside that all-VARCHAR
staging select, so every check below sees contract columns. Every file is validated in SQL
and EVERY problem is collected (``Problems``: file, line, column; one aggregate scan per
file when it is clean); ``import_dir`` refuses with the first one and the count, and
``check_dir`` (``python -m cslib check``) lists them all with a coverage report, writing
nothing. Only a clean import loads the typed rows into ``raw_<table>`` and builds the
models, all inside ``db.replace_atomically``: on any error the old database file is untouched.

Line numbers are 1-based physical file lines (header = line 1) of the SOURCE file, also
after a mapping dropped rows (``_row`` keeps each record's index in its file). Python only
looks at the file bytes to read the header line and, on the error path, to map a record to
its line when the file has blank lines or quoted line breaks.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cslib import settings
from cslib.store import contract
from cslib.store import pipeline
from cslib.store import renewals
from cslib.store.db import replace_atomically, sql_file
from cslib.errors import UserError
from cslib.store.mapping import Mapping, TableMapping, as_mapping

#: Accepted spellings of booleans (case-insensitive, surrounding spaces ignored).
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
#: Dates and months must fall in this range (inclusive).
MIN_DATE, MAX_DATE = "1990-01-01", "2100-12-31"
MIN_MONTH, MAX_MONTH = "1990-01", "2100-12"

#: A renewal order dated further than this from its due date is warned about (a typo'd year?).
RENEWAL_DATE_DAYS = 366

_OPTIONAL_FILES = {
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


@dataclass
class ImportSummary:
    """What an import loaded: rows per raw table (contract name -> count) and warnings."""

    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: the month the app opens on when it is not the last revenue month (revenue after the
    #: last usage month: the last month with both); stored in ``import_meta``
    default_month: str | None = None

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
    mapping: Mapping | str | os.PathLike | None = None,
    allow_empty: bool = False,
) -> ImportSummary:
    """Validate every contract CSV in ``src_dir`` and load them into a new ``db_path``.

    Needs ``accounts.csv`` (unless ``subscription_periods.csv`` is given, then accounts are
    synthesized) and exactly one revenue shape (``revenue_monthly.csv`` or
    ``subscription_periods.csv``); the other tables are optional. ``mapping`` (a TOML path
    or a loaded ``cslib.store.mapping.Mapping``) says which files hold which tables and how their
    columns map (see docs/bring-your-own-data.md); its ``[renewals] term_months`` is used
    when ``term_months`` is None. With ``build`` the SQL models are built too
    (``pipeline.build_models``). All or nothing: every file is checked; on any problem a
    ``UserError`` names the first (file, line, column) and how many there are, and
    ``db_path`` is left as it was. A header-only accounts, revenue or usage file is such a
    problem unless ``allow_empty``.
    """
    src = _check_folder(src_dir)
    mp = as_mapping(mapping)
    if term_months is None and mp is not None:
        term_months = mp.term_months
    files, warnings = _plan_files(src, mp)
    summary = ImportSummary(warnings=warnings)
    with replace_atomically(db_path) as conn:
        conn.execute("set enable_progress_bar = false")  # the CLI's stderr is for one error line
        pipeline.bound_memory(conn)
        pipeline.create_raw_tables(conn)
        problems = _load_all(conn, files, summary, mp, allow_empty)
        if problems.total:
            raise UserError(problems.refusal(src, mp, allow_empty))
        for table in contract.TABLES:
            summary.rows[table.name] = conn.execute(
                f"select count(*) from raw_{table.name}"
            ).fetchone()[0]
        _check_reason_codes(conn, files, summary)  # after counting: rows are what the files held
        renewals.prepare_renewals(conn, term_months, summary.warnings)  # derived when none imported; import_meta
        if summary.default_month is not None:
            from cslib.months import write_default_month

            write_default_month(conn, summary.default_month)
        if build:
            pipeline.build_models(conn, scorecard_path)
            from cslib.rules.scorecard import unlisted_features_warning

            unlisted = unlisted_features_warning(conn)  # features scoring the default points
            if unlisted:
                summary.warnings.append(unlisted)
    return summary


@dataclass
class CheckReport:
    """What ``check_dir`` found: every problem (capped per file), warnings, coverage lines."""

    problems: Problems
    warnings: list[str]
    coverage: list[str]

    def lines(self) -> list[str]:
        """The report as printed by ``python -m cslib check``."""
        out = [f"error: {line}" for line in self.problems.lines()]
        out += [f"warning: {w}" for w in self.warnings]
        if self.problems.total:
            n, f = self.problems.total, len(self.problems.files)
            out.append(f"{n:,} problem{'s' if n != 1 else ''} in {f} file{'s' if f != 1 else ''}; "
                       "nothing can be imported until they are fixed")
        else:
            out.append("no problems found")
        out.append("")
        out.append("coverage:")
        out += [f"  {line}" for line in self.coverage]
        return out


def check_dir(src_dir: str | os.PathLike, mapping: Mapping | str | os.PathLike | None = None,
              allow_empty: bool = False) -> CheckReport:
    """Run every import check on ``src_dir`` without writing any database (an in-memory one
    holds the rows) and describe what the data covers. A problem with the folder or the
    mapping itself (no revenue file, a bad mapping key) is still a ``UserError``."""
    src = _check_folder(src_dir)
    mp = as_mapping(mapping)
    files, warnings = _plan_files(src, mp)
    summary = ImportSummary(warnings=warnings)
    conn = duckdb.connect(":memory:")
    try:
        conn.execute("set enable_progress_bar = false")
        pipeline.create_raw_tables(conn)
        problems = _load_all(conn, files, summary, mp, allow_empty)
        try:  # as import does; on rows with problems (read as empty) a derivation may not be possible
            renewals.prepare_renewals(conn, mp.term_months if mp else None, summary.warnings)
        except (duckdb.Error, UserError):
            if not problems.total:
                raise
        return CheckReport(problems, summary.warnings, _coverage(conn, files, mp))
    finally:
        conn.close()


def _check_folder(src_dir: str | os.PathLike) -> Path:
    src = Path(src_dir)
    if not src.exists():
        raise UserError(f"{src}: folder not found")
    if not src.is_dir():
        raise UserError(f"{src}: not a folder")
    return src


class Problems:
    """Every problem found, grouped by file in the order found; at most ``LIMIT`` shown per file."""

    LIMIT = 20

    def __init__(self) -> None:
        self.files: dict[str, list[tuple[tuple, str]]] = {}
        self.totals: dict[str, int] = {}

    def add(self, file: str, key: tuple, text: str, count: int = 1) -> None:
        """One problem line (``count`` > 1: it stands for that many, e.g. a capped query)."""
        self.files.setdefault(file, []).append((key, text))
        self.totals[file] = self.totals.get(file, 0) + count

    def add_error(self, err: UserError) -> None:
        """A whole-file problem (unreadable file, missing columns, a bad mapping key)."""
        text = str(err)
        self.add(re.split(r"[,:]", text, maxsplit=1)[0], (-1,), text)

    def extend(self, file: str, items: list[tuple[tuple, str]], total: int) -> None:
        """The first items of a query (at most LIMIT) and how many it found in all."""
        if total:
            self.files.setdefault(file, []).extend(items)
            self.totals[file] = self.totals.get(file, 0) + total

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    def lines(self) -> list[str]:
        out: list[str] = []
        for file, items in self.files.items():
            shown = [text for _, text in sorted(items, key=lambda i: i[0])[: self.LIMIT]]
            out += shown
            rest = self.totals[file] - len(shown)
            if rest > 0:
                out.append(f"... and {rest:,} more problem{'s' if rest != 1 else ''} in {file}")
        return out

    def refusal(self, src: Path, mp: Mapping | None, allow_empty: bool = False) -> str:
        """The import's one line: the first problem, and how to list them all when there are more."""
        items = next(iter(self.files.values()))
        first = min(items, key=lambda i: i[0])[1]
        if self.total == 1:
            return first
        command = (f"python -m cslib check {src}" + (f" --mapping {mp.path}" if mp else "")
                   + (" --allow-empty" if allow_empty else ""))
        return f"{first} ({self.total:,} problems; run `{command}` to list them all)"


# ---------------------------------------------------------------------------
# Which files
# ---------------------------------------------------------------------------


def _plan_files(src: Path, mp: Mapping | None = None) -> tuple[dict[str, list[Path]], list[str]]:
    """Map contract name -> its file(s) (a mapping's glob may match several); warnings for the rest."""
    files: dict[str, list[Path]] = {}
    warnings: list[str] = []
    entries = sorted(e for e in src.iterdir() if e.is_file() and not e.name.startswith("."))
    claimed: dict[Path, str] = {}
    mapped = mp.tables if mp else {}
    for name, tm in mapped.items():
        if tm.file is None:
            continue
        matched = sorted(p for p in src.glob(tm.file) if p.is_file() and not p.name.startswith("."))
        if not matched:
            raise UserError(f"{mp.name}: tables.{name}.file: no file in {src} matches {tm.file!r}")
        for p in matched:
            if p in claimed:
                raise UserError(f"{mp.name}: tables.{name}.file: {p.name} is also matched by "
                                f"tables.{claimed[p]}.file")
            claimed[p] = name
        files[name] = matched
    for entry in entries:
        if entry in claimed or (mp is not None and entry.resolve() == mp.path.resolve()):
            continue
        stem = entry.name[: -len(entry.suffix)] if entry.suffix in (".csv", ".parquet") else None
        if stem in contract.ALL_SHAPES:
            if stem in mapped and mapped[stem].file is not None:
                warnings.append(f"ignored {entry.name} (tables.{stem}.file in {mp.name} names other files)")
            elif stem in files:
                raise UserError(f"{src}: both {files[stem][0].name} and {entry.name} found; keep one")
            else:
                files[stem] = [entry]
        else:
            warnings.append(f"ignored unknown file {entry.name}")
    for name in mapped:
        if name not in files:
            raise UserError(f"{mp.name}: [tables.{name}]: no {name}.csv in {src} (set file = \"...\")")
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
    warnings.extend(_missing_file_warnings(files))
    return files, warnings


def _missing_file_warnings(files) -> list[str]:
    """What the import will lack, counting alternative shapes of the same data: usage may
    come wide (usage_weekly + module_usage_weekly) or long (usage_metrics), churn reasons
    from csm_logs or churn_feedback."""
    out = []
    has = set(files)
    if not has & {"usage_weekly", "usage_metrics", "module_usage_weekly"}:
        out.append("no usage_weekly.csv or usage_metrics.csv: no health scores (pages say \"No health data\")")
    elif "module_usage_weekly" not in has and "usage_metrics" not in has:
        out.append(f"no module_usage_weekly.csv: {_OPTIONAL_FILES['module_usage_weekly']}")
    if "renewals" not in has:
        out.append(f"no renewals.csv: {_OPTIONAL_FILES['renewals']}")
    if "csm_logs" not in has:
        if "churn_feedback" in has:
            out.append("no csm_logs.csv: risk flags and CSM notes will be empty "
                       "(churn reasons come from churn_feedback.csv)")
        else:
            out.append(f"no csm_logs.csv or churn_feedback.csv: {_OPTIONAL_FILES['csm_logs']}")
    if "events" not in has:
        out.append(f"no events.csv: {_OPTIONAL_FILES['events']}")
    return out


def _load_all(
    conn: duckdb.DuckDBPyConnection, files: dict[str, list[Path]], summary: ImportSummary,
    mp: Mapping | None = None, allow_empty: bool = False,
) -> Problems:
    """Validate and load each table in contract order (accounts first: others reference it).

    Every problem is collected, not only the first: a file that cannot be read is one
    problem and is skipped; bad cells are listed and then read as empty, so the row checks
    (keys, unknown accounts) still run on the rest. Then the plausibility rules that need
    several tables (``_plausibility``).
    """
    problems = Problems()
    periods_source = None
    tmaps = mp.tables if mp else {}
    accounts_source = _files_label(files.get("accounts", []), "accounts.csv")
    accounts_ok = True
    staged: dict[str, _Source] = {}
    conn.execute("create or replace temp table _import_pending (_row bigint, due_on date)")
    for table in contract.TABLES:
        if table is contract.REVENUE_MONTHLY and "subscription_periods" in files:
            periods = contract.SUBSCRIPTION_PERIODS
            source = _stage(conn, periods, files["subscription_periods"], summary, tmaps.get(periods.name),
                            mp, problems)
            if source is None:
                continue
            staged[periods.name] = source
            if "accounts" not in files:
                conn.execute(sql_file("import_synthesize_accounts"))
                n = conn.execute("select count(*) from raw_accounts").fetchone()[0]
                accounts_source = source.label
                summary.warnings.append(
                    f"no accounts.csv: created {n:,} accounts from {source.label} "
                    "(name = id, other attributes 'unassigned', is_target true)"
                )
            _check_rows(conn, periods, source, accounts_source if accounts_ok else None, problems,
                        summary.warnings)
            periods_source = source  # expanded after the usage tables are loaded (their dates count)
        elif table.name in files:
            source = _stage(conn, table, files[table.name], summary, tmaps.get(table.name), mp, problems)
            if source is None:
                accounts_ok = accounts_ok and table is not contract.ACCOUNTS
                continue
            staged[table.name] = source
            if table is contract.ACCOUNTS and not _has_rows(conn, "_typed_accounts"):
                # every other file would only list unknown accounts: one line says it
                accounts_ok = allow_empty
                _empty_file(source.label, "an import without accounts would empty the book",
                            allow_empty, problems, summary.warnings)
            _check_rows(conn, table, source, accounts_source if accounts_ok else None, problems,
                        summary.warnings)
            if source.direct:  # already in raw_<name>; _typed_<name> is a view of it
                conn.execute(f"drop view _typed_{table.name}")
                continue
            cols = ", ".join(table.column_names)
            conn.execute(  # _typed_ is in record order (created so, never reordered)
                f"insert into raw_{table.name} ({cols}) "
                f"select {cols} from _typed_{table.name}"
            )
            if table is contract.ACCOUNTS and tmaps.get(table.name) is not None:
                _store_attributes(conn, tmaps[table.name])
            conn.execute(f"drop table _typed_{table.name}")
    if periods_source is not None:
        _expand_periods(conn, periods_source, summary, mp)
    _plausibility(conn, staged, summary, problems, allow_empty)
    return problems


def _has_rows(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    return conn.execute(f"select exists (select 1 from {table})").fetchone()[0]


def _empty_file(label: str, why: str, allow_empty: bool, problems: Problems, warnings: list[str],
                hint: str = "") -> None:
    """A header-only file that would empty the book: refused, or a warning with --allow-empty."""
    if allow_empty:
        warnings.append(f"{label}: no data rows; {why} (imported anyway: --allow-empty)")
    else:
        problems.add(label.split(",")[0].split(" and ")[0], (-1,),
                     f"{label}: no data rows; {why} ({hint}pass --allow-empty to import it anyway)")


def _plausibility(conn: duckdb.DuckDBPyConnection, staged: dict[str, _Source], summary: ImportSummary,
                  problems: Problems, allow_empty: bool) -> None:
    """The rules that look at the whole import (README, "Plausibility checks"): header-only
    revenue or usage files (refused unless ``allow_empty``), revenue months after the last
    usage month (a warning; ``summary.default_month`` becomes the last month with both) and
    ``pending`` renewals due before the data's last month (a warning). Set-based: one
    aggregate query each."""
    revenue = staged.get("revenue_monthly") or staged.get("subscription_periods")
    if revenue is not None and not _has_rows(conn, "raw_revenue_monthly"):
        _empty_file(revenue.label, "an import without revenue would empty the book", allow_empty,
                    problems, summary.warnings)
    usage = [staged[t] for t in ("usage_weekly", "usage_metrics") if t in staged]
    has_usage = _has_rows(conn, "(select 1 from raw_usage_weekly union all select 1 from raw_usage_metrics)")
    if usage and not has_usage:
        label = " and ".join(s.label for s in usage)
        _empty_file(label, "every health score would be unscored", allow_empty, problems, summary.warnings,
                    hint=f"remove {'it' if len(usage) == 1 else 'them'} to import without usage, or ")

    last_month, first_late, late_months, late_rows, default = conn.execute(  # one scan of each table
        "with usage as (select max(m) as u from ("
        "select strftime(max(week_start), '%Y-%m') as m from raw_usage_weekly union all "
        "select strftime(date_trunc('week', max(date)), '%Y-%m') from raw_usage_metrics)) "
        "select max(month), min(month) filter (where month > u), count(distinct month) filter (where month > u), "
        "count(*) filter (where month > u), max(month) filter (where month <= u) "
        "from raw_revenue_monthly, usage"
    ).fetchone()
    if late_rows:
        label = revenue.label if revenue is not None else "revenue"
        summary.warnings.append(
            f"{label}: {late_rows:,} revenue row{'s' if late_rows != 1 else ''} in {late_months:,} "
            f"month{'s' if late_months != 1 else ''} after the last usage month "
            f"({first_late} to {last_month}, no health scores there); the app opens on "
            + (f"{default}, the last month with both revenue and usage" if default else last_month))
        summary.default_month = default

    renewals = staged.get("renewals")
    if renewals is not None and last_month is not None:
        n, first, due = conn.execute(
            "select count(*), min(_row), arg_min(due_on, _row) from _import_pending "
            "where due_on < cast(? as date)", [f"{last_month}-01"]).fetchone()
        if n:
            summary.warnings.append(
                f"{renewals.label}: {n:,} 'pending' renewal{'s' if n != 1 else ''} due before {last_month}, "
                f"the data's last month (first on {renewals.line(first, first)}: due_on {due}); pending "
                "renewals count in no renewal rate (one past its due date without an order is 'deferred')")
    conn.execute("drop table _import_pending")


def _expand_periods(conn: duckdb.DuckDBPyConnection, source, summary: ImportSummary, mp: Mapping | None) -> None:
    """subscription_periods -> raw_revenue_monthly. An open-ended period runs through the
    mapping's ``[subscriptions] through`` month, else the latest month of any revenue or
    usage in the import (usage says the export is at least that recent)."""
    _write_overlap_table(conn, mp)
    through = mp.through if mp is not None else None
    conn.execute("create or replace temp table _import_as_of (through_month_start date, usage_month_start date)")
    conn.execute(
        "insert into _import_as_of select cast(? as date), (select max(m) from ("
        "select max(date_trunc('month', week_start + 6)) as m from raw_usage_weekly union all "
        "select max(date_trunc('month', week_start + 6)) from raw_module_usage_weekly union all "
        "select max(date_trunc('month', date)) from raw_usage_metrics))",
        [f"{through}-01" if through else None],
    )
    conn.execute(sql_file("import_expand_periods"))
    n_open, last = conn.execute(
        "select count(*) filter (where end_date is null), (select max(month) from raw_revenue_monthly) "
        "from _typed_subscription_periods").fetchone()
    if n_open:
        why = (f"[subscriptions] through in {mp.name}" if through
               else "the latest month of revenue or usage in the import; set [subscriptions] through = "
                    "\"YYYY-MM\" in a mapping to say when the export was taken")
        summary.warnings.append(
            f"{source.label}: {n_open:,} open-ended period{'s' if n_open != 1 else ''} (no end_date) "
            f"run{'s' if n_open == 1 else ''} through {last} ({why})")
    renewals.record_period_terms(conn, "_typed_subscription_periods")  # terms when the mapping sets none
    for name in ("_typed_subscription_periods", "_import_overlap", "_import_as_of"):
        conn.execute(f"drop table {name}")


def _store_attributes(conn: duckdb.DuckDBPyConnection, tmap: TableMapping) -> None:
    """The extra account columns the mapping keeps, long into ``raw_account_attributes``:
    one row per account and attribute with a value (trimmed; an empty cell is no row)."""
    for k, name in enumerate(tmap.attributes):  # the name is bound, never an identifier
        conn.execute(
            "insert into raw_account_attributes (account_id, attribute, value) "
            f"select account_id, ?, trim(_attr_{k}) from _typed_accounts "
            f"where nullif(trim(_attr_{k}), '') is not null order by _row",
            [name],
        )


def _files_label(paths: list[Path], default: str) -> str:
    """How messages name a table's source: its file, or its files."""
    if not paths:
        return default
    return paths[0].name if len(paths) == 1 else ", ".join(p.name for p in paths[:3]) + (
        ", ..." if len(paths) > 3 else "")


def _write_overlap_table(conn: duckdb.DuckDBPyConnection, mp: Mapping | None) -> None:
    """``_import_overlap(product, is_replace)``: the mapping's overlap mode per product; the
    row with product NULL is the default for products it does not name."""
    rows = [(None, (mp.overlap if mp else "add") == "replace")]
    if mp:
        rows += [(product, mode == "replace") for product, mode in sorted(mp.product_overlap.items())]
    conn.execute("create or replace temp table _import_overlap (product varchar, is_replace boolean)")
    conn.executemany("insert into _import_overlap values (?, ?)", rows)


def _check_reason_codes(conn: duckdb.DuckDBPyConnection, files: dict, summary: ImportSummary) -> None:
    """Default taxonomy when none was given; warn about log codes not in the taxonomy.

    Such logs are kept (as 'unclassified' on the Churn reasons page), never dropped.
    """
    from cslib.views.churn import prepare_churn_tables, unclassified_codes, unclassified_warning

    if prepare_churn_tables(conn) and ("csm_logs" in files or "reason_taxonomy" in files):
        what = "no rows in reason_taxonomy.csv" if "reason_taxonomy" in files else "no reason_taxonomy.csv"
        summary.warnings.append(f"{what}: using the default reason taxonomy (cslib/config/reason_taxonomy.csv)")
    warning = unclassified_warning(unclassified_codes(conn))
    if warning:
        summary.warnings.append(warning)


# ---------------------------------------------------------------------------
# Coverage (check)
# ---------------------------------------------------------------------------


def _date_column(table: contract.Table) -> contract.Column | None:
    """The column a table's months are read from (the first month or date column)."""
    return next((c for c in table.columns if c.is_month or c.type == "DATE"), None)


def _coverage(conn: duckdb.DuckDBPyConnection, files: dict[str, list[Path]], mp: Mapping | None) -> list[str]:
    """Rows, accounts and months per table; gaps between tables; what will be empty or n/a."""
    out: list[str] = []
    for table in contract.TABLES:
        raw = f"raw_{table.name}"
        n = conn.execute(f"select count(*) from {raw}").fetchone()[0]
        if table is contract.REVENUE_MONTHLY and "subscription_periods" in files:
            origin = f" (from {_files_label(files['subscription_periods'], '')})"
        elif table is contract.RENEWALS and "renewals" not in files and n:
            origin = " (derived from revenue)"
        else:
            origin = f" ({_files_label(files[table.name], '')})" if table.name in files else " (no file)"
        text = f"{table.name}{origin}: {n:,} row{'s' if n != 1 else ''}"
        if n and "account_id" in table.column_names:
            accounts = conn.execute(f"select count(distinct account_id) from {raw}").fetchone()[0]
            text += f", {accounts:,} account{'s' if accounts != 1 else ''}"
        col = _date_column(table)
        if n and col is not None:
            expr = col.name if col.is_month else f"strftime({col.name}, '%Y-%m')"
            first, last = conn.execute(f"select min({expr}), max({expr}) from {raw}").fetchone()
            if first is not None:
                text += f", months {first}..{last}"
        out.append(text)

    kept = list(mp.tables["accounts"].attributes) if mp is not None and "accounts" in mp.tables else []
    if kept:  # extra account columns the mapping keeps: filter and breakdown dimensions
        stats = {a: (n, v) for a, n, v in conn.execute(
            "select attribute, count(distinct account_id), count(distinct value) "
            "from raw_account_attributes group by attribute").fetchall()}
        parts = [f"{a} {stats.get(a, (0, 0))[0]:,} accounts, {stats.get(a, (0, 0))[1]:,} values" for a in kept]
        out.append(f"account attributes (filters and breakdowns): {'; '.join(parts)}")

    def count(sql: str) -> int:
        return conn.execute(sql).fetchone()[0]

    revenue = ("select distinct account_id from raw_revenue_monthly "
               "where mrr_subscription + coalesce(mrr_usage, 0) > 0")
    usage_tables = [t.name for t in contract.TABLES if t.name.startswith("usage_")]
    usage = " union ".join(f"select account_id from raw_{t}" for t in usage_tables) or \
        "select null::varchar as account_id where false"
    no_revenue = count(f"select count(*) from raw_accounts where account_id not in ({revenue})")
    no_usage = count(f"select count(*) from ({revenue}) r where account_id not in ({usage})")
    out.append(f"accounts without revenue: {no_revenue:,}")
    out.append(f"accounts with revenue but no usage: {no_usage:,}"
               + (" (never any usage row: their health is unscored)" if no_usage else ""))

    has = {t.name: count(f"select count(*) from raw_{t.name}") > 0 for t in contract.TABLES}
    empty: list[str] = []
    if not any(has[t] for t in usage_tables):
        empty.append("no usage data: every account's health is unscored, so the health rate, nine-box, "
                     "health flows and CSM commissions are n/a")
    elif not has.get("module_usage_weekly", True) and not has.get("usage_metrics", False):
        empty.append("no module usage: module points are 0 for every account")
    if not has["renewals"]:
        empty.append("no renewals (no renewals file and none derived from revenue): renewal rates are n/a "
                     "and there is no renewal model")
    reasons = [t for t in ("csm_logs", "churn_feedback", "churn_events") if t in has]
    if not any(has[t] for t in reasons):
        empty.append(f"no {' or '.join(reasons)}: no churn reasons (every churn shows 'No reason logged')")
    if not has["events"]:
        empty.append("no events: event alerts are empty")
    out.append("will be empty or n/a:" if empty else "will be empty or n/a: nothing")
    out += [f"  - {line}" for line in empty]
    return out


# ---------------------------------------------------------------------------
# Reading and cell checks
# ---------------------------------------------------------------------------

#: ``_row`` = file index << _FILE_SHIFT | 0-based record index within the file.
_FILE_SHIFT = 40


class _Source:
    """Where a table's rows came from: maps an encoded ``_row`` to 'file, line N'."""

    def __init__(self) -> None:
        self.parts: list[tuple[Path, _Lines | _ParquetRows]] = []
        #: loaded straight into raw_<name> (``_stage_direct``): ``_typed_<name>`` is a view of it
        self.direct = False

    @property
    def label(self) -> str:
        return _files_label([p for p, _ in self.parts], "")

    def file(self, row: int) -> str:
        return self.parts[row >> _FILE_SHIFT][0].name

    def where(self, row: int) -> str:
        path, lines = self.parts[row >> _FILE_SHIFT]
        return f"{path.name}, {lines.label} {lines(row & ((1 << _FILE_SHIFT) - 1))}"

    def line(self, row: int, relative_to: int) -> str:
        """'line N' in the same file as ``relative_to``, else 'other.csv, line N'."""
        path, lines = self.parts[row >> _FILE_SHIFT]
        local = f"{lines.label} {lines(row & ((1 << _FILE_SHIFT) - 1))}"
        return local if row >> _FILE_SHIFT == relative_to >> _FILE_SHIFT else f"{path.name}, {local}"


def _stage(
    conn: duckdb.DuckDBPyConnection, table: contract.Table, paths: list[Path], summary: ImportSummary,
    tmap: TableMapping | None, mp: Mapping | None, problems: Problems,
) -> _Source | None:
    """Read ``paths`` into ``_typed_<name>`` (``_row`` = encoded record index + typed columns),
    applying the mapping inside the all-VARCHAR staging select. Cell problems are added to
    ``problems`` (bad cells then read as empty); a file-level problem skips the table (None)."""
    stg = f"_stg_{table.name}"
    source = _Source()
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
                    source.parts.append((path, _ParquetRows(path, n_rows) if types is not None
                                         else _Lines(path, n_rows)))
                    source.direct = True
                    return source
            if fast:
                sql = f"create or replace temp table {stg} as select {select} from {reader}"
            else:
                params["file_base"] = i << _FILE_SHIFT
                body = (f"select cast($file_base + ordinality - 1 as bigint) as _row, {select} "
                        f"from {reader} with ordinality {where}")
                sql = f"create or replace temp table {stg} as {body}" if i == 0 else f"insert into {stg} {body}"
            try:
                conn.execute(sql, params)
            except duckdb.Error as err:
                if types is not None:
                    raise UserError(f"{path.name}: not a readable Parquet file "
                                    f"({str(err).strip().splitlines()[0][:200]})") from None
                raise UserError(_csv_error_message(path, str(err))) from None
            n_rows = None if not fast else conn.execute(f"select count(*) from {stg}").fetchone()[0]
            if plan.drops:  # say how many rows the drop rules left out (a second scan, only with drops)
                kept = conn.execute(f"select count(*) from {stg} where _row >> {_FILE_SHIFT} = ?", [i]).fetchone()[0]
                n_rows = conn.execute(f"select count(*) from {reader}", {"path": str(path)}).fetchone()[0]
                if n_rows > kept:
                    summary.warnings.append(f"{path.name}: dropped {n_rows - kept:,} of {n_rows:,} rows "
                                            f"(tables.{table.name}.drop in {mp.name})")
            source.parts.append((path, _ParquetRows(path, n_rows) if types is not None else _Lines(path, n_rows)))
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
    v = _show(value)
    if kind == "control":
        return f"control character {_control_char(value)} in {_show(_visible(value))} (text may not contain them)"
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


def _stage_direct(conn: duckdb.DuckDBPyConnection, table: contract.Table, select: str, reader: str,
                  params: dict, plan: _HeaderPlan, tmap: TableMapping | None) -> int | None:
    """The fast path for one file without drop rules (the big usage exports): one scan of
    the file counts every cell check (the same conditions as ``_cell_problems``) without
    holding the rows; when no cell has a problem a second scan inserts the typed rows
    straight into the empty ``raw_<name>`` and ``_typed_<name>`` becomes a view of it
    (``_row`` = rowid = record index), so the rows are stored once, not staged as text,
    typed and copied. Returns the number of records, or None (nothing written) when a
    cell has a problem or raw_<name> is not empty: the caller then stages as usual, which
    lists the problems."""
    raw = f"raw_{table.name}"
    if _has_rows(conn, raw):
        return None
    try:
        per_col = _column_conditions(table, _checked_columns(table, plan, tmap))
    except UserError:
        return None  # a bad setting (HEALTHGRID_MAX_MRR): the usual path reports it for the whole import
    named = dict(params)
    conditions = []
    for _, _, conds in per_col:
        for cond, cond_params, _ in conds:
            parts = cond.split("?")
            assert len(parts) == len(cond_params) + 1
            text = parts[0]
            for value, rest in zip(cond_params, parts[1:]):
                name = f"k{len(named)}"
                named[name] = value
                text += f"${name}{rest}"
            conditions.append(f"({text})")
    source = f"(select {select} from {reader})"
    # only "is any cell bad?" matters here: one condition per row (its parts share their
    # trims and casts), not one count per check
    bad = " or ".join(conditions) or "false"
    try:
        n_rows, n_bad = conn.execute(
            f"select count(*), count(*) filter (where bad) from (select {bad} as bad from {source})", named
        ).fetchone()
    except duckdb.Error:
        return None  # an unreadable file: the usual path names the problem
    if n_bad:
        return None
    cols = ", ".join(table.column_names)
    casts = ", ".join(f"{_typed_expr(c)} as {c.name}" for c in table.columns)
    typed_params = dict(params)
    if any(c.type == "BOOLEAN" for c in table.columns):
        typed_params["true_words"] = list(TRUE_WORDS)
    conn.execute(f"insert into {raw} ({cols}) select {casts} from {source}", typed_params)
    conn.execute(f"create or replace temp view _typed_{table.name} as select rowid as _row, {cols} from {raw}")
    return n_rows


def _cell_problems(
    conn: duckdb.DuckDBPyConnection, table: contract.Table, stg: str, row_expr: str, checked: set[str],
    source: _Source, tmap: TableMapping | None, problems: Problems,
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
            f"select r, k, v, n from (select r, k, v, row_number() over (partition by r >> {_FILE_SHIFT} order by r) "
            f"as i, count(*) over (partition by r >> {_FILE_SHIFT}) as n from (select {row_expr} as r, "
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
                           f"(tables.{table.name}.date_format), got {_show(value)}")
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


# ---------------------------------------------------------------------------
# Row checks on the typed table: rules, duplicate keys, unknown accounts
# ---------------------------------------------------------------------------


def _check_rows(
    conn: duckdb.DuckDBPyConnection, table: contract.Table, source: _Source, accounts_source: str | None,
    problems: Problems, warnings: list[str] | None = None,
) -> None:
    """Add every rule violation, duplicate key and unknown account (by file line) to ``problems``,
    and the implausible values that are kept to ``warnings`` (one line each: count, first line).

    ``accounts_source`` None: the accounts file could not be read, so references are not
    checked (every row would be 'unknown'). Rows whose key cells were bad (now empty) are
    not compared.
    """
    warnings = warnings if warnings is not None else []
    typed = f"_typed_{table.name}"

    def first_rows(sql: str, params=None) -> list[tuple]:
        """The first Problems.LIMIT rows of ``sql`` per file, each with its file's total last."""
        return conn.execute(
            f"select * exclude (_k) from (select *, row_number() over (partition by _row >> {_FILE_SHIFT} "
            f"order by _row) as _k, count(*) over (partition by _row >> {_FILE_SHIFT}) as _n from ({sql})) "
            f"where _k <= {Problems.LIMIT} order by _row", params or []
        ).fetchall()

    def add(rows: list[tuple], order: int, message) -> None:
        by_file: dict[str, tuple[list[tuple[tuple, str]], int]] = {}
        for *r, total in rows:
            text = message(r)
            sep = ", " if text.startswith("column ") else ": "
            items, _ = by_file.setdefault(source.file(r[0]), ([], total))
            items.append(((r[0], 1000 + order), f"{source.where(r[0])}{sep}{text}"))
        for file, (items, total) in by_file.items():
            problems.extend(file, items, total)

    if table is contract.RENEWALS:
        for order, col in enumerate(("renewed_on", "renewed_arr")):
            rows = first_rows(f"select _row from {typed} where outcome = ? and {col} is null", ["renewed"])
            add(rows, order, lambda r, col=col: f"column {col}: outcome 'renewed' needs {col}")
    if table is contract.SUBSCRIPTION_PERIODS:
        rows = first_rows(f"select _row, end_date, start_date from {typed} where end_date < start_date")
        add(rows, 2, lambda r: f"column end_date: {r[1]} is before start_date {r[2]}")
    if table is contract.EVENTS:  # scores outside their scale are refused: they would skew every average
        rows = first_rows(
            f"select _row, kind, score from {typed} where (kind = 'nps' and score not between 0 and 10) "
            "or (kind = 'satisfaction' and score not between 1 and 5)")
        add(rows, 2, lambda r: (f"column score: NPS {r[2]:g} is outside 0-10" if r[1] == "nps"
                                else f"column score: satisfaction {r[2]:g} is outside 1-5"))
    if table is contract.USAGE_WEEKLY:
        n, first, activated, purchased = conn.execute(
            f"select count(*), min(_row), arg_min(seats_activated, _row), arg_min(seats_purchased, _row) "
            f"from {typed} where seats_activated > seats_purchased").fetchone()
        if n:
            warnings.append(
                f"{source.label}: {n:,} row{'s' if n != 1 else ''} with seats_activated above "
                f"seats_purchased, kept as {'they are' if n != 1 else 'it is'} (first on {source.line(first, first)}: {activated:,} "
                f"activated of {purchased:,} purchased)")
    if table is contract.RENEWALS:
        n, first, due, renewed = conn.execute(
            f"select count(*), min(_row), arg_min(due_on, _row), arg_min(renewed_on, _row) from {typed} "
            f"where abs(datediff('day', due_on, renewed_on)) > {RENEWAL_DATE_DAYS}").fetchone()
        if n:
            warnings.append(
                f"{source.label}: {n:,} renewal{'s' if n != 1 else ''} with renewed_on more than "
                f"{RENEWAL_DATE_DAYS} days from due_on, kept as {'they are' if n != 1 else 'it is'} "
                f"(first on {source.line(first, first)}: due_on {due}, renewed_on {renewed})")
        conn.execute(f"insert into _import_pending select _row, due_on from {typed} "
                     "where outcome = 'pending' and due_on is not null")
    if table is contract.ACCOUNTS:  # ids are case-sensitive (some CRMs' are): kept, with a warning
        n, first, value, other_row, other = conn.execute(
            "select count(*), min(_row), arg_min(account_id, _row), arg_min(first_row, _row), "
            f"arg_min(first_id, _row) from (select _row, account_id, "
            "first_value(_row) over w as first_row, first_value(account_id) over w as first_id "
            f"from {typed} where account_id is not null "
            "window w as (partition by lower(account_id) order by _row)) "
            "where account_id <> first_id").fetchone()
        if n:
            warnings.append(
                f"{source.label}: {n:,} account id{'s' if n != 1 else ''} differ{'s' if n == 1 else ''} "
                "from another only by case, kept as different accounts (first on "
                f"{source.line(first, first)}: {_show(value)}, like {_show(other)} on "
                f"{source.line(other_row, first)})")

    if table is contract.REASON_TAXONOMY:
        # codes are matched normalised (cslib.views.churn.normalise_code): 'Price' and 'price ' collide
        norm = "regexp_replace(lower(regexp_replace(reason_code, '^\\s+|\\s+$', '', 'g')), '[\\s-]+', '_', 'g')"
        rows = first_rows(
            f"select * from (select _row, min(_row) over (partition by {norm}) as first_row, {norm} as code "
            f"from {typed} where reason_code is not null) where _row > first_row"
        )
        add(rows, 3, lambda r: f"column reason_code: duplicate code {_show(r[2])} after normalising "
                                  f"(first on {source.line(r[1], r[0])})")

    if table.key:
        key = ", ".join(table.key)
        not_null = " and ".join(f"{k} is not null" for k in table.key)
        rows = first_rows(
            f"select * from (select _row, min(_row) over (partition by {key}) as first_row, {key} "
            f"from {typed} where {not_null}) where _row > first_row"
        )
        label = key if len(table.key) == 1 else f"({key})"

        def duplicate(r) -> str:
            values = ", ".join(_show(str(v)) for v in r[2:])
            shown = values if len(table.key) == 1 else f"({values})"
            return f"duplicate {label} {shown} (first on {source.line(r[1], r[0])})"

        add(rows, 4, duplicate)

    if table.references_accounts and accounts_source is not None:
        id_col = "customer_id" if table is contract.SUBSCRIPTION_PERIODS else "account_id"
        rows = first_rows(
            f"select _row, {id_col} from {typed} t where {id_col} is not null and not exists "
            f"(select 1 from raw_accounts a where a.account_id = t.{id_col})"
        )
        add(rows, 5, lambda r: f"column {id_col}: unknown account {_show(r[1])} (not in {accounts_source})")


# ---------------------------------------------------------------------------
# Messages and line numbers
# ---------------------------------------------------------------------------


def _control_char(value: str | None) -> str:
    """The first control character of ``value`` as U+XXXX (NUL named)."""
    ch = next((c for c in value or "" if ord(c) < 32 and c not in "\t\n\r" or ord(c) == 127), "\x00")
    return "NUL (U+0000)" if ch == "\x00" else f"U+{ord(ch):04X}"


def _visible(value: str | None) -> str:
    """``value`` with control characters shown as '?' (a message must not carry them)."""
    return "".join("?" if ord(c) < 32 and c not in "\t\n\r" or ord(c) == 127 else c for c in value or "")


def _show(value: str | None, limit: int = 40) -> str:
    """A cell value quoted for a one-line message."""
    if value is None:
        return "''"
    text = " ".join(str(value).split()) if ("\n" in str(value) or "\r" in str(value)) else str(value)
    text = _visible(text)  # a message never carries a control character (ids of the usage tables)
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

    def __init__(self, path: Path, n_records: int | None) -> None:
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

    def __init__(self, path: Path, n_records: int | None) -> None:
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
            self._one_line_per_record = self.n_records is not None and (
                newlines == self.n_records + (1 if last == b"\n" else 0))
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
