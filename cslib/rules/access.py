"""Who may see which part of the book, when login is configured.

A role map (TOML, path in ``HEALTHGRID_ROLES``) gives each user, by e-mail, a role:
``executive`` (the whole book), ``director`` (their CSM teams) or ``csm`` (their own
accounts, by CSM name). Scoping works by narrowing the sidebar Filters, which every
page and query already binds as parameters, so nothing can be read around it. An
e-mail that is not in the map gets nothing (deny by default).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from cslib.errors import UserError
from cslib.rules import tomlfile
from cslib.filters import Filters

ROLES = ("executive", "director", "csm")


@dataclass(frozen=True)
class Grant:
    role: str
    teams: tuple[str, ...] = ()
    csm: str | None = None


def load_role_map(path: str | os.PathLike) -> dict[str, Grant]:
    """``{email (lower case): Grant}`` from ``[users."email"]`` tables; UserError on bad input."""
    path = Path(path)
    data = tomlfile.read(path, "role map")
    users = data.get("users", {})
    if not isinstance(users, dict):
        raise UserError(f"{path}: users: must be a table of e-mail addresses")
    out: dict[str, Grant] = {}
    for email, entry in users.items():
        where = f"{path}: users.{email}"
        role = entry.get("role") if isinstance(entry, dict) else None
        if role not in ROLES:
            raise UserError(f"{where}.role: must be one of {', '.join(ROLES)}")
        teams = entry.get("teams", [])
        if role == "director" and (not isinstance(teams, list) or not teams
                                   or not all(isinstance(t, str) for t in teams)):
            raise UserError(f"{where}.teams: a director needs a list of CSM team names")
        csm = entry.get("csm")
        if role == "csm" and (not isinstance(csm, str) or not csm.strip()):
            raise UserError(f"{where}.csm: a CSM needs their CSM name as in accounts.csv")
        key = email.strip().lower()
        if key in out:
            raise UserError(f"{where}: the same e-mail address appears twice (e-mails are compared "
                            "without case and surrounding spaces); keep one entry")
        out[key] = Grant(role, tuple(teams) if role == "director" else (),
                                           csm.strip() if role == "csm" else None)
    return out


def grant_for(role_map: dict[str, Grant], email: str | None) -> Grant | None:
    """The user's grant, or None (no access) for an unknown or missing e-mail."""
    if not email:
        return None
    return role_map.get(email.strip().lower())


def scope(filters: Filters, grant: Grant) -> Filters:
    """``filters`` narrowed to what ``grant`` may see (the sidebar choice within it)."""
    if grant.role == "executive":
        return filters
    if grant.role == "director":
        chosen = set(filters.csm_team) & set(grant.teams) if filters.csm_team else set(grant.teams)
        if not chosen:
            return replace(filters, deny_all=True)
        return replace(filters, csm_team=tuple(sorted(chosen)))
    if filters.csm and grant.csm not in filters.csm:
        return replace(filters, deny_all=True)
    return replace(filters, csm=(grant.csm,))
