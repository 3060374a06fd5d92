"""Account names that open the Account page, in any table.

A table keeps its ``name`` column but its values become the Account page's address
(``account?id=...&month=...&name=...``, cslib.views.account.account_url); the link column shows
the name (the browser decodes it from the address) and opens the account in a new tab,
at the month the table was showing.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cslib.views import account


def account_links(frame: pd.DataFrame, month: str | None, column: str = "name",
                  id_column: str = "account_id") -> pd.DataFrame:
    """A copy of ``frame`` whose ``column`` holds each row's Account page address."""
    if frame.empty or id_column not in frame.columns:
        return frame
    return account.with_links(frame, month, id_column=id_column, name_column=column, link_column=column)


def account_column(label: str = "Account", **kwargs) -> st.column_config.LinkColumn:
    """The column config of a ``name`` column made by ``account_links``."""
    return st.column_config.LinkColumn(label, display_text=account.LINK_TEXT_RE,
                                       help=kwargs.pop("help", "Opens the account's page"), **kwargs)
