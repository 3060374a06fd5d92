"""Every CSV export is formula-safe and keeps money at cents (cslib.export)."""

import csv
import io
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cslib import export

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
        ("+1 555", "'+1 555"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Emma Wright", "Emma Wright"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_that_a_spreadsheet_would_evaluate_gets_a_quote(text, expected):
    assert export.neutralise(text) == expected


def test_numbers_stay_numbers_and_money_is_at_cents():
    frame = pd.DataFrame({
        "csm": ["=cmd|' /C calc'!A0", "Ana"],
        "arr": [14404.439999999999, -120.005],
        "healthy_mrr": [429277.92000000004, 1.0],
        "commission": [2882.987, 0.0],
        "health_rate": [0.123456789, -0.5],
        "accounts": [3, -1],
    })
    rows = list(csv.DictReader(io.StringIO(export.to_csv(frame))))
    assert rows[0] == {"csm": "'=cmd|' /C calc'!A0", "arr": "14404.44", "healthy_mrr": "429277.92",
                       "commission": "2882.99", "health_rate": "0.123457", "accounts": "3"}
    assert rows[1] == {"csm": "Ana", "arr": "-120.0", "healthy_mrr": "1.0", "commission": "0.0",
                       "health_rate": "-0.5", "accounts": "-1"}


@pytest.mark.parametrize("name,money", [("arr", True), ("new_mrr", True), ("mrr_usage", True),
                                        ("commission", True), ("arrival", False), ("health_rate", False),
                                        ("carr_id", False), ("arr_share", False), ("healthy_arr", True)])
def test_money_columns_are_recognised_by_name(name, money):
    assert export.is_money_column(name) is money


def test_report_csv_neutralises_a_hostile_csm_name(tmp_path):
    """`report --format csv` on a book whose CSM is named like a formula."""
    from tests_support.book import build_tiny_book

    db = tmp_path / "tiny.duckdb"
    build_tiny_book(db)
    con = duckdb.connect(str(db))
    con.execute("update raw_accounts set csm = ? where account_id = 'a1'", ['=HYPERLINK("http://evil","x")'])
    con.execute("update account_month set csm = ? where account_id = 'a1'", ['=HYPERLINK("http://evil","x")'])
    con.close()
    from tests_support.cli import run_cli  # the CLI in this process: same status and output

    proc = run_cli("report", "incentives", "--db", str(db), "--month", "2026-03", "--format", "csv", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert '=HYPERLINK' in proc.stdout  # the name is there ...
    for row in csv.reader(io.StringIO(proc.stdout)):
        for cell in row:
            assert not cell.startswith(export.FORMULA_STARTS), row  # ... but never as a formula
    cells = [cell for row in csv.reader(io.StringIO(proc.stdout)) for cell in row]
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in cells
