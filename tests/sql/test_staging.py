"""The staging layer (cslib/sql/staging): the only SQL besides the importer's that reads raw
tables, each table's cleaning written once.

* No query file (cslib/sql/queries) names a raw_ table outside its comments.
* Each staging view has one row per key of its raw table (per raw row for events, which
  have no key) on the churn book with a few hand-made rows added, and cleans those rows
  as its header says.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from cslib.store import contract, pipeline
from tests_support import churn_book as book

QUERIES = Path(__file__).resolve().parents[2] / "cslib" / "sql" / "queries"

#: staging view -> the contract table it stages
STAGED = {
    "stg_accounts": "accounts",
    "stg_renewals": "renewals",
    "stg_csm_logs": "csm_logs",
    "stg_churn_feedback": "churn_feedback",
    "stg_reason_taxonomy": "reason_taxonomy",
    "stg_events": "events",
    "stg_usage_weekly_rows": "usage_weekly",
}


def _without_comments(sql: str) -> str:
    """The SQL text without -- line comments and /* */ block comments."""
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    return re.sub(r"--[^\n]*", " ", sql)


def test_no_query_reads_a_raw_table():
    files = sorted(QUERIES.rglob("*.sql"))
    assert files, QUERIES
    readers = {
        str(f.relative_to(QUERIES)): sorted(set(re.findall(r"\braw_\w+", _without_comments(f.read_text()))))
        for f in files
    }
    assert {name: tables for name, tables in readers.items() if tables} == {}


def test_comment_stripping_keeps_code():
    sql = "-- reads raw_accounts\nselect 1 /* raw_events */ from raw_renewals"
    assert re.findall(r"\braw_\w+", _without_comments(sql)) == ["raw_renewals"]


def test_every_staged_table_has_a_view_in_the_build():
    assert set(STAGED) == set(pipeline.STAGING_VIEWS)
    assert list(pipeline.MODELS[: len(STAGED)]) == list(pipeline.STAGING_VIEWS)


#: hand-made rows added to the churn book (accounts first: the others reference them)
_EXTRA = [
    "insert into raw_accounts (account_id, name, is_target) values ('x1', 'No flag', null), "
    "('x2', 'Target', true), ('x3', 'Not target', false)",
    "insert into raw_csm_logs values ('X1', 'x1', '2026-03-02', 'Ana', 'risk_flag', '  Late - Go  Live ', 'n'), "
    "('X2', 'x1', '2026-03-03', 'Ana', 'churn_reason', '   ', 'n'), "
    "('X3', 'x1', '2026-03-04', 'Ana', 'note', null, 'n')",
    "insert into raw_churn_feedback values ('x1', '2026-03-31', 'Price', '  too dear  '), "
    "('x2', '2026-03-31', null, '   ')",
    "insert into raw_reason_taxonomy (reason_code, label) values (' Data-Quality ', 'Data quality')",
    "insert into raw_events values ('x1', '2026-03-02', 'nps', 3, 'admin', null), "
    "('x1', '2026-03-02', 'nps', 3, 'admin', null)",
]


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("staging") / "book.duckdb"
    book.build_churn_book(path)
    c = duckdb.connect(str(path))
    for statement in _EXTRA:
        c.execute(statement)
    pipeline.build_models(c)  # the marts read the added rows through the views
    yield c
    c.close()


def _one(conn, sql: str, params=None):
    return conn.execute(sql, params or []).fetchall()


@pytest.mark.parametrize("view", sorted(STAGED))
def test_one_row_per_key(conn, view):
    table = next(t for t in contract.TABLES if t.name == STAGED[view])
    key = ", ".join(table.key) if table.key else "file_row"
    ((n_raw,),) = _one(conn, f"select count(*) from raw_{table.name}")
    ((n_rows, n_keys),) = _one(conn, f"select count(*), count(distinct ({key})) from {view}")
    assert n_raw > 0, f"the book has no raw_{table.name} rows"
    assert n_rows == n_raw
    assert n_keys == n_rows


@pytest.mark.parametrize("view", sorted(STAGED))
def test_keeps_the_raw_columns(conn, view):
    raw = [r[0] for r in _one(conn, f"describe raw_{STAGED[view]}")]
    staged = [r[0] for r in _one(conn, f"describe {view}")]
    assert [c for c in staged if c in raw] == raw


def test_accounts_default_is_target(conn):
    rows = _one(conn, "select account_id, is_target from stg_accounts where account_id like 'x%' order by 1")
    assert rows == [("x1", False), ("x2", True), ("x3", False)]


def test_log_reason_codes_normalised_once(conn):
    rows = _one(conn, "select log_id, reason_code, reason_code_normalised from stg_csm_logs "
                      "where log_id like 'X%' order by 1")
    assert rows == [("X1", "  Late - Go  Live ", "late_go_live"), ("X2", "   ", None), ("X3", None, None)]
    # the mart reads the normalised code: the messy code matches the taxonomy's late_go_live
    rows = _one(conn, "select reason_code, reason_code_as_logged from churn_logs where log_id = 'X1'")
    assert rows == [("late_go_live", "Late - Go  Live")]


def test_feedback_trimmed_and_code_normalised(conn):
    rows = _one(conn, "select account_id, reason_code_normalised, feedback from stg_churn_feedback "
                      "where account_id like 'x%' order by 1")
    assert rows == [("x1", "price", "too dear"), ("x2", None, None)]


def test_taxonomy_code_normalised(conn):
    rows = _one(conn, "select reason_code_normalised, label from stg_reason_taxonomy "
                      "where reason_code = ' Data-Quality '")
    assert rows == [("data_quality", "Data quality")]


def test_events_numbered_in_file_order(conn):
    rows = _one(conn, "select file_row from stg_events order by file_row")
    assert [r[0] for r in rows] == list(range(len(rows)))
    # two identical rows stay two rows, told apart by file_row
    rows = _one(conn, "select count(distinct file_row) from stg_events where account_id = 'x1'")
    assert rows == [(2,)]


def test_a_file_without_the_views_is_refused_then_rescored(tmp_path):
    from cslib.errors import UserError
    from cslib.store.db import open_checked

    path = tmp_path / "old.duckdb"
    book.build_churn_book(path)
    with duckdb.connect(str(path)) as c:
        for view in pipeline.STAGING_VIEWS:
            c.execute(f"drop view {view}")
    with pytest.raises(UserError, match="built by an older version of Healthgrid .*stg_accounts"):
        open_checked(path)
    pipeline.rescore(path)
    open_checked(path).close()
