"""Importing a company's own reason taxonomy (tests/fixtures/foreign_taxonomy): free-text
labels, mixed-case codes and categories, codes in the logs missing from the taxonomy.

Documented behaviour: codes are normalised (trim, lower case, spaces/hyphens -> '_') on
both sides; a log whose code is not in the taxonomy (or is empty) is kept as
'unclassified' and the import warns with the count and the first codes; two taxonomy
codes equal after normalising are an error; no taxonomy file -> the shipped default.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from cslib.views import churn
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.store.importer import import_dir

FOREIGN = Path(__file__).resolve().parents[1] / "fixtures" / "foreign_taxonomy"
UNCLASSIFIED_WARNING = (
    "csm_logs.csv: 3 churn-reason/risk-flag logs with a reason code not in the taxonomy, "
    "kept as 'unclassified' (codes: 'budget freeze', 'Reorg', (empty))"
)
DEFAULT_WARNING = "no reason_taxonomy.csv: using the default reason taxonomy (cslib/config/reason_taxonomy.csv)"


@pytest.fixture(scope="module")
def foreign(tmp_path_factory):
    db = tmp_path_factory.mktemp("foreign") / "hg.duckdb"
    summary = import_dir(FOREIGN, db)
    conn = duckdb.connect(str(db), read_only=True)
    yield summary, conn
    conn.close()


@pytest.fixture
def src(tmp_path) -> Path:
    dst = tmp_path / "src"
    shutil.copytree(FOREIGN, dst)
    return dst


def test_import_warns_with_count_and_first_codes(foreign):
    summary, _ = foreign
    assert UNCLASSIFIED_WARNING in summary.warnings
    assert not any("default reason taxonomy" in w for w in summary.warnings)
    assert summary.rows["reason_taxonomy"] == 3 and summary.rows["csm_logs"] == 6


def test_foreign_taxonomy_is_used_normalised(foreign):
    _, conn = foreign
    rows = conn.execute(
        "select reason_code, label, category, is_avoidable, owner_department from churn_taxonomy order by sort_order"
    ).fetchall()
    assert rows == [
        ("price", "Too expensive, per the buyer", "commercial", True, "Sales Ops"),
        ("out_of_business", "Customer went bust", "external_factors", False, "unassigned"),
        ("competitor", "Lost to the competition", "commercial", True, "Sales Ops"),
    ]


def test_unclassified_churns_are_kept_and_counted(foreign):
    _, conn = foreign
    by_reason = churn.churn_breakdown(conn, Filters(), "2026-03", "2026-04", "reason")
    got = {v: (n, a) for v, n, a in zip(by_reason["value"], by_reason["churned_accounts"], by_reason["churned_arr"])}
    # F3 'budget freeze' 36,000 + F5 empty code 6,000; F1 'PRICE'; F2 'out of business'
    assert got == {"unclassified": (2, 42_000.0), "out_of_business": (1, 24_000.0), "price": (1, 12_000.0)}
    by_category = churn.churn_breakdown(conn, Filters(), "2026-03", "2026-04", "category")
    assert dict(zip(by_category["value"], by_category["churned_arr"])) == {
        "unclassified": 42_000.0, "external_factors": 24_000.0, "commercial": 12_000.0}
    summary = churn.churn_summary(conn, Filters(), "2026-03", "2026-04")
    assert summary["unclassified_accounts"] == 2 and summary["avoidable_arr"] == 12_000
    logs = churn.unclassified_logs(conn)
    assert sorted(zip(logs["code_as_logged"], logs["kind"], logs["n_logs"])) == [
        ("", "churn_reason", 1), ("Reorg", "risk_flag", 1), ("budget freeze", "churn_reason", 1)]


def test_risk_flags_route_by_the_foreign_taxonomy(foreign):
    _, conn = foreign
    flags = churn.risk_flags(conn, Filters(), "2026-02", "2026-03")
    routed = dict(zip(flags["flag_code"], flags["owner_department"]))
    assert routed == {"unclassified": "unassigned", "price": "Sales Ops"}


def test_without_a_taxonomy_file_the_default_is_used(src, tmp_path):
    (src / "reason_taxonomy.csv").unlink()
    db = tmp_path / "hg.duckdb"
    summary = import_dir(src, db)
    assert DEFAULT_WARNING in summary.warnings
    assert UNCLASSIFIED_WARNING in summary.warnings  # the same three codes are not in the default either
    conn = duckdb.connect(str(db), read_only=True)
    try:
        assert conn.execute("select count(*) from raw_reason_taxonomy").fetchone()[0] == len(churn.load_taxonomy())
        codes = conn.execute("select reason_code from churn_events order by account_id").fetchall()
    finally:
        conn.close()
    assert [c[0] for c in codes] == ["price", "out_of_business", "unclassified", "unclassified"]


def test_header_only_taxonomy_file_falls_back_to_the_default(src, tmp_path):
    (src / "reason_taxonomy.csv").write_text("reason_code,label,category,is_avoidable,owner_department\n")
    summary = import_dir(src, tmp_path / "hg.duckdb", build=False)
    assert "no rows in reason_taxonomy.csv: using the default reason taxonomy (cslib/config/reason_taxonomy.csv)" \
        in summary.warnings


@pytest.mark.parametrize(
    "content,message",
    [
        ("reason_code,label,category,is_avoidable,owner_department\nPrice,a,b,yes,\n price ,c,d,no,\n",
         "reason_taxonomy.csv, line 3, column reason_code: duplicate code 'price' after normalising (first on line 2)"),
        ("reason_code,label,category,is_avoidable,owner_department\nPrice,a,b,maybe,\n",
         "reason_taxonomy.csv, line 2, column is_avoidable: expected true/false (or yes/no, 1/0), got 'maybe'"),
        ("reason_code,label,category,owner_department\nPrice,a,b,\n",
         "reason_taxonomy.csv: missing required column 'is_avoidable' (BOOLEAN)"),
        ("reason_code,label,category,is_avoidable,owner_department\n ,a,b,yes,\n",
         "reason_taxonomy.csv, line 2, column reason_code: empty value (required)"),
    ],
)
def test_bad_taxonomy_is_one_line_and_nothing_is_written(src, tmp_path, content, message):
    (src / "reason_taxonomy.csv").write_text(content)
    db = tmp_path / "hg.duckdb"
    with pytest.raises(UserError) as err:
        import_dir(src, db)
    assert str(err.value) == message
    assert not db.exists()


def test_shipped_default_covers_the_domain_codes_and_routing():
    from sample_data.generator import CHURN_REASONS, RISK_FLAGS

    tax = churn.load_taxonomy().set_index("reason_code")
    assert set(CHURN_REASONS) | set(RISK_FLAGS) | {"nps_detractor", "complaint"} == set(tax.index)
    assert set(tax["category"]) == {"customer", "product", "service", "competition", "price"}
    owner = tax["owner_department"].to_dict()  # method section 6 routing
    assert owner["bug_instability"] == "R&D lead"
    assert owner["unmet_expectations"] == "Product lead"
    assert owner["late_go_live"] == "Delivery lead"
    assert owner["sponsor_left"] == owner["key_user_changed"] == "Regional GM / sales director"
    assert not tax.loc["out_of_business", "is_avoidable"] and tax.loc["onboarding_failed", "is_avoidable"]


def test_load_taxonomy_rejects_duplicates_after_normalising(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("reason_code,label,category,is_avoidable,owner_department\nKP changed,a,b,yes,\nkp-changed,c,d,no,\n")
    with pytest.raises(UserError, match=r"t.csv, line 3, column reason_code: duplicate code 'kp_changed'"):
        churn.load_taxonomy(path)
