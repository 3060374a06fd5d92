"""Fitting the renewal-probability model (build time; method section 1).

The definitions (target, rows, time split, models, drivers) are in cslib.views.renewal_model's
docstring and the README "Renewal model". This module holds what needs scikit-learn:
the estimator, the time split, the fit with its held-out metrics, calibration,
permutation importance and per-renewal drivers, and :func:`write_model_tables`, which
``pipeline.build_models`` calls after the SQL models so the fit is stored in the database
(FIT_TABLES) and lands with the data it was trained on. The app never imports this
module: the page reads the stored fit (renewal_model.stored_bundle), so a first visit
does not pay for importing scikit-learn and scipy, let alone a fit.
"""

from __future__ import annotations

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

from cslib.store.db import sql_file
from cslib.store.queries import render_sql
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.views.renewal_model import KINDS, MIN_ROWS, MODEL_LABELS, PREDICTION_COLUMNS, SCORE_FEATURES, TARGETS, FeatureSet, ModelBundle, compare_models, feature_set, renewal_features


# --------------------------------------------------------------------------- estimator
def _one_thread():
    """Run sklearn's OpenMP code on one thread: thread pools thrash on a busy machine
    (30x slower measured on 2 shared cores), and the app serves other sessions meanwhile."""
    return threadpool_limits(limits=1)


#: rows per stacked prediction in RenewalModel.contributions (bounds its memory)
_CONTRIB_CHUNK_ROWS = 4096


class RenewalModel(ClassifierMixin, BaseEstimator):
    """Renewal-probability classifier over a :class:`FeatureSet` (a DataFrame in, P(renewed)
    out). ``features``: the feature set (indicators and segment categories); None infers it
    from the training frame (FeatureSet.from_frame), stored as ``features_``.

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
        features: FeatureSet | None = None,
    ):
        self.kind = kind
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.C = C
        self.random_state = random_state
        self.features = features

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
                    ("num", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()), list(self.features_.numeric)),
                    ("cat", OneHotEncoder(handle_unknown="ignore"), list(self.features_.categorical)),
                ]
            )
            return Pipeline(
                [("prep", prep), ("clf", LogisticRegression(C=self.C, max_iter=2000, random_state=self.random_state))]
            )
        raise ValueError(f"unknown kind {self.kind!r} (expected one of {KINDS})")

    def fit(self, X: pd.DataFrame, y) -> "RenewalModel":
        """Fit on X (the feature set's columns) and y (1 = renewed); returns self."""
        self.features_ = self.features if self.features is not None else FeatureSet.from_frame(X)
        X = prepare_features(X, self.features_)
        y = np.asarray(y).astype(int)
        if self.kind == "boosted":  # a feature without any value (an indicator with no data) breaks
            empty = [c for c in self.features_.numeric if X[c].isna().all()]  # the binning: 0 = no split
            X = X.assign(**{c: 0.0 for c in empty}) if empty else X
        with _one_thread():
            self.estimator_ = self._build(len(X)).fit(X, y)
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.array(self.features_.features, dtype=object)
        reference = {c: float(X[c].median()) if X[c].notna().any() else np.nan for c in self.features_.numeric}
        for c in self.features_.categorical:
            mode = X[c].mode(dropna=True)
            reference[c] = mode.iloc[0] if len(mode) else np.nan
        self.reference_ = reference
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """(n, 2) array: P(not renewed), P(renewed)."""
        with _one_thread():
            return self.estimator_.predict_proba(prepare_features(X, self.features_))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """1 when P(renewed) >= 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per row and feature: P(renewed) minus P(renewed) with the feature at its
        training reference (median; segment: mode). Same index as X, columns: the features."""
        X = prepare_features(X, self.features_)
        # chunks of rows keep memory flat
        chunk = self._contributions_by_tree if self.kind == "boosted" else self._contributions_stacked
        parts = [chunk(X.iloc[i : i + _CONTRIB_CHUNK_ROWS]) for i in range(0, len(X), _CONTRIB_CHUNK_ROWS)]
        if not parts:
            return pd.DataFrame(columns=list(self.features_.features), index=X.index, dtype="float64")
        return pd.concat(parts)

    def _reference_row(self, X: pd.DataFrame) -> pd.DataFrame:
        """One row of X's columns with every feature at its training reference."""
        out = X.iloc[:1].copy()
        for c in self.features_.features:
            out[c] = self.reference_[c]
        out["segment"] = pd.Categorical(out["segment"].astype(object), categories=list(self.features_.segments))
        return out

    def _contributions_stacked(self, X: pd.DataFrame) -> pd.DataFrame:
        """One prediction of rows x (features + 1): the rows as they are, then with each
        feature at its reference in turn (any estimator)."""
        n = len(X)
        features = self.features_.features
        stacked = pd.concat([X] * (len(features) + 1), ignore_index=True)
        for k, c in enumerate(features, start=1):
            stacked.iloc[k * n : (k + 1) * n, stacked.columns.get_loc(c)] = self.reference_[c]
        stacked["segment"] = pd.Categorical(stacked["segment"].astype(object), categories=list(self.features_.segments))
        with _one_thread():
            p = self.estimator_.predict_proba(stacked)[:, 1].reshape(len(features) + 1, n)
        out = {c: p[0] - p[k] for k, c in enumerate(features, start=1)}
        return pd.DataFrame(out, index=X.index)

    def _contributions_by_tree(self, X: pd.DataFrame) -> pd.DataFrame:
        """The same numbers as ``_contributions_stacked`` for the boosted model, bit for bit,
        at about a third of the cost: a tree that does not split on a feature gives every
        row the same leaf whatever that feature's value, so with the feature at its
        reference only the trees that split on it are evaluated again; the others' outputs
        are reused, and the raw score is summed in the estimator's own order (baseline,
        then tree by tree), then turned into a probability by its own loss.

        Uses scikit-learn's HistGradientBoostingClassifier internals (``_preprocess_X``,
        ``_predictors``, ``_bin_mapper``, ``_baseline_prediction``, ``_loss``), which the
        pinned version has; tests/unit/test_renewal_model.py checks the equality."""
        est = self.estimator_
        features = self.features_.features
        Xp = est._preprocess_X(X, reset=False)
        refp = est._preprocess_X(self._reference_row(X), reset=False)[0]
        # the preprocessed columns: the categorical features first, then the others
        if est._preprocessor is None:
            column = {c: k for k, c in enumerate(X.columns)}
        else:
            order = [*np.flatnonzero(est.is_categorical_), *np.flatnonzero(~est.is_categorical_)]
            column = {X.columns[j]: k for k, j in enumerate(order)}
        known_cat_bitsets, f_idx_map = est._bin_mapper.make_known_categories_bitsets()
        trees = [predictors[0] for predictors in est._predictors]  # binary: one tree per iteration
        splits = [set(t.nodes["feature_idx"][t.nodes["is_leaf"] == 0].tolist()) for t in trees]

        def tree_outputs(data: np.ndarray, only: int | None = None) -> list[np.ndarray | None]:
            return [t.predict(data, known_cat_bitsets, f_idx_map, 1) if only is None or only in used else None
                    for t, used in zip(trees, splits)]

        def probability(outputs: list[np.ndarray]) -> np.ndarray:
            raw = np.zeros((len(X), 1), dtype=est._baseline_prediction.dtype, order="F")
            raw += est._baseline_prediction
            for out in outputs:
                raw[:, 0] += out
            return est._loss.predict_proba(raw)[:, 1]

        base = tree_outputs(Xp)
        p0 = probability(base)
        result = {}
        for c in features:
            k = column[c]
            moved = Xp.copy()
            moved[:, k] = refp[k]
            again = tree_outputs(moved, only=k)
            result[c] = p0 - probability([b if a is None else a for a, b in zip(again, base)])
        return pd.DataFrame(result, index=X.index)


def prepare_features(frame: pd.DataFrame, features: FeatureSet) -> pd.DataFrame:
    """The feature set's columns in order: numerics as float, segment as a categorical
    with the feature set's segments (a segment outside them is missing)."""
    X = pd.DataFrame(
        {c: pd.to_numeric(frame[c], errors="coerce").astype("float64") for c in features.numeric}, index=frame.index
    )
    segment = frame["segment"].astype(object)
    X["segment"] = pd.Categorical(segment.where(segment.isin(features.segments)), categories=list(features.segments))
    return X


# --------------------------------------------------------------------------- split
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
def fit_models(
    features: pd.DataFrame,
    test_share: float = 0.25,
    target: str = "renewed",
    random_state: int = 0,
    n_bins: int = 10,
    importance_rows: int = 3000,
    features_set: FeatureSet | None = None,
) -> ModelBundle:
    """Fit both models on the decided renewals of ``features`` with a time split.

    features: the columns of :func:`renewal_features` (the feature set's features, due_on,
    outcome, renewed_on, is_decided, is_target, account_id); the models learn from decided
    renewals of target accounts and predict every row. ``features_set``: the indicators
    and segments (default: FeatureSet.from_frame(features)). Raises UserError when there are fewer than
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
    fs = features_set if features_set is not None else FeatureSet.from_frame(features)
    if not train.reindex(columns=list(SCORE_FEATURES)).notna().to_numpy().any():
        raise UserError("no health scores before the renewals the model learns from (no usage data): "
                        "the model needs them")
    models = {
        kind: RenewalModel(kind=kind, random_state=random_state, features=fs).fit(train, y_train) for kind in KINDS
    }

    metric_rows, calib_rows, test_p = [], [], {}
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    for kind, model in models.items():
        p = test_p[kind] = model.predict_proba(test)[:, 1]
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

    # "beats the baseline" only beyond a paired bootstrap interval on both AUC and Brier
    comparison = compare_models(y_test, test_p["boosted"], test_p["logistic"])
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
        comparison=comparison,
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
    fs = model.features_
    features = fs.features
    X = prepare_features(test, fs).reset_index(drop=True).iloc[idx].reset_index(drop=True)
    yy, n = y[idx], len(idx)
    segment = test["segment"].to_numpy()[idx]
    blocks = [X]
    for c in features:
        for _ in range(n_repeats):
            block = X.copy()
            block[c] = X[c].to_numpy()[rng.permutation(n)]
            blocks.append(block)
    stacked = pd.concat(blocks, ignore_index=True)
    stacked["segment"] = pd.Categorical(stacked["segment"].astype(object), categories=list(fs.segments))
    with _one_thread():
        p = model.estimator_.predict_proba(stacked)[:, 1].reshape(len(features) * n_repeats + 1, n)
    out = []
    groups = [("all", np.ones(n, dtype=bool))] + [(s, segment == s) for s in fs.segments]
    for group, mask in groups:
        if mask.sum() < MIN_ROWS or len(set(yy[mask])) < 2:
            continue
        auc = _auc(yy[mask], p[:, mask])
        drops = (auc[0] - auc[1:]).reshape(len(features), n_repeats)
        for i, name in enumerate(features):
            out.append(
                {
                    "segment": group,
                    "feature": name,
                    "label": fs.label(name),
                    "importance": float(drops[i].mean()),
                    "importance_std": float(drops[i].std()),
                    "n": int(mask.sum()),
                }
            )
    return pd.DataFrame(out, columns=["segment", "feature", "label", "importance", "importance_std", "n"])


def _driver_text(label: str, value: float) -> str:
    arrow = "+" if value >= 0 else "−"
    return f"{label} {arrow}{abs(value) * 100:.0f} pp"


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
        boosted = models["boosted"]
        contrib = boosted.contributions(rows[recent])
        values = contrib.to_numpy()
        order = np.argsort(-np.abs(values), axis=1)[:, :3]
        labels = [boosted.features_.label(c) for c in contrib.columns]
        for i in range(3):
            col = [
                _driver_text(labels[j], values[r, j]) for r, j in enumerate(order[:, i])
            ]
            out.loc[recent, f"driver_{i + 1}"] = col
    return out


def model_bundle(conn, test_share: float = 0.25, target: str = "renewed", random_state: int = 0) -> ModelBundle:
    """Fit the models on the whole target book of the database (not the sidebar slice)."""
    features = renewal_features(conn, Filters(include_non_target=True))  # fit on target rows only
    return fit_models(features, test_share=test_share, target=target, random_state=random_state,
                      features_set=feature_set(conn, features))


# --------------------------------------------------------------------------- stored fit
def write_model_tables(conn, test_share: float = 0.25, target: str = "renewed", random_state: int = 0) -> str | None:
    """Fit both models on the whole target book and store the results in FIT_TABLES.

    Runs at build time (``pipeline.build_models``, after the SQL models), so the page
    reads a finished fit and the fit lands with the data it was trained on (the same
    atomic file replacement). Returns None when fitted, else the reason the book cannot
    be fitted (the UserError text), which is stored for the page to show; the other
    tables are then empty.
    """
    conn.execute(sql_file("model_renewal_fit_tables"))
    try:
        bundle = model_bundle(conn, test_share=test_share, target=target, random_state=random_state)
    except UserError as err:
        conn.execute(*render_sql(
            "insert into model_renewal_fit (is_fitted, message, target, test_share) "
            "values (false, $message, $target, $test_share)",
            name="model_renewal_fit", message=str(err), target=target, test_share=test_share,
        ))
        return str(err)
    fit = pd.DataFrame(
        [{
            "is_fitted": True, "message": None, "target": target, "test_share": test_share,
            "split_on": bundle.split_on.date(), "train_last_due_on": bundle.train_last_due_on.date(),
            "test_first_due_on": bundle.test_first_due_on.date(), "n_train": bundle.n_train,
            "n_test": bundle.n_test,
        }]
    )
    predictions = bundle.predictions[list(PREDICTION_COLUMNS)].copy()
    predictions["due_on"] = predictions["due_on"].dt.date
    frames = {
        "model_renewal_fit": fit,
        "model_renewal_metrics": bundle.metrics,
        "model_renewal_calibration": bundle.calibration,
        "model_renewal_importance": bundle.importance,
        "model_renewal_predictions": predictions,
        "model_renewal_comparison": bundle.comparison,
    }
    for table, frame in frames.items():  # table names from FIT_TABLES, never from data
        columns = ", ".join(frame.columns)
        conn.register("_fit_frame", frame)
        try:
            conn.execute(f"insert into {table} ({columns}) select {columns} from _fit_frame")
        finally:
            conn.unregister("_fit_frame")
    return None
