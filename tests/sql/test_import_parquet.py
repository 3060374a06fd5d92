"""Parquet ingestion (issue 8, scale-out): a warehouse or Spark job can hand Healthgrid
Parquet files instead of CSVs; they go through the same checks and land the same rows."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from cslib.store import contract
from cslib.errors import UserError
from cslib.store.importer import import_dir

IMPORT_OK = Path(__file__).resolve().parents[1] / "fixtures" / "import_ok"


def _to_parquet(csv_path: Path, parquet_path: Path, overrides: str = "") -> None:
    """Write the CSV as Parquet with the types a warehouse would use (DuckDB's sniffer)."""
    conn = duckdb.connect()
    conn.execute(
        f"copy (select * {overrides} from read_csv(?, header = true)) to '{parquet_path}' (format parquet)",
        [str(csv_path)],
    )
    conn.close()


def _raw(db: Path) -> dict[str, list[tuple]]:
    conn = duckdb.connect(str(db), read_only=True)
    try:
        return {t.name: conn.execute(f"select * from raw_{t.name} order by all").fetchall()
                for t in contract.TABLES}
    finally:
        conn.close()


@pytest.fixture
def parquet_dir(tmp_path) -> Path:
    """The good fixture with usage, module usage and revenue as Parquet, the rest as CSV."""
    folder = tmp_path / "mixed"
    shutil.copytree(IMPORT_OK, folder)
    for name in ("usage_weekly", "module_usage_weekly", "revenue_monthly"):
        _to_parquet(folder / f"{name}.csv", folder / f"{name}.parquet")
        (folder / f"{name}.csv").unlink()
    return folder


def test_parquet_lands_the_same_rows_as_csv(parquet_dir, tmp_path):
    from_csv, from_parquet = tmp_path / "csv.duckdb", tmp_path / "parquet.duckdb"
    import_dir(IMPORT_OK, from_csv, build=False)
    import_dir(parquet_dir, from_parquet)  # with the models built
    assert _raw(from_parquet) == _raw(from_csv)
    conn = duckdb.connect(str(from_parquet), read_only=True)
    # 9 usage rows + A-3's week of 2024-01-15, paid for and without usage (a zero-filled week)
    assert conn.execute("select count(*) from health_weekly").fetchone()[0] == 10
    conn.close()


def test_timestamps_and_float_counts_from_a_warehouse_are_accepted(tmp_path):
    folder = tmp_path / "src"
    shutil.copytree(IMPORT_OK, folder)
    _to_parquet(
        folder / "usage_weekly.csv", folder / "usage_weekly.parquet",
        "replace (cast(week_start as timestamp) as week_start, "
        "cast(seats_purchased as double) as seats_purchased)",
    )
    (folder / "usage_weekly.csv").unlink()
    db = tmp_path / "hg.duckdb"
    import_dir(folder, db, build=False)
    csv_db = tmp_path / "csv.duckdb"
    import_dir(IMPORT_OK, csv_db, build=False)
    assert _raw(db)["usage_weekly"] == _raw(csv_db)["usage_weekly"]


@pytest.mark.parametrize(
    "override,message",
    [
        ("replace (-mrr_subscription as mrr_subscription)",
         "revenue_monthly.parquet, row 1, column mrr_subscription: negative amount '-100' (money must be >= 0) "
         "(11 problems; run `python -m cslib check {folder}` to list them all)"),
        ("replace ('2024-13' as month)",
         "revenue_monthly.parquet, row 1, column month: expected a month YYYY-MM (month 01-12), got '2024-13' "
         "(13 problems; run `python -m cslib check {folder}` to list them all)"),
    ],
)
def test_bad_parquet_rows_are_one_line_and_change_nothing(tmp_path, override, message):
    folder = tmp_path / "src"
    shutil.copytree(IMPORT_OK, folder)
    _to_parquet(folder / "revenue_monthly.csv", folder / "revenue_monthly.parquet", override)
    (folder / "revenue_monthly.csv").unlink()
    db = tmp_path / "hg.duckdb"
    import_dir(IMPORT_OK, db, build=False)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(UserError) as err:
        import_dir(folder, db, build=False)
    assert str(err.value) == message.format(folder=folder)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_not_a_parquet_file_and_both_shapes_are_errors(tmp_path):
    folder = tmp_path / "src"
    shutil.copytree(IMPORT_OK, folder)
    (folder / "events.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(UserError, match=r"^src: both events.csv and events.parquet found; keep one$|both events"):
        import_dir(folder, tmp_path / "hg.duckdb", build=False)
    (folder / "events.csv").unlink()
    with pytest.raises(UserError, match=r"^events.parquet: not a readable Parquet file"):
        import_dir(folder, tmp_path / "hg.duckdb", build=False)


def test_a_mapped_parquet_export_with_drops_lands_the_same_months_as_its_csv(tmp_path):
    """The billing example as Parquet (all text, as an export tool may write it) through the same
    mapping: drop rules, value maps and date formats apply alike; a bad row names its Parquet row."""
    billing = Path(__file__).resolve().parents[2] / "examples" / "billing_export"
    folder = tmp_path / "src"
    folder.mkdir()
    conn = duckdb.connect()
    for name in ("subscriptions", "companies"):
        conn.execute(f"copy (select * from read_csv(?, all_varchar = true)) to '{folder / name}.parquet' "
                     "(format parquet)", [str(billing / f"{name}.csv")])
    conn.close()
    mapping = tmp_path / "mapping.toml"
    mapping.write_text((billing / "mapping.toml").read_text()
                       .replace('"subscriptions*.csv"', '"subscriptions*.parquet"').replace('"companies.csv"', '"companies.parquet"'))
    from_csv, from_parquet = tmp_path / "csv.duckdb", tmp_path / "parquet.duckdb"
    import_dir(billing, from_csv, build=False, mapping=billing / "mapping.toml")
    summary = import_dir(folder, from_parquet, build=False, mapping=mapping)
    assert "subscriptions.parquet: dropped 3 of 12 rows (tables.subscription_periods.drop in mapping.toml)" in summary.warnings
    assert _raw(from_parquet) == _raw(from_csv)
    conn = duckdb.connect()  # a bad amount on row 5, after the dropped trial on row 4
    conn.execute(f"copy (select * replace (case when \"Subscription ID\" = 'sub_202' then 'abc' "
                 f"else \"Amount per month\" end as \"Amount per month\") from read_csv(?, all_varchar = true)) "
                 f"to '{folder / 'subscriptions.parquet'}' (format parquet)", [str(billing / "subscriptions.csv")])
    conn.close()
    with pytest.raises(UserError) as err:
        import_dir(folder, tmp_path / "other.duckdb", build=False, mapping=mapping)
    assert str(err.value) == "subscriptions.parquet, row 5, column monthly_amount: expected a number, got 'abc'"
