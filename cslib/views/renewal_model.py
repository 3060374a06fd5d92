"""Renewal-probability model: does the health signal predict renewal? (method section 1)

Rows are renewals (``model_renewal_features``, one per ``raw_renewals`` row); features
come from the 13 weeks of health before the due month (see that model's SQL), plus
segment and tenure. Definitions (README "Renewal model"):

* target ``is_renewed``: outcome 'renewed' (on time or late); deferred (no renewal order
  yet) and churned are not renewed, as in the Overview's renewal rate. Training labels
  are taken *as of the split date*: a training renewal whose order came on or after the
  split date counts as not renewed (it was deferred then), so nothing after the split
  date reaches the training set. ``target="renewed_on_time"`` uses renewed_on <= due_on.
* rows: decided renewals (outcome not 'pending') of target accounts.
* time split: the first day of the month at which ``test_share`` of the decided rows
  remain; train = due before it, test = due on or after it.
* models (fitted in :mod:`cslib.model.renewal_fit`): ``RenewalModel`` with ``kind="boosted"`` (HistGradientBoostingClassifier)
  and the baseline ``kind="logistic"`` (median imputation + scaling, one-hot segment,
  LogisticRegression).
* model comparison (:func:`compare_models`, at fit time): the boosted model "beats the
  baseline" only when its held-out AUC is higher *and* its Brier score lower than the
  logistic baseline's beyond the 95% interval of the paired difference over
  ``BOOTSTRAP_RESAMPLES`` bootstrap resamples of the test rows (seed ``BOOTSTRAP_SEED``);
  "worse" when the baseline is better on both in the same sense; otherwise "tie".
* drivers of one prediction: for each feature, the probability minus the probability
  with that feature set to its training median (segment: the most common one); the
  three largest in absolute value, signed (+ raises the probability).

No streamlit and no scikit-learn here: the build fits the models once
(``cslib.model.renewal_fit.write_model_tables``, called by pipeline.build_models) and stores
what the page shows; this module reads it back (:func:`stored_bundle`,
:func:`upcoming_renewals`) and holds the outcome analyses the page computes per slice.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cslib import labels
from cslib.store.db import query
from cslib.store.queries import render
from cslib.errors import UserError
from cslib.filters import Filters

#: statistics of each health series over the 13-week window
STATS: tuple[str, ...] = ("mean", "last", "slope")
#: the score's features (model_renewal_features); each scorecard indicator adds the same
#: three statistics of its window points, named by :func:`indicator_feature`
SCORE_FEATURES: tuple[str, ...] = tuple(f"score_{stat}" for stat in STATS)
OTHER_NUMERIC_FEATURES: tuple[str, ...] = ("weeks_unscored", "tenure_months")
CATEGORICAL_FEATURES: tuple[str, ...] = ("segment",)
#: the demo's segments, in display (and categorical) order; any other segment follows
#: alphabetically (:func:`order_segments`)
KNOWN_SEGMENTS: tuple[str, ...] = ("smb", "mid_market", "enterprise")
SEGMENT_LABELS: dict[str, str] = {"all": "All", "smb": "SMB", "mid_market": "Mid-market", "enterprise": "Enterprise"}
TARGETS: tuple[str, ...] = ("renewed", "renewed_on_time")
KINDS: tuple[str, ...] = ("boosted", "logistic")
MODEL_LABELS: dict[str, str] = {"boosted": "Gradient boosting", "logistic": "Logistic baseline"}
#: paired bootstrap of the test set behind the model comparison (fixed: the verdict is reproducible)
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20260
BOOTSTRAP_CONFIDENCE = 0.95
#: the comparison's verdicts, in the words the page and the README use
VERDICTS: dict[str, str] = {
    "beats": "beats the logistic baseline",
    "tie": "ties with the logistic baseline",
    "worse": "is worse than the logistic baseline",
}
MIN_ROWS = 15  # decided renewals needed in train and in test (the page warns below 100 test rows)
UPCOMING_DAYS = 90
#: whether a rise is good for each model / what-if tile (cslib.deltas): a higher AUC or
#: accuracy is better, a higher Brier score worse; a what-if's health rate is neither
TILE_UP_IS_GOOD: dict[str, bool | None] = {
    "auc": True, "brier": False, "accuracy": True, "whatif_health_rate": None, "whatif_auc": True,
}
#: indicator names of the scorecard (cfg_indicators); anything else is refused
INDICATOR_NAME = re.compile(r"[a-z][a-z0-9_]*")
_OTHER_LABELS = {"weeks_unscored": "Weeks unscored", "tenure_months": "Tenure (months)", "segment": "Segment"}


def indicator_feature(indicator: str, stat: str) -> str:
    """Feature name of one statistic of an indicator's window points: 'login_rate',
    'slope' -> 'login_rate_points_slope'. The fixed '_points_<stat>' suffix keeps the names
    of different indicators (and the score's) apart."""
    return f"{indicator}_points_{stat}"


def value_column(indicator: str) -> str:
    """Column of renewal_features with the 13-week mean of an indicator's value."""
    return f"{indicator}_value_mean"


def indicator_of_feature(name: str) -> str | None:
    """The indicator whose window-points statistic ``name`` is (None for other features)."""
    for stat in STATS:
        suffix = f"_points_{stat}"
        if name.endswith(suffix) and INDICATOR_NAME.fullmatch(name[: -len(suffix)]):
            return name[: -len(suffix)]
    return None


def order_segments(values) -> tuple[str, ...]:
    """The distinct segments of ``values`` (NULLs dropped): KNOWN_SEGMENTS first in that
    order, then the others alphabetically."""
    present = {str(v) for v in values if isinstance(v, str) and v}
    known = [s for s in KNOWN_SEGMENTS if s in present]
    return (*known, *sorted(present - set(known)))


def segment_label(segment: str) -> str:
    """Display label of a segment value: 'mid_market' -> 'Mid-market', 'scale_up' -> 'Scale up'."""
    if segment in SEGMENT_LABELS:
        return SEGMENT_LABELS[segment]
    return labels.label(segment)


@dataclass(frozen=True)
class FeatureSet:
    """The renewal model's features for one scorecard and book.

    ``indicators``: ((indicator, label), ...) in cfg_indicators ordinal order;
    ``segments``: the segment categories (:func:`order_segments`). Numeric features: the
    score's mean, last and slope, the same three of each indicator's window points (in
    indicator order), weeks_unscored and tenure_months; then segment (categorical). With
    the demo's scorecard these are the model's historical 21 features in their order.
    """

    indicators: tuple[tuple[str, str], ...]
    segments: tuple[str, ...]

    def __post_init__(self) -> None:
        for name, _ in self.indicators:
            if not INDICATOR_NAME.fullmatch(name):
                raise UserError(f"indicator name {name!r} is not a lower-case identifier")

    @property
    def numeric(self) -> tuple[str, ...]:
        per_indicator = tuple(indicator_feature(ind, stat) for ind, _ in self.indicators for stat in STATS)
        return (*SCORE_FEATURES, *per_indicator, *OTHER_NUMERIC_FEATURES)

    @property
    def categorical(self) -> tuple[str, ...]:
        return CATEGORICAL_FEATURES

    @property
    def features(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)

    def label(self, name: str) -> str:
        """'login_rate_points_slope' -> 'Login rate (slope)' (the indicator's label from
        cfg_indicators); 'score_mean' -> 'Health score (mean)'; others prettified."""
        indicator_labels = dict(self.indicators)
        for stat in STATS:
            if name == f"score_{stat}":
                return f"Health score ({stat})"
        indicator = indicator_of_feature(name)
        if indicator is not None and indicator in indicator_labels:
            return f"{indicator_labels[indicator]} ({name.rsplit('_', 1)[1]})"
        return _OTHER_LABELS.get(name, labels.label(name))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "FeatureSet":
        """The feature set of a renewal_features-shaped frame without a database: the
        indicators whose '<indicator>_points_mean' column it has (in column order, labels
        prettified) and the segments present."""
        indicators = []
        for column in frame.columns:
            ind = indicator_of_feature(str(column))
            if ind is not None and str(column).endswith("_points_mean"):
                indicators.append((ind, labels.label(ind)))
        return cls(tuple(indicators), order_segments(frame["segment"]) if "segment" in frame else ())


def indicator_table(conn) -> pd.DataFrame:
    """cfg_indicators in ordinal order: indicator, label, ordinal, max_points (names checked)."""
    df = query(conn, "select indicator, label, ordinal, max_points from cfg_indicators order by ordinal, indicator")
    for name in df["indicator"]:
        if not INDICATOR_NAME.fullmatch(str(name)):
            raise UserError(f"cfg_indicators: indicator name {name!r} is not a lower-case identifier")
    return df


def feature_set(conn, features: pd.DataFrame) -> FeatureSet:
    """The database's scorecard indicators (cfg_indicators) and the segments of ``features``."""
    ind = indicator_table(conn)
    return FeatureSet(tuple(zip(ind["indicator"], ind["label"])), order_segments(features["segment"]))


# --------------------------------------------------------------------------- data
def renewal_features(conn, filters: Filters | None = None, due_after=None, due_until=None) -> pd.DataFrame:
    """Renewals of ``model_renewal_features`` in the slice (target accounts only unless the
    filters include non-target), due in (due_after, due_until] when given, ordered by
    due_on, account_id, plus per scorecard indicator (cfg_indicators order) the columns
    ``indicator_feature(ind, stat)`` (mean, last, slope of its window points) and
    ``value_column(ind)`` (mean of its value) from model_renewal_indicator_features
    (NaN without health weeks). Dates as datetime64."""
    dates = {
        "due_after_on": pd.Timestamp(due_after).date() if due_after is not None else dt.date(1900, 1, 1),
        "due_until_on": pd.Timestamp(due_until).date() if due_until is not None else dt.date(2999, 12, 31),
    }
    df = query(conn, *render("model_renewals", filters or Filters(), alias="f", **dates))
    long = query(conn, *render("model_renewal_indicators", filters or Filters(), alias="f", **dates))
    for c in ("due_on", "renewed_on", "cutoff_on"):
        df[c] = pd.to_datetime(df[c])
    return with_indicator_columns(df, long, tuple(indicator_table(conn)["indicator"]))


def with_indicator_columns(renewals: pd.DataFrame, long: pd.DataFrame, indicators: tuple[str, ...]) -> pd.DataFrame:
    """``renewals`` (account_id, due_on, ...) plus, for each of ``indicators`` in order, its
    points' mean / last / slope and value mean taken from ``long``
    (model_renewal_indicator_features rows: account_id, due_on, indicator, points_mean,
    points_last, points_slope, value_mean); NaN where a renewal has no row."""
    key = pd.MultiIndex.from_arrays(
        [renewals["account_id"].to_numpy(), pd.to_datetime(renewals["due_on"]).to_numpy().astype("datetime64[us]")]
    )
    long = long.assign(due_on=pd.to_datetime(long["due_on"]).astype("datetime64[us]"))
    # the columns long has (the pandas reference loads only the means)
    present = [c for c in (*(f"points_{stat}" for stat in STATS), "value_mean") if c in long.columns]
    by_indicator = dict(tuple(long.groupby("indicator", sort=False))) if len(long) else {}
    columns: dict[str, np.ndarray] = {}
    for ind in indicators:
        part = by_indicator.get(ind)
        aligned = (
            part.drop_duplicates(["account_id", "due_on"]).set_index(["account_id", "due_on"])[present].reindex(key)
            if part is not None
            else pd.DataFrame(np.nan, index=key, columns=present)
        )
        for c in present:
            name = value_column(ind) if c == "value_mean" else indicator_feature(ind, c.removeprefix("points_"))
            columns[name] = aligned[c].to_numpy(dtype="float64", na_value=np.nan)
    extra = pd.DataFrame(columns, index=renewals.index)
    return pd.concat([renewals.drop(columns=[c for c in columns if c in renewals]), extra], axis=1)


def score_band_table(conn, filters: Filters, coarse: bool = False) -> pd.DataFrame:
    """:func:`score_band_rates` of the slice's decided renewals, counted in SQL
    (cslib/sql/queries/renewal_model/model_score_bands.sql)."""
    counts = query(conn, *render("model_score_bands", filters, alias="f", is_coarse=coarse))
    return _score_band_rates(counts, coarse)


def indicator_band_table(conn, filters: Filters) -> pd.DataFrame:
    """:func:`indicator_bands` of the slice's decided renewals with the database's
    scorecard bands, counted in SQL (cslib/sql/queries/renewal_model/model_indicator_bands.sql)."""
    bands = scorecard_bands(conn)
    names, mins, positions, on_points = [], [], [], []
    for indicator, spec in bands.items():
        for position, (low, _) in enumerate(spec.bands):
            names.append(indicator)
            mins.append(float(low))
            positions.append(position)
            on_points.append(spec.on_points)
    rendered = render("model_indicator_bands", filters, alias="f",
                      indicators=names, min_values=mins, bands=positions, on_points=on_points)
    return _indicator_band_rates(query(conn, *rendered), bands)


def indicator_tables(conn, filters: Filters) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(band rates, effects without importance) of the slice: :func:`indicator_band_table`
    and :func:`indicator_effects` of it; add the model's importance with
    :func:`with_importance`."""
    bands = indicator_band_table(conn, filters)
    if bands.empty:
        return bands, pd.DataFrame()
    return bands, indicator_effects(bands)


def with_importance(effects: pd.DataFrame, importance: pd.DataFrame | None) -> pd.DataFrame:
    """``effects`` with permutation_importance: per indicator and segment, the summed
    importance of the indicator's features (its points' mean, last and slope)."""
    out = effects.copy()
    if importance is None or importance.empty or out.empty:
        out["permutation_importance"] = np.nan
        return out
    imp = importance.assign(indicator=importance["feature"].map(indicator_of_feature)).dropna(subset=["indicator"])
    summed = imp.groupby(["segment", "indicator"])["importance"].sum()
    keys = zip(out["segment"], out["indicator"])
    out["permutation_importance"] = [summed.get(k, np.nan) for k in keys]
    return out


# --------------------------------------------------------------------------- the fit
@dataclass
class ModelBundle:
    """Everything the page and the report show about the fitted models.

    predictions: one row per renewal of the book (account_id, due_on, outcome, is_test,
    p_boosted, p_logistic, driver_1..3). metrics: one row per model. calibration: one row
    per (model, bin). importance: permutation importance on the test set (overall and per
    segment). comparison: the paired bootstrap of :func:`compare_models` (rows auc and
    brier, with the verdict).
    """

    split_on: pd.Timestamp
    target: str
    models: dict  # kind -> fitted RenewalModel (cslib.model.renewal_fit); empty when read from the database
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    importance: pd.DataFrame
    predictions: pd.DataFrame
    n_train: int
    n_test: int
    train_last_due_on: pd.Timestamp
    test_first_due_on: pd.Timestamp
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """'beats' | 'tie' | 'worse': the stored comparison of the boosted model with the
        logistic baseline (:func:`compare_models`)."""
        return str(self.comparison["verdict"].iloc[0])


# --------------------------------------------------------------------------- comparison
def _weighted_auc(order: np.ndarray, starts: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """ROC AUC per row of the resample counts ``w`` (k, n): rows sorted by ``order`` (the
    prediction ascending), ``starts`` the first position of each group of tied predictions;
    a tie between a renewed and a not-renewed row counts one half (as roc_auc_score)."""
    ws = w[:, order]
    ys = y[order].astype(bool)
    pos = np.add.reduceat(np.where(ys, ws, 0.0), starts, axis=1)
    neg = np.add.reduceat(np.where(ys, 0.0, ws), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    n1, n0 = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (n1 * n0)


def bootstrap_counts(n: int, n_resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(n_resamples, n) counts: how often each test row is drawn in each resample of n rows
    drawn with replacement (numpy's default_rng(seed) multinomial)."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(float)


def compare_models(
    y,
    p_boosted,
    p_baseline,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = BOOTSTRAP_CONFIDENCE,
) -> pd.DataFrame:
    """The boosted model against the logistic baseline on the same test rows.

    ``y``: 1 = renewed; ``p_boosted``, ``p_baseline``: P(renewed) of each model. Each of
    ``n_resamples`` paired bootstrap resamples draws the test rows with replacement and
    scores both models on the same draw; the interval of a difference is its central
    ``confidence`` percentile range over the resamples (a resample with one outcome only
    has no AUC and is left out of the AUC interval).

    Two rows, metric 'auc' then 'brier': boosted, baseline (on the test set itself),
    difference (boosted - baseline), ci_low, ci_high, better ('boosted' when the interval
    lies wholly on the boosted model's side: above 0 for AUC, below 0 for Brier;
    'baseline' when wholly on the other side; else 'neither'), n_resamples (used), seed,
    confidence, and verdict (the same on both rows): 'beats' when the boosted model is
    better on both, 'worse' when the baseline is better on both, else 'tie'.
    """
    y = np.asarray(y).astype(int)
    p = {"boosted": np.asarray(p_boosted, dtype=float), "baseline": np.asarray(p_baseline, dtype=float)}
    n = len(y)
    if n == 0 or any(len(v) != n for v in p.values()):
        raise ValueError("compare_models needs predictions for every test row")
    ones = np.ones((1, n))
    sorted_by = {}
    for kind, values in p.items():
        order = np.argsort(values, kind="stable")
        ps = values[order]
        starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
        sorted_by[kind] = (order, starts)
    point = {
        "auc": {k: float(_weighted_auc(*sorted_by[k], y, ones)[0]) for k in p},
        "brier": {k: float(np.mean((p[k] - y) ** 2)) for k in p},
    }
    diffs: dict[str, list[np.ndarray]] = {"auc": [], "brier": []}
    counts = bootstrap_counts(n, n_resamples, seed)
    for i in range(0, n_resamples, 50):  # 50 resamples at a time bound the memory
        w = counts[i:i + 50]
        auc = {k: _weighted_auc(*sorted_by[k], y, w) for k in p}
        brier = {k: (w * (p[k] - y) ** 2).sum(axis=1) / n for k in p}
        diffs["auc"].append(auc["boosted"] - auc["baseline"])
        diffs["brier"].append(brier["boosted"] - brier["baseline"])
    tail = (1 - confidence) / 2 * 100
    rows = []
    for metric, higher_is_better in (("auc", True), ("brier", False)):
        d = np.concatenate(diffs[metric])
        d = d[np.isfinite(d)]
        low, high = (np.percentile(d, [tail, 100 - tail]) if len(d) else (np.nan, np.nan))
        if low > 0 or high < 0:
            better = "boosted" if (low > 0) == higher_is_better else "baseline"
        else:
            better = "neither"
        rows.append({
            "metric": metric,
            "boosted": point[metric]["boosted"],
            "baseline": point[metric]["baseline"],
            "difference": point[metric]["boosted"] - point[metric]["baseline"],
            "ci_low": float(low),
            "ci_high": float(high),
            "better": better,
            "n_resamples": int(len(d)),
            "seed": int(seed),
            "confidence": float(confidence),
        })
    out = pd.DataFrame(rows)
    out["verdict"] = verdict_of(out["better"].tolist())
    return out


def verdict_of(better: list[str]) -> str:
    """'beats' when the boosted model is better on every metric, 'worse' when the baseline
    is, else 'tie' (``better``: the per-metric 'boosted' | 'baseline' | 'neither')."""
    if all(b == "boosted" for b in better):
        return "beats"
    if all(b == "baseline" for b in better):
        return "worse"
    return "tie"


def comparison_text(comparison: pd.DataFrame) -> str:
    """One sentence for the page: the verdict and the two intervals."""
    rows = comparison.set_index("metric")
    confidence = float(rows["confidence"].iloc[0])
    resamples = int(rows.loc["brier", "n_resamples"])
    verdict = str(rows["verdict"].iloc[0])

    def part(metric: str, name: str) -> str:
        r = rows.loc[metric]
        return (f"{name} {r['boosted']:.3f} vs {r['baseline']:.3f} (difference {r['difference']:+.4f}, "
                f"{confidence:.0%} interval {r['ci_low']:+.4f} to {r['ci_high']:+.4f})")

    why = {
        "beats": "better on both beyond the interval",
        "worse": "the baseline is better on both beyond the interval",
        "tie": "not better on both beyond the interval",
    }[verdict]
    return (f"Gradient boosting {VERDICTS[verdict]} ({why}): {part('auc', 'AUC')}; "
            f"{part('brier', 'Brier')}; {resamples:,} paired bootstrap resamples of the test set. "
            "Higher AUC and lower Brier are better.")


# --------------------------------------------------------------------------- stored fit
#: what the build stores of the fit (cslib/sql/queries/renewal_model/model_renewal_fit_tables.sql)
FIT_TABLES: tuple[str, ...] = (
    "model_renewal_fit",
    "model_renewal_metrics",
    "model_renewal_calibration",
    "model_renewal_importance",
    "model_renewal_predictions",
    "model_renewal_comparison",
)
#: columns of model_renewal_predictions
PREDICTION_COLUMNS: tuple[str, ...] = (
    "account_id", "due_on", "outcome", "is_decided", "is_test", "is_train",
    "p_boosted", "p_logistic", "driver_1", "driver_2", "driver_3",
)
def stored_bundle(conn) -> ModelBundle | str:
    """The fit stored by ``renewal_fit.write_model_tables``: a ModelBundle without estimators
    (``models`` is empty) and without per-renewal predictions (read those with
    :func:`upcoming_renewals`), or the stored reason when the book could not be fitted."""
    fit = query(conn, "select * from model_renewal_fit").iloc[0]
    if not bool(fit["is_fitted"]):
        return str(fit["message"])

    def table(name: str) -> pd.DataFrame:  # in the order written; names from FIT_TABLES only
        return query(conn, f"select * from {name} order by rowid")

    return ModelBundle(
        split_on=pd.Timestamp(fit["split_on"]),
        target=str(fit["target"]),
        models={},
        metrics=table("model_renewal_metrics"),
        calibration=table("model_renewal_calibration"),
        importance=table("model_renewal_importance"),
        predictions=pd.DataFrame(columns=list(PREDICTION_COLUMNS)),
        n_train=int(fit["n_train"]),
        n_test=int(fit["n_test"]),
        train_last_due_on=pd.Timestamp(fit["train_last_due_on"]),
        test_first_due_on=pd.Timestamp(fit["test_first_due_on"]),
        comparison=table("model_renewal_comparison"),
    )


# --------------------------------------------------------------------------- page panels
def _month_end(month: str) -> pd.Timestamp:
    return pd.Timestamp(f"{month}-01") + pd.offsets.MonthEnd(0)


def upcoming_renewals(conn, filters: Filters, month: str, days: int = UPCOMING_DAYS) -> pd.DataFrame:
    """Renewals of the slice due in the ``days`` after ``month``'s last day, with the stored
    model's probabilities and top drivers (``model_renewal_predictions``), riskiest first.

    Columns: account_id, name, segment, csm, csm_team, due_on (date), due_arr, outcome,
    month_end_tier, p_renewal (boosted), p_baseline (logistic), driver_1..3; the
    probabilities are NaN when the book was too small to fit a model.
    """
    end = _month_end(month)
    return renewals_due_between(conn, filters, end.date(), (end + pd.Timedelta(days=days)).date())


def renewals_due_between(conn, filters: Filters, after_on, until_on) -> pd.DataFrame:
    """The slice's renewals due in (``after_on``, ``until_on``] with the stored model's
    probabilities and drivers, riskiest first (columns of :func:`upcoming_renewals`, plus
    csm_team). The one query of renewals to come: the upcoming list, the digest and the
    forecast read it."""
    out = query(conn, *render("model_upcoming", filters, alias="f", due_after_on=after_on, due_until_on=until_on))
    out["due_on"] = pd.to_datetime(out["due_on"]).dt.date
    for c in ("p_renewal", "p_baseline"):
        out[c] = out[c].astype("float64")
    return out


def upcoming_summary(upcoming: pd.DataFrame) -> dict:
    """Count, ARR due, expected ARR renewed (sum of p x due ARR) and ARR at risk (p < 0.5)."""
    p = upcoming["p_renewal"].astype(float)
    arr = upcoming["due_arr"].astype(float)
    return {
        "renewals": int(len(upcoming)),
        "due_arr": float(arr.sum()),
        "expected_arr": float((p * arr).sum()),
        "at_risk_arr": float(arr[p < 0.5].sum()),
    }


def wilson_interval(renewed: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a proportion renewed / n; (nan, nan) when n == 0."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = renewed / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (float(centre - half), float(centre + half))


def rate_difference(r1: int, n1: int, r2: int, n2: int, z: float = 1.959964) -> tuple[float, float, float]:
    """(p1 - p2, low, high): difference of two proportions with a 95% normal-approximation
    interval (Wald, unpooled); NaNs when a group is empty."""
    if n1 == 0 or n2 == 0:
        return (float("nan"),) * 3
    p1, p2 = r1 / n1, r2 / n2
    se = np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    d = p1 - p2
    return (float(d), float(d - z * se), float(d + z * se))


@dataclass(frozen=True)
class IndicatorBands:
    """How one indicator's 13-week mean is banded for the renewal-rate analysis.

    ``bands``: ((min_value, points), ...) ascending; ``on_points``: True when the mean of
    the indicator's window points is banded (an indicator without value bands in the
    scorecard, e.g. modules: at 0, a third and two thirds of its maximum points), False
    for the mean of its value with the scorecard's bands; ``label``: the display label
    (cfg_indicators.label, '(points)' added when on_points).
    """

    label: str
    bands: tuple[tuple[float, float], ...]
    on_points: bool


def points_bands(max_points: float) -> tuple[tuple[float, float], ...]:
    """Bands of a points mean: 0, max/3 and 2 max/3 points (modules, max 30: 0 / 10 / 20)."""
    if not max_points > 0:
        return ((0.0, 0.0),)
    return tuple((max_points * k / 3, max_points * k / 3) for k in range(3))


def scorecard_bands(conn) -> dict[str, IndicatorBands]:
    """indicator -> IndicatorBands for every cfg_indicators indicator, in ordinal order:
    the cfg_ratio_bands of an indicator that has them, else :func:`points_bands`."""
    indicators = indicator_table(conn)
    df = query(conn, "select indicator, min_value, points from cfg_ratio_bands order by indicator, min_value")
    ratio = {
        ind: tuple(zip(g["min_value"].astype(float), g["points"].astype(float)))
        for ind, g in df.groupby("indicator", sort=False)
    }
    out = {}
    for ind, label, max_points in zip(indicators["indicator"], indicators["label"], indicators["max_points"]):
        if ind in ratio:
            out[ind] = IndicatorBands(str(label), ratio[ind], False)
        else:
            out[ind] = IndicatorBands(f"{label} (points)", points_bands(float(max_points)), True)
    return out


def _band_label(bands: tuple[tuple[float, float], ...], i: int) -> str:
    lo = bands[i][0]
    hi = bands[i + 1][0] if i + 1 < len(bands) else None
    return f"{lo:g}–{hi:g}" if hi is not None else f"≥ {lo:g}"


def _indicator_band_rates(counts: pd.DataFrame, bands: dict[str, IndicatorBands]) -> pd.DataFrame:
    """The :func:`indicator_bands` table from per (indicator, segment_group, band) counts
    (renewals, renewed): labels, rates and Wilson intervals, in ``bands`` order, then
    'all' and the segments (:func:`order_segments`), then band; renewals without a
    segment are counted in 'all' only."""
    counts = counts[counts["segment_group"].notna() & counts["indicator"].isin(list(bands))]
    groups = ("all", *order_segments(counts["segment_group"][counts["segment_group"] != "all"]))
    key = counts["indicator"].map({k: i for i, k in enumerate(bands)}) * 10_000 + counts["segment_group"].map(
        {g: i for i, g in enumerate(groups)}
    )
    counts = counts.assign(_key=key).sort_values(["_key", "band"], kind="stable")
    rows = []
    for indicator, group, band_i, n, r in counts[["indicator", "segment_group", "band", "renewals", "renewed"]].itertuples(
        index=False
    ):
        b, band_i, n, r = bands[indicator].bands, int(band_i), int(n), int(r)
        low, high = wilson_interval(r, n)
        rows.append(
            {
                "indicator": indicator,
                "label": bands[indicator].label,
                "segment": group,
                "segment_label": segment_label(group),
                "band": band_i,
                "band_label": "no data" if band_i < 0 else _band_label(b, band_i),
                "min_value": np.nan if band_i < 0 else b[band_i][0],
                "points": np.nan if band_i < 0 else b[band_i][1],
                "renewals": n,
                "renewed": r,
                "renewal_rate": r / n,
                "ci_low": low,
                "ci_high": high,
            }
        )
    return pd.DataFrame(rows)


def indicator_effects(band_rates: pd.DataFrame, importance: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per indicator and segment: renewal rate of the top band (most points; ties: the
    higher band) minus that of the bottom band (fewest points; ties: the lower band), with
    a 95% normal-approximation interval, plus the summed permutation importance of the
    indicator's features (mean, last, slope of its points). Bands with data only."""
    rows = []
    for (indicator, segment), g in band_rates[band_rates["band"] >= 0].groupby(["indicator", "segment"], sort=False):
        top = g.sort_values(["points", "band"], ascending=[False, False]).iloc[0]
        bottom = g.sort_values(["points", "band"], ascending=[True, True]).iloc[0]
        d, lo, hi = rate_difference(int(top.renewed), int(top.renewals), int(bottom.renewed), int(bottom.renewals))
        imp = np.nan
        if importance is not None and len(importance):
            of = importance["feature"].map(indicator_of_feature)
            sel = importance[(importance["segment"] == segment) & (of == indicator)]
            imp = float(sel["importance"].sum()) if len(sel) else np.nan
        rows.append(
            {
                "indicator": indicator,
                "label": g["label"].iloc[0],
                "segment": segment,
                "segment_label": segment_label(segment),
                "top_band": top.band_label,
                "top_rate": top.renewal_rate,
                "top_n": int(top.renewals),
                "bottom_band": bottom.band_label,
                "bottom_rate": bottom.renewal_rate,
                "bottom_n": int(bottom.renewals),
                "difference": d,
                "ci_low": lo,
                "ci_high": hi,
                "is_significant": bool(lo > 0 or hi < 0) if np.isfinite(lo) else False,
                "permutation_importance": imp,
            }
        )
    return pd.DataFrame(rows)


SCORE_BANDS: tuple[str, ...] = tuple(f"{lo}-{lo + 10}" for lo in range(0, 100, 10))
COARSE_BANDS: tuple[str, ...] = ("<30", "30-70", ">=70")


def _score_band_order(coarse: bool) -> list[str]:
    return [*COARSE_BANDS, "unscored"] if coarse else [*SCORE_BANDS, "unscored"]


def _score_band_rates(counts: pd.DataFrame, coarse: bool) -> pd.DataFrame:
    """The :func:`score_band_rates` table from per-band counts (band, renewals, renewed,
    due_arr, kept_arr): bands with renewals, in band order, with rates and intervals."""
    order = _score_band_order(coarse)
    agg = counts[counts["renewals"] > 0].copy()
    agg["_order"] = agg["band"].map({b: i for i, b in enumerate(order)})
    agg = agg.sort_values("_order").drop(columns="_order").reset_index(drop=True)
    agg["renewals"] = agg["renewals"].astype("int64")
    agg["renewed"] = agg["renewed"].astype("int64")
    agg["due_arr"] = agg["due_arr"].astype("float64")
    agg["kept_arr"] = agg["kept_arr"].astype("float64")
    agg["renewal_rate"] = agg["renewed"] / agg["renewals"]
    agg["renewal_rate_arr"] = agg["kept_arr"] / agg["due_arr"].where(agg["due_arr"] > 0)
    ci = [wilson_interval(int(r), int(n)) for r, n in zip(agg["renewed"], agg["renewals"])]
    agg["ci_low"] = [c[0] for c in ci]
    agg["ci_high"] = [c[1] for c in ci]
    return agg


# --------------------------------------------------------------------------- report
def model_report(conn, args) -> tuple[str, dict[str, pd.DataFrame]]:
    """``report model``: held-out metrics of both models, their comparison (verdict
    'beats' | 'tie' | 'worse' with the bootstrap intervals) and the calibration bins.

    The fit stored at build time (whole target book); month is the last month of the data.
    """
    from cslib.views.metrics import latest_month
    from cslib.store.renewals import renewals_source, renewals_source_text

    bundle = stored_bundle(conn)
    if isinstance(bundle, str):
        raise UserError(f"the renewal model could not be fitted on this book: {bundle} "
                        f"({renewals_source_text(conn)})")
    metrics = bundle.metrics.copy()
    metrics.insert(1, "split_on", bundle.split_on.date().isoformat())
    metrics["verdict"] = bundle.verdict  # the stored paired-bootstrap comparison (compare_models)
    metrics["boosted_beats_baseline"] = bundle.verdict == "beats"
    # where the renewals it trained on came from: 'file', 'derived' (from revenue) or 'none'
    source = pd.DataFrame([{"renewals_source": renewals_source(conn), "text": renewals_source_text(conn)}])
    return latest_month(conn), {"metrics": metrics, "comparison": bundle.comparison,
                                "calibration": bundle.calibration, "renewals": source}


def split_summary(bundle: ModelBundle) -> dict:
    """Dates and sizes of the time split (for captions and the no-leakage statement)."""
    return {
        "split_on": bundle.split_on.date(),
        "train_last_due_on": bundle.train_last_due_on.date(),
        "test_first_due_on": bundle.test_first_due_on.date(),
        "n_train": bundle.n_train,
        "n_test": bundle.n_test,
    }

