"""Role map and scoping (cslib.rules.access)."""

import pytest

from cslib.rules.access import Grant, grant_for, load_role_map, scope
from cslib.errors import UserError
from cslib.filters import Filters

ROLE_MAP = """
[users."CEO@example.com"]
role = "executive"

[users."dana@example.com"]
role = "director"
teams = ["Growth", "Scale"]

[users."ben@example.com"]
role = "csm"
csm = "Ben Okafor"
"""


@pytest.fixture
def role_map(tmp_path):
    path = tmp_path / "roles.toml"
    path.write_text(ROLE_MAP, encoding="utf-8")
    return load_role_map(path)


def test_grants_by_email_case_insensitive_and_deny_by_default(role_map):
    assert grant_for(role_map, "ceo@EXAMPLE.com") == Grant("executive")
    assert grant_for(role_map, "dana@example.com") == Grant("director", ("Growth", "Scale"))
    assert grant_for(role_map, "ben@example.com") == Grant("csm", (), "Ben Okafor")
    assert grant_for(role_map, "stranger@example.com") is None
    assert grant_for(role_map, None) is None


def test_scope_narrows_filters():
    director = Grant("director", ("Growth", "Scale"))
    assert scope(Filters(), director).csm_team == ("Growth", "Scale")
    assert scope(Filters(csm_team=("Growth",)), director).csm_team == ("Growth",)
    denied = scope(Filters(csm_team=("Enterprise",)), director)
    assert denied.deny_all and denied.where_named() == ("false", {})
    csm = Grant("csm", (), "Ben Okafor")
    assert scope(Filters(segment=("smb",)), csm) == Filters(segment=("smb",), csm=("Ben Okafor",))
    assert scope(Filters(csm=("Ana Lima",)), csm).where_named("a") == ("false", {})
    assert scope(Filters(segment=("smb",)), Grant("executive")) == Filters(segment=("smb",))


@pytest.mark.parametrize(
    "text,message",
    [
        ('[users."x@y.z"]\nrole = "boss"', "users.x@y.z.role: must be one of executive, director, csm"),
        ('[users."x@y.z"]\nrole = "director"', "users.x@y.z.teams: a director needs a list of CSM team names"),
        ('[users."x@y.z"]\nrole = "csm"', "users.x@y.z.csm: a CSM needs their CSM name as in accounts.csv"),
    ],
)
def test_bad_role_maps_are_one_line(tmp_path, text, message):
    path = tmp_path / "roles.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_role_map(path)
    assert str(err.value) == f"{path}: {message}"


def test_an_empty_scope_is_no_rows_not_a_magic_value():
    """A scope that leaves nothing is a false predicate; no filter value stands for it, so no
    account can ever match it, whatever its team or CSM is called."""
    denied = scope(Filters(csm_team=("Enterprise",)), Grant("director", ("Growth",)))
    assert denied.csm_team == ("Enterprise",)  # the user's own choice is kept as it was
    assert denied.where_named("a") == ("false", {})
    assert "deny_all" in denied.as_dict() and "deny_all" not in Filters().as_dict()


@pytest.mark.parametrize(
    "content,message",
    [
        ('[users."Ana@X.com"]\nrole = "executive"\n[users."ana@x.com "]\nrole = "csm"\ncsm = "Ana"\n',
         "the same e-mail address appears twice"),
        ('[users."ana@x.com"]\nrole = "csm"\ncsm = "Ana"\n[users."ANA@X.COM"]\nrole = "executive"\n',
         "the same e-mail address appears twice"),
    ],
)
def test_duplicate_emails_are_an_error(tmp_path, content, message):
    path = tmp_path / "roles.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match=message):
        load_role_map(path)


def test_a_role_map_that_is_not_utf8_or_is_a_folder_is_one_line(tmp_path):
    latin = tmp_path / "roles.toml"
    latin.write_bytes('[users."jos\u00e9@x.com"]\nrole = "executive"\n'.encode("latin-1"))
    with pytest.raises(UserError, match=r"not UTF-8 text \(byte 11\); save the role map as UTF-8"):
        load_role_map(latin)
    with pytest.raises(UserError, match="is a folder; the role map is a TOML file"):
        load_role_map(tmp_path)
