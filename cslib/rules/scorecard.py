"""The health scorecard: load and validate the TOML, write the cfg_* tables, score in pandas.

A scorecard declares the usage **metrics** it reads (how each rolls up to a Monday week and
how a week without rows is filled), the **indicators** it scores (a metric, or the ratio of
two metrics, banded into points and multiplied by a weight), the points of the
**features** (every usage name the scorecard does not declare as a metric: the modules of
module_usage_weekly.csv, undeclared usage_weekly columns, undeclared usage_metrics names),
the tiers and the window. See ``cslib/config/scorecard.toml`` and docs/health-score.md.

The scoring runs in SQL over the config tables written by :func:`write_config_tables`:
``stg_usage_weekly.sql`` (usage rolled up to account x Monday week x metric, missing weeks
filled), then ``health_weekly`` (per scored week the score, the tier and every indicator's
value, weekly and window points as columns) and ``health_indicator_weekly`` (those columns
as one row per week and indicator), whose SQL cslib.rules.scoring_sql generates from the cfg
tables (:func:`model_sql`): one column per indicator, band points as CASE expressions, the
window as LAG over each account's weeks. ``bench.pandas_reference.score_usage_pandas`` (outside the product) is a plain
pandas reference of the same scoring rules from the weekly long frame: tests compare the
two on every column and the benchmark compares their speed. :func:`tier_of` mirrors the
SQL tier rule.

Scoring rules, all numbers from the scorecard:

* a scored week is an account-week with a value for at least one declared metric (after
  the missing-week fill of stg_usage_weekly);
* an indicator's weekly value is its numerator metric, divided by its denominator metric
  when it has one; NULL (0 points) when a metric is missing or the denominator is 0;
* the value scores the points of the highest band whose min_value <= value (0 below the
  first band), times the indicator's weight;
* weekly module points = sum of the points of the features whose weekly value >=
  min_records (points from [modules.points], else default_points), capped at cap_points;
* window points per indicator = sum(weight * points) / sum(weight) over the calendar
  weeks of the window that are scored weeks (lag 0 = the week itself);
* score = round(least(100, sum of the window points), 1), NULL when fewer than
  ``min_weeks`` weeks are present (the window points are still given); tier from the
  thresholds on the rounded score. The sum is first rounded to 9 decimals (floating-point
  noise from the order of additions), then exact ties go away from zero: 27.65 -> 27.7.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import duckdb

from cslib import labels, settings
from cslib.errors import UserError
from cslib.rules import tomlfile

#: How a metric's rows of one week become its weekly value.
AGGREGATIONS: tuple[str, ...] = ("sum", "max", "min", "avg", "last", "days_active")
#: What a week without rows (of an account paying that month) counts as, per metric.
MISSING: tuple[str, ...] = ("zero", "carry", "none")
#: Window weighting schemes: "linear" weight = weeks - lag; "equal" weight = 1.
WEIGHTINGS: tuple[str, ...] = ("linear", "equal")
#: The indicator name of the module (feature) points in cfg_indicators and
#: health_indicator_weekly (ordinal 0); no scorecard indicator may take it.
MODULES = "modules"
#: Columns of the health_weekly model (and of score_usage_pandas's ``weekly``), in order.
HEALTH_WEEKLY_COLUMNS: tuple[str, ...] = (
    "account_id",
    "week_start",
    "weeks_in_window",
    "score",
    "tier",
    "modules_points",
    "modules_used",
    "core_modules_used",
)
#: Columns of the health_indicator_weekly model (and of score_usage_pandas's ``indicators``).
INDICATOR_COLUMNS: tuple[str, ...] = (
    "account_id",
    "week_start",
    "indicator",
    "value",
    "window_points",
    "week_points",
)
TIERS: tuple[str, ...] = ("healthy", "at_risk", "unhealthy", "unscored")

Bands = tuple[tuple[float, float], ...]

_NAME = re.compile(r"[a-z][a-z0-9_]*")


class Metric(NamedTuple):
    """A declared usage metric: its weekly aggregation and its missing-week rule."""

    name: str
    aggregation: str = "sum"
    missing: str = "zero"


class Indicator(NamedTuple):
    """A scored indicator: numerator metric (/ denominator metric), weight, label."""

    name: str
    label: str
    numerator: str
    denominator: str | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class Scorecard:
    """A validated health scorecard (see ``cslib/config/scorecard.toml`` for the meaning).

    ``metrics`` is (Metric, ...); ``indicators`` is (Indicator, ...) in scorecard order;
    ``ratio_bands`` is ((indicator, ((min_value, points), ...)), ...), one entry per
    indicator; ``module_points`` is ((feature, points), ...). Construction (also via
    ``dataclasses.replace``) validates and raises :class:`UserError` naming ``source``
    and the TOML key at fault.
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
    metrics: tuple[Metric, ...]
    indicators: tuple[Indicator, ...]
    module_default_points: float = 0.0
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
        set_(self, "metrics", tuple(Metric(*m) for m in self.metrics))
        set_(
            self,
            "indicators",
            tuple(
                Indicator(i[0], i[1], i[2], i[3] if len(i) > 3 else None, float(i[4]) if len(i) > 4 else 1.0)
                for i in self.indicators
            ),
        )
        for name in ("healthy_min", "unhealthy_below", "modules_cap_points", "module_default_points"):
            set_(self, name, float(getattr(self, name)))
        _check_values(self)

    def bands_for(self, indicator: str) -> Bands:
        """((min_value, points), ...) of one indicator, ascending."""
        return dict(self.ratio_bands)[indicator]

    def indicator(self, name: str) -> Indicator:
        for ind in self.indicators:
            if ind.name == name:
                return ind
        raise KeyError(name)

    def metric_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.metrics)

    def window_weights(self) -> tuple[tuple[int, float], ...]:
        """((lag, weight), ...) for lag 0 (the scored week) .. window_weeks - 1."""
        if self.weighting == "linear":
            return tuple((lag, float(self.window_weeks - lag)) for lag in range(self.window_weeks))
        return tuple((lag, 1.0) for lag in range(self.window_weeks))

    def indicator_max_points(self, name: str) -> float:
        """Most weekly (and window) points an indicator can give: weight x its top band."""
        if name == MODULES:
            return self.modules_cap_points
        return self.indicator(name).weight * max(p for _, p in self.bands_for(name))

    def max_points(self) -> float:
        """Most points the scorecard can give before the cap at 100."""
        return self.modules_cap_points + sum(self.indicator_max_points(i.name) for i in self.indicators)

    def to_toml(self) -> str:
        """The scorecard as TOML text; ``load_scorecard`` of it gives an equal Scorecard."""
        lines = [
            "# Health scorecard (written by cslib.rules.scorecard.Scorecard.to_toml; the meaning",
            "# of every key is documented in cslib/config/scorecard.toml and docs/health-score.md).",
            "",
            "[tiers]",
            f"healthy_min = {_num(self.healthy_min)}",
            f"unhealthy_below = {_num(self.unhealthy_below)}",
            "",
            "[window]",
            f"weeks = {self.window_weeks}",
            f"min_weeks = {self.min_weeks}",
            f"weighting = {_str(self.weighting)}",
        ]
        for m in self.metrics:
            lines += ["", f"[metrics.{m.name}]", f"aggregation = {_str(m.aggregation)}", f"missing = {_str(m.missing)}"]
        for ind in self.indicators:
            pairs = ", ".join(f"[{_num(lo)}, {_num(p)}]" for lo, p in self.bands_for(ind.name))
            lines += ["", f"[indicators.{ind.name}]", f"label = {_str(ind.label)}", f"numerator = {_str(ind.numerator)}"]
            if ind.denominator is not None:
                lines.append(f"denominator = {_str(ind.denominator)}")
            lines += [f"weight = {_num(ind.weight)}", f"bands = [{pairs}]"]
        lines += [
            "",
            "[modules]",
            f"cap_points = {_num(self.modules_cap_points)}",
            f"min_records = {self.module_min_records}",
            f"default_points = {_num(self.module_default_points)}",
            f"core = [{', '.join(_str(m) for m in self.core_modules)}]",
            "",
            "[modules.points]",
            *(f"{_key(m)} = {_num(p)}" for m, p in self.module_points),
        ]
        return "\n".join(lines) + "\n"


def load_scorecard(path: str | os.PathLike | None = None) -> Scorecard:
    """Read and validate a scorecard TOML (default: setting ``HEALTHGRID_SCORECARD``).

    Raises UserError("<file>: <key>: <problem>") for a missing file, bad TOML, a missing,
    unknown or mistyped key, a name that is not ``[a-z][a-z0-9_]*``, an unknown
    aggregation or missing rule, an indicator reading an undeclared metric, bands not
    ascending, negative points, thresholds not 0 < unhealthy_below < healthy_min <= 100,
    weeks < 1, min_weeks outside 1..weeks or an unknown weighting.
    """
    path = Path(path if path is not None else settings.get("HEALTHGRID_SCORECARD"))
    data = tomlfile.read(path, "scorecard")
    return _from_dict(data, str(path))


def tier_of(score: float | None, scorecard: Scorecard) -> str:
    """'healthy' (score >= healthy_min), 'unhealthy' (< unhealthy_below), 'at_risk' between,
    'unscored' for None/NaN: the same rule as the health_weekly SQL."""
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return "unscored"
    if score >= scorecard.healthy_min:
        return "healthy"
    if score < scorecard.unhealthy_below:
        return "unhealthy"
    return "at_risk"


def write_config_tables(conn: duckdb.DuckDBPyConnection, scorecard: Scorecard) -> None:
    """(Re)create cfg_score_params, cfg_metrics, cfg_indicators, cfg_ratio_bands,
    cfg_module_points and cfg_window_weights. Values are bound parameters only.

    cfg_indicators: indicator, label, ordinal (0 = 'modules', then scorecard order),
    max_points (weight x top band; the module cap for 'modules'), numerator, denominator,
    weight. cfg_ratio_bands holds the band points before the weight.
    """
    sc = scorecard
    conn.execute(
        "create or replace table cfg_score_params (window_weeks integer, min_weeks integer, "
        "healthy_min double, unhealthy_below double, modules_cap_points double, "
        "module_min_records integer, module_default_points double)"
    )
    conn.execute(
        "insert into cfg_score_params values (?, ?, ?, ?, ?, ?, ?)",
        [sc.window_weeks, sc.min_weeks, sc.healthy_min, sc.unhealthy_below,
         sc.modules_cap_points, sc.module_min_records, sc.module_default_points],
    )
    conn.execute(
        "create or replace table cfg_metrics (metric varchar, aggregation varchar, missing varchar, "
        "ordinal integer)"
    )
    _insert_many(conn, "insert into cfg_metrics values (?, ?, ?, ?)",
                 [(m.name, m.aggregation, m.missing, i) for i, m in enumerate(sc.metrics, start=1)])
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
        "max_points double, numerator varchar, denominator varchar, weight double)"
    )
    _insert_many(conn, "insert into cfg_indicators values (?, ?, ?, ?, ?, ?, ?)", indicator_rows(sc))


def indicator_rows(sc: Scorecard) -> list[tuple]:
    """(indicator, label, ordinal, max_points, numerator, denominator, weight) for
    cfg_indicators: 'modules' first (its maximum is the module cap), then the indicators
    in scorecard order."""
    rows: list[tuple] = [(MODULES, "Modules", 0, sc.modules_cap_points, None, None, 1.0)]
    for i, ind in enumerate(sc.indicators, start=1):
        rows.append((ind.name, ind.label, i, sc.indicator_max_points(ind.name), ind.numerator,
                     ind.denominator, ind.weight))
    return rows


#: The SQL models that score, in order (after the cfg_* tables are written).
SCORING_MODELS: tuple[str, ...] = ("stg_usage_weekly", "health_weekly", "health_indicator_weekly")


def model_sql(conn: duckdb.DuckDBPyConnection, model: str) -> tuple[str, list]:
    """(statement, parameters) of a SQL model: ``cslib/sql/<model>.sql``, except
    health_weekly and health_indicator_weekly, which cslib.rules.scoring_sql generates from the
    connection's cfg_* tables (written by :func:`write_config_tables`)."""
    from cslib.rules import scoring_sql
    from cslib.store.db import sql_file

    if model == "health_weekly":
        return scoring_sql.health_weekly_sql(conn)
    if model == "health_indicator_weekly":
        return scoring_sql.health_indicator_weekly_sql(conn)
    return sql_file(model), []


def score_weeks(conn: duckdb.DuckDBPyConnection, from_weekly: bool = False) -> None:
    """Run the scoring models on ``conn`` (cfg_* tables written). With ``from_weekly`` the
    connection already holds ``stg_usage_weekly`` (a copy, as the what-if makes) and only
    the indicator and score models run."""
    for model in SCORING_MODELS[1:] if from_weekly else SCORING_MODELS:
        conn.execute(*model_sql(conn, model))


def unlisted_features(conn) -> list[str]:
    """Features in the scored usage that the scorecard's [modules.points] does not list
    (they score [modules] default_points), sorted; [] when the tables are absent."""
    from cslib.store.db import query

    try:
        df = query(
            conn,
            "select distinct u.metric from stg_usage_weekly as u "
            "anti join cfg_module_points as p on p.module = u.metric "
            "where u.is_feature order by 1",
        )
    except duckdb.CatalogException:
        return []
    return [str(m) for m in df["metric"]]


def unlisted_features_warning(conn) -> str | None:
    """One warning line naming the unlisted features, or None when there are none."""
    names = unlisted_features(conn)
    if not names:
        return None
    shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    points = query_default_points(conn)
    return (
        f"scorecard: {len(names)} feature(s) not in [modules.points] score the default "
        f"{_num(points)} point(s): {shown}"
    )


def query_default_points(conn) -> float:
    from cslib.store.db import query

    df = query(conn, "select module_default_points from cfg_score_params")
    return float(df.iloc[0, 0]) if len(df) else 0.0


# --- helpers -------------------------------------------------------------------------


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
_TOP_KEYS = ("tiers", "window", "metrics", "indicators", "modules")
_KEYS = {
    "tiers": ("healthy_min", "unhealthy_below"),
    "window": ("weeks", "min_weeks", "weighting"),
    "modules": ("cap_points", "min_records", "core", "points", "default_points"),
    "metric": ("aggregation", "missing"),
    "indicator": ("label", "numerator", "denominator", "weight", "bands"),
}


class _Reader:
    """Typed access to the parsed TOML that names the file and dotted key on error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> UserError:
        return UserError(f"{self.source}: {key}: {problem}")

    def table(self, data: dict, key: str, path: str, allowed: tuple[str, ...] | None, default=None) -> dict:
        if default is not None and key not in data:
            return default
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

    def number(self, data: dict, key: str, path: str, default: float | None = None) -> float:
        if default is not None and key not in data:
            return default
        value = self.get(data, key, path)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(path, f"must be a finite number, got {value!r}")
        return float(value)

    def integer(self, data: dict, key: str, path: str) -> int:
        value = self.get(data, key, path)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"must be an integer, got {value!r}")
        return value

    def string(self, data: dict, key: str, path: str, default: str | None = None) -> str:
        if default is not None and key not in data:
            return default
        value = self.get(data, key, path)
        if not isinstance(value, str):
            raise self.fail(path, f"must be a string, got {value!r}")
        return value

    def bands(self, data: dict, path: str) -> Bands:
        bands = self.get(data, "bands", path)
        if not isinstance(bands, list) or not bands:
            raise self.fail(path, "must be a non-empty list of [min_value, points]")
        pairs = []
        for i, band in enumerate(bands):
            if not isinstance(band, list) or len(band) != 2:
                raise self.fail(path, f"band {i + 1} must be [min_value, points], got {band!r}")
            pairs.append((self.number({"v": band[0]}, "v", path), self.number({"v": band[1]}, "v", path)))
        return tuple(pairs)


def _from_dict(data: dict, source: str) -> Scorecard:
    r = _Reader(source)
    for k in data:
        if k not in _TOP_KEYS:
            raise r.fail(k, "unknown key")
    tiers = r.table(data, "tiers", "tiers", _KEYS["tiers"])
    window = r.table(data, "window", "window", _KEYS["window"])
    modules = r.table(data, "modules", "modules", _KEYS["modules"])
    metrics_table = r.table(data, "metrics", "metrics", None, default={})
    indicators_table = r.table(data, "indicators", "indicators", None, default={})

    metrics = []
    for name in metrics_table:
        path = f"metrics.{name}"
        _check_name(r, path, name)
        spec = r.table(metrics_table, name, path, _KEYS["metric"])
        metrics.append(Metric(
            name,
            r.string(spec, "aggregation", f"{path}.aggregation", default="sum"),
            r.string(spec, "missing", f"{path}.missing", default="zero"),
        ))
    indicators, ratio_bands = [], []
    for name in indicators_table:
        path = f"indicators.{name}"
        _check_name(r, path, name)
        spec = r.table(indicators_table, name, path, _KEYS["indicator"])
        denominator = spec.get("denominator")
        indicators.append(Indicator(
            name,
            r.string(spec, "label", f"{path}.label", default=labels.label(name)),
            r.string(spec, "numerator", f"{path}.numerator"),
            None if denominator is None else r.string(spec, "denominator", f"{path}.denominator"),
            r.number(spec, "weight", f"{path}.weight", default=1.0),
        ))
        ratio_bands.append((name, r.bands(spec, f"{path}.bands")))

    points_table = r.table(modules, "points", "modules.points", None, default={})
    module_points = tuple(
        (name, r.number(points_table, name, f"modules.points.{name}")) for name in points_table
    )
    core = modules.get("core", [])
    if not isinstance(core, list) or not all(isinstance(m, str) for m in core):
        raise r.fail("modules.core", "must be a list of feature names")

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
        metrics=tuple(metrics),
        indicators=tuple(indicators),
        module_default_points=r.number(modules, "default_points", "modules.default_points", default=0.0),
        source=source,
    )


def _check_name(r: _Reader, path: str, name: str) -> None:
    if not _NAME.fullmatch(name):
        raise r.fail(path, f"name {name!r} must be lower case letters, digits and _, starting with a letter")


#: Declared metrics at most: the roll-up (stg_usage_weekly.sql) marks the metrics an
#: account-week has as bits of one 64-bit integer, and the scoring SQL has a column per metric.
MAX_METRICS = 64


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

    if len(sc.metrics) > MAX_METRICS:
        raise fail("metrics", f"at most {MAX_METRICS} metrics can be declared, got {len(sc.metrics)} "
                              "(usage names that are not metrics are features: list them under [modules.points])")
    declared = set()
    for m in sc.metrics:
        key = f"metrics.{m.name}"
        if not _NAME.fullmatch(m.name):
            raise fail(key, f"name {m.name!r} must be lower case letters, digits and _, starting with a letter")
        if m.name in declared:
            raise fail(key, "declared twice")
        declared.add(m.name)
        if m.aggregation not in AGGREGATIONS:
            raise fail(f"{key}.aggregation",
                       f"unknown aggregation {m.aggregation!r} (expected {', '.join(AGGREGATIONS)})")
        if m.missing not in MISSING:
            raise fail(f"{key}.missing", f"unknown rule {m.missing!r} (expected {', '.join(MISSING)})")

    names = [i.name for i in sc.indicators]
    banded = [ind for ind, _ in sc.ratio_bands]
    for ind in sc.indicators:
        key = f"indicators.{ind.name}"
        if not _NAME.fullmatch(ind.name):
            raise fail(key, f"name {ind.name!r} must be lower case letters, digits and _, starting with a letter")
        if ind.name == MODULES:
            raise fail(key, f"{MODULES!r} is reserved for the module points ([modules])")
        if names.count(ind.name) > 1:
            raise fail(key, "declared twice")
        for role, metric in (("numerator", ind.numerator), ("denominator", ind.denominator)):
            if metric is not None and metric not in declared:
                raise fail(f"{key}.{role}", f"unknown metric {metric!r} (declare it under [metrics.{metric}])")
        if not (math.isfinite(ind.weight) and ind.weight > 0):
            raise fail(f"{key}.weight", f"must be > 0, got {_num(ind.weight)}")
        if ind.name not in banded:
            raise fail(f"{key}.bands", "missing bands")
    for ind, bands in sc.ratio_bands:
        key = f"indicators.{ind}.bands"
        if ind not in names:
            raise fail(f"indicators.{ind}", "bands for an unknown indicator")
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

    if not (math.isfinite(sc.modules_cap_points) and sc.modules_cap_points >= 0):
        raise fail("modules.cap_points", f"must be >= 0, got {_num(sc.modules_cap_points)}")
    if sc.module_min_records < 1:
        raise fail("modules.min_records", f"must be >= 1, got {sc.module_min_records}")
    if not (math.isfinite(sc.module_default_points) and sc.module_default_points >= 0):
        raise fail("modules.default_points", f"must be >= 0, got {_num(sc.module_default_points)}")
    for module, points in sc.module_points:
        if module in declared:
            raise fail(f"modules.points.{module}",
                       f"{module!r} is declared under [metrics]: features are the names that are not metrics")
        if not (math.isfinite(points) and points >= 0):
            raise fail(f"modules.points.{module}", f"points must be >= 0, got {_num(points)}")
    known = dict(sc.module_points)
    for module in sc.core_modules:
        if module not in known:
            raise fail("modules.core", f"{module!r} is not in modules.points")
