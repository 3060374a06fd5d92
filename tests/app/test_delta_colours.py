"""Colours that carry meaning on the pages (issue 16, point 3), through AppTest on the
hand-made nine-box book (tests_support/ninebox_book.py): March 2026 against February.

Each tile's colour is read from the element Streamlit sends (MetricProto.color and
direction): a good change green, a bad one red, a change that rounds to zero grey with
no arrow; which is which follows the measure's declaration (cslib.deltas).
"""

from __future__ import annotations

import json

import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto

from cslib import deltas
from cslib.views import flows, revenue
from cslib.views.metrics import METRICS
from tests_support.ninebox_book import build_ninebox_book

GREEN = MetricProto.MetricColor.GREEN
RED = MetricProto.MetricColor.RED
GRAY = MetricProto.MetricColor.GRAY
UP, DOWN, NONE = (MetricProto.MetricDirection.UP, MetricProto.MetricDirection.DOWN,
                  MetricProto.MetricDirection.NONE)


@pytest.fixture(scope="module")
def book_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("delta_colours") / "book.duckdb"
    build_ninebox_book(path)
    return path


@pytest.fixture
def open_page(app_on, monkeypatch, tmp_path):
    def make(db_path, page):
        monkeypatch.setenv("HEALTHGRID_APP_DB", str(tmp_path / "app.sqlite"))
        at = app_on(db_path)
        at.switch_page(page).run()
        assert not at.exception or page == "pages/flows.py", [e.value for e in at.exception]
        return at

    return make


def _tiles(at) -> dict[str, tuple[str, int, int]]:
    return {m.label: (m.delta, m.proto.color, m.proto.direction) for m in at.metric}


def _expected(delta: str, up_is_good: bool | None) -> tuple[int, int]:
    """What the declaration says the tile must look like."""
    if deltas.rounds_to_zero(delta):
        return GRAY, NONE
    direction = DOWN if delta.startswith("-") else UP
    if up_is_good is None:
        return GRAY, direction
    return (GREEN if (direction == UP) == up_is_good else RED), direction


def _check_all(tiles, declared: dict[str, bool | None]) -> int:
    checked = 0
    for label, up_is_good in declared.items():
        delta, color, direction = tiles[label]
        if delta:
            assert (color, direction) == _expected(delta, up_is_good), (label, delta)
            checked += 1
    return checked


def test_overview_tiles(book_db, open_page):
    tiles = _tiles(open_page(book_db, "pages/overview.py"))
    assert tiles["ARR"] == ("+$48.0K", GREEN, UP)              # up is good, went up
    assert tiles["Health rate"] == ("-20.5 pp", RED, DOWN)     # up is good, went down
    assert tiles["Renewal rate (ARR)"] == ("0.0 pp", GRAY, NONE)  # zero: neutral, no arrow
    declared = {m.label: m.up_is_good for m in METRICS.values()}
    assert _check_all(tiles, {k: v for k, v in declared.items() if k in tiles}) == 8


def test_negative_churn_rates_fall_green(book_db, open_page):
    tiles = _tiles(open_page(book_db, "pages/negative_churn.py"))
    assert tiles["Net MRR churn rate"] == ("-16.0 pp", GREEN, DOWN)   # up is bad, went down
    assert tiles["Gross MRR churn rate"] == ("-5.0 pp", GREEN, DOWN)
    assert tiles["NRR"] == ("+8.7 pp", GREEN, UP)
    declared = {revenue.RATE_METRICS[n].label: revenue.RATE_METRICS[n].up_is_good
                for n in revenue.TILES if n in revenue.RATE_METRICS}
    assert _check_all(tiles, declared) >= 5


def test_health_flows_unhealthy_arr_falling_is_green(book_db, open_page):
    tiles = _tiles(open_page(book_db, "pages/flows.py"))
    assert tiles["Unhealthy ARR"] == ("-$6.0K", GREEN, DOWN)   # less unhealthy ARR: good
    assert tiles["Healthy ARR"] == ("-$42.0K", RED, DOWN)
    declared = {label: flows.TILE_UP_IS_GOOD[name] for name, label, *_ in flows.TILE_SPECS}
    assert _check_all(tiles, declared) == 4


def test_ninebox_movement_of_a_good_cell(book_db, open_page):
    at = open_page(book_db, "pages/ninebox.py")
    at.selectbox(key="ninebox_cell").set_value("high|healthy").run()
    tiles = _tiles(at)
    assert tiles["Accounts entered"] == ("+$60.0K", GREEN, UP)  # n4 grew into high value
    assert tiles["Accounts left"] == ("-$72.0K", RED, DOWN)     # n2 fell to at risk
    assert tiles["Accounts stayed"] == ("$0", GRAY, NONE)        # n1: no ARR change
    assert tiles["Accounts"] == ("0", GRAY, NONE)
    assert tiles["ARR"] == ("-$12.0K", RED, DOWN)


def test_ninebox_movement_of_a_bad_cell(book_db, open_page):
    at = open_page(book_db, "pages/ninebox.py")
    at.selectbox(key="ninebox_cell").set_value("low|unhealthy").run()
    tiles = _tiles(at)
    assert tiles["Accounts left"] == ("-$6.0K", GREEN, DOWN)    # n6 churned out of a bad cell
    assert tiles["Accounts"] == ("-1", GREEN, DOWN)
    assert tiles["ARR"] == ("-$6.0K", GREEN, DOWN)
    assert tiles["Accounts entered"][0] == ""                   # nobody entered: no delta


def test_ninebox_compare_books_bars_use_tier_colours(book_db, open_page):
    at = open_page(book_db, "pages/ninebox.py")
    config = next(json.loads(df.proto.columns) for df in at.dataframe if '"owner"' in df.proto.columns)
    colors = {column: spec.get("type_config", {}).get("color") for column, spec in config.items()
              if spec.get("type_config", {}).get("type") == "progress"}
    assert colors["high|healthy"] == "#2e9e5b"
    assert colors["high|at_risk"] == "#f2a93b"
    assert colors["high|unhealthy"] == "#d64541"
    assert colors["unscored"] == "#9aa0a6"
