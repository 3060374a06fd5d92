"""cslib.views.drivers on the tiny book (tests_support/book.py), March 2026, target accounts:
ARR 204,000 -> 216,000 (+12,000) = a1's analytics cross-sell (+1,000 MRR) + a5's upsell
(2,000 -> 3,000 MRR) - a2's contraction (5,000 -> 4,000 MRR), each x 12. Healthy ARR
108,000 -> 120,000: a1, healthy in both months, grew by 12,000."""

import duckdb
import pytest

from cslib.views import drivers
from cslib.filters import Filters
from tests_support.book import build_tiny_book


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("drivers") / "tiny.duckdb"
    build_tiny_book(path)
    c = duckdb.connect(str(path), read_only=True)
    yield c
    c.close()


def test_arr_and_healthy_arr_changes_split_by_hand(conn):
    why = drivers.month_drivers(conn, Filters(), "2026-03")
    moves = dict(zip(why.arr_moves["step"], why.arr_moves["arr"]))
    assert moves == {"cross_sell_mrr": 12_000.0, "upsell_mrr": 12_000.0, "contraction_mrr": -12_000.0}
    assert why.arr_change == 12_000.0
    steps = why.healthy_steps[["step", "arr", "accounts"]].values.tolist()
    assert steps == [["expansion", 12_000.0, 1]]
    assert (why.healthy_start, why.healthy_end, why.healthy_change) == (108_000.0, 120_000.0, 12_000.0)


def test_a_tile_change_the_movements_do_not_explain_is_its_own_row(conn):
    why = drivers.month_drivers(conn, Filters(), "2026-03", arr_delta=20_000.0)
    assert why.arr_change == 20_000.0
    slice_row = why.arr_moves[why.arr_moves["step"] == "slice"].iloc[0]
    assert slice_row[["label", "arr"]].tolist() == ["Entered or left the filters", 8_000.0]
    assert why.arr_moves["step"].tolist()[-1] == "slice"  # the smallest, listed last
    assert why.arr_moves["arr"].sum() == pytest.approx(20_000.0)
    same = drivers.month_drivers(conn, Filters(), "2026-03", arr_delta=12_000.0)
    assert "slice" not in same.arr_moves["step"].tolist()


def test_without_health_data_the_healthy_side_is_empty(conn):
    why = drivers.month_drivers(conn, Filters(), "2026-03", health_ok=False)
    assert why.healthy_steps.empty and why.healthy_change is None
