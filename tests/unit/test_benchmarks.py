"""Published benchmarks beside our NRR/GRR per ACV band (issue 17, point 2).

Hand-made book (tests_support.book, the tiny book), period 2026-02..2026-03, base month
2026-01 (target accounts paying then; ACV = ARR in January = MRR x 12):

=====  ============  =========  ===========  ===============  ===============
id     Jan MRR       ACV        SaaS Capital Bessemer         Mar MRR
=====  ============  =========  ===========  ===============  ===============
a1     9,000         108,000    $100K-250K   enterprise       10,000
a2     5,000          60,000    $50K-100K    enterprise        4,000
a3     1,000          12,000    $12K-25K *   mid-market *      1,000
a4     2,000 (non-target: only with --include-non-target)      2,000
a5     - (starts in February: not in the base)
=====  ============  =========  ===========  ===============  ===============
(* exactly on the $12K edge: a band holds its lower edge.)

NRR = end / start MRR, GRR = sum(min(max(end, 0), start)) / start (revenue_period_retention.sql):
$100K-250K: NRR 10000/9000 = 1.1111, GRR 1.0; $50K-100K: 4000/5000 = 0.8 both;
$12K-25K: 1.0 both; enterprise: NRR 14000/14000 = 1.0, GRR 13000/14000 = 0.928571.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pandas as pd
import pytest

from cslib.views import benchmarks as bm
from cslib.rules import benchmark_figures as figures
from cslib.store.db import open_checked
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.views.revenue import period_retention
from tests_support.book import build_tiny_book

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "cslib" / "config" / "benchmarks.toml"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "tiny.duckdb"
    build_tiny_book(path)
    return path


@pytest.fixture()
def conn(tiny):
    c = open_checked(tiny)
    yield c
    c.close()


# --------------------------------------------------------------------------- the file
def test_shipped_file_cites_a_source_address_and_year_for_every_figure():
    loaded = figures.load_benchmarks(SHIPPED)
    assert len(loaded.figures) == 18  # 6 SaaS Capital bands x 2 + 3 Bessemer segments x 2
    for figure in loaded.figures:
        source = loaded.sources[figure.source]
        assert source.url.startswith("https://")
        assert source.publisher and source.title
        assert 2015 <= figure.year <= 2026 and figure.year == source.year
    edges = [(b.min_acv, b.max_acv) for b in loaded.band_sets[0].bands]
    assert edges == [(0, 12_000), (12_000, 25_000), (25_000, 50_000), (50_000, 100_000),
                     (100_000, 250_000), (250_000, math.inf)]
    assert loaded.figure("saas_capital_acv", "12k_25k", "nrr").median == 1.02
    assert loaded.figure("bessemer_segment", "smb", "grr").low == 0.70


def test_band_edges_belong_to_the_upper_band():
    sets = {s.id: s for s in figures.load_benchmarks(SHIPPED).band_sets}
    saas = sets["saas_capital_acv"]
    assert saas.band_of(0).id == "lt_12k"
    assert saas.band_of(11_999.99).id == "lt_12k"
    assert saas.band_of(12_000).id == "12k_25k"
    assert saas.band_of(24_999.99).id == "12k_25k"
    assert saas.band_of(25_000).id == "25k_50k"
    assert saas.band_of(100_000).id == "100k_250k"
    assert saas.band_of(250_000).id == "gt_250k"
    assert saas.band_of(5_000_000).id == "gt_250k"
    assert sets["bessemer_segment"].band_of(50_000).id == "enterprise"
    assert sets["bessemer_segment"].band_of(49_999).id == "mid_market"


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return path


_GOOD = """
[sources.plan]
publisher = "Our board"
title = "2027 retention targets"
url = "https://intranet.example.com/plan-2027"
year = 2026

[[band_sets]]
id = "ours"
label = "Our tiers"

[[band_sets.bands]]
id = "small"
label = "Under $50K"
min_acv = 0
max_acv = 50000

[[band_sets.bands]]
id = "large"
label = "$50K and more"
min_acv = 50000

[[figures]]
band_set = "ours"
band = "large"
metric = "nrr"
low = 1.05
source = "plan"
year = 2026
"""


def test_a_figure_without_source_or_year_is_refused(tmp_path):
    no_source = _write(tmp_path, _GOOD.replace('source = "plan"\n', ""))
    with pytest.raises(UserError) as err:
        figures.load_benchmarks(no_source)
    assert str(err.value) == f"{no_source}: figure 1: missing 'source' (every figure names where it was published)"
    no_year = _write(tmp_path, _GOOD.replace('source = "plan"\nyear = 2026\n', 'source = "plan"\n'))
    with pytest.raises(UserError) as err:
        figures.load_benchmarks(no_year)
    assert str(err.value) == f"{no_year}: figure 1: missing 'year'"


@pytest.mark.parametrize("change,message", [
    (('url = "https://intranet.example.com/plan-2027"\n', ""), "source 'plan': missing or empty 'url'"),
    (("min_acv = 50000", "min_acv = 60000"), "band set 'ours', band 2 (large): min_acv 60000 must equal the "
                                              "previous band's max_acv 50000 (no gaps, no overlaps)"),
    (("low = 1.05", "low = 1.05\nmedian = 1.1"), "figure 1: give either a median or a range (low/high), not both"),
    (('metric = "nrr"', 'metric = "logo"'), "figure 1: metric must be one of nrr, grr, got 'logo'"),
    (('band = "large"', 'band = "huge"'), "figure 1: band 'huge' is not a band of 'ours'"),
    (("low = 1.05", "lowest = 1.05"), "figure 1: unknown key 'lowest' (expected band_set, band, metric, median, "
                                      "low, high, source, year)"),
    (("low = 1.05", "low = 105"), "figure 1: 'low' must be a fraction between 0 and 5 (1.02 = 102%), got 105"),
])
def test_a_bad_file_is_one_line_naming_the_entry(tmp_path, change, message):
    path = _write(tmp_path, _GOOD.replace(*change))
    with pytest.raises(UserError) as err:
        figures.load_benchmarks(path)
    assert str(err.value) == f"{path}: {message}"


def test_missing_and_broken_files_are_one_line(tmp_path):
    with pytest.raises(UserError, match="benchmark file not found"):
        figures.load_benchmarks(tmp_path / "nope.toml")
    with pytest.raises(UserError, match="invalid TOML"):
        figures.load_benchmarks(_write(tmp_path, "this = is [ not toml"))


# --------------------------------------------------------------------------- our side
def test_per_band_nrr_and_grr_by_hand(conn):
    saas = figures.load_benchmarks(SHIPPED).band_sets[0]
    table = bm.band_retention(conn, Filters(), saas, "2026-02", "2026-03").set_index("band")
    assert list(table.index) == ["lt_12k", "12k_25k", "25k_50k", "50k_100k", "100k_250k", "gt_250k"]
    assert (table["base_month"] == "2026-01").all()
    assert table["base_accounts"].to_dict() == {"lt_12k": 0, "12k_25k": 1, "25k_50k": 0, "50k_100k": 1,
                                                "100k_250k": 1, "gt_250k": 0}
    assert table.loc["100k_250k", "start_arr"] == 108_000
    assert table.loc["100k_250k", "nrr"] == pytest.approx(10_000 / 9_000)
    assert table.loc["100k_250k", "grr"] == pytest.approx(1.0)
    assert table.loc["50k_100k", "nrr"] == pytest.approx(0.8)
    assert table.loc["50k_100k", "grr"] == pytest.approx(0.8)
    assert table.loc["12k_25k", "nrr"] == pytest.approx(1.0)  # a3, exactly 12,000 ACV
    assert math.isnan(table.loc["lt_12k", "nrr"]) and math.isnan(table.loc["gt_250k", "grr"])


def test_bands_add_up_to_the_period_retention(conn):
    """The bands partition the base of revenue_period_retention: same accounts, same MRR."""
    whole = period_retention(conn, Filters(), "2026-02", "2026-03").iloc[0]
    for band_set in figures.load_benchmarks(SHIPPED).band_sets:
        table = bm.band_retention(conn, Filters(), band_set, "2026-02", "2026-03")
        assert table["base_accounts"].sum() == whole["base_accounts"] == 3
        for column in ("start_mrr", "end_mrr", "gross_retained_mrr"):
            assert table[column].sum() == pytest.approx(whole[column])


def test_non_target_account_joins_its_band_when_included(conn):
    saas = figures.load_benchmarks(SHIPPED).band_sets[0]
    table = bm.band_retention(conn, Filters(include_non_target=True), saas, "2026-02", "2026-03").set_index("band")
    assert table.loc["12k_25k", "base_accounts"] == 2  # a3 and a4 (24,000)
    assert table.loc["12k_25k", "start_arr"] == 36_000


def test_comparison_flags_bands_below_the_published_figure(conn):
    table = bm.comparison(conn, Filters(), "2026-02", "2026-03", figures.load_benchmarks(SHIPPED))
    rows = {(r["band_set"], r["band"]): r for r in table.to_dict(orient="records")}
    big = rows[("saas_capital_acv", "100k_250k")]
    assert (big["nrr_benchmark"], big["nrr_flag"], big["grr_flag"]) == ("median 107%", "above", "above")
    assert big["nrr_source"] == "SaaS Capital, 2023"
    mid = rows[("saas_capital_acv", "50k_100k")]
    assert (mid["nrr_flag"], mid["grr_flag"]) == ("below", "below")
    edge = rows[("saas_capital_acv", "12k_25k")]
    assert (edge["nrr_flag"], edge["grr_flag"]) == ("below", "above")  # 100% vs 102% and vs 90%
    assert pd.isna(rows[("saas_capital_acv", "lt_12k")]["nrr"])  # no base: no rate (null in JSON)
    assert pd.isna(rows[("saas_capital_acv", "lt_12k")]["nrr_flag"])
    ent = rows[("bessemer_segment", "enterprise")]
    assert ent["nrr"] == pytest.approx(1.0) and ent["grr"] == pytest.approx(13_000 / 14_000)
    assert (ent["nrr_benchmark"], ent["nrr_flag"], ent["grr_flag"]) == ("at least 100%", "within", "within")
    mm = rows[("bessemer_segment", "mid_market")]
    assert (mm["base_accounts"], mm["nrr_flag"], mm["grr_flag"]) == (1, "within", "above")
    assert set(bm.below(table)["band"]) == {"12k_25k", "50k_100k"}
    assert bm.period_note(table) == ("This period is 2 months; the published figures are annual (12 months), "
                                     "so compare with care.")


def test_flag_rules():
    median = figures.Figure("s", "b", "nrr", 1.02, None, None, "src", 2023)
    assert [median.flag(v) for v in (1.0, 1.02, 1.0201, 1.03, None, math.nan)] == [
        "below", "within", "within", "above", None, None]
    rng = figures.Figure("s", "b", "grr", None, 0.8, 0.9, "src", 2019)
    assert [rng.flag(v) for v in (0.79, 0.8, 0.9, 0.91)] == ["below", "within", "within", "above"]
    assert rng.text() == "80% to 90%" and median.text() == "median 102%"


# --------------------------------------------------------------------------- command line
def _run(*args, env=None):
    """The CLI in this process (tests_support.cli: same status, stdout and stderr)."""
    from tests_support.cli import run_cli

    return run_cli(*args, env=env, cwd=ROOT)


def test_report_benchmarks_prints_the_table_and_takes_the_users_file(tiny, tmp_path):
    proc = _run("report", "benchmarks", "--db", str(tiny), "--from", "2026-02", "--to", "2026-03")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["month"] == "2026-03"
    big = next(r for r in payload["bands"] if r["band"] == "100k_250k")
    assert big["nrr"] == round(10_000 / 9_000, 6) and big["nrr_flag"] == "above"
    assert {s["source"] for s in payload["sources"]} == {"saas_capital_2023", "bessemer_2019"}

    mine = _write(tmp_path, _GOOD)
    env = {**os.environ, "HEALTHGRID_BENCHMARKS": str(mine)}
    proc = _run("report", "benchmarks", "--db", str(tiny), "--from", "2026-02", "--to", "2026-03", env=env)
    assert proc.returncode == 0, proc.stderr
    rows = {r["band"]: r for r in json.loads(proc.stdout)["bands"]}
    assert rows["large"]["nrr"] == 1.0 and rows["large"]["nrr_flag"] == "below"  # 100% < at least 105%
    assert rows["small"]["base_accounts"] == 1 and rows["small"]["nrr_benchmark"] is None

    bad = _write(tmp_path, _GOOD.replace("year = 2026\n\n[[band_sets]]", "\n[[band_sets]]"))
    proc = _run("report", "benchmarks", "--db", str(tiny), env={**os.environ, "HEALTHGRID_BENCHMARKS": str(bad)})
    assert proc.returncode == 2
    assert proc.stderr == f"error: {bad}: source 'plan': missing 'year'\n"
