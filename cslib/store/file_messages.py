"""Messages about a file's bytes, and line numbers: what a user reads when a file is broken
(bad UTF-8, mixed line endings, a CSV the reader refuses) and how a record maps to its line.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path




# ---------------------------------------------------------------------------
# Messages and line numbers
# ---------------------------------------------------------------------------


def control_char(value: str | None) -> str:
    """The first control character of ``value`` as U+XXXX (NUL named)."""
    ch = next((c for c in value or "" if ord(c) < 32 and c not in "\t\n\r" or ord(c) == 127), "\x00")
    return "NUL (U+0000)" if ch == "\x00" else f"U+{ord(ch):04X}"


def visible(value: str | None) -> str:
    """``value`` with control characters shown as '?' (a message must not carry them)."""
    return "".join("?" if ord(c) < 32 and c not in "\t\n\r" or ord(c) == 127 else c for c in value or "")


def show(value: str | None, limit: int = 40) -> str:
    """A cell value quoted for a one-line message."""
    if value is None:
        return "''"
    text = " ".join(str(value).split()) if ("\n" in str(value) or "\r" in str(value)) else str(value)
    text = visible(text)  # a message never carries a control character (ids of the usage tables)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"'{text}'"


def csv_error_message(path: Path, message: str) -> str:
    """One line from a DuckDB CSV reader error."""
    match = re.search(r"CSV Error on Line: (\d+)", message)
    line = int(match.group(1)) if match else None
    if "Invalid unicode" in message or "not utf-8" in message.lower():
        line = _first_bad_utf8_line(path) or line
        return f"{path.name}: not valid UTF-8" + (f" (line {line})" if line else "")
    where = f"{path.name}, line {line}" if line else path.name
    found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if found:
        expected, got = found.groups()
        return f"{where}: expected {expected} fields like the header, found {got}"
    if "unterminated quote" in message:
        return f"{where}: unterminated quoted value"
    if "invalid state" in message:
        mixed = _first_mixed_line_ending(path)
        if mixed:
            return f"{path.name}, line {mixed}: mixed line endings (LF and CRLF); save the file with one kind"
        return f"{where}: not a well-formed CSV file (a stray quote or carriage return?)"
    if "Maximum line size" in message:
        return f"{where}: line too long (missing line breaks or an unterminated quote?)"
    reason = next((ln.strip() for ln in message.splitlines()[1:] if ln.strip()
                   and not ln.startswith(("Original Line", "Possible", "*"))), "")
    first = message.splitlines()[0] if message else "unreadable CSV"
    return f"{where}: cannot read CSV ({(reason or first)[:160]})"


def _first_mixed_line_ending(path: Path) -> int | None:
    """1-based line whose ending (LF vs CRLF) differs from the first line's (error path only)."""
    lines = path.read_bytes().split(b"\n")[:-1]
    if not lines:
        return None
    first_crlf = lines[0].endswith(b"\r")
    for number, line in enumerate(lines, start=1):
        if line.endswith(b"\r") != first_crlf:
            return number
    return None


def _first_bad_utf8_line(path: Path) -> int | None:
    """1-based line of the first invalid UTF-8 byte (error path only)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        return data.count(b"\n", 0, err.start) + 1
    return None


class ParquetRows:
    """Maps a 0-based record index to the 1-based row of a Parquet file (messages say 'row')."""

    label = "row"

    def __init__(self, path: Path, n_records: int | None) -> None:
        self.path = path
        self.n_records = n_records

    def __call__(self, row: int) -> int:
        return row + 1


class Lines:
    """Maps a 0-based record index (after the header) to the 1-based file line it starts on.

    Fast path: every record is one line (no blank lines, no quoted line breaks), checked by
    counting line feeds; otherwise walk the file with the csv module. Error path only.
    """

    label = "line"

    def __init__(self, path: Path, n_records: int | None) -> None:
        self.path = path
        self.n_records = n_records
        self._one_line_per_record: bool | None = None

    def __call__(self, row: int) -> int:
        if self._one_line_per_record is None:
            newlines, last = 0, b""
            with open(self.path, "rb") as f:
                while chunk := f.read(1 << 20):
                    newlines += chunk.count(b"\n")
                    last = chunk[-1:]
            # header + records lines, the last one with or without a final line feed
            self._one_line_per_record = self.n_records is not None and (
                newlines == self.n_records + (1 if last == b"\n" else 0))
        if self._one_line_per_record:
            return row + 2
        with open(self.path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader, None)
            index, before = -1, reader.line_num
            for fields in reader:
                if fields:
                    index += 1
                    if index == row:
                        return before + 1
                before = reader.line_num
        return row + 2
