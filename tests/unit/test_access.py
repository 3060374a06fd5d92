"""Role map and scoping (cslib.access)."""

import pytest

from cslib.access import NO_ACCESS, Grant, grant_for, load_role_map, scope
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
    assert scope(Filters(csm_team=("Enterprise",)), director).csm_team == (NO_ACCESS,)
    csm = Grant("csm", (), "Ben Okafor")
    assert scope(Filters(segment=("smb",)), csm) == Filters(segment=("smb",), csm=("Ben Okafor",))
    assert scope(Filters(csm=("Ana Lima",)), csm).csm == (NO_ACCESS,)
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
