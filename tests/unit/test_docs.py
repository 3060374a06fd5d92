"""The docs stay in step with the code: docs/settings.md documents every setting with its
default, docs/metrics.md and docs/pages.md every metric (their tables generated from the
registries), docs/data-contract.md every contract column, docs/command-line.md every
command and report; every relative link leads to a file, and the README's map of the code
names only paths that exist and every package of cslib/."""

import re
from pathlib import Path

import pytest

from cslib import settings
from cslib.store import contract

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


README = _read(ROOT / "README.md")
CONTRACT = _read(DOCS / "data-contract.md")
SETTINGS_DOC = _read(DOCS / "settings.md")
METRICS_DOC = _read(DOCS / "metrics.md")
PAGES_DOC = _read(DOCS / "pages.md")
COMMAND_LINE = _read(DOCS / "command-line.md")
#: every Markdown file a reader may open: the README and docs/
MARKDOWN = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def _settings_rows() -> dict[str, str]:
    """Setting name -> its default cell, from the table of docs/settings.md."""
    rows = re.findall(r"^\| `(HEALTHGRID_[A-Z_]+)` \| ([^|]*) \|", SETTINGS_DOC, re.M)
    return {name: default.strip() for name, default in rows}


def _documented_default(code_default: str) -> str:
    """How the table writes a default: a path relative to the repository, (empty) for none."""
    if not code_default:
        return "(empty)"
    path = Path(code_default)
    if path.is_absolute() and path.is_relative_to(ROOT):
        return f"`{path.relative_to(ROOT).as_posix()}`"
    return f"`{code_default}`"


#: defaults the table explains in words instead of the code's empty string
_DEFAULT_IN_WORDS = {"HEALTHGRID_APP_DB": "(beside the database)"}


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented_with_its_default(setting):
    rows = _settings_rows()
    assert setting.name in rows, f"{setting.name} has no row in docs/settings.md"
    expected = _DEFAULT_IN_WORDS.get(setting.name) or _documented_default(setting.default)
    assert rows[setting.name] == expected, f"{setting.name}: docs/settings.md says {rows[setting.name]}"


def test_every_documented_setting_exists():
    """A setting renamed or removed in code is not left behind in any doc or the README."""
    known = {s.name for s in settings.SETTINGS}
    for path in MARKDOWN:
        unknown = set(re.findall(r"HEALTHGRID_[A-Z][A-Z_]*[A-Z]", _read(path))) - known
        assert not unknown, f"{path.relative_to(ROOT)} names settings the code lacks: {sorted(unknown)}"


@pytest.mark.parametrize(
    "table,column",
    [(t.name, c.name) for t in (*contract.TABLES, contract.SUBSCRIPTION_PERIODS) for c in t.columns],
)
def test_every_contract_column_is_documented(table, column):
    assert f"`{column}`" in _contract_section(table), f"{table}.{column} is not in its docs/data-contract.md table"


def _contract_section(table: str) -> str:
    section = CONTRACT.split(f"### `{table}.csv`", 1)
    assert len(section) == 2, f"{table}.csv has no section in docs/data-contract.md"
    return section[1].split("###", 1)[0]


@pytest.mark.parametrize("table", [*contract.TABLES, contract.SUBSCRIPTION_PERIODS], ids=lambda t: t.name)
def test_every_documented_contract_column_exists(table):
    """The other way round: a column table in docs/data-contract.md lists no column the
    importer does not read."""
    documented = re.findall(r"^\| `([a-z0-9_]+)` \|", _contract_section(table.name), re.M)
    assert documented, f"{table.name}.csv: no column table in docs/data-contract.md"
    assert set(documented) <= {c.name for c in table.columns}, (
        f"{table.name}.csv: docs/data-contract.md lists unknown columns "
        f"{sorted(set(documented) - {c.name for c in table.columns})}"
    )


def test_every_metric_is_documented():
    from cslib.views.metrics import METRICS
    from cslib.views.revenue import REVENUE_METRICS

    for name in METRICS:
        assert f"| `{name}` |" in METRICS_DOC, f"metric {name} is not in docs/metrics.md"
    for name in REVENUE_METRICS:
        assert f"| `{name}` |" in PAGES_DOC, f"revenue metric {name} is not in docs/pages.md"


def test_readme_test_command_is_what_ci_runs():
    ci = _read(ROOT / ".ci" / "run")
    command = "python -m pip install -r requirements-dev.txt && python -m pytest"
    assert command in README
    assert command.replace("pip install -r", "pip install -q -r") in ci
    assert "python -m pip install -r requirements.txt && python -m streamlit run app.py" in README


def test_metric_tables_are_the_registries():
    """docs/metrics.md's table is generated from cslib.views.metrics.METRICS and
    docs/pages.md's from cslib.views.revenue.REVENUE_METRICS: a definition changed in code
    without its docs fails here."""
    from cslib.cli import docs_tables

    for path in docs_tables.FILES:
        text = _read(path)
        assert docs_tables.render(text) == text, (
            f"{path.relative_to(ROOT)} metric tables differ from the registries: run python -m cslib.cli.docs_tables"
        )
    assert docs_tables.missing_blocks() == []
    assert "<!-- generated: metrics -->" in METRICS_DOC


def test_a_changed_definition_is_caught(monkeypatch):
    """The check above can fail: change one description in the registry and docs/metrics.md
    no longer matches."""
    import dataclasses

    from cslib.cli import docs_tables
    from cslib.views import metrics

    changed = dict(metrics.METRICS)
    changed["arr"] = dataclasses.replace(changed["arr"], description="Something else.")
    monkeypatch.setattr(metrics, "METRICS", changed)
    assert docs_tables.render(METRICS_DOC) != METRICS_DOC


def test_every_command_and_report_is_documented():
    """docs/command-line.md lists every subcommand, report and filter flag the parser has,
    and the README's table every subcommand."""
    import argparse

    from cslib.cli.main import build_parser
    from cslib.cli.reports import REPORTS
    from cslib.filters import FILTER_COLUMNS

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command in sub.choices:
        if command == "bench":  # moved out of the product: python -m bench
            continue
        assert f"`python -m cslib {command}" in COMMAND_LINE, f"{command} is not in docs/command-line.md"
        assert f"`python -m cslib {command}" in README, f"{command} is not in the README's table"
    for name in REPORTS:
        assert re.search(rf"`{re.escape(name)}[` ]", COMMAND_LINE), f"report {name} is not in docs/command-line.md"
    for name in FILTER_COLUMNS:
        assert f"`--{name.replace('_', '-')}`" in COMMAND_LINE, f"filter --{name} is not in docs/command-line.md"
    for module in ("bench", "bench.pages", "bench.browser"):
        assert f"`python -m {module}" in README and f"`python -m {module}" in COMMAND_LINE


def _relative_links(text: str) -> list[str]:
    """Targets of Markdown links and images that are not URLs or in-page anchors."""
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [t for t in targets if not re.match(r"[a-z]+:|#", t)]


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_to_a_file(path):
    broken = [t for t in _relative_links(_read(path)) if not (path.parent / t.split("#", 1)[0]).exists()]
    assert not broken, f"{path.relative_to(ROOT)} links to missing files: {broken}"


def test_the_link_check_can_fail(tmp_path):
    assert _relative_links("see [x](nowhere.md#a), [y](https://e.org) and [z](#here)") == ["nowhere.md#a"]


def _code_map() -> list[str]:
    """Paths the README's map of the code names: the first word of each line of the code
    block under "How it fits together", read as a path under the line it is indented below."""
    section = README.split("## How it fits together", 1)[1]
    block = section.split("```", 2)[1]
    paths, parents = [], {}
    for line in block.splitlines():
        m = re.match(r"( *)(\S+)(?:\s|$)", line)
        if not m or len(m.group(1)) > 4:  # a continuation line
            continue
        depth, name = len(m.group(1)) // 2, m.group(2)
        parents[depth] = name
        paths.append("".join(parents[d] for d in range(depth)) + name)
    return paths


def test_the_code_map_names_only_paths_that_exist():
    paths = _code_map()
    assert "cslib/store/" in paths and "pages/" in paths
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"the README's code map names paths that do not exist: {missing}"


def test_the_code_map_names_every_package_of_cslib():
    paths = set(_code_map())
    packages = sorted(p.name for p in (ROOT / "cslib").iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    unnamed = [p for p in packages if f"cslib/{p}/" not in paths]
    assert not unnamed, f"the README's code map does not name cslib/{unnamed}"


def test_the_code_map_names_every_top_level_module_of_cslib():
    """The helpers at the top of cslib/ (settings, filters, labels, ...) are named, and every
    module the map names beside them exists."""
    block = README.split("## How it fits together", 1)[1].split("```", 2)[1]
    named = set(re.findall(r"\b([a-z_]+\.py)\b", block))
    modules = {p.name for p in (ROOT / "cslib").glob("*.py") if not p.name.startswith("_")}
    assert modules - named == set(), f"the README's code map does not name cslib/{sorted(modules - named)}"
    assert [m for m in named if not (ROOT / m).exists() and not (ROOT / "cslib" / m).exists()] == []


def test_the_code_map_names_every_top_level_folder():
    paths = set(_code_map())
    folders = ("pages", "ui", "bench", "tests", "tests_support", "sample_data", "docs")
    assert [f for f in folders if f"{f}/" not in paths] == []
    block = README.split("## How it fits together", 1)[1].split("```", 2)[1]
    tiers_line = next(line for line in block.splitlines() if line.startswith("tests/"))
    tiers = [p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and p.name not in ("fixtures", "__pycache__")]
    assert [t for t in tiers if f"{t}/" not in tiers_line] == [], "the README's code map misses a test tier"


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_file_path_in_the_docs_exists(path):
    """A module, SQL file or config named in backticks (`cslib/views/flows.py`) is still
    there: code moved without its docs fails here."""
    named = re.findall(r"`((?:cslib|pages|ui|bench|tests|tests_support|sample_data|docs)/[\w./-]*)`", _read(path))
    written_at_run_time = (".duckdb", ".sqlite")  # the database and app store a run creates
    missing = [p for p in named if not (ROOT / p).exists() and not p.endswith(written_at_run_time)]
    assert not missing, f"{path.relative_to(ROOT)} names files that do not exist: {missing}"
