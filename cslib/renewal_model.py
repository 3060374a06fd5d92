"""Renewal-probability model: does the health signal predict renewal? (DOMAIN.md section 1)

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
* models: :class:`RenewalModel` with ``kind="boosted"`` (HistGradientBoostingClassifier)
  and the baseline ``kind="logistic"`` (median imputation + scaling, one-hot segment,
  LogisticRegression).
* drivers of one prediction: for each feature, the probability minus the probability
  with that feature set to its training median (segment: the most common one); the
  three largest in absolute value, signed (+ raises the probability).

No streamlit here; the page caches :func:`model_bundle` per database version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from .db import query, sql_file
from .errors import UserError
from .filters import Filters

#: the health series summarised over the window (score and the five window points)
SERIES: tuple[str, ...] = (
    "score",
    "modules_points",
    "instance_points",
    "activation_points",
    "login_points",
    "bi_points",
)
SERIES_LABELS: dict[str, str] = {
    "score": "Health score",
    "modules_points": "Modules",
    "instance_points": "Instance ratio",
    "activation_points": "Activation rate",
    "login_points": "Login rate",
    "bi_points": "BI usage rate",
}
STATS: tuple[str, ...] = ("mean", "last", "slope")
NUMERIC_FEATURES: tuple[str, ...] = (
    *(f"{s}_{stat}" for s in SERIES for stat in STATS),
    "weeks_unscored",
    "tenure_months",
)
CATEGORICAL_FEATURES: tuple[str, ...] = ("segment",)
FEATURES: tuple[str, ...] = (*NUMERIC_FEATURES, *CATEGORICAL_FEATURES)
SEGMENTS: tuple[str, ...] = ("smb", "mid_market", "enterprise")
TARGETS: tuple[str, ...] = ("renewed", "renewed_on_time")
KINDS: tuple[str, ...] = ("boosted", "logistic")
MODEL_LABELS: dict[str, str] = {"boosted": "Gradient boosting", "logistic": "Logistic baseline"}
MIN_ROWS = 15  # decided renewals needed in train and in test (the page warns below 100 test rows)
UPCOMING_DAYS = 90
_FILTER_MARKER = "/* filter_predicate */ true"


def feature_label(name: str) -> str:
    """'login_points_slope' -> 'Login rate (slope)'; other names prettified."""
    for series in SERIES:
        for stat in STATS:
            if name == f"{series}_{stat}":
                return f"{SERIES_LABELS[series]} ({stat})"
    return {"weeks_unscored": "Weeks unscored", "tenure_months": "Tenure (months)", "segment": "Segment"}.get(
        name, name
    )


# --------------------------------------------------------------------------- estimator
def _one_thread():
    """Run sklearn's OpenMP code on one thread: thread pools thrash on a busy machine
    (30x slower measured on 2 shared cores), and the app serves other sessions meanwhile."""
    return threadpool_limits(limits=1)


#: rows per stacked prediction in RenewalModel.contributions (bounds its memory)
_CONTRIB_CHUNK_ROWS = 4096


class RenewalModel(ClassifierMixin, BaseEstimator):
    """Renewal-probability classifier over :data:`FEATURES` (a DataFrame in, P(renewed) out).

    kind="boosted": HistGradientBoostingClassifier (segment as a native categorical,
    missing values handled natively; min_samples_leaf is capped at a tenth of the
    training rows, stored as ``min_samples_leaf_``). kind="logistic": median imputation + standard
    scaling of the numeric features, one-hot segment, LogisticRegression(C).
    """

    def __init__(
        self,
        kind: str = "boosted",
        max_iter: int = 100,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 7,
        min_samples_leaf: int = 80,
        l2_regularization: float = 1.0,
        C: float = 1.0,
        random_state: int = 0,
    ):
        self.kind = kind
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.C = C
        self.random_state = random_state

    def _build(self, n_rows: int) -> Pipeline | HistGradientBoostingClassifier:
        if self.kind == "boosted":
            # a leaf never needs more than a tenth of the rows (small books still split)
            self.min_samples_leaf_ = int(min(self.min_samples_leaf, max(5, n_rows // 10)))
            return HistGradientBoostingClassifier(
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf_,
                l2_regularization=self.l2_regularization,
                categorical_features="from_dtype",
                early_stopping=False,
                random_state=self.random_state,
            )
        if self.kind == "logistic":
            prep = ColumnTransformer(
                [
                    ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), list(NUMERIC_FEATURES)),
                    ("cat", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_FEATURES)),
                ]
            )
            return Pipeline(
                [("prep", prep), ("clf", LogisticRegression(C=self.C, max_iter=2000, random_state=self.random_state))]
            )
        raise ValueError(f"unknown kind {self.kind!r} (expected one of {KINDS})")

    def fit(self, X: pd.DataFrame, y) -> "RenewalModel":
        """Fit on X (columns FEATURES) and y (1 = renewed); returns self."""
        X = prepare_features(X)
        y = np.asarray(y).astype(int)
        with _one_thread():
            self.estimator_ = self._build(len(X)).fit(X, y)
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array(FEATURES, dtype=object)
        reference = {c: float(X[c].median()) if X[c].notna().any() else np.nan for c in NUMERIC_FEATURES}
        for c in CATEGORICAL_FEATURES:
            mode = X[c].mode(dropna=True)
            reference[c] = mode.iloc[0] if len(mode) else np.nan
        self.reference_ = reference
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """(n, 2) array: P(not renewed), P(renewed)."""
        with _one_thread():
            return self.estimator_.predict_proba(prepare_features(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """1 when P(renewed) >= 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per row and feature: P(renewed) minus P(renewed) with the feature at its
        training reference (median; segment: mode). Same index as X, columns FEATURES."""
        X = prepare_features(X)
        # one stacked prediction (rows x features + rows) per chunk of rows instead of one
        # call per feature; chunks keep memory flat (the stack is features + 1 copies)
        parts = [self._contributions_chunk(X.iloc[i : i + _CONTRIB_CHUNK_ROWS])
                 for i in range(0, len(X), _CONTRIB_CHUNK_ROWS)]
        if not parts:
            return pd.DataFrame(columns=list(FEATURES), index=X.index, dtype="float64")
        return pd.concat(parts)

    def _contributions_chunk(self, X: pd.DataFrame) -> pd.DataFrame:
        n = len(X)
        stacked = pd.concat([X] * (len(FEATURES) + 1), ignore_index=True)
        for k, c in enumerate(FEATURES, start=1):
            stacked.iloc[k * n : (k + 1) * n, stacked.columns.get_loc(c)] = self.reference_[c]
        stacked["segment"] = pd.Categorical(stacked["segment"].astype(object), categories=list(SEGMENTS))
        with _one_thread():
            p = self.estimator_.predict_proba(stacked)[:, 1].reshape(len(FEATURES) + 1, n)
        out = {c: p[0] - p[k] for k, c in enumerate(FEATURES, start=1)}
        return pd.DataFrame(out, index=X.index)


def prepare_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The FEATURES columns in order: numerics as float, segment as a fixed categorical."""
    X = pd.DataFrame(index=frame.index)
    for c in NUMERIC_FEATURES:
        X[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    X["segment"] = pd.Categorical(frame["segment"].astype(object), categories=list(SEGMENTS))
    return X


# --------------------------------------------------------------------------- data
def renewal_features(conn, filters: Filters | None = None, due_after=None, due_until=None) -> pd.DataFrame:
    """Renewals of ``model_renewal_features`` in the slice (target accounts only unless the
    filters include non-target), due in (due_after, due_until] when given, ordered by
    due_on, account_id. Dates as datetime64."""
    where, params = (filters or Filters()).where("f")
    sql = sql_file("model_renewals").replace(_FILTER_MARKER, where)
    after = pd.Timestamp(due_after).date() if due_after is not None else dt.date(1900, 1, 1)
    until = pd.Timestamp(due_until).date() if due_until is not None else dt.date(2999, 12, 31)
    df = query(conn, sql, [after, until, *params])
    for c in ("due_on", "renewed_on", "cutoff_on"):
        df[c] = pd.to_datetime(df[c])
    return df


def upcoming_features(conn, filters: Filters, month: str, days: int = UPCOMING_DAYS) -> pd.DataFrame:
    """Renewals of the slice due in the ``days`` after the last day of ``month``."""
    end = _month_end(month)
    return renewal_features(conn, filters, end, end + pd.Timedelta(days=days))


def score_band_table(conn, filters: Filters, coarse: bool = False) -> pd.DataFrame:
    """:func:`score_band_rates` of the slice's decided renewals."""
    return score_band_rates(renewal_features(conn, filters), coarse=coarse)


def indicator_band_table(conn, filters: Filters) -> pd.DataFrame:
    """:func:`indicator_bands` of the slice's decided renewals, with the database's bands."""
    return indicator_bands(renewal_features(conn, filters), scorecard_bands(conn))


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
    series_of = {f"{series}_{stat}": series for series in SERIES for stat in STATS}
    imp = importance.assign(series=importance["feature"].map(series_of)).dropna(subset=["series"])
    summed = imp.groupby(["segment", "series"])["importance"].sum()
    keys = zip(out["segment"], out["indicator"].map(_INDICATOR_SERIES))
    out["permutation_importance"] = [summed.get(k, np.nan) for k in keys]
    return out


def split_date(decided: pd.DataFrame, test_share: float = 0.25) -> pd.Timestamp:
    """First day of the month at which about ``test_share`` of the rows (by due_on) remain.

    decided: due_on (datetime). Raises UserError when no month boundary leaves
    rows on both sides.
    """
    if not 0 < test_share < 1:
        raise UserError(f"test share must be between 0 and 1, got {test_share}")
    due = decided["due_on"].sort_values().reset_index(drop=True)
    if due.empty:
        raise UserError("no decided renewals to split")
    at = due.iloc[min(len(due) - 1, int(round(len(due) * (1 - test_share))))]
    cut = pd.Timestamp(at.year, at.month, 1)
    if not (due < cut).any() or not (due >= cut).any():
        raise UserError("all decided renewals fall in one month: cannot split train and test by time")
    return cut


def labels(rows: pd.DataFrame, target: str = "renewed", as_of: pd.Timestamp | None = None) -> np.ndarray:
    """1 = renewed. rows: outcome, renewed_on, due_on. ``as_of``: a renewal ordered on or
    after this date counts as not renewed (what was known then)."""
    if target not in TARGETS:
        raise UserError(f"unknown target {target!r} (expected {', '.join(TARGETS)})")
    renewed = rows["renewed_on"].notna() & (rows["outcome"] == "renewed")
    if target == "renewed_on_time":
        renewed &= rows["renewed_on"] <= rows["due_on"]
    if as_of is not None:
        renewed &= rows["renewed_on"] < as_of
    return renewed.to_numpy().astype(int)


# --------------------------------------------------------------------------- fitting
@dataclass
class ModelBundle:
    """Everything the page and the report show about the fitted models.

    predictions: one row per renewal of the book (account_id, due_on, outcome, is_test,
    p_boosted, p_logistic, driver_1..3). metrics: one row per model. calibration: one row
    per (model, bin). importance: permutation importance on the test set (overall and per
    segment).
    """

    split_on: pd.Timestamp
    target: str
    models: dict[str, RenewalModel]
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    importance: pd.DataFrame
    predictions: pd.DataFrame
    n_train: int
    n_test: int
    train_last_due_on: pd.Timestamp
    test_first_due_on: pd.Timestamp
    notes: list[str] = field(default_factory=list)

    @property
    def best(self) -> str:
        """'boosted' unless the baseline has the higher held-out AUC."""
        auc = self.metrics.set_index("model")["auc"]
        return "logistic" if auc.get("logistic", -1) > auc.get("boosted", -1) else "boosted"


def fit_models(
    features: pd.DataFrame,
    test_share: float = 0.25,
    target: str = "renewed",
    random_state: int = 0,
    n_bins: int = 10,
    importance_rows: int = 3000,
) -> ModelBundle:
    """Fit both models on the decided renewals of ``features`` with a time split.

    features: the columns of :func:`renewal_features` (FEATURES, due_on, outcome,
    renewed_on, is_decided, is_target, account_id); the models learn from decided
    renewals of target accounts and predict every row. Raises UserError when there are fewer than
    MIN_ROWS decided renewals on either side of the split or one class is missing.
    """
    rows = features.sort_values(["due_on", "account_id"], kind="stable").reset_index(drop=True)
    decided = rows[rows["is_decided"].astype(bool) & rows["is_target"].astype(bool)]
    if len(decided) < 2 * MIN_ROWS:
        raise UserError(
            f"only {len(decided)} decided renewals: the model needs at least {2 * MIN_ROWS}"
        )
    split_on = split_date(decided, test_share)
    train = decided[decided["due_on"] < split_on]
    test = decided[decided["due_on"] >= split_on]
    y_train = labels(train, target, as_of=split_on)
    y_test = labels(test, target)
    for name, part, y in (("training", train, y_train), ("test", test, y_test)):
        if len(part) < MIN_ROWS or len(set(y)) < 2:
            raise UserError(
                f"the {name} set has {len(part)} renewals and {len(set(y))} outcome(s): "
                f"need at least {MIN_ROWS} and both renewed and not renewed"
            )
    models = {kind: RenewalModel(kind=kind, random_state=random_state).fit(train, y_train) for kind in KINDS}

    metric_rows, calib_rows = [], []
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    for kind, model in models.items():
        p = model.predict_proba(test)[:, 1]
        metric_rows.append(
            {
                "model": kind,
                "label": MODEL_LABELS[kind],
                "auc": roc_auc_score(y_test, p),
                "brier": brier_score_loss(y_test, p),
                "accuracy": accuracy_score(y_test, (p >= 0.5).astype(int)),
                "n_train": len(train),
                "n_test": len(test),
                "test_renewal_rate": float(np.mean(y_test)),
                "mean_predicted": float(np.mean(p)),
            }
        )
        observed, predicted = calibration_curve(y_test, p, n_bins=n_bins, strategy="uniform")
        counts, _ = np.histogram(p, bins=edges)
        nonempty = np.flatnonzero(counts)
        for i, obs, pred in zip(nonempty, observed, predicted):
            calib_rows.append(
                {
                    "model": kind,
                    "label": MODEL_LABELS[kind],
                    "bin_low": edges[i],
                    "bin_high": edges[i + 1],
                    "mean_predicted": float(pred),
                    "observed_rate": float(obs),
                    "n": int(counts[i]),
                }
            )
    metrics = pd.DataFrame(metric_rows)
    # baseline (test renewal rate for everyone) Brier, for scale
    base_rate = float(np.mean(y_train))
    metrics["brier_constant"] = brier_score_loss(y_test, np.full(len(y_test), base_rate))

    importance = _importance(models["boosted"], test, y_test, random_state, importance_rows)
    predictions = _predictions(models, rows, split_on)
    return ModelBundle(
        split_on=split_on,
        target=target,
        models=models,
        metrics=metrics,
        calibration=pd.DataFrame(calib_rows),
        importance=importance,
        predictions=predictions,
        n_train=len(train),
        n_test=len(test),
        train_last_due_on=train["due_on"].max(),
        test_first_due_on=test["due_on"].min(),
    )


def _auc(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of ``p`` (k, n) against labels ``y`` (n,), by the rank-sum
    (Mann-Whitney) formula with average ranks for ties; equals roc_auc_score."""
    ranks = rankdata(np.atleast_2d(p), axis=1)
    pos = y.astype(bool)
    n1, n0 = pos.sum(), (~pos).sum()
    return (ranks[:, pos].sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def _importance(
    model: RenewalModel, test: pd.DataFrame, y: np.ndarray, random_state: int, max_rows: int, n_repeats: int = 5
) -> pd.DataFrame:
    """Permutation importance on the test set: the mean drop in ROC AUC when one feature's
    column is shuffled (``n_repeats`` shuffles; the definition of
    sklearn.inspection.permutation_importance), overall and within each segment (the
    same shuffles, AUC measured on the segment's rows). All shuffled copies are scored in
    one stacked prediction: a boosted model's per-call overhead dominates otherwise."""
    rng = np.random.default_rng(random_state)
    idx = np.arange(len(test))
    if len(idx) > max_rows:
        idx = np.sort(rng.choice(idx, max_rows, replace=False))
    X = prepare_features(test).reset_index(drop=True).iloc[idx].reset_index(drop=True)
    yy, n = y[idx], len(idx)
    segment = test["segment"].to_numpy()[idx]
    blocks = [X]
    for c in FEATURES:
        for _ in range(n_repeats):
            block = X.copy()
            block[c] = X[c].to_numpy()[rng.permutation(n)]
            blocks.append(block)
    stacked = pd.concat(blocks, ignore_index=True)
    stacked["segment"] = pd.Categorical(stacked["segment"].astype(object), categories=list(SEGMENTS))
    with _one_thread():
        p = model.estimator_.predict_proba(stacked)[:, 1].reshape(len(FEATURES) * n_repeats + 1, n)
    out = []
    groups = [("all", np.ones(n, dtype=bool))] + [(s, segment == s) for s in SEGMENTS]
    for group, mask in groups:
        if mask.sum() < MIN_ROWS or len(set(yy[mask])) < 2:
            continue
        auc = _auc(yy[mask], p[:, mask])
        drops = (auc[0] - auc[1:]).reshape(len(FEATURES), n_repeats)
        for i, name in enumerate(FEATURES):
            out.append(
                {
                    "segment": group,
                    "feature": name,
                    "label": feature_label(name),
                    "importance": float(drops[i].mean()),
                    "importance_std": float(drops[i].std()),
                    "n": int(mask.sum()),
                }
            )
    return pd.DataFrame(out, columns=["segment", "feature", "label", "importance", "importance_std", "n"])


def _driver_text(name: str, value: float) -> str:
    arrow = "+" if value >= 0 else "−"
    return f"{feature_label(name)} {arrow}{abs(value) * 100:.0f} pp"


def _predictions(models: dict[str, RenewalModel], rows: pd.DataFrame, split_on: pd.Timestamp) -> pd.DataFrame:
    keep = ["account_id", "due_on", "outcome", "is_decided"]
    out = rows[keep].copy()
    used = rows["is_decided"].astype(bool) & rows["is_target"].astype(bool)
    out["is_test"] = used & (out["due_on"] >= split_on)
    out["is_train"] = used & (out["due_on"] < split_on)
    for kind, model in models.items():
        out[f"p_{kind}"] = model.predict_proba(rows)[:, 1]
    # drivers of the boosted prediction, for renewals that can show up as "upcoming"
    # (due within a year of the split date or later): the cost is one prediction per feature
    recent = rows["due_on"] >= split_on - pd.Timedelta(days=365)
    for i in (1, 2, 3):
        out[f"driver_{i}"] = ""
    if recent.any():
        contrib = models["boosted"].contributions(rows[recent])
        values = contrib.to_numpy()
        order = np.argsort(-np.abs(values), axis=1)[:, :3]
        names = np.array(FEATURES, dtype=object)
        for i in range(3):
            col = [
                _driver_text(names[j], values[r, j]) for r, j in enumerate(order[:, i])
            ]
            out.loc[recent, f"driver_{i + 1}"] = col
    return out


def model_bundle(conn, test_share: float = 0.25, target: str = "renewed", random_state: int = 0) -> ModelBundle:
    """Fit the models on the whole target book of the database (not the sidebar slice)."""
    features = renewal_features(conn, Filters(include_non_target=True))  # fit on target rows only
    return fit_models(features, test_share=test_share, target=target, random_state=random_state)


# --------------------------------------------------------------------------- page panels
def _month_end(month: str) -> pd.Timestamp:
    return pd.Timestamp(f"{month}-01") + pd.offsets.MonthEnd(0)


def upcoming_renewals(
    features: pd.DataFrame, bundle: ModelBundle, month: str, days: int = UPCOMING_DAYS
) -> pd.DataFrame:
    """Renewals due in the ``days`` after ``month``'s last day, with both probabilities and
    the top drivers, riskiest first.

    features: :func:`renewal_features` of the slice. Columns: account_id, name, segment,
    csm, due_on, due_arr, outcome, month_end_tier, p_renewal (boosted), p_baseline, driver_1..3.
    """
    end = _month_end(month)
    until = end + pd.Timedelta(days=days)
    window = features[(features["due_on"] > end) & (features["due_on"] <= until)]
    p = bundle.predictions
    predictions = p[(p["due_on"] > end) & (p["due_on"] <= until)].drop(columns=["outcome", "is_decided"])
    merged = window.merge(predictions, on=["account_id", "due_on"], how="left")
    out = pd.DataFrame(
        {
            "account_id": merged["account_id"],
            "name": merged["name"],
            "segment": merged["segment"],
            "csm": merged["csm"],
            "due_on": merged["due_on"].dt.date,
            "due_arr": merged["due_arr"],
            "outcome": merged["outcome"],
            "month_end_tier": merged["month_end_tier"],
            "p_renewal": merged["p_boosted"],
            "p_baseline": merged["p_logistic"],
            "driver_1": merged["driver_1"],
            "driver_2": merged["driver_2"],
            "driver_3": merged["driver_3"],
        }
    )
    return out.sort_values(["p_renewal", "due_arr"], ascending=[True, False], kind="stable").reset_index(drop=True)


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


#: indicator -> (feature-table column of the window mean, label). Modules have no scorecard
#: bands; their window points are banded at 0 / 10 / 20 points.
INDICATORS: dict[str, tuple[str, str]] = {
    "activation_rate": ("activation_rate_mean", "Activation rate"),
    "login_rate": ("login_rate_mean", "Login rate"),
    "bi_rate": ("bi_rate_mean", "BI usage rate"),
    "instance_ratio": ("instance_ratio_mean", "Instance ratio"),
    "modules": ("modules_points_mean", "Modules (points)"),
}
MODULE_BANDS: tuple[tuple[float, float], ...] = ((0.0, 0.0), (10.0, 10.0), (20.0, 20.0))
_INDICATOR_SERIES = {
    "activation_rate": "activation_points",
    "login_rate": "login_points",
    "bi_rate": "bi_points",
    "instance_ratio": "instance_points",
    "modules": "modules_points",
}


def scorecard_bands(conn) -> dict[str, tuple[tuple[float, float], ...]]:
    """indicator -> ((min_value, points), ...) from cfg_ratio_bands, plus the module bands."""
    df = query(conn, "select indicator, min_value, points from cfg_ratio_bands order by indicator, min_value")
    bands = {
        ind: tuple(zip(g["min_value"].astype(float), g["points"].astype(float)))
        for ind, g in df.groupby("indicator", sort=False)
    }
    bands["modules"] = MODULE_BANDS
    return bands


def _band_label(bands: tuple[tuple[float, float], ...], i: int) -> str:
    lo = bands[i][0]
    hi = bands[i + 1][0] if i + 1 < len(bands) else None
    fmt = (lambda v: f"{v:g}")
    return f"{fmt(lo)}–{fmt(hi)}" if hi is not None else f"≥ {fmt(lo)}"


def indicator_bands(features: pd.DataFrame, bands: dict[str, tuple[tuple[float, float], ...]]) -> pd.DataFrame:
    """Renewal rate per indicator band (of the indicator's mean over the 13-week window),
    overall (segment 'all') and per segment, over decided renewals.

    Columns: indicator, label, segment, band (ordinal), band_label, min_value, points,
    renewals, renewed, renewal_rate, ci_low, ci_high (Wilson 95%). A window without data
    is band 'no data' (band -1).
    """
    decided = features[features["is_decided"].astype(bool)]
    rows = []
    for indicator, (column, label) in INDICATORS.items():
        b = bands[indicator]
        mins = np.array([lo for lo, _ in b])
        values = decided[column].to_numpy(dtype="float64")
        idx = np.searchsorted(mins, np.nan_to_num(values, nan=-np.inf), side="right") - 1
        idx = np.where(np.isnan(values), -1, idx)
        frame = pd.DataFrame(
            {"segment": decided["segment"].to_numpy(), "band": idx, "renewed": decided["is_renewed"].astype(int).to_numpy()}
        )
        for segment, part in [("all", frame), *((s, frame[frame["segment"] == s]) for s in SEGMENTS)]:
            agg = part.groupby("band")["renewed"].agg(["size", "sum"])
            for band_i, (n, r) in agg.iterrows():
                low, high = wilson_interval(int(r), int(n))
                rows.append(
                    {
                        "indicator": indicator,
                        "label": label,
                        "segment": segment,
                        "band": int(band_i),
                        "band_label": "no data" if band_i < 0 else _band_label(b, int(band_i)),
                        "min_value": np.nan if band_i < 0 else b[int(band_i)][0],
                        "points": np.nan if band_i < 0 else b[int(band_i)][1],
                        "renewals": int(n),
                        "renewed": int(r),
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
            series = _INDICATOR_SERIES[indicator]
            sel = importance[(importance["segment"] == segment) & importance["feature"].str.startswith(series + "_")]
            imp = float(sel["importance"].sum()) if len(sel) else np.nan
        rows.append(
            {
                "indicator": indicator,
                "label": g["label"].iloc[0],
                "segment": segment,
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


def score_band_rates(features: pd.DataFrame, coarse: bool = False) -> pd.DataFrame:
    """Renewal rate (count and ARR) by band of the month-end score of the month before the
    due month, over decided renewals; an unscored month-end is band 'unscored'.

    Fine bands: 0-10 .. 90-100 (lower bound inclusive; 100 in 90-100). Coarse: <30,
    30-70, >=70 (the default tier thresholds). Columns: band, renewals, renewed,
    renewal_rate, ci_low, ci_high, due_arr, renewal_rate_arr (kept = min(renewed, due)).
    """
    decided = features[features["is_decided"].astype(bool)].copy()
    score = decided["month_end_score"].astype(float)
    if coarse:
        band = np.select([score < 30, score < 70, score >= 70], list(COARSE_BANDS), "unscored")
        order = [*COARSE_BANDS, "unscored"]
    else:
        lo = (np.floor(np.minimum(score.fillna(0), 99.999) / 10) * 10).astype(int)
        band = np.where(score.isna(), "unscored", lo.astype(str) + "-" + (lo + 10).astype(str))
        order = [*SCORE_BANDS, "unscored"]
    decided["band"] = band
    renewed = decided["is_renewed"].astype(bool)
    decided["renewed"] = renewed.astype(int)
    decided["kept_arr"] = np.where(renewed, np.minimum(decided["renewed_arr"].fillna(0), decided["due_arr"]), 0.0)
    agg = decided.groupby("band").agg(
        renewals=("renewed", "size"), renewed=("renewed", "sum"), due_arr=("due_arr", "sum"), kept_arr=("kept_arr", "sum")
    )
    agg = agg.reindex([b for b in order if b in agg.index]).reset_index()
    agg["renewal_rate"] = agg["renewed"] / agg["renewals"]
    agg["renewal_rate_arr"] = agg["kept_arr"] / agg["due_arr"].where(agg["due_arr"] > 0)
    ci = [wilson_interval(int(r), int(n)) for r, n in zip(agg["renewed"], agg["renewals"])]
    agg["ci_low"] = [c[0] for c in ci]
    agg["ci_high"] = [c[1] for c in ci]
    return agg


# --------------------------------------------------------------------------- report
def model_report(conn, args) -> tuple[str, dict[str, pd.DataFrame]]:
    """``report model``: held-out metrics of both models and the calibration bins.

    The model is fitted on the whole target book; month is the last month of the data.
    """
    from .metrics import latest_month

    bundle = model_bundle(conn)
    metrics = bundle.metrics.copy()
    metrics.insert(1, "split_on", bundle.split_on.date().isoformat())
    auc = bundle.metrics.set_index("model")["auc"]
    metrics["boosted_beats_baseline"] = bool(auc["boosted"] > auc["logistic"])
    return latest_month(conn), {"metrics": metrics, "calibration": bundle.calibration}


def split_summary(bundle: ModelBundle) -> dict:
    """Dates and sizes of the time split (for captions and the no-leakage statement)."""
    return {
        "split_on": bundle.split_on.date(),
        "train_last_due_on": bundle.train_last_due_on.date(),
        "test_first_due_on": bundle.test_first_due_on.date(),
        "n_train": bundle.n_train,
        "n_test": bundle.n_test,
    }

