"""The renewal model is fitted at build time and stored: what the page and `report model`
read must be exactly what a fresh fit of the same book gives, and a book too small to fit
stores the reason instead of failing the build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cslib.store import db, pipeline
from cslib.model import renewal_fit
from cslib.views import renewal_model
from cslib.errors import UserError
from cslib.filters import Filters
from cslib.cli.reports import ReportArgs, render_report
from tests_support.book import build_tiny_book
from tests_support.model_book import build_model_demo


@pytest.fixture(scope="module")
def model_demo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("fit_demo") / "demo.duckdb"
    build_model_demo(path)
    return path


@pytest.fixture(scope="module")
def model_demo(model_demo_path):
    conn = db.connect(model_demo_path, read_only=True)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def fresh(model_demo):
    return renewal_fit.model_bundle(model_demo)


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("fit_tiny") / "tiny.duckdb"
    build_tiny_book(path)
    return path


def test_stored_fit_equals_a_fresh_fit(model_demo, fresh):
    stored = renewal_model.stored_bundle(model_demo)
    assert stored.split_on == fresh.split_on
    assert (stored.n_train, stored.n_test) == (fresh.n_train, fresh.n_test)
    assert (stored.train_last_due_on, stored.test_first_due_on) == (fresh.train_last_due_on, fresh.test_first_due_on)
    for name in ("metrics", "calibration", "importance", "comparison"):
        pd.testing.assert_frame_equal(
            getattr(stored, name), getattr(fresh, name), check_dtype=False, rtol=1e-12, obj=name
        )
    assert stored.verdict == fresh.verdict
    assert stored.models == {}  # no estimator is kept: the page never predicts


def test_stored_predictions_are_the_fit_for_every_renewal(model_demo, fresh):
    stored = db.query(model_demo, "select * from model_renewal_predictions order by rowid")
    n_renewals = db.query(model_demo, "select count(*) as n from raw_renewals")["n"].iloc[0]
    assert len(stored) == n_renewals == len(fresh.predictions)
    expected = fresh.predictions[list(stored.columns)].reset_index(drop=True)
    expected["due_on"] = expected["due_on"].dt.date
    stored["due_on"] = pd.to_datetime(stored["due_on"]).dt.date
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False, rtol=1e-12)
    assert stored[["p_boosted", "p_logistic"]].stack().between(0, 1).all()
    # no renewal is on both sides of the split
    assert not (stored["is_test"] & stored["is_train"]).any()


def test_stored_verdict_matches_a_recomputation_and_the_report(model_demo, model_demo_path):
    """The verdict stored at fit time is compare_models on the stored test predictions and
    the renewals' labels; `report model` prints it on both metric rows and the comparison."""
    stored = renewal_model.stored_bundle(model_demo)
    preds = db.query(model_demo, "select * from model_renewal_predictions where is_test order by rowid")
    features = renewal_model.renewal_features(model_demo, Filters(include_non_target=True))
    features = features.set_index(["account_id", "due_on"])
    keys = list(zip(preds["account_id"], pd.to_datetime(preds["due_on"])))
    y = renewal_fit.labels(features.loc[keys].reset_index())
    recomputed = renewal_model.compare_models(y, preds["p_boosted"], preds["p_logistic"])
    pd.testing.assert_frame_equal(stored.comparison, recomputed, check_dtype=False, rtol=1e-12)
    metrics = stored.metrics.set_index("model")
    rows = recomputed.set_index("metric")
    assert rows.loc["auc", "boosted"] == pytest.approx(metrics.loc["boosted", "auc"], rel=1e-12)
    assert rows.loc["brier", "baseline"] == pytest.approx(metrics.loc["logistic", "brier"], rel=1e-12)
    import json

    payload = json.loads(render_report("model", model_demo_path, ReportArgs(month=None, filters=Filters()), "json"))
    assert {r["verdict"] for r in payload["metrics"]} == {stored.verdict}
    assert {r["boosted_beats_baseline"] for r in payload["metrics"]} == {stored.verdict == "beats"}
    assert [r["metric"] for r in payload["comparison"]] == ["auc", "brier"]
    assert payload["comparison"][0]["ci_low"] == pytest.approx(rows.loc["auc", "ci_low"], abs=1e-6)


def test_upcoming_renewals_are_the_window_of_the_slice_riskiest_first(model_demo):
    months = db.query(model_demo, "select distinct month from account_month order by month")["month"]
    month = months.iloc[-4]
    end = pd.Timestamp(f"{month}-01") + pd.offsets.MonthEnd(0)
    for filters in (Filters(), Filters(segment=("smb",))):
        upcoming = renewal_model.upcoming_renewals(model_demo, filters, month)
        features = renewal_model.renewal_features(
            model_demo, filters, end, end + pd.Timedelta(days=renewal_model.UPCOMING_DAYS)
        )
        assert len(upcoming) == len(features) > 0
        due = pd.to_datetime(upcoming["due_on"])
        assert (due > end).all() and (due <= end + pd.Timedelta(days=renewal_model.UPCOMING_DAYS)).all()
        p = upcoming["p_renewal"].to_numpy()
        assert (p[:-1] <= p[1:]).all()  # riskiest first
        if filters.segment:
            assert set(upcoming["segment"]) == {"smb"}
    # each probability is the stored one of that renewal
    upcoming = renewal_model.upcoming_renewals(model_demo, Filters(), month)
    stored = db.query(model_demo, "select account_id, due_on, p_boosted, p_logistic from model_renewal_predictions")
    stored["due_on"] = pd.to_datetime(stored["due_on"]).dt.date
    joined = upcoming.merge(stored, on=["account_id", "due_on"], how="left", validate="one_to_one")
    assert joined["p_renewal"].tolist() == joined["p_boosted"].tolist()
    assert joined["p_baseline"].tolist() == joined["p_logistic"].tolist()


def test_a_book_too_small_to_fit_stores_the_reason(tiny_path):
    conn = db.connect(tiny_path)
    try:
        stored = renewal_model.stored_bundle(conn)
        assert isinstance(stored, str) and "decided renewals" in stored
        assert db.query(conn, "select count(*) as n from model_renewal_predictions")["n"].iloc[0] == 0
        assert pipeline.missing_models(conn) == []
        upcoming = renewal_model.upcoming_renewals(conn, Filters(include_non_target=True), "2026-01")
        assert len(upcoming) > 0 and upcoming["p_renewal"].isna().all()
    finally:
        conn.close()
    with pytest.raises(UserError, match="could not be fitted on this book: only .* decided renewals"):
        render_report("model", tiny_path, ReportArgs(month=None, filters=Filters()), "json")


def test_a_database_without_the_stored_fit_is_reported_as_older(tiny_path, tmp_path):
    older = tmp_path / "older.duckdb"
    older.write_bytes(tiny_path.read_bytes())
    conn = db.connect(older, read_only=False)
    try:
        conn.execute("drop table model_renewal_predictions")
        assert pipeline.missing_models(conn) == ["model_renewal_predictions"]
    finally:
        conn.close()
    with pytest.raises(UserError, match="older version of Healthgrid .*model_renewal_predictions.*cslib score"):
        render_report("model", older, ReportArgs(month=None, filters=Filters()), "json")


def test_the_app_side_never_imports_scikit_learn_or_scipy():
    """The page reads the stored fit: importing scikit-learn and scipy would add about a
    second to a first visit. Imports every cslib module the app and pages import."""
    code = (
        "import ast, importlib, pathlib, sys\n"
        "files = [pathlib.Path('app.py'), *pathlib.Path('pages').glob('*.py'), *pathlib.Path('ui').glob('*.py')]\n"
        "mods = set()\n"
        "for f in files:\n"
        "    for n in ast.walk(ast.parse(f.read_text())):\n"
        "        if isinstance(n, ast.ImportFrom) and (n.module or '').split('.')[0] == 'cslib':\n"
        "            mods.add(n.module)\n"
        "            folder = pathlib.Path(*n.module.split('.'))\n"
        "            mods |= {n.module + '.' + a.name for a in n.names if (folder / (a.name + '.py')).exists()}\n"
        "assert 'cslib.views.renewal_model' in mods, sorted(mods)\n"
        "for m in sorted(mods):\n"
        "    importlib.import_module(m)\n"
        "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
