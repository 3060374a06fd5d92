"""One place for labels (issue 16, point 4): cslib.labels, and the tables' wrapper ui.tables."""

from __future__ import annotations


import pandas as pd
import pytest

from cslib import labels
from cslib.charts.churn import category_label
from cslib.filters import attribute_label
from cslib.views.renewal_model import segment_label
from ui import sidebar, tables


@pytest.mark.parametrize("code, shown", [
    ("smb", "SMB"), ("mid_market", "Mid-market"), ("enterprise", "Enterprise"),
    ("emea", "EMEA"), ("anz", "ANZ"), ("anz/emea", "ANZ/EMEA"), ("north_america", "North America"),
    ("growth_international", "Growth international"), ("scale_americas", "Scale americas"),
    ("at_risk", "At risk"), ("not_recovered", "Not recovered"), ("won_back", "Won back"),
    ("high|at_risk", "High value · At risk"), ("low|unhealthy", "Low value · Unhealthy"),
    ("healthy -> at_risk", "Healthy → At risk"), ("is_enabled", "Enabled"),
    ("source_channel", "Lead channel"), ("csm_team", "CSM team"), ("kp_changed", "Key person changed"),
    ("nps_detractor", "NPS detractor"), ("no_reason_logged", "No reason logged"),
])
def test_codes_become_words(code, shown):
    assert labels.label(code) == shown


@pytest.mark.parametrize("text", ["Ana Ruiz", "Plan A", "R&D lead", "O'Neil & Sons"])
def test_text_that_is_not_a_code_is_kept(text):
    assert labels.label(text) == text


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, "nan", "None"])
def test_missing_is_unknown_never_none(missing):
    assert labels.label(missing) == "Unknown"
    assert labels.label(missing, missing="—") == "—"


def test_every_former_prettifier_agrees_with_the_one_module():
    assert not hasattr(sidebar, "pretty")  # the sidebar labels codes with cslib.labels itself
    for code in ("source_channel", "mid_market", "smb", "emea", "growth_international", "plan_tier"):
        assert attribute_label(code) == labels.column_label(code)
    assert sidebar.FILTER_LABELS["source_channel"] == "Lead channel"
    assert segment_label("mid_market") == "Mid-market" and segment_label("scale_up") == "Scale up"
    assert category_label("external_factors") == "External factors" and category_label(None) == "—"
    assert labels.naive_label("anz") == "Anz"  # what a careless prettifier shows; the page test forbids it


def test_tables_label_codes_headers_and_round_decimals():
    frame = pd.DataFrame({
        "arr": [429277.92000000004, None], "health_rate": [0.1 + 0.2, 0.5], "state": ["at_risk", "high|healthy"],
        "recovery": ["not_recovered", ""], "name": ["acme_corp", "Birch"], "account_id": ["a_1", "a_2"],
        "note": ["called them", "x_y"],
    })
    shown = tables.labelled(frame)
    assert shown["arr"].iloc[0] == 429277.92 and shown["health_rate"].iloc[0] == 0.3
    assert shown["state"].tolist() == ["At risk", "High value · Healthy"]
    assert shown["recovery"].tolist() == ["Not recovered", ""]
    assert shown["name"].tolist() == ["acme_corp", "Birch"]  # names, ids and notes stay as typed
    assert shown["account_id"].tolist() == ["a_1", "a_2"] and shown["note"].tolist() == ["called them", "x_y"]
    config = tables.headers(frame, {"arr": "ARR"})
    assert config["arr"] == "ARR" and config["health_rate"] == "Health rate" and config["account_id"] == "Account id"
