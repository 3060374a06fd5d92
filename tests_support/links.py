"""Reading the Account-page links that tables show in place of account names."""

from __future__ import annotations

import re
import urllib.parse

from cslib.views.account import LINK_TEXT_RE


def link_name(link: str) -> str:
    """The name a link column shows for ``link`` (the browser decodes the captured text)."""
    match = re.search(LINK_TEXT_RE, str(link))
    assert match, f"not an Account page link: {link!r}"
    return urllib.parse.unquote_plus(match.group(1))


def link_names(values) -> list[str]:
    return [link_name(v) for v in values]
