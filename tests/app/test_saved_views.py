"""Saved views through AppTest on the tiny book: save a page and slice under a name, open it
in another session (the page, month and filters come back), keep a view to oneself."""

from __future__ import annotations

from cslib.store import appstore
from ui.sidebar import widget_key


def _give_name(at, name: str) -> None:
    at.text_input(key="hg_views_name").input(name)
    at.button[[b.label for b in at.button].index("Continue")].click().run()


def _save(at, name: str, shared: bool = True) -> None:
    at.text_input(key="hg_view_title").input(name)
    if not shared:
        at.checkbox(key="hg_view_shared").uncheck()
    at.button[[b.label for b in at.button].index("Save this view")].click().run()
    assert [s.value for s in at.success] == ["View saved."]


def test_a_saved_view_opens_its_page_month_and_filters(tiny_db, app_on, monkeypatch, tmp_path):
    monkeypatch.setenv("HEALTHGRID_APP_DB", str(tmp_path / "app.sqlite"))
    author = app_on(tiny_db, month="2026-02", csm_team="Growth").run()
    author.switch_page("pages/ninebox.py").run()
    _give_name(author, "Dana")
    _save(author, "Growth in February")
    stored = appstore.AppStore(tmp_path / "app.sqlite").saved_views()
    assert stored[["name", "page", "query", "updated_by"]].values.tolist() == [
        ["Growth in February", "pages/ninebox.py", "month=2026-02&csm_team=Growth", "Dana (unverified)"]]

    colleague = app_on(tiny_db).run()  # a new session on the Overview, latest month, no filter
    assert colleague.selectbox(key="hg_month").value == "2026-03"
    pick = colleague.selectbox(key="hg_view_pick")
    assert pick.options == ["Growth in February · Dana (unverified)"]
    pick.set_value(int(stored["view_id"].iloc[0])).run()
    assert not colleague.exception
    assert colleague.title[0].value == "Nine-box · Feb 2026"
    assert colleague.selectbox(key="hg_month").value == "2026-02"
    assert colleague.multiselect(key=widget_key("csm_team")).value == ["Growth"]


def test_an_unshared_view_is_only_its_owners(tiny_db, app_on, monkeypatch, tmp_path):
    monkeypatch.setenv("HEALTHGRID_APP_DB", str(tmp_path / "app.sqlite"))
    owner = app_on(tiny_db).run()
    _give_name(owner, "Kim")
    _save(owner, "My scratch view", shared=False)
    assert owner.selectbox(key="hg_view_pick").options == ["My scratch view · Kim (unverified) · only you"]
    other = app_on(tiny_db).run()
    _give_name(other, "Lee")
    assert not [s for s in other.selectbox if s.key == "hg_view_pick"]  # nothing to open
    empty = app_on(tiny_db).run()
    _give_name(empty, "Kim")
    empty.text_input(key="hg_view_title").input("   ")
    empty.button[[b.label for b in empty.button].index("Save this view")].click().run()
    assert [e.value for e in empty.error] == ["Not saved: give the view a name."]
