"""Sidebar filters narrow each other (tiny book, tests_support/book.py, March 2026).

Teams: Enterprise = Ana Lima (a1); Growth = Ben Okafor (a2, a3) and Chen Wei (a4 non-target,
a5). Target ARR: Growth 48,000 + 12,000 + 36,000 = $96.0K; Ana Lima $120K.
"""

from __future__ import annotations

from ui.sidebar import widget_key


def _arr(at) -> str:
    return next(m.value for m in at.metric if m.label == "ARR")


def test_choosing_a_team_leaves_only_its_csms(tiny_db, app_on):
    at = app_on(tiny_db).run()
    assert at.multiselect(key=widget_key("csm")).options == ["Ana Lima", "Ben Okafor", "Chen Wei"]
    at.multiselect(key=widget_key("csm_team")).set_value(["Growth"]).run()
    assert at.multiselect(key=widget_key("csm")).options == ["Ben Okafor", "Chen Wei"]
    # a team's own list is not narrowed by itself, but by the other choices
    assert at.multiselect(key=widget_key("csm_team")).options == ["Enterprise", "Growth"]
    assert at.multiselect(key=widget_key("segment")).options == ["Mid-market", "SMB"]  # no enterprise in Growth
    at.multiselect(key=widget_key("segment")).set_value(["smb"]).run()
    assert at.multiselect(key=widget_key("csm")).options == ["Ben Okafor", "Chen Wei"]  # a3 and a4
    assert at.multiselect(key=widget_key("csm_team")).options == ["Growth"]


def test_a_choice_the_last_change_excludes_is_dropped_and_said(tiny_db, app_on):
    at = app_on(tiny_db).run()
    at.multiselect(key=widget_key("csm")).set_value(["Ana Lima"]).run()
    assert _arr(at) == "$120K"
    at.multiselect(key=widget_key("csm_team")).set_value(["Growth"]).run()  # Ana is not in Growth
    assert not at.exception
    assert at.multiselect(key=widget_key("csm")).value == []
    assert at.multiselect(key=widget_key("csm_team")).value == ["Growth"]
    assert _arr(at) == "$96.0K"  # the team's book, not an empty page
    assert any(c.value == "Not in the other choices, so dropped: CSM Ana Lima" for c in at.sidebar.caption)
    assert "Ana Lima" not in at.query_params.get("csm", "")


def test_a_contradicting_url_keeps_a_non_empty_book(tiny_db, app_on):
    at = app_on(tiny_db, csm_team="Enterprise", csm="Ben Okafor").run()
    assert not at.exception
    chosen = (at.multiselect(key=widget_key("csm_team")).value, at.multiselect(key=widget_key("csm")).value)
    assert chosen == (["Enterprise"], [])  # no change made yet: the narrower choice (CSM) gives way
    assert _arr(at) == "$120K"
