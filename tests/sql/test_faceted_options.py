"""cslib.filters.faceted_options on the tiny book: each dimension's values within the other
choices (tests_support/book.py: Enterprise = Ana Lima's a1; Growth = Ben Okafor's a2, a3 and
Chen Wei's a4, a5)."""

import duckdb
import pytest

from cslib.filters import Filters, faceted_options, filter_options
from tests_support.book import build_tiny_book


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("facets") / "tiny.duckdb"
    build_tiny_book(path)
    c = duckdb.connect(str(path), read_only=True)
    yield c
    c.close()


def test_nothing_chosen_gives_every_value(conn):
    assert faceted_options(conn, Filters()) == filter_options(conn)


def test_each_dimension_is_narrowed_by_the_others_only(conn):
    opts = faceted_options(conn, Filters(csm_team=("Growth",)))
    assert opts["csm"] == ["Ben Okafor", "Chen Wei"]
    assert opts["csm_team"] == ["Enterprise", "Growth"]  # not by its own choice
    assert opts["segment"] == ["mid_market", "smb"]
    opts = faceted_options(conn, Filters(csm_team=("Growth",), segment=("smb",)))
    assert opts["csm"] == ["Ben Okafor", "Chen Wei"]  # a3 (Ben) and a4 (Chen, non-target: still listed)
    assert opts["region"] == ["apac", "emea"]
    assert opts["segment"] == ["mid_market", "smb"]


def test_the_scope_bounds_every_list(conn):
    within = Filters(include_non_target=True, csm=("Ben Okafor",))
    opts = faceted_options(conn, Filters(), within)
    assert (opts["csm"], opts["csm_team"], opts["segment"]) == (["Ben Okafor"], ["Growth"], ["mid_market", "smb"])
    assert faceted_options(conn, Filters(), Filters(deny_all=True))["csm"] == []
