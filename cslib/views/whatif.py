"""Scorecard what-if: re-score the book with edited settings, next to the stored scores.

The app's database file is never written: :func:`run_whatif` opens a fresh in-memory
DuckDB, ATTACHes the file read-only as ``src``, copies the weekly usage (stg_usage_weekly)
of the slice's accounts, writes the edited scorecard's cfg_* tables
(cslib.rules.scorecard.write_config_tables) and runs the same scoring models the pipeline runs
(health_weekly and health_indicator_weekly, cslib.rules.scoring_sql). With the database's own scorecard
(:func:`current_scorecard`) it reproduces the stored scores exactly. Any indicator set
works: the edits are bands, weights, feature points, tiers and the window.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from cslib.store.db import query, sql_file
from cslib.store.queries import render, render_sql
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.rules.scorecard import MODULES, Indicator, Metric, Scorecard, score_weeks, write_config_tables

TIER_ORDER: tuple[str, ...] = ("healthy", "at_risk", "unhealthy", "unscored")
VALUE_TIERS: tuple[str, ...] = ("high", "mid", "low")


def current_scorecard(conn) -> Scorecard:
    """The scorecard the database was scored with, rebuilt from its cfg_* tables."""
    params = query(conn, "select * from cfg_score_params")
    if params.empty:
        raise UserError("the database has no scorecard configuration (cfg_score_params is empty)")
    p = params.iloc[0]
    modules = query(conn, "select module, points, is_core from cfg_module_points order by rowid")
    bands = query(conn, "select indicator, min_value, points from cfg_ratio_bands order by rowid")
    metrics = query(conn, "select metric, aggregation, missing from cfg_metrics order by ordinal")
    indicators = query(conn, *render_sql(
        "select indicator, label, numerator, denominator, weight from cfg_indicators "
        "where indicator <> $modules order by ordinal", name="cfg_indicators", modules=MODULES,
    ))
    weights = query(conn, "select lag, weight from cfg_window_weights order by lag")
    weeks = len(weights)
    linear = [float(weeks - lag) for lag in weights["lag"]]
    weighting = "linear" if list(weights["weight"].astype(float)) == linear else "equal"
    return Scorecard(
        healthy_min=float(p["healthy_min"]),
        unhealthy_below=float(p["unhealthy_below"]),
        window_weeks=weeks,
        min_weeks=int(p["min_weeks"]),
        weighting=weighting,
        modules_cap_points=float(p["modules_cap_points"]),
        module_min_records=int(p["module_min_records"]),
        module_points=tuple(zip(modules["module"], modules["points"].astype(float))),
        core_modules=tuple(modules.loc[modules["is_core"].astype(bool), "module"]),
        ratio_bands=tuple(
            (ind, tuple(zip(g["min_value"].astype(float), g["points"].astype(float))))
            for ind, g in bands.groupby("indicator", sort=False)
        ),
        metrics=tuple(Metric(*row) for row in metrics.itertuples(index=False)),
        indicators=tuple(
            Indicator(r.indicator, r.label, r.numerator, None if pd.isna(r.denominator) else r.denominator,
                      float(r.weight))
            for r in indicators.itertuples(index=False)
        ),
        module_default_points=float(p["module_default_points"]),
        source="database scorecard",
    )


def _db_path(conn) -> str:
    path = getattr(conn, "path", None)
    if path:
        return str(path)
    df = query(conn, "select path from duckdb_databases() where database_name = current_database()")
    if df.empty or not df["path"].iloc[0]:
        raise UserError("the what-if needs a database file (an in-memory database cannot be attached)")
    return str(df["path"].iloc[0])


def _render(name: str, filters: Filters, **params) -> tuple[str, dict]:
    """``render`` of a what-if query: it runs in the in-memory database, so the attribute
    filters read the attached file's table (catalog ``src``)."""
    return render(name, filters, alias="f", catalog="src", **params)


def rescore_book(conn, scorecard: Scorecard, filters: Filters | None = None) -> duckdb.DuckDBPyConnection:
    """A new in-memory database with ``src`` (the app's file, read-only) attached and
    ``health_weekly`` re-scored with ``scorecard`` for the slice's accounts."""
    filters = filters or Filters()
    mem = duckdb.connect(":memory:")
    mem.execute(*render_sql("attach $path as src (read_only)", name="attach src", path=_db_path(conn)))
    mem.execute(*_render("model_whatif_book", filters))
    mem.execute(sql_file("model_whatif_usage"))
    write_config_tables(mem, scorecard)
    score_weeks(mem, from_weekly=True)
    return mem


def run_whatif(conn, scorecard: Scorecard, filters: Filters, month: str) -> dict[str, pd.DataFrame]:
    """Re-score the slice with ``scorecard`` and compare with the stored scores.

    Returns frames: ``accounts`` (active accounts of ``month``: arr, value_tier, score and
    tier before/after, is_overdue; tiers as on the Nine-box: an account overdue at the month
    end is 'unhealthy' before and after), ``tiers`` (tier_summary), ``ninebox`` (ninebox_shift),
    ``transitions`` (tier before x tier after counts), ``renewals`` (decided renewals with
    the month-end score before the due month, before/after), ``backtest``
    (backtest_summary) and ``rates`` (health rate before/after).
    """
    mem = rescore_book(conn, scorecard, filters)
    try:
        accounts = mem.execute(*_render("model_whatif_tiers", filters, month=month)).df()
        renewals = mem.execute(*_render("model_whatif_backtest", filters)).df()
    finally:
        mem.close()
    accounts["tier_before"] = accounts["tier_before"].fillna("unscored")
    return {
        "accounts": accounts,
        "tiers": tier_summary(accounts),
        "ninebox": ninebox_shift(accounts),
        "transitions": transitions(accounts),
        "renewals": renewals,
        "backtest": backtest_summary(renewals),
        "rates": health_rates(accounts),
    }


def tier_summary(accounts: pd.DataFrame) -> pd.DataFrame:
    """Per tier: accounts and ARR before and after. accounts: arr, tier_before, tier_after."""
    rows = []
    for tier in TIER_ORDER:
        b = accounts["tier_before"] == tier
        a = accounts["tier_after"] == tier
        rows.append(
            {
                "tier": tier,
                "accounts_before": int(b.sum()),
                "accounts_after": int(a.sum()),
                "arr_before": float(accounts.loc[b, "arr"].sum()),
                "arr_after": float(accounts.loc[a, "arr"].sum()),
            }
        )
    out = pd.DataFrame(rows)
    out["accounts_change"] = out["accounts_after"] - out["accounts_before"]
    return out


def health_rates(accounts: pd.DataFrame) -> pd.DataFrame:
    """Health rate (healthy ARR / ARR) before and after; NaN when ARR is 0. The tiers are
    the Nine-box's (overdue accounts are unhealthy), so "before" is the Overview's rate."""
    total = float(accounts["arr"].sum())
    out = {}
    for version in ("before", "after"):
        healthy = float(accounts.loc[accounts[f"tier_{version}"] == "healthy", "arr"].sum())
        out[version] = healthy / total if total > 0 else float("nan")
    return pd.DataFrame([{"health_rate_before": out["before"], "health_rate_after": out["after"], "arr": total}])


def ninebox_shift(accounts: pd.DataFrame) -> pd.DataFrame:
    """Accounts per (value tier, health tier) cell before and after, and the change.
    Unscored accounts form their own column."""
    rows = []
    for value in VALUE_TIERS:
        in_value = accounts["value_tier"] == value
        for tier in TIER_ORDER:
            before = int((in_value & (accounts["tier_before"] == tier)).sum())
            after = int((in_value & (accounts["tier_after"] == tier)).sum())
            rows.append({"value_tier": value, "tier": tier, "before": before, "after": after, "change": after - before})
    return pd.DataFrame(rows)


def transitions(accounts: pd.DataFrame) -> pd.DataFrame:
    """Counts of tier before (rows) x tier after (columns), every tier present."""
    table = pd.crosstab(accounts["tier_before"], accounts["tier_after"])
    return table.reindex(index=list(TIER_ORDER), columns=list(TIER_ORDER), fill_value=0).rename_axis(
        index="tier_before", columns="tier_after"
    )


def score_auc(scores: pd.Series, renewed: pd.Series) -> float:
    """ROC AUC of a score for renewed (1) vs not renewed (0) over rows with a score; NaN
    when one class is missing. Ties count half (Mann-Whitney)."""
    mask = scores.notna()
    s = scores[mask].astype(float).to_numpy()
    y = renewed[mask].astype(bool).to_numpy()
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = pd.Series(s).rank(method="average").to_numpy()
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def backtest_summary(renewals: pd.DataFrame) -> pd.DataFrame:
    """Per version (before/after) and tier: renewals, renewed, renewal rate; plus a row
    with tier 'all' carrying the score's AUC and the share of renewals with a score.
    renewals: is_renewed, score_before/after, tier_before/after."""
    rows = []
    renewed = renewals["is_renewed"].astype(bool)
    for version in ("before", "after"):
        tiers = renewals[f"tier_{version}"]
        scores = renewals[f"score_{version}"]
        rows.append(
            {
                "version": version,
                "tier": "all",
                "renewals": int(len(renewals)),
                "renewed": int(renewed.sum()),
                "renewal_rate": float(renewed.mean()) if len(renewals) else float("nan"),
                "auc": score_auc(scores, renewed),
                "scored_share": float(scores.notna().mean()) if len(renewals) else float("nan"),
            }
        )
        for tier in TIER_ORDER:
            m = tiers == tier
            n = int(m.sum())
            rows.append(
                {
                    "version": version,
                    "tier": tier,
                    "renewals": n,
                    "renewed": int(renewed[m].sum()),
                    "renewal_rate": float(renewed[m].mean()) if n else float("nan"),
                    "auc": np.nan,
                    "scored_share": np.nan,
                }
            )
    return pd.DataFrame(rows)


def scorecard_with(
    base: Scorecard,
    *,
    healthy_min: float | None = None,
    unhealthy_below: float | None = None,
    window_weeks: int | None = None,
    min_weeks: int | None = None,
    weighting: str | None = None,
    modules_cap_points: float | None = None,
    module_points: pd.DataFrame | None = None,
    ratio_bands: pd.DataFrame | None = None,
    weights: dict[str, float] | None = None,
    module_default_points: float | None = None,
) -> Scorecard:
    """``base`` with the edited values (None = unchanged). module_points: columns module,
    points (rows with an empty module dropped); ratio_bands: columns indicator, min_value,
    points (sorted by min_value per indicator; indicators in the base's order); weights:
    indicator -> weight. Raises UserError (one line) when invalid."""
    kwargs: dict = {}
    for name, value in (
        ("healthy_min", healthy_min),
        ("unhealthy_below", unhealthy_below),
        ("window_weeks", window_weeks),
        ("min_weeks", min_weeks),
        ("weighting", weighting),
        ("modules_cap_points", modules_cap_points),
    ):
        kwargs[name] = getattr(base, name) if value is None else value
    if module_points is not None:
        mp = module_points.dropna(subset=["module", "points"])
        mp = mp[mp["module"].astype(str).str.strip() != ""]
        modules = tuple((str(m).strip(), float(p)) for m, p in zip(mp["module"], mp["points"]))
    else:
        modules = base.module_points
    if ratio_bands is not None:
        rb = ratio_bands.dropna(subset=["indicator", "min_value", "points"]).sort_values(
            ["indicator", "min_value"], kind="stable"
        )
        bands = tuple(
            (ind, tuple(zip(g["min_value"].astype(float), g["points"].astype(float))))
            for ind, g in rb.groupby("indicator", sort=False)
        )
        order = [i.name for i in base.indicators]
        bands = tuple(sorted(bands, key=lambda b: order.index(b[0]) if b[0] in order else len(order)))
    else:
        bands = base.ratio_bands
    indicators = base.indicators
    if weights:
        indicators = tuple(i._replace(weight=float(weights.get(i.name, i.weight))) for i in indicators)
    names = {m for m, _ in modules}
    return Scorecard(
        **kwargs,
        module_min_records=base.module_min_records,
        module_points=modules,
        core_modules=tuple(m for m in base.core_modules if m in names),
        ratio_bands=bands,
        metrics=base.metrics,
        indicators=indicators,
        module_default_points=base.module_default_points if module_default_points is None else module_default_points,
        source="edited scorecard",
    )


def bands_frame(scorecard: Scorecard) -> pd.DataFrame:
    """The scorecard's ratio bands as rows (indicator, min_value, points), for editing."""
    return pd.DataFrame(
        [(ind, lo, p) for ind, bands in scorecard.ratio_bands for lo, p in bands],
        columns=["indicator", "min_value", "points"],
    )


def weights_frame(scorecard: Scorecard) -> pd.DataFrame:
    """The scorecard's indicators as rows (indicator, label, reads, weight), for editing the
    weights; ``reads`` is 'numerator / denominator' or the metric."""
    return pd.DataFrame(
        [(i.name, i.label, i.numerator if i.denominator is None else f"{i.numerator} / {i.denominator}", i.weight)
         for i in scorecard.indicators],
        columns=["indicator", "label", "reads", "weight"],
    )


def weights_of(frame: pd.DataFrame) -> dict[str, float]:
    """indicator -> weight from an edited weights_frame (rows without a weight dropped)."""
    rows = frame.dropna(subset=["indicator", "weight"])
    return {str(i): float(w) for i, w in zip(rows["indicator"], rows["weight"])}


def modules_frame(scorecard: Scorecard) -> pd.DataFrame:
    """The scorecard's module points as rows (module, points, is_core), for editing."""
    core = set(scorecard.core_modules)
    return pd.DataFrame(
        [(m, p, m in core) for m, p in scorecard.module_points], columns=["module", "points", "is_core"]
    )
