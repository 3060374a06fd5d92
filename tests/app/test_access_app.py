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
