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

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cslib.store import contract, pipeline, renewals
from cslib.store.db import replace_atomically, sql_file
from cslib.errors import UserError
from cslib.store.mapping import Mapping, TableMapping, as_mapping
from cslib.store.coverage import coverage
from cslib.store.problems import ImportSummary, Problems, files_label, has_rows
from cslib.store.reading import Source, stage
from cslib.store.row_checks import check_rows

_OPTIONAL_FILES = {
    "module_usage_weekly": "module points will be 0",
    "renewals": "renewal rates will be empty",
    "csm_logs": "churn reasons and risk flags will be empty",
    "events": "event alerts will be empty",
}


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
        return CheckReport(problems, summary.warnings, coverage(conn, files, mp))
    finally:
        conn.close()


def _check_folder(src_dir: str | os.PathLike) -> Path:
    src = Path(src_dir)
    if not src.exists():
        raise UserError(f"{src}: folder not found")
    if not src.is_dir():
        raise UserError(f"{src}: not a folder")
    return src


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
    accounts_source = files_label(files.get("accounts", []), "accounts.csv")
    accounts_ok = True
    staged: dict[str, Source] = {}
    conn.execute("create or replace temp table _import_pending (_row bigint, due_on date)")
    for table in contract.TABLES:
        if table is contract.REVENUE_MONTHLY and "subscription_periods" in files:
            periods = contract.SUBSCRIPTION_PERIODS
            source = stage(conn, periods, files["subscription_periods"], summary, tmaps.get(periods.name),
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
            check_rows(conn, periods, source, accounts_source if accounts_ok else None, problems,
                        summary.warnings)
            periods_source = source  # expanded after the usage tables are loaded (their dates count)
        elif table.name in files:
            source = stage(conn, table, files[table.name], summary, tmaps.get(table.name), mp, problems)
            if source is None:
                accounts_ok = accounts_ok and table is not contract.ACCOUNTS
                continue
            staged[table.name] = source
            if table is contract.ACCOUNTS and not has_rows(conn, "_typed_accounts"):
                # every other file would only list unknown accounts: one line says it
                accounts_ok = allow_empty
                _empty_file(source.label, "an import without accounts would empty the book",
                            allow_empty, problems, summary.warnings)
            check_rows(conn, table, source, accounts_source if accounts_ok else None, problems,
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


def _empty_file(label: str, why: str, allow_empty: bool, problems: Problems, warnings: list[str],
                hint: str = "") -> None:
    """A header-only file that would empty the book: refused, or a warning with --allow-empty."""
    if allow_empty:
        warnings.append(f"{label}: no data rows; {why} (imported anyway: --allow-empty)")
    else:
        problems.add(label.split(",")[0].split(" and ")[0], (-1,),
                     f"{label}: no data rows; {why} ({hint}pass --allow-empty to import it anyway)")


def _plausibility(conn: duckdb.DuckDBPyConnection, staged: dict[str, Source], summary: ImportSummary,
                  problems: Problems, allow_empty: bool) -> None:
    """The rules that look at the whole import (README, "Plausibility checks"): header-only
    revenue or usage files (refused unless ``allow_empty``), revenue months after the last
    usage month (a warning; ``summary.default_month`` becomes the last month with both) and
    ``pending`` renewals due before the data's last month (a warning). Set-based: one
    aggregate query each."""
    revenue = staged.get("revenue_monthly") or staged.get("subscription_periods")
    if revenue is not None and not has_rows(conn, "raw_revenue_monthly"):
        _empty_file(revenue.label, "an import without revenue would empty the book", allow_empty,
                    problems, summary.warnings)
    usage = [staged[t] for t in ("usage_weekly", "usage_metrics") if t in staged]
    has_usage = has_rows(conn, "(select 1 from raw_usage_weekly union all select 1 from raw_usage_metrics)")
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
