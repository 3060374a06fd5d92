"""Row checks on a typed table: the contract's rules, duplicate keys and unknown accounts.
"""

from __future__ import annotations


import duckdb

from cslib.store import contract
from cslib.store.file_messages import show
from cslib.store.problems import Problems
from cslib.store.reading import FILE_SHIFT, Source


#: A renewal order dated further than this from its due date is warned about (a typo'd year?).
RENEWAL_DATE_DAYS = 366


# ---------------------------------------------------------------------------
# Row checks on the typed table: rules, duplicate keys, unknown accounts
# ---------------------------------------------------------------------------


def check_rows(
    conn: duckdb.DuckDBPyConnection, table: contract.Table, source: Source, accounts_source: str | None,
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
            f"select * exclude (_k) from (select *, row_number() over (partition by _row >> {FILE_SHIFT} "
            f"order by _row) as _k, count(*) over (partition by _row >> {FILE_SHIFT}) as _n from ({sql})) "
            f"where _k <= {Problems.LIMIT} order by _row", params or []
        ).fetchall()

    def kept(where: str, *columns: str) -> tuple:
        """(count, first row, its ``columns``...) of the rows ``where`` holds: implausible
        values that are kept, with a warning."""
        firsts = "".join(f", arg_min({c}, _row)" for c in columns)
        return conn.execute(f"select count(*), min(_row){firsts} from {typed} where {where}").fetchone()

    def as_they_are(n: int) -> str:
        return f"kept as {'they are' if n != 1 else 'it is'}"

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
        n, first, activated, purchased = kept("seats_activated > seats_purchased", "seats_activated", "seats_purchased")
        if n:
            warnings.append(
                f"{source.label}: {n:,} row{'s' if n != 1 else ''} with seats_activated above "
                f"seats_purchased, {as_they_are(n)} (first on {source.line(first, first)}: {activated:,} "
                f"activated of {purchased:,} purchased)")
    if table is contract.RENEWALS:
        n, first, due, renewed = kept(f"abs(datediff('day', due_on, renewed_on)) > {RENEWAL_DATE_DAYS}",
                                      "due_on", "renewed_on")
        if n:
            warnings.append(
                f"{source.label}: {n:,} renewal{'s' if n != 1 else ''} with renewed_on more than "
                f"{RENEWAL_DATE_DAYS} days from due_on, {as_they_are(n)} "
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
                f"{source.line(first, first)}: {show(value)}, like {show(other)} on "
                f"{source.line(other_row, first)})")

    if table is contract.REASON_TAXONOMY:
        # codes are matched normalised (cslib.views.churn.normalise_code): 'Price' and 'price ' collide
        norm = "regexp_replace(lower(regexp_replace(reason_code, '^\\s+|\\s+$', '', 'g')), '[\\s-]+', '_', 'g')"
        rows = first_rows(
            f"select * from (select _row, min(_row) over (partition by {norm}) as first_row, {norm} as code "
            f"from {typed} where reason_code is not null) where _row > first_row"
        )
        add(rows, 3, lambda r: f"column reason_code: duplicate code {show(r[2])} after normalising "
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
            values = ", ".join(show(str(v)) for v in r[2:])
            shown = values if len(table.key) == 1 else f"({values})"
            return f"duplicate {label} {shown} (first on {source.line(r[1], r[0])})"

        add(rows, 4, duplicate)

    if table.references_accounts and accounts_source is not None:
        id_col = "customer_id" if table is contract.SUBSCRIPTION_PERIODS else "account_id"
        rows = first_rows(
            f"select _row, {id_col} from {typed} t where {id_col} is not null and not exists "
            f"(select 1 from raw_accounts a where a.account_id = t.{id_col})"
        )
        add(rows, 5, lambda r: f"column {id_col}: unknown account {show(r[1])} (not in {accounts_source})")
