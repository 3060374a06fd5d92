"""Value tiers: the rule that turns an account's ARR into 'high' / 'mid' / 'low'.

The rule lives in ``cslib/config/value_tiers.toml`` (documented there); it is loaded and
validated here and written to the one-row ``cfg_value_tiers`` table that
``cslib/sql/marts/account_month.sql`` reads.
"""

from __future__ import annotations

import math
import os
from dataclasses import astuple, dataclass

import duckdb

from cslib import settings
from cslib.errors import UserError
from cslib.rules import tomlfile

METHODS = ("fixed", "quantile")


@dataclass(frozen=True)
class ValueTiers:
    """A validated value-tier rule.

    method: 'fixed' (ARR cut-offs, inclusive) or 'quantile' (shares of accounts by ARR rank).
    high_min_arr >= mid_min_arr >= 0 (money per year); high_share, mid_share in [0, 1]
    with high_share + mid_share <= 1.
    """

    method: str = "fixed"
    high_min_arr: float = 60000.0
    mid_min_arr: float = 15000.0
    high_share: float = 0.2
    mid_share: float = 0.3


_KEYS = ("method", "high_min_arr", "mid_min_arr", "high_share", "mid_share")


def _number(doc: dict, key: str, where: str) -> float:
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UserError(f"{where}: '{key}' must be a number, got {value!r}")
    return float(value)


def load_value_tiers(path: str | os.PathLike | None = None) -> ValueTiers:
    """Read and validate a value-tier TOML; ``None`` means $HEALTHGRID_VALUE_TIERS.

    Raises UserError naming the file and the key on a missing file, bad TOML, a missing
    or unknown key, or an out-of-range value.
    """
    where = str(path if path is not None else settings.get("HEALTHGRID_VALUE_TIERS"))
    doc = tomlfile.read(where, "value-tier file")

    unknown = sorted(set(doc) - set(_KEYS))
    if unknown:
        raise UserError(f"{where}: unknown key '{unknown[0]}' (expected {', '.join(_KEYS)})")
    for key in _KEYS:
        if key not in doc:
            raise UserError(f"{where}: missing key '{key}'")

    method = doc["method"]
    if method not in METHODS:
        raise UserError(f"{where}: 'method' must be one of {', '.join(METHODS)}, got {method!r}")
    high_min_arr = _number(doc, "high_min_arr", where)
    mid_min_arr = _number(doc, "mid_min_arr", where)
    high_share = _number(doc, "high_share", where)
    mid_share = _number(doc, "mid_share", where)

    if mid_min_arr < 0:
        raise UserError(f"{where}: 'mid_min_arr' must be >= 0, got {mid_min_arr:g}")
    if high_min_arr < mid_min_arr:
        raise UserError(
            f"{where}: 'high_min_arr' ({high_min_arr:g}) must be >= 'mid_min_arr' ({mid_min_arr:g})"
        )
    for key, share in (("high_share", high_share), ("mid_share", mid_share)):
        if not 0 <= share <= 1:
            raise UserError(f"{where}: '{key}' must be between 0 and 1, got {share:g}")
    if high_share + mid_share > 1 + 1e-9:
        raise UserError(
            f"{where}: 'high_share' + 'mid_share' must be <= 1, got {high_share + mid_share:g}"
        )
    return ValueTiers(method, high_min_arr, mid_min_arr, high_share, mid_share)


def write_value_tier_table(conn: duckdb.DuckDBPyConnection, tiers: ValueTiers) -> None:
    """(Re)create the one-row ``cfg_value_tiers`` table from ``tiers`` (values bound)."""
    conn.execute(
        "create or replace table cfg_value_tiers ("
        "method varchar, high_min_arr double, mid_min_arr double, "
        "high_share double, mid_share double)"
    )
    conn.execute("insert into cfg_value_tiers values (?, ?, ?, ?, ?)", list(astuple(tiers)))
