"""cslib.views.ninebox on the hand-made book of tests_support/ninebox_book.py (see its docstring
for every account's cell, score, renewal and alert), plus the chart helpers and the
``report ninebox`` command."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from cslib.store import appstore
from cslib.charts import ninebox as charts_ninebox
from cslib.store import db
from cslib.views import metrics, ninebox
from cslib.errors import UserError
from cslib.filters import Filters
from ui import ninebox_grid
from tests_support.ninebox_book import (
    FEBRUARY_GRID,
    MARCH_GRID,
    SCRIPT_NAME,
    TOTALS,
    UNSCORED,
    build_ninebox_book,
)

REPO = Path(__file__).resolve().parents[2]
IMPORT_OK = REPO / "tests" / "fixtures" / "import_ok"


@pytest.fixture(scope="module")
def book_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ninebox") / "book.duckdb"
    build_ninebox_book(path)
    return path


@pytest.fixture(scope="module")
def conn(book_path):
    c = db.connect(book_path)
    yield c
    c.close()


def _cells(frame: pd.DataFrame) -> dict[str, tuple[int, float]]:
    return {c: (int(n), float(a)) for c, n, a in zip(frame["cell_id"], frame["accounts"], frame["arr"])}


# --------------------------------------------------------------------------- grid
def test_march_grid_matches_the_hand_computed_cells(conn):
    summary = ninebox.grid_summary(conn, Filters(), "2026-03")
    grid = summary["grid"]
    assert list(grid.columns) == list(ninebox.GRID_COLUMNS)
    assert list(grid["cell_id"]) == list(ninebox.CELL_IDS)
    assert _cells(grid) == MARCH_GRID
    prev = {c: (int(n), float(a)) for c, n, a in zip(grid["cell_id"], grid["prev_accounts"], grid["prev_arr"])}
    assert prev == FEBRUARY_GRID
    row = grid.set_index("cell_id").loc["high|healthy"]
    assert row["delta_accounts"] == 0  # n2 left, n4 entered
    assert row["delta_arr"] == -12_000  # 180,000 - 192,000
    assert row["arr_share"] == pytest.approx(180_000 / 375_600)
    assert row["accounts_share"] == pytest.approx(2 / 9)
    assert grid.set_index("cell_id").loc["low|unhealthy", "delta_accounts"] == -1  # n6 churned
    unscored = summary["unscored"].iloc[0]
    assert (int(unscored["accounts"]), float(unscored["arr"])) == UNSCORED["2026-03"]
    assert unscored["arr_share"] == pytest.approx(36_000 / 375_600)


@pytest.mark.parametrize("month", ["2026-02", "2026-03"])
def test_nine_cells_plus_unscored_sum_to_the_filtered_total(conn, month):
    summary = ninebox.grid_summary(conn, Filters(), month)
    grid, unscored, total = summary["grid"], summary["unscored"].iloc[0], summary["total"].iloc[0]
    assert (int(total["accounts"]), float(total["arr"])) == TOTALS[month]
    assert grid["accounts"].sum() + unscored["accounts"] == total["accounts"]
    assert grid["arr"].sum() + unscored["arr"] == pytest.approx(total["arr"])
    assert grid["arr_share"].sum() + unscored["arr_share"] == pytest.approx(1.0)
    assert grid["accounts_share"].sum() + unscored["accounts_share"] == pytest.approx(1.0)
    # the same total as the Overview's ARR and active accounts (cslib.views.metrics)
    kpis = metrics.kpi_series(conn, Filters(), end_month=month, n_months=1).iloc[-1]
    assert total["arr"] == pytest.approx(kpis["arr"])
    assert total["accounts"] == kpis["active_accounts"]
    # the healthy row's share is the health rate
    healthy_share = grid.loc[grid["health_tier"] == "healthy", "arr_share"].sum()
    assert healthy_share == pytest.approx(kpis["health_rate"])


def test_february_grid(conn):
    grid = ninebox.grid(conn, Filters(), "2026-02")
    assert len(grid) == 9
    assert _cells(grid) == FEBRUARY_GRID


def test_first_month_of_the_data_has_no_previous_month(conn):
    grid = ninebox.grid(conn, Filters(), "2025-12")
    assert _cells(grid)["high|healthy"] == (1, 120_000.0)  # only n1 had revenue in December
    assert sum(n for n, _ in _cells(grid).values()) == 1
    assert grid["prev_accounts"].isna().all()
    assert grid["delta_arr"].isna().all()


@pytest.mark.parametrize(
    "filters, expected",
    [
        # CSM team Growth: n3 (mid|unhealthy), n4 (high|healthy), n5 (low|at_risk); n8 unscored
        (Filters(csm_team=("Growth",)), {"high|healthy": (1, 60_000.0), "mid|unhealthy": (1, 24_000.0),
                                         "low|at_risk": (1, 12_000.0)}),
        # smb: n5 and n11 (n6 churned)
        (Filters(segment=("smb",)), {"low|at_risk": (1, 12_000.0), "low|unhealthy": (1, 9_600.0)}),
        # non-target n10 joins high|healthy
        (Filters(include_non_target=True), {**MARCH_GRID, "high|healthy": (3, 276_000.0)}),
    ],
)
def test_grid_follows_the_filters(conn, filters, expected):
    grid = ninebox.grid(conn, filters, "2026-03")
    full = {c: expected.get(c, (0, 0.0)) for c in ninebox.CELL_IDS}
    assert _cells(grid) == full


def test_the_two_teams_add_up_to_the_whole_book(conn):
    whole = ninebox.grid_summary(conn, Filters(), "2026-03")
    parts = [ninebox.grid_summary(conn, Filters(csm_team=(t,)), "2026-03") for t in ("Enterprise", "Growth")]
    for key in ("grid", "unscored"):
        assert (parts[0][key]["arr"] + parts[1][key]["arr"]).tolist() == whole[key]["arr"].tolist()
        assert (parts[0][key]["accounts"] + parts[1][key]["accounts"]).tolist() == whole[key]["accounts"].tolist()


def test_an_empty_slice_gives_nine_zero_cells_and_no_shares(conn):
    summary = ninebox.grid_summary(conn, Filters(csm=("Nobody",)), "2026-03")
    assert len(summary["grid"]) == 9
    assert summary["grid"]["accounts"].sum() == 0
    assert summary["grid"]["arr_share"].isna().all()
    assert int(summary["total"]["accounts"].iloc[0]) == 0


@pytest.mark.parametrize("month", ["2026-13", "2026-3", "2027-01", None, "2025-11"])
def test_a_bad_month_is_a_user_error(conn, month):
    with pytest.raises(UserError):
        ninebox.grid(conn, Filters(), month)


# --------------------------------------------------------------------------- drill-down
def test_cell_accounts_of_high_healthy(conn):
    df = ninebox.cell_accounts(conn, Filters(), "2026-03", "healthy", "high").set_index("account_id")
    assert list(df.index) == ["n1", "n4"]  # largest ARR first
    n1, n4 = df.loc["n1"], df.loc["n4"]
    assert (n1["name"], n1["csm"], n1["csm_team"], n1["arr"], n1["health_score"]) == (
        "Acme Works", "Ana Lima", "Enterprise", 120_000.0, 96.0)
    assert n1["score_trend"] == [96.0, 96.0, 96.0, 96.0]
    assert n1["score_change_4w"] == 0
    assert (n1["weakest_indicator"], n1["weakest_gap_points"]) == ("modules", 4.0)  # 30 - 26
    assert str(n1["next_renewal_on"]) == "2027-02-10"  # the 2026-02-10 renewal is before March
    assert n1["next_renewal_outcome"] == "pending"
    assert n1["open_alerts"] == 1  # al4
    assert (n4["weakest_indicator"], n4["weakest_indicator_label"], n4["weakest_gap_points"]) == (
        "login_rate", "Login rate", 20.0)
    assert pd.isna(n4["next_renewal_on"])
    assert n4["open_alerts"] == 0  # al5 (week of 2026-03-02) is outside the 4 weeks before 2026-03-31


def test_cell_accounts_trend_weakest_renewal_and_alerts_of_a_falling_account(conn):
    df = ninebox.cell_accounts(conn, Filters(), "2026-03", "at_risk", "high")
    assert df["account_id"].tolist() == ["n2"]
    n2 = df.iloc[0]
    assert n2["score_trend"] == [96.0, 71.6, 53.3, 41.1]
    assert n2["score_change_4w"] == pytest.approx(-54.9)
    # window points (9*A + 1*H)/10: modules 11.6 of 30 -> 18.4 short, bi 1.5 of 15 -> 13.5
    assert n2["weakest_indicator"] == "modules"
    assert n2["weakest_gap_points"] == pytest.approx(18.4)
    assert (str(n2["next_renewal_on"]), n2["next_renewal_arr"], n2["next_renewal_outcome"]) == (
        "2026-04-15", 72_000.0, "pending")
    assert n2["open_alerts"] == 2  # al1, al2 (al3 is in February)
    closed = ninebox.cell_accounts(conn, Filters(), "2026-03", "at_risk", "high", closed_alert_ids=("al2",))
    assert closed.iloc[0]["open_alerts"] == 1
    february = ninebox.cell_accounts(conn, Filters(), "2026-02", "healthy", "high").set_index("account_id")
    assert february.loc["n2", "open_alerts"] == 1  # al3
    assert str(february.loc["n1", "next_renewal_on"]) == "2026-02-10"


def test_a_renewal_due_after_the_month_is_the_next_renewal(conn):
    # (an overdue renewal as the next one: tests/sql/test_overdue_book.py)
    df = ninebox.cell_accounts(conn, Filters(), "2026-03", "at_risk", "low")
    assert df["account_id"].tolist() == ["n5"]
    assert (str(df.iloc[0]["next_renewal_on"]), df.iloc[0]["next_renewal_outcome"]) == ("2026-04-20", "pending")
    assert not df["is_overdue"].any()


def test_the_page_model_is_ordered_by_month_and_holds_every_account_month(conn):
    model = db.query(conn, "select month from ninebox_account_month")
    assert model["month"].tolist() == sorted(model["month"])
    counts = db.query(conn, "select (select count(*) from account_month) as mart, "
                            "(select count(*) from ninebox_account_month) as model")
    assert counts.iloc[0]["mart"] == counts.iloc[0]["model"]


def test_limit_keeps_the_largest_accounts(conn):
    df = ninebox.cell_accounts(conn, Filters(include_non_target=True), "2026-03", "healthy", "high", limit=2)
    assert df["account_id"].tolist() == ["n1", "n10"]  # 120,000 and 96,000; n4 (60,000) left out
    assert df["open_alerts"].tolist() == [1, 0]
    with pytest.raises(UserError):
        ninebox.cell_accounts(conn, Filters(), "2026-03", "healthy", "high", limit=-1)


def test_unscored_accounts_can_be_listed(conn):
    df = ninebox.cell_accounts(conn, Filters(), "2026-03", "unscored", "mid")
    assert df["account_id"].tolist() == ["n8"]
    assert df.iloc[0]["score_trend"] == []
    assert pd.isna(df.iloc[0]["weakest_indicator"])


@pytest.mark.parametrize(
    "search, expected",
    [("", ["n1", "n4"]), ("ACME", ["n1"]), ("okafor", ["n4"]), ("n4", ["n4"]), ("%", []), ("zzz", [])],
)
def test_search_by_name_csm_or_id(conn, search, expected):
    df = ninebox.cell_accounts(conn, Filters(), "2026-03", "healthy", "high", search=search)
    assert df["account_id"].tolist() == expected


def test_cell_accounts_rejects_unknown_tiers(conn):
    with pytest.raises(UserError):
        ninebox.cell_accounts(conn, Filters(), "2026-03", "great", "high")
    with pytest.raises(UserError):
        ninebox.cell_accounts(conn, Filters(), "2026-03", "healthy", "huge")


def test_accounts_csv_keeps_names_and_flattens_the_trend(conn):
    df = ninebox.cell_accounts(conn, Filters(), "2026-03", "unhealthy", "low")
    text = ninebox.accounts_csv(df).decode("utf-8")
    back = pd.read_csv(io.StringIO(text))
    assert back["name"].tolist() == [SCRIPT_NAME]
    assert back["score_trend"].tolist() == ["1.0 1.0 1.0 1.0"]


# --------------------------------------------------------------------------- movement
def _moves(result, key, state_column):
    frame = result[key]
    return {s: (int(n), float(a)) for s, n, a in zip(frame[state_column], frame["accounts"], frame["arr"])}


def test_movement_of_high_healthy(conn):
    moves = ninebox.cell_movement(conn, Filters(), "2026-03", "healthy", "high")
    assert _moves(moves, "entered", "from_state") == {"mid|healthy": (1, 60_000.0)}  # n4, this month's ARR
    assert _moves(moves, "left", "to_state") == {"high|at_risk": (1, 72_000.0)}  # n2
    stayed = moves["stayed"].iloc[0]
    assert (stayed["accounts"], stayed["arr"], stayed["arr_change"]) == (1, 120_000.0, 0.0)  # n1
    assert moves["accounts"][["account_id", "direction"]].values.tolist() == [["n4", "entered"], ["n2", "left"]]
    assert moves["entered"]["label"].tolist() == ["Mid value · Healthy"]


@pytest.mark.parametrize(
    "cell, entered, left",
    [
        ("mid|healthy", {"new": (1, 18_000.0)}, {"high|healthy": (1, 48_000.0)}),  # n7 new; n4 upsold
        ("mid|at_risk", {"reactivated": (1, 24_000.0)}, {}),  # n9
        ("low|unhealthy", {}, {"churned": (1, 6_000.0)}),  # n6
        ("high|at_risk", {"high|healthy": (1, 72_000.0)}, {}),  # n2
    ],
)
def test_movement_sources_and_destinations(conn, cell, entered, left):
    value_tier, health_tier = ninebox.split_cell(cell)
    moves = ninebox.cell_movement(conn, Filters(), "2026-03", health_tier, value_tier)
    assert _moves(moves, "entered", "from_state") == entered
    assert _moves(moves, "left", "to_state") == left


@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters(lifecycle_stage=("onboarding",)), Filters(csm_team=("Growth",)), Filters(include_non_target=True)],
)
def test_movement_reconciles_with_the_grid_delta(conn, filters):
    grid = ninebox.grid(conn, filters, "2026-03").set_index("cell_id")
    for cell in ninebox.CELL_IDS:
        value_tier, health_tier = ninebox.split_cell(cell)
        moves = ninebox.cell_movement(conn, filters, "2026-03", health_tier, value_tier)
        entered, left, stayed = moves["entered"], moves["left"], moves["stayed"].iloc[0]
        assert entered["accounts"].sum() - left["accounts"].sum() == grid.loc[cell, "delta_accounts"], cell
        assert entered["arr"].sum() - left["arr"].sum() + stayed["arr_change"] == pytest.approx(
            grid.loc[cell, "delta_arr"]), cell
        assert stayed["accounts"] + left["accounts"].sum() == grid.loc[cell, "prev_accounts"], cell


def test_leaving_the_filtered_slice_is_its_own_destination(conn):
    # n1 turns four months old in March: lifecycle stage onboarding -> adoption
    moves = ninebox.cell_movement(conn, Filters(lifecycle_stage=("onboarding",)), "2026-03", "healthy", "high")
    assert _moves(moves, "left", "to_state") == {"outside_slice": (1, 120_000.0), "high|at_risk": (1, 72_000.0)}
    assert "Outside the filters" in moves["left"]["label"].tolist()


# --------------------------------------------------------------------------- compare books
def test_books_per_team_add_up_to_the_grid(conn):
    long = ninebox.books(conn, Filters(), "2026-03", by="csm_team")
    assert sorted(long["owner"].unique()) == ["Enterprise", "Growth"]
    assert len(long) == 24
    totals = long.groupby("owner")[["owner_accounts", "owner_arr"]].first()
    assert totals.loc["Enterprise"].tolist() == [5, 243_600.0]  # n1 n2 n7 n9 n11
    assert totals.loc["Growth"].tolist() == [4, 132_000.0]  # n3 n4 n5 n8
    grid = ninebox.grid(conn, Filters(), "2026-03").set_index("cell_id")
    scored = long[long["cell_id"] != "unscored"].groupby("cell_id")["arr"].sum()
    assert scored.reindex(grid.index).tolist() == grid["arr"].tolist()
    table = ninebox.books_table(long, "arr").set_index("owner")
    assert list(table.index) == ["Enterprise", "Growth"]  # larger book first
    share_columns = [*ninebox.CELL_IDS, "unscored"]
    assert table[share_columns].sum(axis=1).tolist() == pytest.approx([1.0, 1.0])
    assert table.loc["Growth", "unscored"] == pytest.approx(36_000 / 132_000)
    by_count = ninebox.books_table(long, "accounts").set_index("owner")
    assert by_count.loc["Growth", "high|healthy"] == pytest.approx(1 / 4)


def test_books_by_csm_and_bad_owner(conn):
    long = ninebox.books(conn, Filters(), "2026-03", by="csm")
    assert sorted(long["owner"].unique()) == ["Ana Lima", "Ben Okafor", "Chen Wei"]
    with pytest.raises(UserError):
        ninebox.books(conn, Filters(), "2026-03", by="region; drop table x")


# --------------------------------------------------------------------------- playbooks
def test_defaults_cover_all_nine_cells():
    defaults = ninebox.default_playbooks()
    assert defaults["cell_id"].tolist() == list(ninebox.CELL_IDS)
    assert defaults["title"].str.len().min() > 0
    assert "sponsor call within" in defaults.set_index("cell_id").loc["high|unhealthy", "title"]
    assert all("\n" not in body.strip("\n").split("\n\n")[0] for body in defaults["body"])  # unwrapped


@pytest.mark.parametrize(
    "text, message",
    [
        ('["high|healthy"]\ntitle = "x"\nbody = "y"\n', "missing cell 'mid|healthy'"),
        ('["huge|healthy"]\ntitle = "x"\nbody = "y"\n', "unknown cell 'huge|healthy'"),
        ("[[[", "invalid TOML"),
    ],
)
def test_a_bad_playbook_file_is_a_user_error(tmp_path, text, message):
    path = tmp_path / "playbooks.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=message.replace("|", r"\|")):
        ninebox.default_playbooks(path)


def test_an_edit_is_merged_with_who_and_when(tmp_path):
    store = appstore.AppStore(tmp_path / "app.sqlite")
    before = ninebox.playbooks(store)
    assert (before["source"] == "default").all() and before["updated_by"].isna().all()
    ninebox.save_playbook(store, "low|unhealthy", "Call once.\n<b>then</b> let go", "dana@example.com")
    after = ninebox.playbooks(appstore.AppStore(tmp_path / "app.sqlite")).set_index("cell_id")  # a new store object
    row = after.loc["low|unhealthy"]
    assert (row["source"], row["body"], row["updated_by"]) == ("edited", "Call once.\n<b>then</b> let go", "dana@example.com")
    assert row["updated_at"].startswith("20")
    assert (after.drop(index="low|unhealthy")["source"] == "default").all()
    ninebox.save_playbook(store, "low|unhealthy", "Second", "")
    assert ninebox.playbooks(store).set_index("cell_id").loc["low|unhealthy", "updated_by"] == "anonymous"


@pytest.mark.parametrize("cell, body", [("high|great", "x"), ("unscored", "x"), ("high|healthy", "   ")])
def test_bad_playbook_edits_are_user_errors(tmp_path, cell, body):
    with pytest.raises(UserError):
        ninebox.save_playbook(appstore.AppStore(tmp_path / "app.sqlite"), cell, body, "x")


def test_an_edited_playbook_survives_a_reimport(tmp_path, monkeypatch):
    from cslib.store.importer import import_dir

    monkeypatch.delenv("HEALTHGRID_APP_DB", raising=False)
    db_path = tmp_path / "data.duckdb"
    import_dir(IMPORT_OK, db_path)
    store_path = appstore.default_path(db_path)
    ninebox.save_playbook(appstore.AppStore(store_path), "high|unhealthy", "Fly out tomorrow.", "lee")
    before = os.stat(db_path).st_ino
    import_dir(IMPORT_OK, db_path)  # a re-import replaces the database file
    assert os.stat(db_path).st_ino != before
    row = ninebox.playbooks(appstore.AppStore(appstore.default_path(db_path))).set_index("cell_id").loc["high|unhealthy"]
    assert (row["body"], row["updated_by"], row["source"]) == ("Fly out tomorrow.", "lee", "edited")


def test_closed_alert_ids_come_from_the_store(tmp_path):
    store = appstore.AppStore(tmp_path / "app.sqlite")
    store.set_alert_status("al2", "closed", "x")
    store.set_alert_status("al1", "acknowledged", "x")
    assert ninebox.closed_alert_ids(store) == ("al2",)


# --------------------------------------------------------------------------- chart helpers
@pytest.mark.parametrize(
    "selection, expected",
    [
        ({"cell": [{"health_tier": "unhealthy", "value_tier": "high"}]}, "high|unhealthy"),
        ({"cell": {}}, None),  # nothing selected
        ({"cell": []}, None),
        (None, None),
        ({}, None),
        ({"cell": [{"health_tier": "unhealthy", "value_tier": "high"}, {"health_tier": "healthy", "value_tier": "low"}]}, None),
        ({"cell": [{"health_tier": "unscored", "value_tier": "high"}]}, None),  # not a grid cell
        ({"cell": [{"value_tier": "high"}]}, None),  # stale selection from an older chart
        ({"cell": ["high|unhealthy"]}, None),
        ("garbage", None),
    ],
)
def test_selected_cell_from_the_chart_state(selection, expected):
    assert ninebox_grid.selected_cell(selection) == expected


def test_grid_chart_labels_and_selection(conn):
    grid = ninebox.grid(conn, Filters(), "2026-03")
    frame = charts_ninebox.grid_frame(grid, "arr", "Feb 2026", selected_cell="high|healthy").set_index("cell_id")
    cell = frame.loc["high|healthy"]
    assert (cell["primary"], cell["secondary"], cell["delta_line"]) == (
        "$180K", "47.9% of ARR · 2 accounts", "-$12.0K vs Feb 2026")
    assert bool(cell["is_selected"]) and frame["is_selected"].sum() == 1
    counts = charts_ninebox.grid_frame(grid, "accounts", "Feb 2026").set_index("cell_id")
    assert (counts.loc["high|at_risk", "primary"], counts.loc["high|at_risk", "delta_line"]) == (
        "1 account", "+1 vs Feb 2026")
    assert counts.loc["high|healthy", "delta_line"] == "±0 vs Feb 2026"
    spec = charts_ninebox.grid_chart(grid, "arr", "Feb 2026").to_dict(validate=True)  # a valid Vega-Lite spec
    params = spec.get("params", []) + [p for layer in spec["layer"] for p in layer.get("params", [])]
    assert [(p["name"], p["select"]["fields"]) for p in params] == [("cell", ["health_tier", "value_tier"])]
    assert params[0]["views"] == [spec["layer"][0]["name"]]  # on the cells, not on the labels
    # a meaning per cell, not a number: nine distinct fixed colours
    assert len(set(charts_ninebox.CELL_COLORS.values())) == 9
    assert charts_ninebox.books_chart(ninebox.books(conn, Filters(), "2026-03")).to_dict(validate=True)["facet"]


# --------------------------------------------------------------------------- report
def _report(book_path, *args) -> subprocess.CompletedProcess:
    """The CLI in this process (tests_support.cli: same status, stdout and stderr)."""
    from tests_support.cli import run_cli

    env = {k: v for k, v in os.environ.items() if k != "HEALTHGRID_INCLUDE_NON_TARGET"}
    return run_cli("report", "ninebox", "--db", str(book_path), *args, env=env, cwd=REPO)


def test_report_json_prints_the_hand_computed_grid(book_path):
    out = _report(book_path, "--month", "2026-03", "--format", "json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["report"] == "ninebox" and payload["month"] == "2026-03"
    rows = {r["cell_id"]: r for r in payload["grid"]}
    assert {c: (r["accounts"], r["arr"]) for c, r in rows.items()} == MARCH_GRID
    assert rows["high|healthy"]["delta_arr"] == -12_000
    assert rows["high|healthy"]["arr_share"] == round(180_000 / 375_600, 6)
    assert [(r["accounts"], r["arr"]) for r in payload["unscored"]] == [UNSCORED["2026-03"]]


def test_report_csv_with_filters_and_bad_month(book_path):
    out = _report(book_path, "--month", "2026-03", "--csm-team", "Growth", "--format", "csv")
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(io.StringIO(out.stdout))
    assert frame.columns[0] == "table" and set(frame["table"]) == {"grid", "unscored"}
    grid = frame[frame["table"] == "grid"].set_index("cell_id")
    assert grid.loc["high|healthy", "arr"] == 60_000 and grid["accounts"].sum() == 3
    assert frame.loc[frame["table"] == "unscored", "arr"].tolist() == [36_000]
    bad = _report(book_path, "--month", "2031-01")
    assert bad.returncode == 2 and bad.stderr.startswith("error: month 2031-01 is not in the data")
    latest = json.loads(_report(book_path).stdout)
    assert latest["month"] == "2026-03"
    assert not math.isnan(latest["grid"][0]["arr"])
