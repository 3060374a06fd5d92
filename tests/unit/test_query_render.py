"""The one query renderer (cslib.store.queries): hand-made SQL, then every query file.

A mismatch between a query's placeholders and the values passed, or a misplaced filter
marker, must fail loudly (AssertionError) when the query is built, never run with a value
in the wrong place; these cases pin each rule down, and the rendered SQL is run in DuckDB
to show the bound values land where they belong.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cslib.filters import FILTER_MARKER, Filters
from cslib.store.queries import placeholders, render, render_sql

QUERIES_DIR = Path(__file__).resolve().parents[2] / "cslib" / "sql" / "queries"

SLICED = f"select account_id from account_month as a where a.month = $month and ({FILTER_MARKER}) order by 1"


@pytest.fixture
def conn():
    """A tiny account_month (and attribute table) to run rendered SQL on."""
    c = duckdb.connect(":memory:")
    c.execute(
        "create table account_month as select * from (values "
        "('A', '2025-01', 'enterprise', true, 100.0), "
        "('B', '2025-01', 'smb', true, 50.0), "
        "('C', '2025-01', 'enterprise', false, 70.0), "
        "('A', '2025-02', 'enterprise', true, 110.0), "
        "('D', '2025-01', 'enterprise', true, 30.0)"
        ") as t (account_id, month, segment, is_target, arr)"
    )
    c.execute(
        "create table raw_account_attributes as select * from (values "
        "('A', 'plan_tier', 'gold'), ('D', 'plan_tier', 'silver')) as t (account_id, attribute, value)"
    )
    yield c
    c.close()


# --------------------------------------------------------------------------- the filter marker
def test_the_marker_is_replaced_once_by_the_predicate_and_its_filter_values():
    filters = Filters(segment=("enterprise",), region=("apac", "emea"))
    sql, params = render_sql(SLICED, filters, alias="a", month="2025-01")
    assert FILTER_MARKER not in sql
    assert "a.is_target and list_contains($filter_1, a.segment) and list_contains($filter_2, a.region)" in sql
    assert params == {"filter_1": ["enterprise"], "filter_2": ["apac", "emea"], "month": "2025-01"}


def test_the_marker_twice_is_refused():
    with pytest.raises(AssertionError, match="exactly once"):
        render_sql(f"{SLICED} union all {SLICED}", Filters(), alias="a", month="2025-01")


def test_filters_without_a_marker_are_refused():
    with pytest.raises(AssertionError, match="exactly once"):
        render_sql("select 1 where $month = '2025-01'", Filters(), month="2025-01")


def test_a_marker_without_filters_is_refused():
    with pytest.raises(AssertionError, match="pass the filters"):
        render_sql(SLICED, month="2025-01")


def test_the_filters_parameter_names_are_reserved():
    with pytest.raises(AssertionError, match="filter_"):
        render_sql("select $filter_1 as x", filter_1=1)


# --------------------------------------------------------------------------- placeholders and values
def test_a_placeholder_without_a_value_is_refused():
    with pytest.raises(AssertionError, match=r"placeholders without a value \['month_to'\]"):
        render_sql("select 1 where $month_from <= $month_to", month_from="2025-01")


def test_a_value_without_a_placeholder_is_refused():
    with pytest.raises(AssertionError, match=r"values without a placeholder \['limit'\]"):
        render_sql("select 1 where $month = '2025-01'", month="2025-01", limit=5)


@pytest.mark.parametrize("sql", ["select 1 where 1 = ?", "select ? as a", "select 1 limit ?"])
def test_a_positional_placeholder_is_refused(sql):
    with pytest.raises(AssertionError, match="positional"):
        render_sql(sql)


def test_placeholders_in_comments_and_string_literals_are_not_placeholders():
    sql = (
        "-- the $month, passed as ?\n"
        "select '$not_a_value?' as a, 'it''s $neither' as b /* $nor ? this */, $real as c"
    )
    assert placeholders(sql) == {"real"}
    rendered, params = render_sql(sql, real=3)
    assert rendered == sql and params == {"real": 3}
    row = duckdb.connect(":memory:").execute(rendered, params).fetchone()
    assert row == ("$not_a_value?", "it's $neither", 3)


def test_a_placeholder_used_twice_is_bound_once():
    sql, params = render_sql("select $m as a, $m + 1 as b where $m > 0", m=41)
    assert params == {"m": 41}
    assert duckdb.connect(":memory:").execute(sql, params).fetchall() == [(41, 42)]


# --------------------------------------------------------------------------- running the result
def test_the_rendered_sql_runs_and_returns_the_slice(conn):
    sql, params = render_sql(SLICED, Filters(segment=("enterprise",)), alias="a", month="2025-01")
    assert conn.execute(sql, params).fetchall() == [("A",), ("D",)]  # C is not a target account


def test_non_target_accounts_and_no_filter_at_all(conn):
    sql, params = render_sql(SLICED, Filters(include_non_target=True), alias="a", month="2025-01")
    assert params == {"month": "2025-01"}
    assert conn.execute(sql, params).fetchall() == [("A",), ("B",), ("C",), ("D",)]


def test_an_attribute_filter_binds_its_name_and_values(conn):
    filters = Filters(segment=("enterprise",)).with_attributes({"plan_tier": "gold"})
    sql, params = render_sql(SLICED, filters, alias="a", month="2025-01")
    assert params == {"filter_1": ["enterprise"], "filter_2": "plan_tier", "filter_3": ["gold"], "month": "2025-01"}
    assert conn.execute(sql, params).fetchall() == [("A",)]


def test_an_empty_scope_selects_nothing(conn):
    sql, params = render_sql(SLICED, Filters(deny_all=True), alias="a", month="2025-01")
    assert params == {"month": "2025-01"}
    assert conn.execute(sql, params).fetchall() == []


def test_a_value_used_before_and_after_the_marker_lands_in_both_places(conn):
    sql, params = render_sql(
        "select account_id, arr from account_month as a "
        f"where a.month = $month and a.arr >= $min_arr and ({FILTER_MARKER}) and a.arr < $min_arr * 4 order by 1",
        Filters(segment=("enterprise",)), alias="a", month="2025-01", min_arr=40,
    )
    assert conn.execute(sql, params).fetchall() == [("A", 100.0)]


# --------------------------------------------------------------------------- every query file
QUERY_FILES = sorted(QUERIES_DIR.rglob("*.sql"))


def test_there_are_query_files():
    assert len(QUERY_FILES) > 40


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_every_query_file_has_named_placeholders_and_renders(path):
    """No positional '?' outside comments and strings, the marker at most once, and
    render accepts the file with a value for each placeholder (and filters when it
    takes a slice)."""
    text = path.read_text(encoding="utf-8")
    names = placeholders(text)  # raises on a positional '?'
    assert text.count(FILTER_MARKER) <= 1
    filters = Filters(segment=("smb",)) if FILTER_MARKER in text else None
    sql, params = render(path.stem, filters, **{n: None for n in names})
    assert placeholders(sql) == set(params) >= names


# --------------------------------------------------------------------------- no positional '?' left
SQL_DIR = QUERIES_DIR.parent
NAMED_ONLY_FILES = sorted([*QUERIES_DIR.rglob("*.sql"), *(SQL_DIR / "whatif").rglob("*.sql")])


def test_the_whatif_files_are_checked_too():
    assert any(p.parent.name == "whatif" for p in NAMED_ONLY_FILES)


@pytest.mark.parametrize("path", NAMED_ONLY_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_query_or_whatif_file_has_a_positional_placeholder(path):
    """Every value a page's query or the what-if takes is named ($name): a positional '?'
    (outside comments and string literals) would bind by order, the mistake the renderer
    exists to rule out."""
    try:
        placeholders(path.read_text(encoding="utf-8"))
    except AssertionError as err:
        pytest.fail(f"{path.relative_to(SQL_DIR)}: {err}")


def test_a_spliced_marker_is_replaced_once_and_its_placeholders_are_checked():
    sql = "select /* group_column */ segment as g from t where x = $x group by all"
    rendered, params = render_sql(sql, splice={"/* group_column */ segment": "region"}, x=1)
    assert rendered == "select region as g from t where x = $x group by all" and params == {"x": 1}
    # a spliced fragment's own placeholder must be bound, like any other
    with pytest.raises(AssertionError, match="without a value"):
        render_sql(sql, splice={"/* group_column */ segment": "$attribute"}, x=1)
    # the marker exactly once: missing or twice is a programming error
    with pytest.raises(AssertionError, match="exactly once"):
        render_sql("select 1", splice={"/* group_column */ segment": "region"})
    with pytest.raises(AssertionError, match="exactly once"):
        render_sql("select /* m */ a, /* m */ a", splice={"/* m */ a": "b"})
