"""The scoring SQL, generated from the scorecard in the cfg_* tables.

``health_weekly`` and ``health_indicator_weekly`` are written for the scorecard at hand: one
column per metric an indicator reads, one value / week-points / window-points column per
indicator, band points as plain CASE expressions and the window as LAG over each account's
scored weeks. No list functions, no row per indicator until ``health_indicator_weekly``
unpivots the columns. The statements are built from the cfg tables of the connection (the
what-if and the alert trade-off write their own), never from names: columns are named by
ordinal (``m_<cfg_metrics ordinal>``, ``value_<cfg_indicators ordinal>``, ...) and every value
(metric names, band bounds and points, weights, thresholds) is a bound parameter.

The rules are those of cslib.rules.scorecard (module docstring) and its pandas reference
``bench.pandas_reference.score_usage_pandas``; the arithmetic is done in the reference's order (window weights lag
0 first; the score sums the indicators' window points modules first), so both give the
same doubles.

health_weekly columns: HEALTH_WEEKLY_COLUMNS (account_id, week_start, weeks_in_window,
score, tier, modules_points, modules_used, core_modules_used), then per indicator ordinal k
(0 = modules, then cfg_indicators order) ``value_k``, ``week_points_k``, ``window_points_k``:
read them through health_indicator_weekly (with cfg_indicators), never by position.

health_indicator_weekly: one row per health_weekly row and cfg_indicators row ('modules'
included): ``indicator`` (the scorecard name, 'modules' for the module points), ``value``
(the week's ratio or metric value, NULL when a metric is missing or the denominator is 0;
for 'modules' the number of features used), ``window_points`` (the weighted window average
of the indicator's weekly points; the score is round(least(100, their sum), 1)),
``week_points`` (weight x band points; capped module points), ``weeks_in_window`` and, for
'modules', ``core_modules_used``. Readers that need "which indicator" (alerts, renewal-model
features, nine-box drivers) read it with cfg_indicators (label, ordinal, max_points).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class _Indicator:
    ordinal: int
    numerator: int  # cfg_metrics ordinal
    denominator: int | None
    bands: tuple[tuple[float, float], ...]  # (min_value, weight x points), ascending


@dataclass(frozen=True)
class _Config:
    metrics: tuple[tuple[int, str], ...]  # (ordinal, name) of the metrics indicators read
    indicators: tuple[_Indicator, ...]
    weights: tuple[tuple[int, float], ...]  # (lag, weight), lag 0 first
    n_indicators: int  # cfg_indicators rows ('modules' included)
    min_weeks: int
    healthy_min: float
    unhealthy_below: float
    cap_points: float
    min_records: int
    default_points: float


def _config(conn: duckdb.DuckDBPyConnection) -> _Config:
    params = conn.execute(
        "select min_weeks, healthy_min, unhealthy_below, modules_cap_points, module_min_records, "
        "module_default_points from cfg_score_params"
    ).fetchone()
    metric_ordinal = dict(conn.execute("select metric, ordinal from cfg_metrics").fetchall())
    bands: dict[str, list[tuple[float, float]]] = {}
    for indicator, lo, points in conn.execute(
        "select indicator, min_value, points from cfg_ratio_bands order by indicator, min_value"
    ).fetchall():
        bands.setdefault(indicator, []).append((float(lo), float(points)))
    rows = conn.execute(
        "select indicator, ordinal, numerator, denominator, weight from cfg_indicators "
        "where indicator <> 'modules' order by ordinal"
    ).fetchall()
    indicators = []
    for name, ordinal, numerator, denominator, weight in rows:
        # weight x band points, as the reference multiplies them (one IEEE product)
        scaled = tuple((lo, float(weight) * pts) for lo, pts in bands.get(name, []))
        indicators.append(_Indicator(
            int(ordinal), metric_ordinal[numerator],
            None if denominator is None else metric_ordinal[denominator], scaled))
    used = sorted({i.numerator for i in indicators} | {i.denominator for i in indicators if i.denominator is not None})
    names = {o: m for m, o in metric_ordinal.items()}
    weights = tuple((int(lag), float(w)) for lag, w in conn.execute(
        "select lag, weight from cfg_window_weights order by lag").fetchall())
    n_indicators = conn.execute("select count(*) from cfg_indicators").fetchone()[0]
    return _Config(
        metrics=tuple((o, names[o]) for o in used),
        indicators=tuple(indicators),
        weights=weights,
        n_indicators=int(n_indicators),
        min_weeks=int(params[0]),
        healthy_min=float(params[1]),
        unhealthy_below=float(params[2]),
        cap_points=float(params[3]),
        min_records=int(params[4]),
        default_points=float(params[5]),
    )


def health_weekly_sql(conn: duckdb.DuckDBPyConnection) -> tuple[str, list]:
    """(statement, parameters) that creates ``health_weekly`` from ``stg_usage_weekly``."""
    cfg = _config(conn)
    params: list = []

    def bind(value) -> str:
        params.append(value)
        return "?"

    ordinals = [0, *(i.ordinal for i in cfg.indicators)]

    # 1. one pass over the weekly usage: the indicators' metrics pivoted to columns, the
    #    features used (value >= min_records) counted and their points summed. A scored
    #    week has a value for at least one declared metric.
    pivots = "".join(
        f",\n        max(value) filter (where metric = {bind(name)}) as m_{o}" for o, name in cfg.metrics)
    min_records = cfg.min_records
    usage = f"""metric_weeks as (
    select
        account_id,
        week_start{pivots}
    from stg_usage_weekly
    where not is_feature
    group by account_id, week_start
),

feature_weeks as (
    select
        f.account_id,
        f.week_start,
        count(*) as modules_used,
        count(*) filter (where p.is_core) as core_modules_used,
        sum(coalesce(p.points, {bind(cfg.default_points)})) as module_points
    from stg_usage_weekly as f
    left join cfg_module_points as p on p.module = f.metric
    where f.is_feature
        and f.value >= {bind(min_records)}
    group by f.account_id, f.week_start
),

usage as (
    select m.*, f.modules_used, f.core_modules_used, f.module_points
    from metric_weeks as m
    left join feature_weeks as f
        on f.account_id = m.account_id
        and f.week_start = m.week_start
)"""

    # 2. each indicator's weekly value (metric, or ratio; NULL when missing or / 0)
    values = "".join(
        f",\n        m_{i.numerator}" + (f" / nullif(m_{i.denominator}, 0)" if i.denominator is not None else "")
        + f" as value_{i.ordinal}"
        for i in cfg.indicators
    )
    valued = f"""valued as (
    select
        account_id,
        week_start,
        coalesce(modules_used, 0)::integer as modules_used,
        coalesce(core_modules_used, 0)::integer as core_modules_used,
        coalesce(modules_used, 0)::double as value_0,
        least(coalesce(module_points, 0.0), {bind(cfg.cap_points)}) as week_points_0{values}
    from usage
)"""

    # 3. weight x the points of the highest band whose min_value <= value; 0 below the
    #    first band or when the value is NULL
    def band_case(ind: _Indicator) -> str:
        whens = " ".join(f"when value_{ind.ordinal} >= {bind(lo)} then {bind(pts)}" for lo, pts in reversed(ind.bands))
        return f"case {whens} else 0.0 end" if whens else "0.0"

    points = "".join(f",\n        {band_case(i)} as week_points_{i.ordinal}" for i in cfg.indicators)
    pointed = f"""pointed as (
    select *{points}
    from valued
)"""

    # 4. the calendar window: week t averages the scored weeks t - 7 * lag. Rows are one per
    #    account and scored week, so the week t - 7 * lag, when scored, is at most `lag`
    #    rows back: the LAGs of up to the longest lag find it.
    lags = [lag for lag, _ in cfg.weights if lag > 0]
    back = max(lags, default=0)
    fields = ", ".join(["w := week_start", *(f"p{k} := week_points_{k}" for k in ordinals)])
    lagged_cols = "".join(f",\n        lag(struct_pack({fields}), {j}) over account_weeks as back_{j}"
                          for j in range(1, back + 1))
    window_clause = "\n    window account_weeks as (partition by account_id order by week_start)" if back else ""
    lagged = f"""lagged as (
    select *{lagged_cols}
    from pointed{window_clause}
)"""

    def at_lag(lag: int, field: str) -> str:
        """The field of the scored week lag weeks back, NULL when that week is not scored."""
        whens = " ".join(f"when back_{j}.w = week_start - {7 * lag} then back_{j}.{field}" for j in range(1, lag + 1))
        return f"case {whens} end"

    weights = dict(cfg.weights)
    present = {lag: f"(case when {at_lag(lag, 'w')} is not null then 1 else 0 end)" for lag in lags}
    weeks_in_window = " + ".join(["1", *(present[lag] for lag in lags)])
    weight_sum = " + ".join([f"{bind(weights.get(0, 1.0))}", *(f"{bind(weights[lag])} * {present[lag]}" for lag in lags)])
    window_cols = []
    for k in ordinals:
        terms = [f"{bind(weights.get(0, 1.0))} * week_points_{k}",
                 *(f"{bind(weights[lag])} * coalesce({at_lag(lag, f'p{k}')}, 0.0)" for lag in lags)]
        window_cols.append(f"({' + '.join(terms)}) / weight_sum as window_points_{k}")
    windowed = f"""windowed as (
    select
        *,
        ({weeks_in_window})::integer as weeks_in_window,
        {weight_sum} as weight_sum
    from lagged
),

window_points as (
    select
        *,
        {(','+chr(10)+'        ').join(window_cols)}
    from windowed
)"""

    # 5. score = round(least(100, sum of window points), 1), summed modules first; NULL below
    #    min_weeks. round(x, 9) drops floating-point noise, the decimal round then takes
    #    exact ties half away from zero (27.65 -> 27.7).
    total = " + ".join(f"window_points_{k}" for k in ordinals)
    scored = f"""scored as (
    select
        *,
        case when weeks_in_window >= {bind(cfg.min_weeks)}
            then round(round(least(100, {total}), 9)::decimal(18, 9), 1)::double
        end as score
    from window_points
)"""
    per_indicator = "".join(f",\n    value_{k},\n    week_points_{k},\n    window_points_{k}" for k in ordinals)
    final = f"""select
    account_id,
    week_start,
    weeks_in_window,
    score,
    case
        when score is null then 'unscored'
        when score >= {bind(cfg.healthy_min)} then 'healthy'
        when score < {bind(cfg.unhealthy_below)} then 'unhealthy'
        else 'at_risk'
    end as tier,
    window_points_0 as modules_points,
    modules_used,
    core_modules_used{per_indicator}
from scored"""
    sql = (
        "-- health_weekly, generated by cslib.rules.scoring_sql from the cfg_* tables\n"
        "create or replace table health_weekly as\nwith "
        + ",\n\n".join([usage, valued, pointed, lagged, windowed, scored])
        + "\n\n" + final
    )
    return sql, params


def health_indicator_weekly_sql(conn: duckdb.DuckDBPyConnection) -> tuple[str, list]:
    """(statement, parameters) that creates ``health_indicator_weekly``: health_weekly's
    per-indicator columns as one row per scored week and cfg_indicators row.

    A view, not a table: it is health_weekly unpivoted, so storing it would write every
    scored week again once per indicator (40M rows at 100,000 accounts x 3 years) for
    readers that take one account (the account page), one month (the Nine-box cell) or
    read it once at build time (alerts, renewal-model features). A database built before
    it was a view has it as a table: that table is dropped first."""
    ordinals = [int(o) for (o,) in conn.execute("select ordinal from cfg_indicators order by ordinal").fetchall()]

    def pick(column: str) -> str:
        if not ordinals:
            return "null::double"
        whens = " ".join(f"when {k} then h.{column}_{k}" for k in ordinals)
        return f"case i.ordinal {whens} end"

    was_table = conn.execute(
        "select count(*) from duckdb_tables() where table_name = 'health_indicator_weekly' and not temporary"
        " and database_name = current_database() and schema_name = current_schema()"
    ).fetchone()[0]
    drop = "drop table health_indicator_weekly;\n" if was_table else ""
    sql = f"""{drop}-- health_indicator_weekly, generated by cslib.rules.scoring_sql from cfg_indicators
create or replace view health_indicator_weekly as
select
    h.account_id,
    h.week_start,
    i.indicator,
    {pick('value')} as value,
    {pick('window_points')} as window_points,
    {pick('week_points')} as week_points,
    h.weeks_in_window,
    case when i.indicator = 'modules' then h.core_modules_used end as core_modules_used
from health_weekly as h
cross join cfg_indicators as i"""
    return sql, []
