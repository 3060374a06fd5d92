"""Reading a TOML settings file (scorecard, alert rules, playbooks, benchmarks, ...) with
one-line errors that name the file: the one place for it."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from cslib.errors import UserError


def read(path: str | os.PathLike, what: str) -> dict:
    """The parsed TOML at ``path``; UserError "<path>: <what> not found", "<path>: cannot
    read <what> (<reason>)" or "<path>: invalid TOML (<where and why>)"."""
    where = Path(path)
    try:
        return tomllib.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{where}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or err
        raise UserError(f"{where}: cannot read {what} ({reason})") from None
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{where}: invalid TOML ({err})") from None
