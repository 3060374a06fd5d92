"""The layers of cslib hold (issue 15), read from the source with ast, not by importing:

* no chart builder touches the database: no module under cslib/charts imports
  cslib.store.db or duckdb, calls query / sql_file, or takes a connection (a ``conn``
  parameter): the frames come from cslib.views;
* the product stands alone: no module in cslib imports bench (benchmarks, the plain-pandas
  reference), tests_support or streamlit (the app's side is ui/ and pages/);
* only cslib/model imports scikit-learn.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CSLIB = ROOT / "cslib"
MODULES = sorted(CSLIB.rglob("*.py"))
CHARTS = sorted((CSLIB / "charts").rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _imports(path: Path) -> set[str]:
    """Every module name ``path`` imports (``from a.b import c`` gives a.b and a.b.c)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _calls(path: Path) -> set[str]:
    """The names of the functions ``path`` calls (``f(...)`` and ``x.f(...)`` both give f)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                out.add(func.id)
            elif isinstance(func, ast.Attribute):
                out.add(func.attr)
    return out


def _parameters(path: Path) -> set[str]:
    """The parameter names of every function in ``path``."""
    return {
        arg.arg
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
    }


def _hits(names: set[str], roots: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(n == r or n.startswith(r + ".") for r in roots))


def test_the_walk_finds_the_packages():
    assert len(CHARTS) >= 5 and len(MODULES) > 40


@pytest.mark.parametrize("path", CHARTS, ids=_rel)
def test_no_chart_builder_touches_the_database(path):
    assert _hits(_imports(path), ("duckdb", "cslib.store.db")) == []
    assert _calls(path) & {"query", "sql_file", "execute"} == set()
    assert "conn" not in _parameters(path)


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_the_product_does_not_import_bench_tests_or_streamlit(path):
    assert _hits(_imports(path), ("bench", "tests", "tests_support", "streamlit")) == []


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_only_the_model_imports_scikit_learn(path):
    if _rel(path).startswith("cslib/model/"):
        return
    assert _hits(_imports(path), ("sklearn",)) == []
