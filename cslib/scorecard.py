"""The health scorecard: load and validate the TOML, write the cfg_* tables, score in pandas.

The scoring itself runs in SQL (``cslib/sql/health_weekly.sql``) over the config tables
written by :func:`write_config_tables`. :func:`score_usage_pandas` is a plain pandas
reference implementation of exactly the same rules: tests compare the two on every
column and the benchmark compares their speed. :func:`tier_of` mirrors the SQL tier rule.

Rules (DOMAIN.md section 1), all numbers from the scorecard:

* weekly ratios: instance_ratio = records_created / seats_activated, activation_rate =
  seats_activated / seats_purchased, login_rate = users_logged_in / seats_activated,
  bi_rate = users_bi / seats_activated; NULL (and 0 points) when the denominator is 0;
* a ratio scores the points of the highest band whose min_value <= value (0 below the
  first band);
* weekly module points = sum of the points of the modules with records >= min_records
  that week (unknown modules 0), capped at ``modules_cap_points``;
* window points per indicator = sum(weight * points) / sum(weight) over the calendar
  weeks of the window that have a usage row (lag 0 = the week itself);
* score = round(least(100, sum of the five window points), 1), NULL when fewer than
  ``min_weeks`` weeks are present (the window points are still given); tier from the
  thresholds on the rounded score. The sum is first rounded to 9 decimals (floating-point
  noise from the order of additions), then exact ties go away from zero: 27.65 -> 27.7.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from . import settings
from .errors import UserError

#: Ratio indicators, in output order; each needs a [ratios.<name>] table.
INDICATORS: tuple[str, ...] = ("instance_ratio", "activation_rate", "login_rate", "bi_rate")
#: Window weighting schemes: "linear" weight = weeks - lag; "equal" weight = 1.
WEIGHTINGS: tuple[str, ...] = ("linear", "equal")
#: Window points columns of health_weekly (the explanation of the score), in order.
POINTS_COLUMNS: tuple[str, ...] = (
    "modules_points",
    "instance_points",
    "activation_points",
    "login_points",
    "bi_points",
)
_POINTS_OF = dict(zip(INDICATORS, POINTS_COLUMNS[1:]))
#: Columns of the health_weekly model (and of score_usage_pandas), in order.
HEALTH_WEEKLY_COLUMNS: tuple[str, ...] = (
    "account_id",
    "week_start",
    "weeks_in_window",
    "score",
    "tier",
    *POINTS_COLUMNS,
    "modules_used",
    "core_modules_used",
    *INDICATORS,
)
TIERS: tuple[str, ...] = ("healthy", "at_risk", "unhealthy", "unscored")

Bands = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Scorecard:
    """A validated health scorecard (see ``cslib/config/scorecard.toml`` for the meaning).

    ``module_points`` is ((module, points), ...); ``ratio_bands`` is
    ((indicator, ((min_value, points), ...)), ...) with one entry per indicator in
    :data:`INDICATORS`. Construction (also via ``dataclasses.replace``) validates and
    raises :class:`UserError` naming ``source`` and the TOML key at fault.
    """

    healthy_min: float
    unhealthy_below: float
    window_weeks: int
    min_weeks: int
    weighting: str
    modules_cap_points: float
    module_min_records: int
    module_points: tuple[tuple[str, float], ...]
    core_modules: tuple[str, ...]
    ratio_bands: tuple[tuple[str, Bands], ...]
    source: str = field(default="scorecard", compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise containers once, here
        set_(self, "module_points", tuple((str(m), float(p)) for m, p in dict(self.module_points).items()))
        set_(self, "core_modules", tuple(str(m) for m in self.core_modules))
        set_(
            self,
            "ratio_bands",
            tuple(
                (str(ind), tuple((float(lo), float(p)) for lo, p in bands))
                for ind, bands in dict(self.ratio_bands).items()
            ),
        )
        for name in ("healthy_min", "unhealthy_below", "modules_cap_points"):
            set_(self, name, float(getattr(self, name)))
        _check_values(self)

    def bands_for(self, indicator: str) -> Bands:
        """((min_value, points), ...) of one indicator, ascending."""
        return dict(self.ratio_bands)[indicator]

    def window_weights(self) -> tuple[tuple[int, float], ...]:
        """((lag, weight), ...) for lag 0 (the scored week) .. window_weeks - 1."""
        if self.weighting == "linear":
            return tuple((lag, float(self.window_weeks - lag)) for lag in range(self.window_weeks))
        return tuple((lag, 1.0) for lag in range(self.window_weeks))

    def max_points(self) -> float:
        """Most points the scorecard can give before the cap at 100."""
        return self.modules_cap_points + sum(max(p for _, p in b) for _, b in self.ratio_bands)

    def to_toml(self) -> str:
        """The scorecard as TOML text; ``load_scorecard`` of it gives an equal Scorecard."""
        lines = [
            "# Health scorecard (written by cslib.scorecard.Scorecard.to_toml; the meaning",
            "# of every key is documented in cslib/config/scorecard.toml).",
            "",
            "[tiers]",
            f"healthy_min = {_num(self.healthy_min)}",
            f"unhealthy_below = {_num(self.unhealthy_below)}",
            "",
            "[window]",
            f"weeks = {self.window_weeks}",
            f"min_weeks = {self.min_weeks}",
            f"weighting = {_str(self.weighting)}",
            "",
            "[modules]",
            f"cap_points = {_num(self.modules_cap_points)}",
            f"min_records = {self.module_min_records}",
            f"core = [{', '.join(_str(m) for m in self.core_modules)}]",
            "",
            "[modules.points]",
            *(f"{_key(m)} = {_num(p)}" for m, p in self.module_points),
        ]
        for indicator, bands in self.ratio_bands:
            pairs = ", ".join(f"[{_num(lo)}, {_num(p)}]" for lo, p in bands)
            lines += ["", f"[ratios.{indicator}]", f"bands = [{pairs}]"]
        return "\n".join(lines) + "\n"


def load_scorecard(path: str | os.PathLike | None = None) -> Scorecard:
    """Read and validate a scorecard TOML (default: setting ``HEALTHGRID_SCORECARD``).

    Raises UserError("<file>: <key>: <problem>") for a missing file, bad TOML, a missing,
    unknown or mistyped key, bands not ascending, negative points, thresholds not
    0 < unhealthy_below < healthy_min <= 100, weeks < 1, min_weeks outside 1..weeks,
    an unknown weighting or an unknown indicator.
    """
    path = Path(path if path is not None else settings.get("HEALTHGRID_SCORECARD"))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise UserError(f"{path}: cannot read scorecard ({err.strerror or err})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise UserError(f"{path}: invalid TOML ({err})") from None
    return _from_dict(data, str(path))


def tier_of(score: float | None, scorecard: Scorecard) -> str:
    """'healthy' (score >= healthy_min), 'unhealthy' (< unhealthy_below), 'at_risk' between,
    'unscored' for None/NaN: the same rule as health_weekly.sql."""
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return "unscored"
    if score >= scorecard.healthy_min:
        return "healthy"
    if score < scorecard.unhealthy_below:
        return "unhealthy"
    return "at_risk"


def write_config_tables(conn: duckdb.DuckDBPyConnection, scorecard: Scorecard) -> None:
    """(Re)create cfg_score_params, cfg_module_points, cfg_ratio_bands, cfg_window_weights.

    Values are bound parameters only; the table layouts are the ones agreed in HELPERS.md.
    """
    sc = scorecard
    conn.execute(
        "create or replace table cfg_score_params (window_weeks integer, min_weeks integer, "
        "healthy_min double, unhealthy_below double, modules_cap_points double, "
        "module_min_records integer)"
    )
    conn.execute(
        "insert into cfg_score_params values (?, ?, ?, ?, ?, ?)",
        [sc.window_weeks, sc.min_weeks, sc.healthy_min, sc.unhealthy_below,
         sc.modules_cap_points, sc.module_min_records],
    )
    conn.execute("create or replace table cfg_module_points (module varchar, points double, is_core boolean)")
    core = set(sc.core_modules)
    _insert_many(conn, "insert into cfg_module_points values (?, ?, ?)",
                 [(m, p, m in core) for m, p in sc.module_points])
    conn.execute("create or replace table cfg_ratio_bands (indicator varchar, min_value double, points double)")
    _insert_many(conn, "insert into cfg_ratio_bands values (?, ?, ?)",
                 [(ind, lo, p) for ind, bands in sc.ratio_bands for lo, p in bands])
    conn.execute("create or replace table cfg_window_weights (lag integer, weight double)")
    _insert_many(conn, "insert into cfg_window_weights values (?, ?)", list(sc.window_weights()))
    conn.execute(
        "create or replace table cfg_indicators (indicator varchar, label varchar, ordinal integer, "
        "max_points double)"
    )
    _insert_many(conn, "insert into cfg_indicators values (?, ?, ?, ?)", indicator_rows(sc))


#: Human labels of the default indicators.
INDICATOR_LABELS: dict[str, str] = {
    "modules": "Modules",
    "instance_ratio": "Instance ratio",
    "activation_rate": "Activation rate",
    "login_rate": "Login rate",
    "bi_rate": "BI usage rate",
}


def indicator_rows(sc: Scorecard) -> list[tuple[str, str, int, float]]:
    """(indicator, label, ordinal, max_points) for cfg_indicators: 'modules' first (its
    maximum is the module cap), then the ratio indicators in scorecard order."""
    rows = [("modules", INDICATOR_LABELS["modules"], 0, sc.modules_cap_points)]
    for i, (ind, bands) in enumerate(sc.ratio_bands, start=1):
        rows.append((ind, INDICATOR_LABELS.get(ind, ind.replace("_", " ").capitalize()), i,
                     max(p for _, p in bands)))
    return rows


def score_usage_pandas(
    usage_weekly: pd.DataFrame, module_usage_weekly: pd.DataFrame, scorecard: Scorecard
) -> pd.DataFrame:
    """Plain-pandas reference of health_weekly.sql: same rows, columns and values.

    usage_weekly: account_id, week_start (Monday; date or datetime), seats_purchased,
    seats_activated, users_logged_in, users_bi, records_created (counts >= 0), one row per
    account and week. module_usage_weekly: account_id, week_start, module, records (one row
    per account, week and module). Returns HEALTH_WEEKLY_COLUMNS, one row per usage row,
    sorted by account_id, week_start; week_start as datetime64[us]; score in 0..100 or NaN.
    """
    sc = scorecard
    u = usage_weekly[
        ["account_id", "week_start", "seats_purchased", "seats_activated",
         "users_logged_in", "users_bi", "records_created"]
    ].copy()
    u["week_start"] = _as_week_start(u["week_start"])
    u = u.sort_values(["account_id", "week_start"], kind="stable").reset_index(drop=True)

    ratios = {
        "instance_ratio": _ratio(u["records_created"], u["seats_activated"]),
        "activation_rate": _ratio(u["seats_activated"], u["seats_purchased"]),
        "login_rate": _ratio(u["users_logged_in"], u["seats_activated"]),
        "bi_rate": _ratio(u["users_bi"], u["seats_activated"]),
    }
    weekly = u[["account_id", "week_start"]].copy()
    for indicator in INDICATORS:
        weekly[_POINTS_OF[indicator]] = _band_points(ratios[indicator], sc.bands_for(indicator))

    m = module_usage_weekly[["account_id", "week_start", "module", "records"]].copy()
    m["week_start"] = _as_week_start(m["week_start"])
    m = m[m["records"] >= sc.module_min_records]
    m["points"] = m["module"].map(dict(sc.module_points)).fillna(0.0).astype("float64")
    m["is_core"] = m["module"].isin(sc.core_modules)
    per_week = m.groupby(["account_id", "week_start"]).agg(
        modules_used=("module", "size"), core_modules_used=("is_core", "sum"), points=("points", "sum")
    )
    per_week = per_week.reindex(pd.MultiIndex.from_frame(u[["account_id", "week_start"]]))
    weekly["modules_points"] = np.minimum(per_week["points"].fillna(0.0).to_numpy(), sc.modules_cap_points)

    # Window: a source week contributes to the week lag*7 days later, if that week exists.
    points = weekly.set_index(["account_id", "week_start"])[list(POINTS_COLUMNS)]
    target = points.index
    weighted = np.zeros((len(points), len(POINTS_COLUMNS)))
    weight_sum = np.zeros(len(points))
    weeks_in_window = np.zeros(len(points), dtype="int64")
    for lag, weight in sc.window_weights():
        source = points.copy()
        source.index = source.index.set_levels(
            source.index.levels[1] + pd.Timedelta(days=7 * lag), level=1
        )
        aligned = source.reindex(target)
        present = aligned[POINTS_COLUMNS[0]].notna().to_numpy()
        weighted += weight * aligned.fillna(0.0).to_numpy()
        weight_sum += weight * present
        weeks_in_window += present

    out = u[["account_id", "week_start"]].copy()
    out["weeks_in_window"] = weeks_in_window.astype("int32")
    window_points = weighted / weight_sum[:, None]  # lag 0 is always present: no 0/0
    total = window_points[:, 0].copy()
    for i in range(1, len(POINTS_COLUMNS)):  # left to right, as in the SQL
        total += window_points[:, i]
    total = np.minimum(100.0, total)
    score = np.where(weeks_in_window >= sc.min_weeks, _round_score(total), np.nan)
    out["score"] = score
    out["tier"] = np.select(
        [np.isnan(score), score >= sc.healthy_min, score < sc.unhealthy_below],
        ["unscored", "healthy", "unhealthy"],
        "at_risk",
    )
    for i, col in enumerate(POINTS_COLUMNS):
        out[col] = window_points[:, i]
    out["modules_used"] = per_week["modules_used"].fillna(0).to_numpy().astype("int32")
    out["core_modules_used"] = per_week["core_modules_used"].fillna(0).to_numpy().astype("int32")
    for indicator in INDICATORS:
        out[indicator] = ratios[indicator].to_numpy()
    return out[list(HEALTH_WEEKLY_COLUMNS)]


# --- helpers -------------------------------------------------------------------------


def _as_week_start(values: pd.Series) -> pd.Series:
    """Dates as datetime64[us], the type DuckDB's .df() gives a DATE column."""
    return pd.to_datetime(values).astype("datetime64[us]")


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    num = numerator.astype("float64")
    den = denominator.astype("float64")
    return (num / den.where(den != 0)).astype("float64")


def _band_points(values: pd.Series, bands: Bands) -> np.ndarray:
    """Points of the highest band with min_value <= value; 0 below the first band or for NaN."""
    mins = np.array([lo for lo, _ in bands])
    pts = np.array([p for _, p in bands])
    v = values.to_numpy(dtype="float64")
    idx = np.searchsorted(mins, np.nan_to_num(v, nan=-np.inf), side="right") - 1
    return np.where((idx >= 0) & ~np.isnan(v), pts[np.clip(idx, 0, None)], 0.0)


def _round_score(total: np.ndarray) -> np.ndarray:
    """As the SQL's round(round(x, 9)::decimal(18, 9), 1)::double: snap to 9 decimals
    (drops floating-point noise), then round to 1 decimal, exact ties away from zero."""
    nanos = _scaled_round(total, 1e9)  # integer count of 1e-9
    tenths = np.sign(nanos) * ((np.abs(nanos) + 50_000_000) // 100_000_000)
    return tenths / 10.0


def _scaled_round(x: np.ndarray, scale: float) -> np.ndarray:
    """x * scale rounded to an integer (int64) by its exact value, ties away from zero.

    This is how DuckDB's round(double, n) behaves. The product x * scale is split into
    its rounded value p and exact error e (Dekker's two-product), so a tie is judged on
    the exact product, not on p.
    """
    a = np.abs(np.asarray(x, dtype="float64"))
    p = a * scale
    a_hi, a_lo = _split(a)
    s_hi, s_lo = _split(np.float64(scale))
    e = ((a_hi * s_hi - p) + a_hi * s_lo + a_lo * s_hi) + a_lo * s_lo
    whole = np.floor(p)
    above_half = (p - whole) - 0.5  # exact: both are multiples of p's last bit
    up = (above_half > 0) | ((above_half == 0) & (e >= 0))
    return (np.sign(x) * (whole + up)).astype("int64")


def _split(a):
    """Veltkamp split of a double into two halves of 26 bits each (a == hi + lo)."""
    c = 134217729.0 * a  # 2**27 + 1
    hi = c - (c - a)
    return hi, a - hi


def _insert_many(conn: duckdb.DuckDBPyConnection, sql: str, rows: list[tuple]) -> None:
    if rows:
        conn.executemany(sql, rows)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def _key(s: str) -> str:
    return s if _BARE_KEY.fullmatch(s) else _str(s)


def _str(s: str) -> str:
    escaped = s.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(c if c >= " " and c != "\x7f" else f"\\u{ord(c):04x}" for c in escaped)
    return f'"{escaped}"'


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOP_KEYS = ("tiers", "window", "modules", "ratios")
_KEYS = {
    "tiers": ("healthy_min", "unhealthy_below"),
    "window": ("weeks", "min_weeks", "weighting"),
    "modules": ("cap_points", "min_records", "core", "points"),
}


class _Reader:
    """Typed access to the parsed TOML that names the file and dotted key on error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> UserError:
        return UserError(f"{self.source}: {key}: {problem}")

    def table(self, data: dict, key: str, path: str, allowed: tuple[str, ...] | None) -> dict:
        value = self.get(data, key, path)
        if not isinstance(value, dict):
            raise self.fail(path, "must be a table")
        if allowed is not None:
            for k in value:
                if k not in allowed:
                    raise self.fail(f"{path}.{k}", "unknown key")
        return value

    def get(self, data: dict, key: str, path: str) -> Any:
        if key not in data:
            raise UserError(f"{self.source}: missing key {path}")
        return data[key]

    def number(self, data: dict, key: str, path: str) -> float:
        value = self.get(data, key, path)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(path, f"must be a finite number, got {value!r}")
        return float(value)

    def integer(self, data: dict, key: str, path: str) -> int:
        value = self.get(data, key, path)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"must be an integer, got {value!r}")
        return value

    def string(self, data: dict, key: str, path: str) -> str:
        value = self.get(data, key, path)
        if not isinstance(value, str):
            raise self.fail(path, f"must be a string, got {value!r}")
        return value


def _from_dict(data: dict, source: str) -> Scorecard:
    r = _Reader(source)
    for k in data:
        if k not in _TOP_KEYS:
            raise r.fail(k, "unknown key")
    tiers = r.table(data, "tiers", "tiers", _KEYS["tiers"])
    window = r.table(data, "window", "window", _KEYS["window"])
    modules = r.table(data, "modules", "modules", _KEYS["modules"])
    ratios = r.table(data, "ratios", "ratios", None)

    points_table = r.table(modules, "points", "modules.points", None)
    module_points = tuple(
        (name, r.number(points_table, name, f"modules.points.{name}")) for name in points_table
    )
    core = r.get(modules, "core", "modules.core")
    if not isinstance(core, list) or not all(isinstance(m, str) for m in core):
        raise r.fail("modules.core", "must be a list of module names")

    for name in ratios:
        if name not in INDICATORS:
            raise r.fail(f"ratios.{name}", f"unknown indicator (expected {', '.join(INDICATORS)})")
    ratio_bands = []
    for indicator in INDICATORS:
        path = f"ratios.{indicator}"
        table = r.table(ratios, indicator, path, ("bands",))
        bands = r.get(table, "bands", f"{path}.bands")
        if not isinstance(bands, list) or not bands:
            raise r.fail(f"{path}.bands", "must be a non-empty list of [min_value, points]")
        pairs = []
        for i, band in enumerate(bands):
            if not isinstance(band, list) or len(band) != 2:
                raise r.fail(f"{path}.bands", f"band {i + 1} must be [min_value, points], got {band!r}")
            lo = r.number({"v": band[0]}, "v", f"{path}.bands")
            pts = r.number({"v": band[1]}, "v", f"{path}.bands")
            pairs.append((lo, pts))
        ratio_bands.append((indicator, tuple(pairs)))

    return Scorecard(
        healthy_min=r.number(tiers, "healthy_min", "tiers.healthy_min"),
        unhealthy_below=r.number(tiers, "unhealthy_below", "tiers.unhealthy_below"),
        window_weeks=r.integer(window, "weeks", "window.weeks"),
        min_weeks=r.integer(window, "min_weeks", "window.min_weeks"),
        weighting=r.string(window, "weighting", "window.weighting"),
        modules_cap_points=r.number(modules, "cap_points", "modules.cap_points"),
        module_min_records=r.integer(modules, "min_records", "modules.min_records"),
        module_points=module_points,
        core_modules=tuple(core),
        ratio_bands=tuple(ratio_bands),
        source=source,
    )


def _check_values(sc: Scorecard) -> None:
    """Semantic checks shared by the loader and direct construction (what-if edits)."""

    def fail(key: str, problem: str) -> UserError:
        return UserError(f"{sc.source}: {key}: {problem}")

    if not 0 < sc.unhealthy_below < sc.healthy_min <= 100:
        raise fail(
            "tiers",
            "thresholds must satisfy 0 < unhealthy_below < healthy_min <= 100, got "
            f"unhealthy_below={_num(sc.unhealthy_below)}, healthy_min={_num(sc.healthy_min)}",
        )
    if sc.window_weeks < 1:
        raise fail("window.weeks", f"must be >= 1, got {sc.window_weeks}")
    if not 1 <= sc.min_weeks <= sc.window_weeks:
        raise fail("window.min_weeks", f"must be in 1..{sc.window_weeks} (window.weeks), got {sc.min_weeks}")
    if sc.weighting not in WEIGHTINGS:
        raise fail("window.weighting", f"unknown weighting {sc.weighting!r} (expected {', '.join(WEIGHTINGS)})")
    if not (math.isfinite(sc.modules_cap_points) and sc.modules_cap_points >= 0):
        raise fail("modules.cap_points", f"must be >= 0, got {_num(sc.modules_cap_points)}")
    if sc.module_min_records < 1:
        raise fail("modules.min_records", f"must be >= 1, got {sc.module_min_records}")
    for module, points in sc.module_points:
        if not (math.isfinite(points) and points >= 0):
            raise fail(f"modules.points.{module}", f"points must be >= 0, got {_num(points)}")
    known = dict(sc.module_points)
    for module in sc.core_modules:
        if module not in known:
            raise fail("modules.core", f"{module!r} is not in modules.points")
    indicators = [ind for ind, _ in sc.ratio_bands]
    for ind in indicators:
        if ind not in INDICATORS:
            raise fail(f"ratios.{ind}", f"unknown indicator (expected {', '.join(INDICATORS)})")
    for ind in INDICATORS:
        if ind not in indicators:
            raise UserError(f"{sc.source}: missing key ratios.{ind}")
    for ind, bands in sc.ratio_bands:
        key = f"ratios.{ind}.bands"
        if not bands:
            raise fail(key, "must be a non-empty list of [min_value, points]")
        for lo, pts in bands:
            if not math.isfinite(lo) or not math.isfinite(pts):
                raise fail(key, "min_value and points must be finite numbers")
            if pts < 0:
                raise fail(key, f"negative points {_num(pts)} (band min_value {_num(lo)})")
        mins = [lo for lo, _ in bands]
        for a, b in zip(mins, mins[1:]):
            if not a < b:
                raise fail(key, f"bands must be strictly ascending by min_value ({_num(a)} then {_num(b)})")
