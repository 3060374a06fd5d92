"""Reading a TOML settings file (scorecard, alert rules, incentive plan, benchmarks, value
tiers, playbooks, the role map, an import mapping, ...) with one-line errors that name the
file: the one place for it, so every settings file fails the same way."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from cslib.errors import UserError


def read(path: str | os.PathLike, what: str, *, name: str | None = None) -> dict:
    """The parsed TOML at ``path``; a one-line UserError "<name>: ..." otherwise: "<what>
    not found", "is a folder; the <what> is a TOML file", "not UTF-8 text (byte N); save
    the <what> as UTF-8", "cannot read <what> (<reason>)" or "invalid TOML (<where and
    why>)". ``name`` is how messages name the file (default: the path as given)."""
    where = Path(path)
    label = str(where) if name is None else name
    try:
        return tomllib.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{label}: {what} not found") from None
    except IsADirectoryError:
        raise UserError(f"{label}: is a folder; the {what} is a TOML file") from None
    except UnicodeDecodeError as err:
        raise UserError(f"{label}: not UTF-8 text (byte {err.start}); save the {what} as UTF-8") from None
    except OSError as err:
        reason = err.strerror or err
        raise UserError(f"{label}: cannot read {what} ({reason})") from None
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{label}: invalid TOML ({err})") from None
