"""Where the renewals come from: imported, derived from revenue, or none.

Without renewal rows (no ``renewals.csv``, or one with only a header) the importer derives
renewal events from contract terms and revenue (``derive_renewals``, the rules are in
cslib/sql/import/import_derive_renewals.sql and docs/renewals-and-churn-events.md) into
``raw_renewals``, so renewal rates, deferred months, the churn contract stage and the
renewal model work on them like on imported ones.

The term length: ``[renewals] term_months`` of the mapping (or the caller's) when given.
Otherwise, when the revenue came as subscription periods with end dates, each revenue run
takes the length of the period that starts it (start to end_date rounded to whole months;
``record_period_terms``), and 12 months when that period is open-ended; else 12 months.

Every import (and the demo build) records the source in the table ``import_meta(key,
value)``: ``renewals_source`` = 'file' | 'derived' | 'none' and, when derived, either
``renewals_term_months`` (one term for every account) or ``renewals_terms`` = 'periods'
(terms from the subscription periods). A database without that table (built before it
existed) reads as 'file'. ``renewals_source`` / ``renewals_source_text`` are what pages and
reports show.
"""

from __future__ import annotations

import duckdb

from cslib.store.db import sql_file
from cslib.errors import UserError
from cslib.store.meta import read_meta, write_meta

#: Term length when the mapping gives none (``[renewals] term_months``).
DEFAULT_TERM_MONTHS = 12
#: Longest term accepted (10 years); longer is taken for a mistake.
MAX_TERM_MONTHS = 120
SOURCES = ("file", "derived", "none")
_SOURCE_KEY = "renewals_source"
_TERM_KEY = "renewals_term_months"
_TERMS_RULE_KEY = "renewals_terms"
#: Temp table of the imported subscription periods' terms (``record_period_terms``), read
#: by import_derive_renewals.sql: account_id, month_index (year * 12 + month - 1 of the
#: start), start_date, _row, term_months (NULL when open-ended).
PERIOD_TERMS_TABLE = "_import_period_terms"
#: Days in an average month, for a period's length in whole months.
_DAYS_PER_MONTH = 365.25 / 12


def check_term_months(term_months) -> int:
    """``term_months`` as an int (None -> DEFAULT_TERM_MONTHS); UserError (one line) unless it
    is a whole number from 1 to MAX_TERM_MONTHS."""
    if term_months is None:
        return DEFAULT_TERM_MONTHS
    if isinstance(term_months, bool) or not isinstance(term_months, int):
        try:
            text = str(term_months).strip()
            value = int(text)
        except (TypeError, ValueError):
            raise UserError(f"renewals term_months: expected a whole number of months, got {term_months!r}") from None
        if text != str(value):
            raise UserError(f"renewals term_months: expected a whole number of months, got {term_months!r}")
        term_months = value
    if not 1 <= term_months <= MAX_TERM_MONTHS:
        raise UserError(f"renewals term_months: expected 1 to {MAX_TERM_MONTHS} months, got {term_months}")
    return term_months


def record_period_terms(conn: duckdb.DuckDBPyConnection, periods_table: str) -> None:
    """Keep each imported subscription period's term for ``derive_renewals``: the temp table
    PERIOD_TERMS_TABLE, one row per period with an amount above 0 and a start date. Its
    term is start to end_date in days / (365.25 / 12), rounded to whole months (exact
    halves away from zero) and kept within 1..MAX_TERM_MONTHS; NULL when open-ended.
    ``periods_table`` is the importer's typed periods table (customer_id, start_date,
    end_date, monthly_amount, _row)."""
    conn.execute(
        f"create or replace temp table {PERIOD_TERMS_TABLE} as "
        "select customer_id as account_id, year(start_date) * 12 + month(start_date) - 1 as month_index, "
        "start_date, _row, case when end_date is not null then least(?, greatest(1, "
        "round(date_diff('day', start_date, end_date) / ?)))::integer end as term_months "
        f"from {periods_table} where monthly_amount > 0 and start_date is not null",
        [MAX_TERM_MONTHS, _DAYS_PER_MONTH],
    )


def _ensure_period_terms(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        f"create temp table if not exists {PERIOD_TERMS_TABLE} (account_id varchar, month_index integer, "
        "start_date date, _row bigint, term_months integer)"
    )


def _terms_from_periods(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether any imported subscription period has an end date (its term is then used)."""
    _ensure_period_terms(conn)
    return conn.execute(
        f"select count(*) from {PERIOD_TERMS_TABLE} where term_months is not null").fetchone()[0] > 0


def derive_renewals(conn: duckdb.DuckDBPyConnection, term_months: int | None = None) -> int:
    """Insert the renewals derived from ``raw_revenue_monthly`` into ``raw_renewals``.

    ``term_months``: contract term length for every account; None -> each revenue run's
    term from the subscription period that starts it (``record_period_terms``; none
    recorded, or open-ended: 12). Returns the number of rows added. Meant for a
    ``raw_renewals`` without rows (``prepare_renewals`` checks that).
    """
    term = None if term_months is None else check_term_months(term_months)
    _ensure_period_terms(conn)
    before = conn.execute("select count(*) from raw_renewals").fetchone()[0]
    conn.execute(sql_file("import_derive_renewals"), [term, DEFAULT_TERM_MONTHS])
    return conn.execute("select count(*) from raw_renewals").fetchone()[0] - before


def write_renewals_source(conn: duckdb.DuckDBPyConnection, source: str, term_months: int | None = None,
                          from_periods: bool = False) -> None:
    """Record where the renewals came from in ``import_meta`` (cslib.store.meta): derived with one
    term (``term_months``, None -> 12) or, ``from_periods``, with terms from the periods."""
    if source not in SOURCES:
        raise ValueError(f"unknown renewals source {source!r}")
    derived = source == "derived"
    term = str(check_term_months(term_months)) if derived and not from_periods else None
    write_meta(conn, **{_SOURCE_KEY: source, _TERM_KEY: term,
                        _TERMS_RULE_KEY: "periods" if derived and from_periods else None})


def prepare_renewals(conn: duckdb.DuckDBPyConnection, term_months: int | None = None,
                     warnings: list[str] | None = None) -> str:
    """The importer's step after the raw tables are loaded, before the models are built.

    Imported renewal rows -> source 'file' (``term_months`` is not used). No rows -> derive
    them (``derive_renewals``): 'derived', or 'none' when the revenue yields none. Without
    ``term_months``, terms come from the subscription periods' end dates when the import
    recorded any (``record_period_terms``), else 12 months. Writes ``import_meta`` and
    returns the source. When ``warnings`` (the import's list) is given, its
    "no renewals.csv: ..." line is replaced by one that says what was derived.
    """
    term = check_term_months(term_months)
    from_periods = False
    if conn.execute("select count(*) from raw_renewals").fetchone()[0] > 0:
        source = "file"
        if term_months is not None and warnings is not None:
            warnings.append(f"renewals come from renewals.csv: term_months = {term} is not used")
    else:
        from_periods = term_months is None and _terms_from_periods(conn)
        n = derive_renewals(conn, None if from_periods else term)
        source = "derived" if n else "none"
        if warnings is not None:
            line = (
                f"no renewals.csv: derived {n:,} renewal{'s' if n != 1 else ''} from revenue "
                f"({_terms_text(term, from_periods)})"
                if n else "no renewals.csv and no revenue to derive renewals from: renewal rates will be n/a"
            )
            stale = [i for i, w in enumerate(warnings) if w.startswith("no renewals.csv")]
            if stale:
                warnings[stale[0]] = line
            else:
                warnings.append(line)
    conn.execute(f"drop table if exists {PERIOD_TERMS_TABLE}")
    write_renewals_source(conn, source, term, from_periods)
    return source


def _terms_text(term_months: int | None, from_periods: bool) -> str:
    if from_periods:
        return ("terms from the subscription periods: each run of revenue months takes the length of the "
                f"period that starts it, start to end date in whole months ({DEFAULT_TERM_MONTHS} when open-ended)")
    return f"{term_months or DEFAULT_TERM_MONTHS}-month terms from each account's first revenue month"


def renewals_source(conn) -> str:
    """'file' (imported, or a database without ``import_meta``), 'derived' or 'none'."""
    source = read_meta(conn, _SOURCE_KEY) or "file"
    return source if source in SOURCES else "file"


def renewals_term_months(conn) -> int | None:
    """The term length the renewals were derived with (None unless derived with one term
    for every account; see ``renewals_terms_from_periods``)."""
    value = read_meta(conn, _TERM_KEY)
    return int(value) if value and value.isdigit() else None


def renewals_terms_from_periods(conn) -> bool:
    """Whether the derived renewals took their terms from the subscription periods."""
    return read_meta(conn, _TERMS_RULE_KEY) == "periods"


def source_text(source: str, term_months: int | None = None, from_periods: bool = False) -> str:
    """One line for users about a renewals source."""
    if source == "derived":
        return (
            f"Renewals are derived from revenue ({_terms_text(term_months, from_periods)}): renewed when "
            "revenue continues after the term, churned when it stops, pending when due after the data; "
            "never deferred."
        )
    if source == "none":
        return "No renewals: none were imported and none could be derived from revenue; renewal rates are n/a."
    return "Renewals are imported from renewals.csv."


def renewals_source_text(conn) -> str:
    """``source_text`` for the database's renewals."""
    return source_text(renewals_source(conn), renewals_term_months(conn), renewals_terms_from_periods(conn))
