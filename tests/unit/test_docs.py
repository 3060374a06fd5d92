"""The README documents every setting and every metric, docs/data-contract.md every
contract column."""

from pathlib import Path

import pytest

from cslib import settings
from cslib.store import contract

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
CONTRACT = (Path(__file__).resolve().parents[2] / "docs" / "data-contract.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented(setting):
    assert f"`{setting.name}`" in README


@pytest.mark.parametrize(
    "table,column",
    [(t.name, c.name) for t in (*contract.TABLES, contract.SUBSCRIPTION_PERIODS) for c in t.columns],
)
def test_every_contract_column_is_documented(table, column):
    section = CONTRACT.split(f"### `{table}.csv`", 1)
    assert len(section) == 2, f"{table}.csv has no section in docs/data-contract.md"
    body = section[1].split("###", 1)[0]
    assert f"`{column}`" in body, f"{table}.{column} is not in its docs/data-contract.md table"


def test_every_metric_is_documented():
    from cslib.views.metrics import METRICS

    for name in METRICS:
        assert f"`{name}`" in README, f"metric {name} is not in the README"


def test_readme_test_command_is_what_ci_runs():
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text(encoding="utf-8")
    command = "python -m pip install -r requirements-dev.txt && python -m pytest"
    assert command in README
    assert command.replace("pip install -r", "pip install -q -r") in ci


def test_metric_tables_are_the_registries():
    """The README's metric tables are generated from cslib.views.metrics.METRICS and
    cslib.views.revenue.REVENUE_METRICS: a definition changed in code without its docs fails here."""
    from cslib.cli import docs_tables

    assert docs_tables.render(README) == README, (
        "README metric tables differ from the registries: run python -m cslib.cli.docs_tables"
    )
    pages = docs_tables.PAGES.read_text(encoding="utf-8")
    assert docs_tables.render(pages) == pages, (
        "docs/pages.md metric tables differ from the registries: run python -m cslib.cli.docs_tables"
    )
    assert docs_tables.missing_blocks() == []


def test_a_changed_definition_is_caught(monkeypatch):
    """The check above can fail: change one description in the registry and the README no
    longer matches."""
    import dataclasses

    from cslib.cli import docs_tables
    from cslib.views import metrics

    changed = dict(metrics.METRICS)
    changed["arr"] = dataclasses.replace(changed["arr"], description="Something else.")
    monkeypatch.setattr(metrics, "METRICS", changed)
    assert docs_tables.render(README) != README
