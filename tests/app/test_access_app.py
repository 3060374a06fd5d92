"""Login and role scoping in the app, with AppTest's user and secrets simulation.

On the tiny book (tests_support/book.py), March 2026 ARR of target accounts: whole book
$216K; team Growth = a2 48,000 + a3 12,000 + a5 36,000 = $96.0K; CSM Ben Okafor = a2 + a3
= $60.0K; team Enterprise = a1 = $120K.
"""

import pytest

from ui.sidebar import widget_key

AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                 "client_id": "id", "client_secret": "secret",
                 "server_metadata_url": "https://id.example.com/.well-known/openid-configuration"}}
ROLE_MAP = """
[users."ceo@example.com"]
role = "executive"

[users."dana@example.com"]
role = "director"
teams = ["Growth"]

[users."ben@example.com"]
role = "csm"
csm = "Ben Okafor"
"""


@pytest.fixture
def secured(tiny_db, app_on, monkeypatch, tmp_path):
    roles = tmp_path / "roles.toml"
    roles.write_text(ROLE_MAP, encoding="utf-8")
    monkeypatch.setenv("HEALTHGRID_ROLES", str(roles))

    def make(user: dict | None, **params):
        at = app_on(tiny_db, **params)
        at.secrets.update(AUTH)
        at.user = user if user is not None else {"is_logged_in": False}
        return at.run()

    return make


def _arr(at) -> str | None:
    for m in at.metric:
        if m.label == "ARR":
            return m.value
    return None


def test_without_auth_the_app_is_open(tiny_db, app_on):
    assert _arr(app_on(tiny_db).run()) == "$216K"


def test_logged_out_visitor_sees_only_the_login(secured):
    at = secured(None)
    assert not at.exception
    assert _arr(at) is None
    assert [b.label for b in at.button] == ["Log in"]


def test_unknown_user_is_denied(secured):
    at = secured({"is_logged_in": True, "email": "stranger@example.com"})
    assert not at.exception
    assert _arr(at) is None
    assert "No access for stranger@example.com" in at.error[0].value


@pytest.mark.parametrize(
    "email,arr",
    [("ceo@example.com", "$216K"), ("dana@example.com", "$96.0K"), ("ben@example.com", "$60.0K")],
)
def test_each_role_sees_its_book(secured, email, arr):
    at = secured({"is_logged_in": True, "email": email})
    assert not at.exception
    assert _arr(at) == arr


def test_a_director_cannot_widen_the_scope_through_the_url(secured):
    at = secured({"is_logged_in": True, "email": "dana@example.com"}, csm_team="Enterprise")
    assert not at.exception
    # the Enterprise team is outside Dana's grant: it is dropped, and she sees her own book
    assert at.multiselect(key=widget_key("csm_team")).value == []
    assert _arr(at) == "$96.0K"


@pytest.mark.parametrize(
    "email,teams,csms",
    [
        ("ceo@example.com", ["Enterprise", "Growth"], ["Ana Lima", "Ben Okafor", "Chen Wei"]),
        ("dana@example.com", ["Growth"], ["Ben Okafor", "Chen Wei"]),
        ("ben@example.com", ["Growth"], ["Ben Okafor"]),
    ],
)
def test_the_sidebar_lists_only_what_the_user_may_see(secured, email, teams, csms):
    at = secured({"is_logged_in": True, "email": email})
    assert not at.exception
    assert at.multiselect(key=widget_key("csm_team")).options == teams
    assert at.multiselect(key=widget_key("csm")).options == csms


# --------------------------------------------------------------------------- who may edit, and who did
# Playbooks are company-wide: executives and directors edit them, CSMs read them. An
# alert's status is changed by its account's CSM, their director or an executive. The
# author recorded is the login (e-mail and the identity provider's name), never typed.
EDIT_ROLES = """
[users."ceo@example.com"]
role = "executive"

[users."dana@example.com"]
role = "director"
teams = ["Growth", "North"]

[users."ben@example.com"]
role = "csm"
csm = "Ben Okafor"

[users."south@example.com"]
role = "csm"
csm = "CSM South"
"""
NINEBOX = "pages/ninebox.py"
FLOWS = "pages/flows.py"


@pytest.fixture(scope="module")
def ninebox_db(tmp_path_factory):
    from tests_support.ninebox_book import build_ninebox_book

    path = tmp_path_factory.mktemp("access_ninebox") / "book.duckdb"
    build_ninebox_book(path)
    return path


@pytest.fixture(scope="module")
def flows_db(tmp_path_factory):
    from tests_support.flows_book import build_flows_book

    path = tmp_path_factory.mktemp("access_flows") / "flows.duckdb"
    build_flows_book(path)
    return path


@pytest.fixture
def signed_in(app_on, monkeypatch, tmp_path):
    """signed_in(db, page, user) -> AppTest on ``page`` as the simulated login ``user``,
    with the editing role map and an app store of its own (``signed_in.store``)."""
    roles = tmp_path / "roles.toml"
    roles.write_text(EDIT_ROLES, encoding="utf-8")
    monkeypatch.setenv("HEALTHGRID_ROLES", str(roles))
    store = tmp_path / "app.sqlite"
    monkeypatch.setenv("HEALTHGRID_APP_DB", str(store))

    def make(db_path, page, user):
        at = app_on(db_path)
        at.secrets.update(AUTH)
        at.user = user
        at.switch_page(page).run()
        _no_problem(at)
        return at

    make.store = store
    return make


def _no_problem(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _cell(at, cell: str):
    at.selectbox(key="ninebox_cell").set_value(cell).run()
    _no_problem(at)
    return at


def _labels(at) -> list[str]:
    return [b.label for b in at.button]


def test_a_csm_reads_playbooks_but_cannot_edit_them(signed_in, ninebox_db):
    at = _cell(signed_in(ninebox_db, NINEBOX, {"is_logged_in": True, "email": "ben@example.com"}), "high|unhealthy")
    assert "sponsor call" in " ".join(m.value for m in at.markdown)  # the playbook is shown
    assert "Save playbook" not in _labels(at) and not at.text_area  # no editor at all
    assert not [e for e in at.expander if e.label == "Edit this playbook"]
    assert any("executives and directors edit them" in c.value for c in at.caption)
    assert not [t for t in at.text_input if "name" in str(t.key)]  # and no name to type


@pytest.mark.parametrize("email,name,label", [
    ("dana@example.com", "Dana Diaz", "Dana Diaz <dana@example.com>"),
    ("ceo@example.com", None, "ceo@example.com"),
])
def test_directors_and_executives_edit_playbooks_as_their_login(signed_in, ninebox_db, email, name, label):
    from cslib.store.appstore import AppStore
    from ui.auth import NAME_KEY

    user = {"is_logged_in": True, "email": email, **({"name": name} if name else {})}
    at = _cell(signed_in(ninebox_db, NINEBOX, user), "high|unhealthy")
    assert not [t for t in at.text_input if "name" in str(t.key)]  # nothing asks for a name
    at.session_state[NAME_KEY] = "The CEO"  # a forged session name is ignored under login
    at.text_area(key="ninebox_playbook_body_high_unhealthy").set_value("Call the sponsor this week.")
    at.button[_labels(at).index("Save playbook")].click().run()
    _no_problem(at)
    assert any(s.value == "Playbook saved." for s in at.success)
    assert f"Edited by {label} · 20" in " ".join(t.value for t in at.text)
    row = AppStore(signed_in.store).playbooks().set_index("cell_id").loc["high|unhealthy"]
    assert (row["updated_by"], row["author_email"], bool(row["verified"])) == (label, email, True)
    assert row["updated_at"].startswith("20")
    history = next(d.value for d in at.dataframe if "body" in d.value.columns)  # the History expander
    assert history[["updated_by", "verified", "body"]].values.tolist() == [[label, True, "Call the sponsor this week."]]


def test_a_csm_sets_the_status_of_their_own_alerts_as_their_login(signed_in, flows_db):
    from cslib.store.appstore import AppStore

    at = signed_in(flows_db, FLOWS, {"is_logged_in": True, "email": "south@example.com", "name": "The CEO"})
    pick = at.selectbox(key="flows_alert_pick")
    # the CSM's book only: CSM South's alerts, never CSM North's
    assert pick.options and all(" F Fell " in o or " F New Unhealthy " in o for o in pick.options)
    assert not [t for t in at.text_input if "name" in str(t.key) or "user" in str(t.key)]
    chosen = pick.value
    at.selectbox(key=f"flows_status_{chosen}").set_value("acknowledged")
    at.button(key="flows_update_status").click().run()
    _no_problem(at)
    row = AppStore(signed_in.store).alert_statuses().set_index("alert_id").loc[chosen]
    # the IdP's name is shown with the e-mail: a name claim alone cannot pass for someone else
    assert (row["status"], row["updated_by"], row["author_email"], bool(row["verified"])) == (
        "acknowledged", "The CEO <south@example.com>", "south@example.com", True)
    history = AppStore(signed_in.store).alert_status_history(chosen)
    assert history["author_email"].tolist() == ["south@example.com"]


def test_a_director_sets_the_status_of_their_teams_alerts(signed_in, flows_db):
    from cslib.store.appstore import AppStore

    at = signed_in(flows_db, FLOWS, {"is_logged_in": True, "email": "dana@example.com"})
    pick = at.selectbox(key="flows_alert_pick")
    assert pick.options and all(" F Downgraded " in o or " F Upgraded " in o for o in pick.options)  # North only
    chosen = pick.value
    at.selectbox(key=f"flows_status_{chosen}").set_value("closed")
    at.button(key="flows_update_status").click().run()
    _no_problem(at)
    row = AppStore(signed_in.store).alert_statuses().set_index("alert_id").loc[chosen]
    assert (row["status"], row["updated_by"]) == ("closed", "dana@example.com")


def test_without_login_the_name_is_asked_once_per_session_and_marked_unverified(app_on, ninebox_db, flows_db,
                                                                               monkeypatch, tmp_path):
    from cslib.store.appstore import AppStore

    monkeypatch.setenv("HEALTHGRID_APP_DB", str(tmp_path / "app.sqlite"))
    at = app_on(flows_db)
    at.switch_page(FLOWS).run()
    _no_problem(at)
    assert "Update status" not in _labels(at)  # first the name
    at.text_input(key="flows_alert_name").input("Kim (unverified)")  # typed suffix is not doubled
    at.button[_labels(at).index("Continue")].click().run()
    _no_problem(at)
    chosen = at.selectbox(key="flows_alert_pick").value
    at.selectbox(key=f"flows_status_{chosen}").set_value("acknowledged")
    at.button(key="flows_update_status").click().run()
    _no_problem(at)
    row = AppStore(tmp_path / "app.sqlite").alert_statuses().set_index("alert_id").loc[chosen]
    assert (row["updated_by"], row["author_email"], bool(row["verified"])) == ("Kim (unverified)", None, False)
    assert "Changes are recorded as Kim (unverified)" in [t.value for t in at.sidebar.text]
    # once per session: the nine-box editor in the same session does not ask again
    at.switch_page(NINEBOX).run()
    _no_problem(at)
    _cell(at, "high|unhealthy")
    assert not [t for t in at.text_input if "name" in str(t.key)]
    assert "Saved as Kim (unverified)" in [t.value for t in at.text]


@pytest.mark.parametrize("role_map", [None, "folder", b"\xff\xfe not utf-8", "[users\nbroken", 
                                      '[users."a@example.com"]\nrole = "csm"\n[users."A@example.com"]\nrole = "executive"\n'])
def test_access_is_not_set_up_names_no_server_path(tiny_db, app_on, monkeypatch, tmp_path, role_map):
    roles = tmp_path / "secret-folder" / "roles.toml"
    roles.parent.mkdir()
    if role_map == "folder":
        roles.mkdir()
    elif isinstance(role_map, bytes):
        roles.write_bytes(role_map)
    elif role_map is not None:
        roles.write_text(role_map, encoding="utf-8")
    monkeypatch.setenv("HEALTHGRID_ROLES", str(roles))
    at = app_on(tiny_db)
    at.secrets.update(AUTH)
    at.user = {"is_logged_in": True, "email": "ceo@example.com"}
    at.run()
    assert not at.exception
    assert _arr(at) is None
    message = at.error[0].value
    assert message.startswith("Access is not set up") and "Ask your administrator" in message
    shown = " ".join([e.value for e in at.error] + [m.value for m in at.markdown] + [c.value for c in at.caption])
    assert str(tmp_path) not in shown and "secret-folder" not in shown and "roles.toml" not in shown
    assert "Log out" in _labels(at)


def test_the_sidebar_says_who_is_signed_in(signed_in, ninebox_db):
    at = signed_in(ninebox_db, NINEBOX, {"is_logged_in": True, "email": "ben@example.com", "name": "Ben Okafor"})
    assert "Signed in as Ben Okafor <ben@example.com> · CSM" in [t.value for t in at.sidebar.text]
    assert "Log out" in [b.label for b in at.sidebar.button]


def test_a_role_taken_away_before_the_save_is_refused_on_the_server(signed_in, ninebox_db, tmp_path):
    """The editor was drawn for a director; the role map then makes her a CSM; her click on
    Save is checked against the login and the role map at that moment, not the old page."""
    from cslib.store.appstore import AppStore

    at = _cell(signed_in(ninebox_db, NINEBOX, {"is_logged_in": True, "email": "dana@example.com"}),
               "high|unhealthy")
    at.text_area(key="ninebox_playbook_body_high_unhealthy").set_value("Rewritten by a CSM.")
    (tmp_path / "roles.toml").write_text(EDIT_ROLES.replace(
        'role = "director"\nteams = ["Growth", "North"]', 'role = "csm"\ncsm = "Ben Okafor"'), encoding="utf-8")
    at.button[_labels(at).index("Save playbook")].click().run()
    assert not at.exception
    assert any("Not saved: playbooks are edited by executives and directors" in e.value for e in at.error)
    assert AppStore(signed_in.store).playbooks().empty
    assert "Save playbook" not in _labels(at)  # and the editor is gone


def test_an_empty_session_name_is_refused_with_a_line(app_on, flows_db, monkeypatch, tmp_path):
    monkeypatch.setenv("HEALTHGRID_APP_DB", str(tmp_path / "app.sqlite"))
    at = app_on(flows_db)
    at.switch_page(FLOWS).run()
    at.text_input(key="flows_alert_name").input("  \t ")
    at.button[_labels(at).index("Continue")].click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Enter your name to continue."]
    assert "Update status" not in _labels(at)
