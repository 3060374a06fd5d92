"""Malformed CSVs, fuzz-style (issue 8): every one gives a one-line error naming the file
and leaves the database byte-for-byte unchanged; odd but valid input still imports.

The cases are generated from the good fixture by fixed mutations plus seeded random ones
(numpy default_rng), so a failure always reproduces.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cslib.errors import UserError
from cslib.store.importer import import_dir

IMPORT_OK = Path(__file__).resolve().parents[1] / "fixtures" / "import_ok"
FILES = sorted(p.name for p in IMPORT_OK.glob("*.csv"))


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _edit_cell(name: str, column: str, value: str) -> Callable[[Path], str]:
    """Set ``column`` of the first data row of ``name`` to ``value``."""

    def mutate(folder: Path) -> str:
        path = folder / name
        lines = _lines(path)
        header = lines[0].split(",")
        cells = lines[1].split(",")
        cells[header.index(column)] = value
        lines[1] = ",".join(cells)
        _write(path, lines)
        return name

    return mutate


def _whole_file(name: str, change: Callable[[str], str]) -> Callable[[Path], str]:
    def mutate(folder: Path) -> str:
        path = folder / name
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
        return name

    return mutate


def _truncate_row(name: str, keep_fields: int) -> Callable[[Path], str]:
    def mutate(folder: Path) -> str:
        path = folder / name
        lines = _lines(path)
        lines[-1] = ",".join(lines[-1].split(",")[:keep_fields])
        _write(path, lines)
        return name

    return mutate


def _duplicate_header(name: str) -> Callable[[Path], str]:
    def mutate(folder: Path) -> str:
        path = folder / name
        lines = _lines(path)
        first = lines[0].split(",")[0]
        lines = [lines[0] + "," + first] + [line + "," + line.split(",")[0] for line in lines[1:]]
        _write(path, lines)
        return name

    return mutate


FIXED_CASES: dict[str, Callable[[Path], str]] = {
    "semicolon delimiter": _whole_file("accounts.csv", lambda t: t.replace(",", ";")),
    "tab delimiter": _whole_file("usage_weekly.csv", lambda t: t.replace(",", "\t")),
    "pipe delimiter": _whole_file("renewals.csv", lambda t: t.replace(",", "|")),
    "truncated last row (revenue)": _truncate_row("revenue_monthly.csv", 3),
    "truncated last row (usage)": _truncate_row("usage_weekly.csv", 1),
    "extra field on a row": _whole_file("events.csv", lambda t: t.rstrip("\n") + ",surplus\n"),
    "huge field (5 MB)": _edit_cell("accounts.csv", "name", "x" * 5_000_000),
    "unterminated quote": _edit_cell("accounts.csv", "name", '"Acme Tools'),
    "date before 1990": _edit_cell("accounts.csv", "signed_on", "1899-12-31"),
    "date after 2100": _edit_cell("renewals.csv", "due_on", "9999-12-31"),
    "impossible date": _edit_cell("accounts.csv", "signed_on", "2023-02-30"),
    "month 13": _edit_cell("revenue_monthly.csv", "month", "2024-13"),
    "month out of range": _edit_cell("revenue_monthly.csv", "month", "1899-01"),
    "NaN money": _edit_cell("revenue_monthly.csv", "mrr_subscription", "NaN"),
    "Infinity money": _edit_cell("revenue_monthly.csv", "mrr_usage", "Infinity"),
    "-inf money": _edit_cell("renewals.csv", "due_arr", "-inf"),
    "overflowing money": _edit_cell("revenue_monthly.csv", "mrr_subscription", "1e309"),
    "negative money": _edit_cell("renewals.csv", "due_arr", "-0.01"),
    "money with a currency sign": _edit_cell("revenue_monthly.csv", "mrr_subscription", "$100"),
    "fractional seat count": _edit_cell("usage_weekly.csv", "seats_purchased", "5.5"),
    "negative seat count": _edit_cell("usage_weekly.csv", "seats_activated", "-1"),
    "duplicate header (accounts)": _duplicate_header("accounts.csv"),
    "duplicate header (usage)": _duplicate_header("usage_weekly.csv"),
    "not UTF-8": lambda folder: (
        (folder / "csm_logs.csv").write_bytes((folder / "csm_logs.csv").read_bytes() + b"L9,A-1,2024-02-01,Ada,note,,caf\xe9\n"),
        "csm_logs.csv",
    )[1],
    "empty file": lambda folder: ((folder / "renewals.csv").write_bytes(b""), "renewals.csv")[1],
    "SQL in a key": _edit_cell("revenue_monthly.csv", "account_id", "A-1'; drop table raw_accounts; --"),
    "boolean spelled out wrong": _edit_cell("accounts.csv", "is_target", "maybe"),
}


def _random_cases(n: int, seed: int = 20261125) -> dict[str, Callable[[Path], str]]:
    """Seeded random mutations: a random non-key cell of a random file gets garbage that no
    column type accepts, or a data row loses random trailing fields."""
    rng = np.random.default_rng(seed)
    garbage = ["\x01\x02", "1,5", "12abc", "--", "0x1F", "1e999", "nan", "2024/01/01", "∞"]
    cases: dict[str, Callable[[Path], str]] = {}
    for i in range(n):
        name = FILES[int(rng.integers(len(FILES)))]
        header = _lines(IMPORT_OK / name)[0].split(",")
        typed = [c for c in header if c not in ("name", "note", "author", "plan", "industry", "region",
                                                "source_channel", "csm", "csm_team", "lifecycle_stage",
                                                "product", "module", "role", "reason_code", "log_id", "account_id",
                                                "segment")]
        if rng.random() < 0.3:
            cases[f"random {i}: truncated row of {name}"] = _truncate_row(name, int(rng.integers(1, len(header) - 1)))
        else:
            column = typed[int(rng.integers(len(typed)))]
            value = garbage[int(rng.integers(len(garbage)))]
            cases[f"random {i}: {name}.{column} = {value!r}"] = _edit_cell(name, column, f'"{value}"')
    return cases


CASES = {**FIXED_CASES, **_random_cases(25)}


@pytest.fixture(scope="module")
def existing_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("fuzz") / "hg.duckdb"
    import_dir(IMPORT_OK, db, build=False)
    return db


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_input_is_one_line_and_changes_nothing(case, existing_db, tmp_path):
    folder = tmp_path / "src"
    shutil.copytree(IMPORT_OK, folder)
    bad_file = CASES[case](folder)
    db = tmp_path / "hg.duckdb"
    shutil.copyfile(existing_db, db)
    before = hashlib.sha256(db.read_bytes()).hexdigest()

    with pytest.raises(UserError) as err:
        import_dir(folder, db, build=False)

    message = str(err.value)
    assert "\n" not in message and message.startswith(bad_file), message
    assert len(message) < 400, "the error must stay readable even for a huge field"
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["hg.duckdb", "src"]


def test_count_of_bad_inputs_tried():
    assert len(CASES) >= 50


def test_unicode_names_and_markup_in_text_import_as_they_are(tmp_path):
    folder = tmp_path / "src"
    shutil.copytree(IMPORT_OK, folder)
    name = "Ácme 工具 🚀 <b>Ωmega</b> & \"Sons\""
    _edit_cell("accounts.csv", "name", '"' + name.replace('"', '""') + '"')(folder)
    db = tmp_path / "hg.duckdb"
    import_dir(folder, db, build=False)
    import duckdb

    conn = duckdb.connect(str(db), read_only=True)
    stored = conn.execute("select name from raw_accounts where account_id = 'A-1'").fetchone()[0]
    conn.close()
    assert stored == name
