"""Renewal model & what-if page through AppTest: the small demo and the tiny book."""

from __future__ import annotations

PAGE = "pages/renewal_model.py"


def _open(app_on, db_path, **params):
    at = app_on(db_path, **params).run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_renders_the_model_on_the_small_demo(small_demo_db, app_on):
    at = _open(app_on, small_demo_db)
    assert at.title[0].value.startswith("Renewal model & what-if")
    metrics = _metrics(at)
    for label in ("Held-out ROC AUC", "Baseline AUC (logistic)", "Brier score", "Accuracy at 0.5",
                  "Renewals due", "ARR due", "Expected ARR renewed"):
        assert label in metrics, label
    assert 0.0 <= float(metrics["Held-out ROC AUC"]) <= 1.0
    assert 0.0 <= float(metrics["Brier score"]) <= 1.0
    assert len(at.get("vega_lite_chart")) >= 5  # calibration, importance, effects, health vs renewal, bands
    assert len(at.tabs) == 5
    assert not at.error
    # the stored verdict of the paired bootstrap, in words (issue 13: "beats" only on both metrics)
    verdicts = [m.value for m in (*at.success, *at.info) if m.value.startswith("**Verdict: ")]
    assert len(verdicts) == 1 and "paired bootstrap resamples of the test set" in verdicts[0]
    assert verdicts[0].split("**")[1].rstrip(".").split(": ")[1] in ("beats", "tie", "worse")


def test_filter_change_reruns_cleanly(small_demo_db, app_on):
    at = _open(app_on, small_demo_db)
    due_all = _metrics(at)["Renewals due"]
    at.multiselect(key="hg_filter_segment").set_value(["smb"]).run()
    assert not at.exception
    assert int(_metrics(at)["Renewals due"]) <= int(due_all)


def test_whatif_with_unchanged_settings_shows_equal_versions(small_demo_db, app_on):
    at = _open(app_on, small_demo_db)
    submit = [b for b in at.button if b.label == "Re-score the book"]
    assert submit
    submit[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = _metrics(at)
    assert metrics["Health rate (current)"] == metrics["Health rate (what-if)"]
    assert metrics["Score AUC (current)"] == metrics["Score AUC (what-if)"]


def test_whatif_stricter_threshold_lowers_the_health_rate(small_demo_db, app_on):
    at = _open(app_on, small_demo_db)
    at.number_input(key="renewal_model_healthy_min").set_value(90.0)
    [b for b in at.button if b.label == "Re-score the book"][0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = _metrics(at)
    before = float(metrics["Health rate (current)"].rstrip("%"))
    after = float(metrics["Health rate (what-if)"].rstrip("%"))
    assert after < before


def test_tiny_book_explains_that_the_model_needs_history(tiny_db, app_on):
    at = _open(app_on, tiny_db)
    assert any("needs more history" in i.value for i in at.info)
    # the incentive table still renders: a1 (Ana Lima) is healthy in March
    assert not at.error


def test_indicator_tables_show_scorecard_labels_and_segment_labels(small_demo_db, app_on):
    """The indicator panel shows the scorecard's labels and display segment names, never
    snake_case codes."""
    at = _open(app_on, small_demo_db)
    shown = [df.value for df in at.dataframe if "segment_label" in df.value.columns]
    assert len(shown) == 2  # the effects table and the bands expander
    for frame in shown:
        assert "segment" not in frame.columns and "indicator" not in frame.columns
        assert set(frame["segment_label"]) <= {"All", "SMB", "Mid-market", "Enterprise"}
        assert "All" in set(frame["segment_label"])
        assert {"Login rate", "Modules (points)"} <= set(frame["label"])


def test_the_model_tiles_are_what_report_model_prints(small_demo_db, app_on):
    """The five model tiles are the `metrics` rows of `report model` (stored at fit time;
    the page and the report read the same table), and the verdict is the report's."""
    import json

    from cslib.charts import common as charts
    from cslib.filters import Filters
    from cslib.cli.reports import ReportArgs, render_report

    at = _open(app_on, small_demo_db)
    payload = json.loads(render_report("model", small_demo_db, ReportArgs(month=None, filters=Filters()), "json"))
    m = {row["model"]: row for row in payload["metrics"]}
    shown = _metrics(at)
    assert shown["Held-out ROC AUC"] == f"{m['boosted']['auc']:.3f}"
    assert shown["Baseline AUC (logistic)"] == f"{m['logistic']['auc']:.3f}"
    assert shown["Brier score"] == f"{m['boosted']['brier']:.3f}"
    assert shown["Accuracy at 0.5"] == charts.format_percent(m["boosted"]["accuracy"])
    assert shown["Test renewal rate"] == charts.format_percent(m["boosted"]["test_renewal_rate"])
    verdict = next(x.value for x in (*at.success, *at.info) if x.value.startswith("**Verdict: "))
    assert verdict.split("**")[1].rstrip(".").split(": ")[1] == payload["comparison"][0]["verdict"]
