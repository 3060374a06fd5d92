"""What an import or a check found: every problem (file, line, column) and the summary.

Shared by the importer's steps (cslib.store.importer, reading, row_checks, coverage).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cslib.errors import UserError
from cslib.store.mapping import Mapping


@dataclass
class ImportSummary:
    """What an import loaded: rows per raw table (contract name -> count) and warnings."""

    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: the month the app opens on when it is not the last revenue month (revenue after the
    #: last usage month: the last month with both); stored in ``import_meta``
    default_month: str | None = None

    def describe(self) -> str:
        """E.g. ``"5 tables, 12,345 rows"`` (tables with at least one row)."""
        filled = sum(1 for n in self.rows.values() if n > 0)
        total = sum(self.rows.values())
        return f"{filled} table{'s' if filled != 1 else ''}, {total:,} row{'s' if total != 1 else ''}"


class Problems:
    """Every problem found, grouped by file in the order found; at most ``LIMIT`` shown per file."""

    LIMIT = 20

    def __init__(self) -> None:
        self.files: dict[str, list[tuple[tuple, str]]] = {}
        self.totals: dict[str, int] = {}

    def add(self, file: str, key: tuple, text: str, count: int = 1) -> None:
        """One problem line (``count`` > 1: it stands for that many, e.g. a capped query)."""
        self.files.setdefault(file, []).append((key, text))
        self.totals[file] = self.totals.get(file, 0) + count

    def add_error(self, err: UserError) -> None:
        """A whole-file problem (unreadable file, missing columns, a bad mapping key)."""
        text = str(err)
        self.add(re.split(r"[,:]", text, maxsplit=1)[0], (-1,), text)

    def extend(self, file: str, items: list[tuple[tuple, str]], total: int) -> None:
        """The first items of a query (at most LIMIT) and how many it found in all."""
        if total:
            self.files.setdefault(file, []).extend(items)
            self.totals[file] = self.totals.get(file, 0) + total

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    def lines(self) -> list[str]:
        out: list[str] = []
        for file, items in self.files.items():
            shown = [text for _, text in sorted(items, key=lambda i: i[0])[: self.LIMIT]]
            out += shown
            rest = self.totals[file] - len(shown)
            if rest > 0:
                out.append(f"... and {rest:,} more problem{'s' if rest != 1 else ''} in {file}")
        return out

    def refusal(self, src: Path, mp: Mapping | None, allow_empty: bool = False) -> str:
        """The import's one line: the first problem, and how to list them all when there are more."""
        items = next(iter(self.files.values()))
        first = min(items, key=lambda i: i[0])[1]
        if self.total == 1:
            return first
        command = (f"python -m cslib check {src}" + (f" --mapping {mp.path}" if mp else "")
                   + (" --allow-empty" if allow_empty else ""))
        return f"{first} ({self.total:,} problems; run `{command}` to list them all)"


def has_rows(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    return conn.execute(f"select exists (select 1 from {table})").fetchone()[0]


def files_label(paths: list[Path], default: str) -> str:
    """How messages name a table's source: its file, or its files."""
    if not paths:
        return default
    return paths[0].name if len(paths) == 1 else ", ".join(p.name for p in paths[:3]) + (
        ", ..." if len(paths) > 3 else "")
