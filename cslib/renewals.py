"""Where the renewals come from: imported, derived from revenue, or none.

Without renewal rows (no ``renewals.csv``, or one with only a header) the importer derives
renewal events from contract terms and revenue (``derive_renewals``, the rules are in
cslib/sql/import_derive_renewals.sql and docs/renewals-and-churn-events.md) into
``raw_renewals``, so renewal rates, deferred months, the churn contract stage and the
renewal model work on them like on imported ones.

Every import (and the demo build) records the source in the table ``import_meta(key,
value)``: ``renewals_source`` = 'file' | 'derived' | 'none' and, when derived,
``renewals_term_months``. A database without that table (built before it existed) reads
as 'file'. ``renewals_source`` / ``renewals_source_text`` are what pages and reports show.
"""

from __future__ import annotations

import duckdb

from .db import sql_file
from .errors import UserError
from .meta import read_meta, write_meta

#: Term length when the mapping gives none (``[renewals] term_months``).
DEFAULT_TERM_MONTHS = 12
#: Longest term accepted (10 years); longer is taken for a mistake.
MAX_TERM_MONTHS = 120
SOURCES = ("file", "derived", "none")
_SOURCE_KEY = "renewals_source"
_TERM_KEY = "renewals_term_months"


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


def derive_renewals(conn: duckdb.DuckDBPyConnection, term_months: int | None = None) -> int:
    """Insert the renewals derived from ``raw_revenue_monthly`` into ``raw_renewals``.

    ``term_months``: contract term length (None -> 12). Returns the number of rows added.
    Meant for a ``raw_renewals`` without rows (``prepare_renewals`` checks that).
    """
    term = check_term_months(term_months)
    before = conn.execute("select count(*) from raw_renewals").fetchone()[0]
    conn.execute(sql_file("import_derive_renewals"), [term])
    return conn.execute("select count(*) from raw_renewals").fetchone()[0] - before


def write_renewals_source(conn: duckdb.DuckDBPyConnection, source: str, term_months: int | None = None) -> None:
    """Record where the renewals came from in ``import_meta`` (cslib.meta)."""
    if source not in SOURCES:
        raise ValueError(f"unknown renewals source {source!r}")
    term = str(check_term_months(term_months)) if source == "derived" else None
    write_meta(conn, **{_SOURCE_KEY: source, _TERM_KEY: term})


def prepare_renewals(conn: duckdb.DuckDBPyConnection, term_months: int | None = None,
                     warnings: list[str] | None = None) -> str:
    """The importer's step after the raw tables are loaded, before the models are built.

    Imported renewal rows -> source 'file' (``term_months`` is not used). No rows -> derive
    them (``derive_renewals``): 'derived', or 'none' when the revenue yields none. Writes
    ``import_meta`` and returns the source. When ``warnings`` (the import's list) is given,
    its "no renewals.csv: ..." line is replaced by one that says what was derived.
    """
    term = check_term_months(term_months)
    if conn.execute("select count(*) from raw_renewals").fetchone()[0] > 0:
        source = "file"
        if term_months is not None and warnings is not None:
            warnings.append(f"renewals come from renewals.csv: term_months = {term} is not used")
    else:
        n = derive_renewals(conn, term)
        source = "derived" if n else "none"
        if warnings is not None:
            line = (
                f"no renewals.csv: derived {n:,} renewal{'s' if n != 1 else ''} from revenue "
                f"({term}-month terms from each account's first revenue month)"
                if n else "no renewals.csv and no revenue to derive renewals from: renewal rates will be n/a"
            )
            stale = [i for i, w in enumerate(warnings) if w.startswith("no renewals.csv")]
            if stale:
                warnings[stale[0]] = line
            else:
                warnings.append(line)
    write_renewals_source(conn, source, term)
    return source


def renewals_source(conn) -> str:
    """'file' (imported, or a database without ``import_meta``), 'derived' or 'none'."""
    source = read_meta(conn, _SOURCE_KEY) or "file"
    return source if source in SOURCES else "file"


def renewals_term_months(conn) -> int | None:
    """The term length the renewals were derived with (None unless derived)."""
    value = read_meta(conn, _TERM_KEY)
    return int(value) if value and value.isdigit() else None


def source_text(source: str, term_months: int | None = None) -> str:
    """One line for users about a renewals source."""
    if source == "derived":
        term = term_months or DEFAULT_TERM_MONTHS
        return (
            f"Renewals are derived from revenue ({term}-month terms from each account's first revenue "
            "month): renewed when revenue continues after the term, churned when it stops, pending when "
            "due after the data; never deferred."
        )
    if source == "none":
        return "No renewals: none were imported and none could be derived from revenue; renewal rates are n/a."
    return "Renewals are imported from renewals.csv."


def renewals_source_text(conn) -> str:
    """``source_text`` for the database's renewals."""
    return source_text(renewals_source(conn), renewals_term_months(conn))
