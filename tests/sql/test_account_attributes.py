"""Account attributes (extra account columns a mapping keeps) as filter and breakdown
dimensions: storage, Filters, filter options, ``report --attr`` / ``--by attr.<name>``,
the what-if, and an import through a mapping that keeps two attributes.

Expected numbers come from tests_support/attribute_book.py (its docstring shows the
arithmetic) and tests_support/churn_book.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from cslib.views import churn
from cslib.store import db
from cslib.views import revenue
from cslib.cli.main import main
from cslib.errors import UserError
from cslib.filters import Filters, attribute_label, filter_options, parse_attribute_args
from cslib.store.importer import import_dir
from tests_support.attribute_book import build_attribute_book


@pytest.fixture(scope="module")
def attr_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("attr") / "attr.duckdb"
    build_attribute_book(path)
    return path


def _report(capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert main(["report", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def _tiles(payload: dict) -> dict:
    return {row["name"]: row["value"] for row in payload["rows"]}


# --------------------------------------------------------------------------- Filters
def test_from_mapping_reads_url_keys_and_attr_arguments():
    f = Filters.from_mapping({
        "attr.plan_tier": "silver, gold",
        "attr.country": ["France", "Germany"],
        "attr": ["plan_tier=bronze", "region_code=EU"],
        "attr.Bad-Name": "x",  # not an attribute name: ignored like any unknown key
        "attr.empty": "",
    })
    assert f.attributes == (
        ("country", ("France", "Germany")),
        ("plan_tier", ("bronze", "gold", "silver")),
        ("region_code", ("EU",)),
    )
    assert f.attribute_values("plan_tier") == ("bronze", "gold", "silver")
    assert f.attribute_values("nope") == ()
    assert Filters.from_mapping({}).attributes == ()


def test_where_binds_the_attribute_name_and_values():
    f = Filters(segment=("smb",)).with_attributes({"plan_tier": ["gold"], "country": []})
    sql, params = f.where_named("a")
    assert sql == (
        "a.is_target and list_contains($filter_1, a.segment) and a.account_id in (select hg_attr.account_id "
        "from raw_account_attributes as hg_attr where hg_attr.attribute = $filter_2 "
        "and list_contains($filter_3, hg_attr.value))"
    )
    assert params == {"filter_1": ["smb"], "filter_2": "plan_tier", "filter_3": ["gold"]}
    assert "plan_tier" not in sql
    sql, _ = f.where_named("f", catalog="src")
    assert "from src.raw_account_attributes as hg_attr" in sql


@pytest.mark.parametrize("item, message", [
    ("plan_tier", "--attr 'plan_tier': expected NAME=VALUE[,VALUE...] with a lower-case attribute name "
                  "such as plan_tier=gold,silver"),
    ("Plan=gold", "--attr 'Plan=gold': expected NAME=VALUE[,VALUE...] with a lower-case attribute name "
                  "such as plan_tier=gold,silver"),
    ("plan_tier= , ", "--attr 'plan_tier= , ': no value given (expected NAME=VALUE[,VALUE...])"),
])
def test_a_malformed_attr_argument_is_one_line(item, message):
    with pytest.raises(UserError) as err:
        parse_attribute_args([item])
    assert str(err.value) == message


def test_as_dict_lists_attributes_only_when_set():
    assert "attributes" not in Filters().as_dict()
    assert Filters(attributes=(("plan_tier", ("gold",)),)).as_dict()["attributes"] == {"plan_tier": ("gold",)}


def test_attribute_labels_are_human():
    assert attribute_label("plan_tier") == "Plan tier"
    assert attribute_label("country") == "Country"


# --------------------------------------------------------------------------- storage and options
def test_every_database_has_the_attribute_table_empty_for_a_plain_book(tmp_path):
    from tests_support.book import build_tiny_book

    path = tmp_path / "tiny.duckdb"
    build_tiny_book(path)
    conn = db.connect(path)
    try:
        assert db.query(conn, "select count(*) as n from raw_account_attributes")["n"].iloc[0] == 0
        options = filter_options(conn)
    finally:
        conn.close()
    assert not [k for k in options if k.startswith("attr.")]


def test_filter_options_list_each_attribute_within_the_scope(attr_db):
    conn = db.connect(attr_db)
    try:
        everything = filter_options(conn)
        smb = filter_options(conn, Filters(segment=("smb",)))  # target accounts only: a3
        with_non_target = filter_options(conn, Filters(segment=("smb",), include_non_target=True))
    finally:
        conn.close()
    assert everything["attr.country"] == ["France", "Germany", "Japan", "United States"]
    assert everything["attr.plan_tier"] == ["gold", "silver"]
    assert [k for k in everything if k.startswith("attr.")] == ["attr.country", "attr.plan_tier"]
    assert smb["attr.country"] == ["France"]
    assert smb["attr.plan_tier"] == ["gold"]
    assert with_non_target["attr.country"] == ["France", "Japan"]


def test_a_database_from_before_attributes_has_none(attr_db, tmp_path, capsys):
    old = tmp_path / "old.duckdb"
    old.write_bytes(attr_db.read_bytes())
    conn = duckdb.connect(str(old))
    conn.execute("drop table raw_account_attributes")
    conn.close()
    ro = db.connect(old)
    try:
        assert not [k for k in filter_options(ro) if k.startswith("attr.")]
    finally:
        ro.close()
    assert main(["report", "kpis", "--db", str(old), "--attr", "plan_tier=gold"]) == 2
    assert capsys.readouterr().err == (
        "error: unknown account attribute 'plan_tier' (the data has none; an import keeps extra account "
        "columns with a mapping's [tables.accounts] attributes)\n"
    )
    payload = _report(capsys, "kpis", "--db", str(old), "--month", "2026-03")  # no attributes: as before
    assert _tiles(payload)["arr"] == 216_000.0


# --------------------------------------------------------------------------- report --attr
def test_report_kpis_with_an_attribute_filter(attr_db, capsys):
    payload = _report(capsys, "kpis", "--db", str(attr_db), "--month", "2026-03", "--attr", "plan_tier=gold")
    tiles = _tiles(payload)
    assert tiles["arr"] == 132_000.0  # a1 10,000 + a3 1,000, x 12
    assert tiles["health_rate"] == round(120_000 / 132_000, 6)
    assert tiles["renewal_rate_arr"] == 0.9  # a1 kept 108,000 of 108,000 + a3 12,000 deferred
    assert tiles["renewal_rate_count"] == 0.5
    assert tiles["nrr"] == 1.1  # 10,000 -> 11,000 (a1's cross-sell)
    assert payload["filters"]["attributes"] == {"plan_tier": ["gold"]}
    rows = {row["name"]: row for row in payload["rows"]}
    assert rows["arr"]["previous"] == 120_000.0  # February: 9,000 + 1,000


def test_report_attribute_values_or_and_attributes_and(attr_db, capsys):
    base = ("kpis", "--db", str(attr_db), "--month", "2026-03")
    assert _tiles(_report(capsys, *base, "--attr", "plan_tier=gold,silver"))["arr"] == 180_000.0
    assert _tiles(_report(capsys, *base, "--attr", "plan_tier=silver"))["arr"] == 48_000.0
    assert _tiles(_report(capsys, *base, "--attr", "country=United States"))["arr"] == 84_000.0
    both = _report(capsys, *base, "--attr", "country=United States", "--attr", "plan_tier=gold")
    assert _tiles(both)["arr"] == 0.0
    assert _tiles(_report(capsys, *base, "--attr", "plan_tier=gold", "--include-non-target"))["arr"] == 156_000.0
    assert _tiles(_report(capsys, *base, "--attr", "plan_tier=gold", "--segment", "smb"))["arr"] == 12_000.0


def test_report_unknown_attribute_is_one_line(attr_db, capsys):
    assert main(["report", "kpis", "--db", str(attr_db), "--attr", "plan=gold"]) == 2
    assert capsys.readouterr().err == "error: unknown account attribute 'plan' (the data has: country, plan_tier)\n"
    assert main(["report", "kpis", "--db", str(attr_db), "--attr", "plan_tier"]) == 2
    assert capsys.readouterr().err.startswith("error: --attr 'plan_tier': expected NAME=VALUE")


def test_report_revenue_by_attribute(attr_db, capsys):
    payload = _report(capsys, "revenue", "--db", str(attr_db), "--month", "2026-03", "--by", "attr.plan_tier")
    rows = {r["group_value"]: r for r in payload["by_attr.plan_tier"]}
    assert {k: r["start_mrr"] for k, r in rows.items()} == {"gold": 10_000.0, "silver": 5_000.0, "(none)": 2_000.0}
    assert {k: r["active_accounts"] for k, r in rows.items()} == {"gold": 2, "silver": 1, "(none)": 1}
    assert rows["gold"]["cross_sell_mrr"] == 1_000.0  # a1's analytics in March
    assert rows["silver"]["contraction_mrr"] == -1_000.0  # a2 5,000 -> 4,000
    assert rows["(none)"]["upsell_mrr"] == 1_000.0  # a5 2,000 -> 3,000
    filtered = _report(capsys, "revenue", "--db", str(attr_db), "--month", "2026-03", "--by", "attr.country",
                       "--attr", "plan_tier=gold")
    assert {r["group_value"]: r["start_mrr"] for r in filtered["by_attr.country"]} == {
        "Germany": 9_000.0, "France": 1_000.0}


def test_revenue_breakdown_by_an_unknown_attribute_names_the_choices(attr_db):
    conn = db.connect(attr_db)
    try:
        with pytest.raises(UserError) as err:
            revenue.breakdown(conn, Filters(), "2026-03", "2026-03", "attr.plan")
    finally:
        conn.close()
    assert str(err.value) == (
        "cannot break down by 'attr.plan': no such account attribute (choose from segment, industry, "
        "source_channel, csm_team, region, csm, lifecycle_stage, attr.country, attr.plan_tier)"
    )


# --------------------------------------------------------------------------- churn reasons
@pytest.fixture(scope="module")
def churn_attr_db(tmp_path_factory) -> Path:
    from tests_support.attribute_book import build_churn_attribute_book

    path = tmp_path_factory.mktemp("churn_attr") / "churn.duckdb"
    build_churn_attribute_book(path)
    return path


def test_churn_breakdown_by_attribute_and_filtered_by_one(churn_attr_db):
    conn = db.connect(churn_attr_db)
    try:
        by_tier = churn.churn_breakdown(conn, Filters(), "2026-03", "2026-05", "attr.plan_tier")
        gold = churn.churn_breakdown(conn, Filters(attributes=(("plan_tier", ("gold",)),)),
                                     "2026-03", "2026-05", "reason")
    finally:
        conn.close()
    got = {r.value: (r.churned_accounts, r.churned_arr, r.label) for r in by_tier.itertuples()}
    assert got == {
        "gold": (2, 144_000.0, "Gold"),  # c1 120,000 + c3 24,000 (c8 is not a target account)
        "silver": (2, 96_000.0, "Silver"),  # c4 60,000 + c5 36,000
        "unknown": (2, 18_000.0, "Unknown"),  # c2 12,000 + c6 6,000: no plan tier
    }
    assert {r.value: r.churned_arr for r in gold.itertuples()} == {"competitor": 120_000.0, "price": 24_000.0}


def test_report_churn_reasons_by_attribute(churn_attr_db, capsys):
    payload = _report(capsys, "churn-reasons", "--db", str(churn_attr_db), "--from", "2026-03", "--to", "2026-05",
                      "--by", "attr.plan_tier", "--attr", "plan_tier=silver")
    assert [(r["attr.plan_tier"], r["churned_accounts"], r["churned_arr"]) for r in payload["breakdown"]] == [
        ("silver", 2, 96_000.0)]


# --------------------------------------------------------------------------- what-if
def test_whatif_slices_by_attribute(attr_db):
    from cslib.views.whatif import current_scorecard, run_whatif

    conn = db.connect(attr_db)
    try:
        result = run_whatif(conn, current_scorecard(conn), Filters(attributes=(("plan_tier", ("gold",)),)), "2026-03")
    finally:
        conn.close()
    assert sorted(result["accounts"]["account_id"]) == ["a1", "a3"]
    assert result["accounts"]["arr"].sum() == 132_000.0


# --------------------------------------------------------------------------- import through a mapping
CRM = """Company ID,Company,Plan Tier,Country,Notes
c-1,Acme, Gold ,Germany,first
c-2,Birch,Silver,,second
c-3,Cedar,,France,third
"""
REVENUE = """account_id,month,product,plan,mrr_subscription,mrr_usage
c-1,2026-01,core,pro,100,0
c-2,2026-01,core,pro,50,0
c-3,2026-01,core,pro,10,0
c-1,2026-02,core,pro,100,0
c-2,2026-02,core,pro,60,0
"""
MAPPING = """[tables.accounts]
file = "crm.csv"
columns = { account_id = "Company ID", name = "Company" }
attributes = { plan_tier = "Plan Tier", country = "country" }
"""


@pytest.fixture
def crm_dir(tmp_path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "crm.csv").write_text(CRM)
    (src / "revenue_monthly.csv").write_text(REVENUE)
    (tmp_path / "mapping.toml").write_text(MAPPING)
    return src


def test_import_keeps_the_mapped_attributes(crm_dir, tmp_path, capsys):
    path = tmp_path / "hg.duckdb"
    summary = import_dir(crm_dir, path, mapping=tmp_path / "mapping.toml")
    conn = db.connect(path)
    try:
        rows = db.query(conn, "select * from raw_account_attributes order by account_id, attribute")
    finally:
        conn.close()
    assert list(rows.itertuples(index=False, name=None)) == [
        ("c-1", "country", "Germany"),
        ("c-1", "plan_tier", "Gold"),  # trimmed
        ("c-2", "plan_tier", "Silver"),  # empty country: no row
        ("c-3", "country", "France"),
    ]
    assert "crm.csv: ignored extra column(s) Notes" in summary.warnings  # only the unmapped one
    payload = _report(capsys, "kpis", "--db", str(path), "--month", "2026-02", "--attr", "plan_tier=Gold,Silver")
    assert _tiles(payload)["arr"] == 1_920.0  # (100 + 60) x 12
    payload = _report(capsys, "revenue", "--db", str(path), "--month", "2026-02", "--by", "attr.country")
    assert {r["group_value"]: r["churn_mrr"] for r in payload["by_attr.country"]} == {
        "(none)": 0.0, "France": -10.0, "Germany": 0.0}


def test_without_a_mapping_extra_account_columns_stay_ignored(crm_dir, tmp_path):
    (crm_dir / "crm.csv").rename(crm_dir / "accounts.csv")
    text = (crm_dir / "accounts.csv").read_text().replace("Company ID,Company", "account_id,name", 1)
    (crm_dir / "accounts.csv").write_text(text)
    path = tmp_path / "hg.duckdb"
    summary = import_dir(crm_dir, path, build=False)
    assert "accounts.csv: ignored extra column(s) Plan Tier, Country, Notes" in summary.warnings
    conn = duckdb.connect(str(path), read_only=True)
    try:
        assert conn.execute("select count(*) from raw_account_attributes").fetchone()[0] == 0
    finally:
        conn.close()


@pytest.mark.parametrize("attributes, message", [
    ('{ plan_tier = "Tier" }',
     "mapping.toml: tables.accounts.attributes.plan_tier: column 'Tier' not in crm.csv "
     "(its columns: Company ID, Company, Plan Tier, Country, Notes)"),
    ('{ "Plan Tier" = "Plan Tier" }',
     "mapping.toml: tables.accounts.attributes.Plan Tier: an attribute name is lower-case letters, digits "
     "and _, starting with a letter (such as plan_tier)"),
    ('{ region = "Country" }',
     "mapping.toml: tables.accounts.attributes.region: region is a standard account column: map it with "
     "columns = { region = ... } instead"),
    ('"Plan Tier"',
     'mapping.toml: tables.accounts.attributes: expected a table: { <attribute name> = "<source column>", ... }'),
])
def test_a_bad_attributes_key_is_one_line(crm_dir, tmp_path, attributes, message):
    mapping = MAPPING.replace('{ plan_tier = "Plan Tier", country = "country" }', attributes)
    (tmp_path / "mapping.toml").write_text(mapping)
    with pytest.raises(UserError) as err:
        import_dir(crm_dir, tmp_path / "hg.duckdb", mapping=tmp_path / "mapping.toml")
    assert str(err.value) == message
    assert not (tmp_path / "hg.duckdb").exists()


def test_attributes_only_on_the_accounts_table(crm_dir, tmp_path):
    (tmp_path / "mapping.toml").write_text(MAPPING + '\n[tables.revenue_monthly]\nattributes = { plan = "plan" }\n')
    with pytest.raises(UserError) as err:
        import_dir(crm_dir, tmp_path / "hg.duckdb", mapping=tmp_path / "mapping.toml")
    assert str(err.value) == (
        "mapping.toml: tables.revenue_monthly.attributes: only [tables.accounts] keeps extra columns as attributes")


def test_attribute_names_and_values_are_never_sql(attr_db):
    from cslib.views.metrics import kpi_tiles

    evil = "gold') or true or ('x' = 'x"
    conn = db.connect(attr_db)
    try:
        tiles = {t["name"]: t["value"] for t in kpi_tiles(conn, Filters(attributes=((evil, (evil,)),)), "2026-03")}
        named = {t["name"]: t["value"] for t in kpi_tiles(conn, Filters(attributes=(("plan_tier", (evil,)),)),
                                                           "2026-03")}
        still = db.query(conn, "select count(*) as n from raw_account_attributes")["n"].iloc[0]
    finally:
        conn.close()
    assert tiles["arr"] == 0.0
    assert named["arr"] == 0.0
    assert still == 9


def test_check_reports_the_kept_attributes(crm_dir, tmp_path):
    from cslib.store.importer import check_dir

    report = check_dir(crm_dir, mapping=tmp_path / "mapping.toml")
    assert not report.problems.total
    assert ("account attributes (filters and breakdowns): plan_tier 2 accounts, 2 values; "
            "country 2 accounts, 2 values") in report.coverage
