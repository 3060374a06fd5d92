"""The renewal model's fit runs beside the SQL models built after its inputs
(cslib.store.pipeline._FitBeside): its failure fails the build, a model's failure waits
for the fit to end, and either way the database file is left as it was."""

from __future__ import annotations

import threading

import pytest

from cslib.store import pipeline
from tests_support.model_book import build_model_book


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "book.duckdb"
    build_model_book(path)
    return path


def _fit_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "renewal-model-fit"]


def test_the_fit_starts_after_its_inputs_and_before_the_page_models():
    models = list(pipeline.MODELS)
    start = models.index(pipeline.FIT_INPUTS_BUILT)
    assert models.index("model_renewal_features") < start
    assert models.index("account_month") < start < models.index("ninebox_account_month")


def test_a_failing_fit_fails_the_rescore_and_changes_nothing(book, monkeypatch):
    import cslib.model.renewal_fit as renewal_fit

    before = book.read_bytes()

    def broken(conn, *args, **kwargs):
        raise RuntimeError("the fit broke")

    monkeypatch.setattr(renewal_fit, "write_model_tables", broken)
    with pytest.raises(RuntimeError, match="the fit broke"):
        pipeline.rescore(book)
    assert book.read_bytes() == before
    assert _fit_threads() == []


def test_a_model_failing_while_the_fit_runs_waits_for_it_and_changes_nothing(book, monkeypatch):
    import cslib.model.renewal_fit as renewal_fit

    before = book.read_bytes()
    started, finished = threading.Event(), threading.Event()
    real = renewal_fit.write_model_tables

    def slow(conn, *args, **kwargs):
        started.set()
        try:
            return real(conn, *args, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(renewal_fit, "write_model_tables", slow)
    monkeypatch.setattr(pipeline, "MODELS", (*pipeline.MODELS, "no_such_model"))
    with pytest.raises(KeyError, match="no_such_model"):  # no such SQL file
        pipeline.rescore(book)
    assert started.is_set() and finished.is_set()  # the fit ran, and had ended before the file was dropped
    assert book.read_bytes() == before
    assert _fit_threads() == []
