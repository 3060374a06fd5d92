"""Deterministic generator of a believable B2B SaaS customer book (the demo company).

Layers, all driven by one ``numpy.random.default_rng(seed)`` passed down:

* ``make_calendar(n_months, end_month)``: the months and Monday weeks of the demo.
* ``generate_accounts(rng, n_accounts, calendar)``: firmographics plus each account's
  latent traits (base engagement, seats, plan, add-ons, onboarding failure, ...).
* ``simulate_book(rng, book, calendar)``: one pass through time, month by month and
  week by week, vectorised over accounts. Revenue, weekly usage, renewals, churn,
  win-backs and key-person changes are simulated together because they cause each
  other: a latent engagement (random walk per account) drives usage, usage drives an
  approximate health score, health drives renewal, renewal drives revenue.
* ``generate_csm_logs(rng, book, history, calendar)`` and
  ``generate_events(rng, book, history, calendar)``: the qualitative tables, read off
  the simulated history so logged reasons agree with the signals.
* ``generate(...)`` returns the seven contract frames; ``populate(conn, frames)``
  loads them into ``raw_*``; ``export_csv`` writes importable CSVs; ``write_demo``
  builds a whole database file atomically.

Nothing depends on today's date: the calendar ends at ``end_month``.
Conventions: an annual contract signed on day d of month m covers the revenue months
m .. m+11 and is due for renewal on day d of month m+12; a churn takes effect in the
first month without revenue. Early cancellations (failed onboarding) have no
renewal row: they never reach a renewal date.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from cslib.store import contract
from cslib.views.churn import load_taxonomy
from cslib.errors import UserError
from cslib.settings import DEMO_ACCOUNTS, DEMO_END_MONTH, DEMO_MONTHS, DEMO_SEED

# --- vocabulary ------------------------------------------------------------------

SEGMENTS = ("smb", "mid_market", "enterprise")
SEGMENT_SHARES = (0.65, 0.27, 0.08)
INDUSTRIES = (
    "manufacturing",
    "wholesale",
    "retail",
    "professional_services",
    "construction",
    "healthcare",
    "logistics",
    "technology",
)
INDUSTRY_SHARES = (0.18, 0.14, 0.14, 0.15, 0.10, 0.09, 0.10, 0.10)
#: engagement offset and churn-logit offset per industry (retail, construction churn more)
_INDUSTRY_ENGAGEMENT = np.array([0.10, 0.05, -0.20, 0.05, -0.15, 0.15, 0.0, 0.10])
_INDUSTRY_CHURN_LOGIT = np.array([-0.1, 0.0, 0.35, 0.0, 0.3, -0.3, 0.05, -0.1])
REGIONS = ("north_america", "latam", "emea", "apac", "anz")
REGION_SHARES = (0.38, 0.12, 0.30, 0.14, 0.06)
CHANNELS = ("inbound", "outbound", "partner", "events", "referral")
CHANNEL_SHARES = (0.36, 0.24, 0.14, 0.10, 0.16)
_CHANNEL_ENGAGEMENT = np.array([0.05, -0.25, 0.15, -0.15, 0.25])
_CHANNEL_CHURN_LOGIT = np.array([0.0, 0.35, -0.15, 0.25, -0.35])

#: csm_team -> CSMs (a CSM belongs to exactly one team)
CSM_TEAMS: dict[str, tuple[str, ...]] = {
    "strategic": ("Ana Ruiz", "Marcus Chen", "Ingrid Olsen", "Tomas Novak"),
    "growth_americas": ("Priya Nair", "Jake Miller", "Sofia Alvarez", "Daniel Kim", "Grace O'Neil"),
    "growth_international": ("Lena Fischer", "Yuki Tanaka", "Omar Haddad", "Chloe Martin"),
    "scale_americas": (
        "Ben Carter", "Maria Santos", "Noah Brooks", "Ava Johnson", "Luis Ortega", "Emma Wright",
    ),
    "scale_international": (
        "Hannah Weber", "Raj Patel", "Zoe Dubois", "Kenji Sato", "Freya Lund",
    ),
}
_AMERICAS = (0, 1)  # region indexes served by the *_americas teams

PRODUCTS = ("core_suite", "analytics", "e_invoicing", "integrations")
PLANS = ("starter", "professional", "enterprise", "add_on", "usage")
#: core_suite list price per seat and month, by plan
_SEAT_PRICE = np.array([25.0, 45.0, 70.0])
_PLAN_SHARES = {  # by segment: starter, professional, enterprise
    0: (0.70, 0.28, 0.02),
    1: (0.20, 0.60, 0.20),
    2: (0.00, 0.30, 0.70),
}
_ANALYTICS_SEAT_PRICE = 8.0
_INTEGRATIONS_MRR = np.array([60.0, 250.0, 900.0])  # flat, by segment
_EINV_BASE_MRR = np.array([19.0, 49.0, 149.0])  # by segment
_EINV_PRICE_PER_INVOICE = np.array([1.00, 0.80, 0.60])  # usage price, by segment
_ADDON_AT_SIGNING = {  # by segment: analytics, integrations, e_invoicing
    0: (0.10, 0.05, 0.15),
    1: (0.25, 0.20, 0.30),
    2: (0.45, 0.50, 0.40),
}

MODULES = (
    "contracts", "orders", "payments", "invoices",  # core (back office)
    "customers", "contacts",  # front office
    "reports", "approvals", "inventory", "projects",
)
_INVOICES = MODULES.index("invoices")
#: the scorecard's default points (used only for the generator's own health proxy)
_MODULE_POINTS = np.array([5, 5, 5, 5, 1, 1, 2, 2, 2, 2], dtype=np.float32)
#: engagement a module needs before an account tends to use it (higher = deeper)
_MODULE_THRESHOLD = np.array([0.1, -0.4, 0.3, -0.7, -2.5, -2.0, 0.0, 0.6, 1.2, 1.2])
_MODULE_WEIGHT = np.array([1.0, 3.0, 1.5, 3.0, 0.6, 0.8, 0.4, 0.5, 2.0, 1.5])
_INVENTORY_INDUSTRIES = (0, 1, 2, 6)
_PROJECT_INDUSTRIES = (3, 4, 7)

CHURN_REASONS = (
    "kp_changed", "competitor", "out_of_business", "never_adopted", "needs_not_met",
    "onboarding_failed", "price", "other", "over_promised", "rollout_cost", "too_complex",
    "no_training",
)
_R = {code: i for i, code in enumerate(CHURN_REASONS)}
RISK_FLAGS = ("bug_instability", "unmet_expectations", "late_go_live", "sponsor_left", "key_user_changed")
#: churn for reasons unrelated to usage (the floor that keeps healthy accounts churning)
_EXTERNAL_REASONS = (
    (_R["out_of_business"], _R["competitor"], _R["price"], _R["other"]),
    (0.45, 0.30, 0.15, 0.10),
)
_LOW_ACTIVATION_REASONS = (
    (_R["never_adopted"], _R["no_training"], _R["too_complex"], _R["rollout_cost"]),
    (0.55, 0.20, 0.15, 0.10),
)
_POOR_FIT_REASONS = (
    (_R["needs_not_met"], _R["competitor"], _R["price"], _R["over_promised"],
     _R["too_complex"], _R["rollout_cost"], _R["no_training"], _R["other"]),
    (0.25, 0.15, 0.20, 0.12, 0.10, 0.06, 0.04, 0.08),
)

OUTCOMES = ("renewed", "deferred", "churned", "pending")

_NAME_FIRST = (
    "Northwind", "Bluepeak", "Cedar", "Silverline", "Harbor", "Summit", "Ironwood", "Brightfield",
    "Oakridge", "Redstone", "Clearwater", "Granite", "Evergreen", "Lakeside", "Sunrise", "Pioneer",
    "Westgate", "Copperleaf", "Highland", "Riverbend", "Stonebridge", "Maple", "Falcon", "Keystone",
    "Blackstone", "Crescent", "Meridian", "Atlas", "Orion", "Vantage", "Beacon", "Juniper",
)
_NAME_SECOND = {
    0: ("Machining", "Components", "Fabrication", "Industries", "Tooling"),
    1: ("Supply", "Distribution", "Trading", "Wholesale", "Imports"),
    2: ("Retail", "Outfitters", "Stores", "Market", "Goods"),
    3: ("Consulting", "Advisory", "Partners", "Associates", "Legal"),
    4: ("Builders", "Construction", "Contracting", "Homes", "Engineering"),
    5: ("Health", "Clinics", "Medical", "Care", "Labs"),
    6: ("Logistics", "Freight", "Transport", "Shipping", "Couriers"),
    7: ("Software", "Systems", "Labs", "Digital", "Networks"),
}
_NAME_SUFFIX = ("Inc.", "LLC", "Ltd", "GmbH", "& Co.", "Group", "S.A.", "Pty Ltd", "", "")

_TOUCHPOINT_NOTES = (
    "Quarterly business review held",
    "Check-in call: no open issues",
    "Training session for new users",
    "Walked the admin through the new reports",
    "Helped configure the approval workflow",
    "Shared best practices for month-end close",
    "Health review: agreed on next steps",
)
_FREE_NOTES = (
    'Customer asked: "Can we export <all> invoices to CSV?"',
    "Finance & ops teams share one login - suggested separate seats",
    "Renewal quote sent; discount > 10% needs VP approval",
    "Admin says the new UI is 'much faster' & wants a demo for the <Sales> team",
    "Ticket #4411: import failed for rows with & in the name",
    "Champion on leave until next month",
    "Asked about SSO (SAML) & SCIM provisioning",
    "Usage < plan; recommended a right-size review",
    'Feedback: "reports are hard to find" - sent a short video',
)
_CHURN_NOTES = {
    "kp_changed": "New department head prefers the tools they used before",
    "competitor": 'Moved to a competitor ("cheaper & simpler")',
    "out_of_business": "Company closed or was acquired; no longer needs the product",
    "never_adopted": "Users never really logged in after the kickoff",
    "needs_not_met": "Needs a feature we do not have (multi-currency <-> local tax)",
    "onboarding_failed": "Implementation stalled before go-live",
    "price": "Budget cut; renewal price > approved budget",
    "other": "No reason given",
    "over_promised": "Sales promised features that are not on the roadmap",
    "rollout_cost": "Roll-out to the other sites was too costly",
    "too_complex": "Users found the product too complex for their process",
    "no_training": "Team never got trained after the admin left",
}
_RISK_NOTES = {
    "bug_instability": "Repeated errors & slow pages reported by users",
    "unmet_expectations": 'Customer: "this is not what we were shown in the demo"',
    "late_go_live": "Go-live date slipped again",
    "sponsor_left": "Executive sponsor left the company",
    "key_user_changed": "Key user replaced; new admin needs onboarding",
}
_COMPLAINT_NOTES = (
    "Invoices page slow (> 10 s)",
    "Sync with ERP & CRM failing since last update",
    'Error "Access denied" when approving orders',
    "Billing amount disputed",
    "Support response took > 3 days",
)
_NPS_NOTES = ("Great support team", "Reports are hard to find", "Does what we need", "Too many clicks")
EVENT_ROLES = ("key_user", "dept_head", "admin", "user", "executive")
_EVENT_ROLE_SHARES = (0.35, 0.20, 0.20, 0.15, 0.10)

ProgressFn = Callable[[str, float], None]


# --- small helpers -----------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _parse_month(month: str) -> int:
    """'YYYY-MM' -> months since 1970-01 (raises UserError on a bad value)."""
    if not isinstance(month, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise UserError(f"end month must look like YYYY-MM, got {month!r}")
    return int(month[:4]) * 12 + int(month[5:]) - 1 - 1970 * 12


def _month_label(abs_month: np.ndarray | int) -> np.ndarray:
    """Months since 1970-01 -> 'YYYY-MM' strings."""
    return np.datetime_as_string(np.asarray(abs_month, dtype="int64").astype("datetime64[M]"), unit="M")


def _dates(abs_month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """datetime64[D] of day ``day`` (1..28) of month ``abs_month`` (months since 1970-01)."""
    first = np.asarray(abs_month, dtype="int64").astype("datetime64[M]").astype("datetime64[D]")
    return first + (np.asarray(day, dtype="int64") - 1).astype("timedelta64[D]")


def _month_of(dates: np.ndarray) -> np.ndarray:
    """datetime64[D] -> months since 1970-01."""
    return dates.astype("datetime64[M]").astype("int64")


def _choice(rng: np.random.Generator, options: tuple, probs: tuple, size: int) -> np.ndarray:
    return np.asarray(options)[rng.choice(len(options), size=size, p=np.asarray(probs) / sum(probs))]


def _band_points(values: np.ndarray, mins: tuple, points: tuple) -> np.ndarray:
    """Points of the highest band whose lower bound <= value; NaN scores 0."""
    pos = np.searchsorted(np.asarray(mins), np.nan_to_num(values, nan=-1.0), side="right") - 1
    pts = np.asarray(points, dtype=np.float32)
    return np.where(pos >= 0, pts[np.clip(pos, 0, None)], 0.0)


def _str_column(codes: np.ndarray, labels) -> pd.Series:
    """Pandas ``str`` column from integer codes into ``labels``; a negative code is missing.

    Goes through a pyarrow dictionary, so it is fast for tens of millions of rows.
    """
    codes = np.asarray(codes, dtype=np.int32)
    dictionary = pa.array(list(labels), type=pa.string())
    arr = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), dictionary)
    return pd.Series(pd.array(arr.cast(pa.string()), dtype=pd.StringDtype("pyarrow", na_value=np.nan)))


def _date_column(dates: np.ndarray, index: np.ndarray | None = None) -> pd.Series:
    """Pandas datetime64[s] column of ``dates`` (or of ``dates[index]``, converting first)."""
    seconds = np.asarray(dates, dtype="datetime64[D]").astype("datetime64[s]")
    return pd.Series(seconds if index is None else seconds[index])


# --- calendar -------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """Months (``first_month`` .. ``first_month + n_months - 1``, months since 1970-01)
    and the Monday weeks whose Monday falls inside them."""

    first_month: int
    n_months: int
    week_start: np.ndarray  # datetime64[D], Mondays
    week_month: np.ndarray  # month index 0..n_months-1 of each week's Monday
    holiday_factor: np.ndarray  # 0..1 activity multiplier (year-end dip)

    @property
    def end_date(self) -> np.datetime64:
        """Last day of the last month."""
        nxt = np.datetime64(self.first_month + self.n_months, "M").astype("datetime64[D]")
        return nxt - np.timedelta64(1, "D")

    @property
    def month_labels(self) -> np.ndarray:
        return _month_label(np.arange(self.first_month, self.first_month + self.n_months))


def make_calendar(n_months: int, end_month: str) -> Calendar:
    """The demo's months and Monday weeks; ``n_months`` >= 1, ``end_month`` 'YYYY-MM'."""
    if int(n_months) < 1:
        raise UserError(f"months must be at least 1, got {n_months}")
    last = _parse_month(end_month)
    first = last - int(n_months) + 1
    start = np.datetime64(first, "M").astype("datetime64[D]")
    end = np.datetime64(last + 1, "M").astype("datetime64[D]")
    days = np.arange(start, end, dtype="datetime64[D]")
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    weeks = days[weekday == 0]
    week_month = _month_of(weeks) - first
    md = pd.DatetimeIndex(weeks)
    day_of_season = np.where(md.month == 12, md.day - 31, np.where(md.month == 1, md.day, 99))
    holiday = np.ones(len(weeks))
    holiday[(day_of_season >= -17) & (day_of_season <= -11)] = 0.9  # mid December
    holiday[(day_of_season >= -10) & (day_of_season <= 3)] = 0.6  # Christmas to New Year
    holiday[(day_of_season >= 4) & (day_of_season <= 10)] = 0.9
    return Calendar(first, int(n_months), weeks, week_month.astype(np.int32), holiday)


# --- accounts -------------------------------------------------------------------------


@dataclass
class Book:
    """The accounts frame plus per-account latent traits (arrays indexed like the frame)."""

    accounts: pd.DataFrame
    segment: np.ndarray  # 0 smb, 1 mid_market, 2 enterprise
    industry: np.ndarray
    channel: np.ndarray
    csm_index: np.ndarray  # index into csm_names
    csm_names: tuple[str, ...]
    is_target: np.ndarray
    signed_month: np.ndarray  # months since 1970-01 of signed_on
    signed_day: np.ndarray  # 1..28
    base_engagement: np.ndarray
    drift: np.ndarray  # weekly change of base engagement while live (capped)
    churn_logit: np.ndarray  # account-level churn propensity beyond health
    seats: np.ndarray
    plan: np.ndarray  # 0 starter, 1 professional, 2 enterprise
    discount: np.ndarray  # share of list price paid
    addons: np.ndarray  # (n, 3) bool: analytics, integrations, e_invoicing at signing
    never_activates: np.ndarray  # failed onboarding: never activates
    cancels_early: np.ndarray  # failed onboarding: cancels within the first 3 months
    module_affinity: np.ndarray  # (n, 10) uniform draws: low = uses the module early
    module_threshold: np.ndarray  # (n, 10) engagement a module needs
    module_weight: np.ndarray  # (n, 10) share of records when used
    extra: dict = field(default_factory=dict)


def generate_accounts(rng: np.random.Generator, n_accounts: int, calendar: Calendar) -> Book:
    """Accounts (contract columns; lifecycle_stage filled later) and their latent traits.

    About 35% of accounts are already live when the calendar starts (signed up to four
    years earlier); the rest sign during the calendar, slightly more each month.
    """
    n = int(n_accounts)
    if n < 1:
        raise UserError(f"accounts must be at least 1, got {n_accounts}")
    if n > 999_999:
        raise UserError(f"accounts must be at most 999999, got {n_accounts}")
    segment = rng.choice(3, size=n, p=SEGMENT_SHARES)
    industry = rng.choice(len(INDUSTRIES), size=n, p=INDUSTRY_SHARES)
    region = rng.choice(len(REGIONS), size=n, p=REGION_SHARES)
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_SHARES)

    # CSM team by segment and region; CSM uniformly within the team
    team_names = tuple(CSM_TEAMS)
    americas = np.isin(region, _AMERICAS)
    team = np.where(segment == 2, 0, np.where(segment == 1, np.where(americas, 1, 2), np.where(americas, 3, 4)))
    csm_names = tuple(c for t in team_names for c in CSM_TEAMS[t])
    team_offset = np.cumsum([0] + [len(CSM_TEAMS[t]) for t in team_names])
    team_size = np.diff(team_offset)
    csm_index = team_offset[team] + (rng.random(n) * team_size[team]).astype(np.int64)
    csm_team_of = np.repeat(np.arange(len(team_names)), team_size)
    csm_effect = rng.normal(0.0, 0.2, len(csm_names))

    p_non_target = 0.02 + 0.015 * (segment == 0) + 0.02 * (channel == 1) + 0.015 * (channel == 3)
    is_target = rng.random(n) >= p_non_target

    # signing: a live base before the calendar, then a growing flow of new accounts
    is_base = rng.random(n) < 0.35
    months_back = rng.integers(1, 49, n)
    months_back += months_back % 12 == 0  # nobody is due in the first month: no revenue at all
    weights = np.linspace(1.0, 1.6, calendar.n_months)
    in_window = rng.choice(calendar.n_months, size=n, p=weights / weights.sum())
    signed_month = np.where(is_base, calendar.first_month - months_back, calendar.first_month + in_window)
    signed_day = rng.integers(1, 29, n)

    seg_mu = np.array([0.1, 0.3, 0.5])
    base = (
        seg_mu[segment]
        + _INDUSTRY_ENGAGEMENT[industry]
        + _CHANNEL_ENGAGEMENT[channel]
        - 0.9 * ~is_target
        + csm_effect[csm_index]
        + rng.normal(0.0, 1.0, n)
    )
    churn_logit = (
        np.array([0.3, 0.0, -0.9])[segment]
        + _INDUSTRY_CHURN_LOGIT[industry]
        + _CHANNEL_CHURN_LOGIT[channel]
        + 0.6 * ~is_target
    )
    # failed onboarding (only for accounts signed inside the calendar)
    p_fail = np.array([0.11, 0.06, 0.03])[segment] + 0.15 * ~is_target + 0.03 * (channel == 1)
    never_activates = ~is_base & (rng.random(n) < p_fail)
    cancels_early = never_activates & (rng.random(n) < 0.55)
    base = np.where(never_activates, rng.normal(-3.5, 0.3, n), base)
    # slow trends: some accounts fade (champion loses interest), a few keep improving
    trend = rng.random(n)
    fading, improving = -rng.uniform(0.005, 0.02, n), rng.uniform(0.005, 0.015, n)
    drift = np.where(trend < 0.3, fading, np.where(trend > 0.85, improving, 0.0))

    seat_median = np.array([8.0, 40.0, 180.0])[segment]
    seats = np.round(seat_median * rng.lognormal(0.0, 0.55, n))
    seats = np.clip(seats, np.array([2, 12, 60])[segment], np.array([40, 250, 2000])[segment]).astype(np.int64)
    plan_probs = np.array([_PLAN_SHARES[s] for s in range(3)])[segment]
    plan = (rng.random(n)[:, None] > np.cumsum(plan_probs, axis=1)).sum(axis=1)
    plan = np.minimum(plan, 2)
    discount = np.where(segment == 2, rng.uniform(0.65, 0.9, n), rng.uniform(0.8, 1.0, n))
    addon_p = np.array([_ADDON_AT_SIGNING[s] for s in range(3)])[segment]
    addons = rng.random((n, 3)) < addon_p

    affinity = rng.random((n, len(MODULES)))
    threshold = np.tile(_MODULE_THRESHOLD, (n, 1))
    threshold[np.isin(industry, _INVENTORY_INDUSTRIES), MODULES.index("inventory")] -= 1.5
    threshold[np.isin(industry, _PROJECT_INDUSTRIES), MODULES.index("projects")] -= 1.5
    weight = _MODULE_WEIGHT * rng.lognormal(0.0, 0.4, (n, len(MODULES)))

    first = rng.integers(0, len(_NAME_FIRST), n)
    second = rng.integers(0, 5, n)
    suffix = rng.integers(0, len(_NAME_SUFFIX), n)
    name_table = np.array(
        [
            [[f"{_NAME_SECOND[i][b]} {s}".strip() for s in _NAME_SUFFIX] for b in range(5)]
            for i in range(len(INDUSTRIES))
        ]
    )  # (industry, second word, suffix)
    names = np.char.add(np.asarray(_NAME_FIRST)[first], " ")
    names = np.char.add(names, name_table[industry, second, suffix])

    accounts = pd.DataFrame(
        {
            "account_id": _str_column(np.arange(n), [f"A{i + 1:06d}" for i in range(n)]),
            "name": pd.Series(names, dtype="str"),
            "industry": _str_column(industry, INDUSTRIES),
            "region": _str_column(region, REGIONS),
            "segment": _str_column(segment, SEGMENTS),
            "source_channel": _str_column(channel, CHANNELS),
            "csm": _str_column(csm_index, csm_names),
            "csm_team": _str_column(csm_team_of[csm_index], team_names),
            "signed_on": _date_column(_dates(signed_month, signed_day)),
            "lifecycle_stage": pd.Series([None] * n, dtype="str"),
            "is_target": is_target,
        }
    )
    return Book(
        accounts=accounts,
        segment=segment,
        industry=industry,
        channel=channel,
        csm_index=csm_index,
        csm_names=csm_names,
        is_target=is_target,
        signed_month=signed_month.astype(np.int64),
        signed_day=signed_day.astype(np.int64),
        base_engagement=base,
        drift=drift,
        churn_logit=churn_logit,
        seats=seats,
        plan=plan.astype(np.int64),
        discount=discount,
        addons=addons,
        never_activates=never_activates,
        cancels_early=cancels_early,
        module_affinity=affinity.astype(np.float32),
        module_threshold=threshold.astype(np.float32),
        module_weight=weight.astype(np.float32),
    )


# --- simulation -----------------------------------------------------------------------

_NEVER = np.iinfo(np.int32).max  # "no month scheduled"
_EMA_ALPHA = 2.0 / 14.0  # ~13-week memory, like the practitioner's renewal window


@dataclass
class History:
    """Everything the simulation produced, as flat arrays (account = row index in the book).

    Months are indexes 0..n_months-1 into the calendar, weeks indexes into its weeks.
    """

    usage: dict[str, np.ndarray]
    modules: dict[str, np.ndarray]
    revenue: dict[str, np.ndarray]
    renewals: dict[str, np.ndarray]
    churns: dict[str, np.ndarray]  # account, month (first month without revenue), reason, log_on
    reactivations: dict[str, np.ndarray]  # account, month, day
    kp_events: dict[str, np.ndarray]  # account, month, kind (0 admin, 1 dept head), day
    health: np.ndarray  # (n, months) float32: the generator's health proxy at month end, NaN if inactive
    activation: np.ndarray  # (n, months) float32: ~13-week activation rate at month end
    active: np.ndarray  # (n, months) bool: had revenue in the month
    final_status: np.ndarray  # 0 never started, 1 active, 2 churned


def _concat(chunks: list[dict[str, np.ndarray]], keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Concatenate per key, dropping each key's chunks as soon as they are copied (peak memory)."""
    if not chunks:
        return {k: np.empty(0) for k in keys}
    out = {k: np.concatenate([c.pop(k) for c in chunks]) for k in keys}
    chunks.clear()
    return out


class _Simulation:
    """Mutable per-account state advanced month by month (vectorised over accounts)."""

    def __init__(self, rng: np.random.Generator, book: Book, cal: Calendar):
        n = len(book.accounts)
        self.rng, self.book, self.cal, self.n = rng, book, cal, n
        self.status = np.zeros(n, np.int8)
        self.seats = book.seats.copy()
        self.plan = book.plan.copy()
        self.has = book.addons.copy()  # analytics, integrations, e_invoicing
        self.base = book.base_engagement.copy()
        self.never = book.never_activates.copy()
        self.walk = rng.normal(0.0, 0.55, n)
        self.shock = np.zeros(n)
        self.drifted = np.zeros(n)
        self.weeks_live = np.zeros(n)
        self.ramp_tau = np.full(n, 3.0)
        self.due_month = np.zeros(n, np.int64)
        self.due_day = book.signed_day.copy()
        self.churn_at = np.full(n, _NEVER, np.int64)
        self.pending_reason = np.zeros(n, np.int64)
        self.pending_log_on = np.zeros(n, "datetime64[D]")
        self.in_grace = np.zeros(n, bool)
        self.winback_at = np.full(n, _NEVER, np.int64)
        self.ema_score = np.full(n, np.nan)
        self.ema_act = np.full(n, np.nan)
        self.last_kp = np.full(n, -999, np.int64)
        self.invoices = np.zeros(n)
        self.last_mrr = np.zeros(n)
        self.last_usage_mrr = np.zeros(n)
        k = cal.n_months
        self.health = np.full((n, k), np.nan, np.float32)
        self.activation = np.full((n, k), np.nan, np.float32)
        self.active = np.zeros((n, k), bool)
        self.out: dict[str, list] = {
            "usage": [], "modules": [], "revenue": [], "renewals": [], "churns": [],
            "reactivations": [], "kp_events": [],
        }

    # -- transitions ---------------------------------------------------------------

    def _start(self, idx: np.ndarray, k: int) -> None:
        """First activation of accounts signing in month k (or live at the start)."""
        b, cal = self.book, self.cal
        self.status[idx] = 1
        before = b.signed_month[idx] < cal.first_month
        months_live = np.where(before, cal.first_month - b.signed_month[idx], 0)
        self.weeks_live[idx] = months_live * 4.35
        # next renewal: the first anniversary on or after this month
        m_abs = cal.first_month + k
        cycles = np.maximum(1, -((b.signed_month[idx] - m_abs) // 12))  # ceil, at least 1
        self.due_month[idx] = b.signed_month[idx] + 12 * cycles
        early = idx[b.cancels_early[idx]]
        if len(early):
            self.churn_at[early] = k + self.rng.integers(2, 4, len(early))
            self.pending_reason[early] = _R["onboarding_failed"]
            last_rev = cal.first_month + self.churn_at[early] - 1
            self.pending_log_on[early] = _dates(last_rev, self.rng.integers(1, 29, len(early)))

    def _churn(self, idx: np.ndarray, k: int) -> None:
        """Revenue stops from month k; some churned accounts are won back later."""
        if not len(idx):
            return
        rng = self.rng
        self.status[idx] = 2
        self.in_grace[idx] = False
        self.churn_at[idx] = _NEVER
        reason = self.pending_reason[idx]
        self.out["churns"].append(
            {"account": idx, "month": np.full(len(idx), k), "reason": reason.copy(),
             "log_on": self.pending_log_on[idx].copy()}
        )
        p_back = np.full(len(idx), 0.12)
        p_back[np.isin(reason, [_R["price"], _R["competitor"], _R["kp_changed"]])] = 0.2
        p_back[np.isin(reason, [_R["onboarding_failed"], _R["never_adopted"]])] = 0.05
        p_back[reason == _R["out_of_business"]] = 0.0
        back = rng.random(len(idx)) < p_back
        self.winback_at[idx[back]] = k + rng.integers(3, 13, back.sum())

    def _reactivate(self, idx: np.ndarray, k: int) -> None:
        """A won-back account: a new annual contract, smaller, with renewed intent."""
        rng, n = self.rng, len(idx)
        day = rng.integers(1, 29, n)
        self.status[idx] = 1
        self.winback_at[idx] = _NEVER
        self.seats[idx] = np.maximum(1, np.round(self.seats[idx] * rng.uniform(0.6, 1.0, n))).astype(np.int64)
        self.has[idx, 0] = rng.random(n) < 0.3
        self.has[idx, 1] = rng.random(n) < 0.2
        self.base[idx] = np.where(self.never[idx], rng.normal(0.2, 0.6, n), self.base[idx] + 0.7)
        self.never[idx] = False
        self.walk[idx] = 0.0
        self.shock[idx] = 0.0
        self.drifted[idx] = 0.0
        self.weeks_live[idx] = 0.0
        self.ramp_tau[idx] = 2.0
        self.ema_score[idx] = np.nan
        self.ema_act[idx] = np.nan
        self.last_kp[idx] = -999
        self.due_month[idx] = self.cal.first_month + k + 12
        self.due_day[idx] = day
        self.out["reactivations"].append({"account": idx, "month": np.full(n, k), "day": day})

    def _mrr(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        """(core, analytics, integrations, e-invoicing base, e-invoicing usage) MRR, rounded."""
        b = self.book
        seg, disc, seats = b.segment[idx], b.discount[idx], self.seats[idx]
        core = np.round(seats * _SEAT_PRICE[self.plan[idx]] * disc, 2)
        analytics = np.round(self.has[idx, 0] * seats * _ANALYTICS_SEAT_PRICE * disc, 2)
        integrations = self.has[idx, 1] * _INTEGRATIONS_MRR[seg]
        einv_base = self.has[idx, 2] * _EINV_BASE_MRR[seg]
        einv_usage = np.round(self.has[idx, 2] * self.invoices[idx] * _EINV_PRICE_PER_INVOICE[seg], 2)
        return core, analytics, integrations, einv_base, einv_usage

    def _renewals(self, k: int) -> None:
        """Decide every renewal due this month from the health the account showed so far."""
        rng, b, cal = self.rng, self.book, self.cal
        m_abs = cal.first_month + k
        idx = np.flatnonzero((self.status == 1) & ~self.in_grace & (self.due_month == m_abs)
                             & (self.churn_at == _NEVER))
        n = len(idx)
        if not n:
            return
        h = np.nan_to_num(self.ema_score[idx], nan=50.0)
        act = np.nan_to_num(self.ema_act[idx], nan=0.5)
        seg = b.segment[idx]
        p_health = _sigmoid(-1.0 - 0.075 * (h - 30.0) + b.churn_logit[idx])
        p_health = np.where(self.never[idx], 0.9, p_health)
        p_external = np.array([0.035, 0.025, 0.015])[seg]
        recent_kp = (k - self.last_kp[idx]) <= 8
        p_kp = np.where(recent_kp, np.where(seg == 2, 0.12, 0.2), 0.0)
        u = rng.random((3, n))
        by_kp, by_external, by_health = u[0] < p_kp, u[1] < p_external, u[2] < p_health
        churn = by_kp | by_external | by_health
        reason = np.where(
            by_kp,
            _R["kp_changed"],
            np.where(
                by_external,
                _choice(rng, *_EXTERNAL_REASONS, n),
                np.where(act < 0.35, _choice(rng, *_LOW_ACTIVATION_REASONS, n),
                         _choice(rng, *_POOR_FIT_REASONS, n)),
            ),
        )
        reason = np.where(self.never[idx] & by_health, _R["never_adopted"], reason)
        slip = rng.random(n) < np.where(churn, 0.25, 0.07 + 0.12 * (h < 50))
        delay = np.where(churn, rng.integers(20, 76, n), rng.integers(10, 101, n))
        due_on = _dates(np.full(n, m_abs), self.due_day[idx])
        due_arr = np.round(self.last_mrr[idx] * 12, 2)
        resolved_on = np.where(slip, due_on + delay.astype("timedelta64[D]"),
                               due_on - rng.integers(0, 26, n).astype("timedelta64[D]"))
        known = resolved_on <= cal.end_date
        outcome = np.where(~known, 1, np.where(churn, 2, 0))  # renewed, deferred, churned

        # renewals that happened: right-size seats (contraction) or grow them (upsell)
        kept = idx[~churn & known]
        if len(kept):
            a = np.nan_to_num(self.ema_act[kept], nan=0.5)
            hk = np.nan_to_num(self.ema_score[kept], nan=50.0)
            cut = (a < 0.55) & (rng.random(len(kept)) < 0.5)
            grow = ~cut & (hk >= 70) & (rng.random(len(kept)) < 0.2)
            seats = self.seats[kept].astype(float)
            seats = np.where(cut, np.ceil(seats * np.clip(a * 1.25, 0.4, 0.95)), seats)
            seats = np.where(grow, np.ceil(seats * rng.uniform(1.1, 1.4, len(kept))), seats)
            self.seats[kept] = np.maximum(1, seats).astype(np.int64)
        core, analytics, integrations, einv_base, _ = self._mrr(idx)
        renewed_arr = np.round((core + analytics + integrations + einv_base + self.last_usage_mrr[idx]) * 12, 2)
        renewed = outcome == 0
        self.out["renewals"].append({
            "account": idx,
            "due_on": due_on,
            "due_arr": due_arr,
            "renewed_on": np.where(renewed, resolved_on, np.datetime64("NaT")),
            "renewed_arr": np.where(renewed, renewed_arr, np.nan),
            "outcome": outcome,
        })
        self.due_month[idx] += 12
        self.in_grace[idx[~known]] = True
        # churn: now, or when a slipped renewal finally falls through
        churners = idx[churn & known]
        churn_month = _month_of(resolved_on[churn & known]) - cal.first_month
        log_on = np.where(slip, resolved_on, due_on + rng.integers(-20, 11, n).astype("timedelta64[D]"))
        log_on = np.minimum(log_on, cal.end_date)
        self.pending_reason[idx] = reason
        self.pending_log_on[idx] = log_on
        now = churners[churn_month <= k]
        self.churn_at[churners] = np.maximum(churn_month, k)
        self._churn(now, k)

    def _monthly_changes(self, k: int) -> None:
        """Key-person changes, upsells, cross-sells and dropped add-ons during the month."""
        rng, b = self.rng, self.book
        idx = np.flatnonzero((self.status == 1) & ~self.in_grace & (self.churn_at == _NEVER))
        n = len(idx)
        if not n:
            return
        ent = b.segment[idx] == 2
        for kind, p in ((0, 0.012), (1, 0.009)):
            hit = idx[rng.random(n) < p * np.where(ent, 1.6, 1.0)]
            if len(hit):
                hurt = rng.random(len(hit)) < 0.6
                self.shock[hit[hurt]] -= rng.uniform(0.4, 1.4, hurt.sum())
                self.last_kp[hit] = k
                self.out["kp_events"].append({
                    "account": hit, "month": np.full(len(hit), k), "kind": np.full(len(hit), kind),
                    "day": rng.integers(1, 29, len(hit)),
                })
        h = np.nan_to_num(self.ema_score[idx], nan=50.0)
        settled = self.weeks_live[idx] > 8
        up = settled & (rng.random(n) < 0.012 * np.clip((h - 45.0) / 35.0, 0.0, 1.5))
        upgrade = up & (self.plan[idx] < 2) & (rng.random(n) < 0.35)
        self.plan[idx[upgrade]] += 1
        more = idx[up & ~upgrade]
        self.seats[more] = np.ceil(self.seats[more] * rng.uniform(1.1, 1.4, len(more))).astype(np.int64)
        p_cross = 0.008 * np.clip((h - 40.0) / 40.0, 0.0, 1.5)
        p_drop = np.where((h < 35.0) & (self.weeks_live[idx] > 13), 0.025, 0.0)
        u = rng.random((n, 3))
        has = self.has[idx]
        self.has[idx] = np.where(has, u >= p_drop[:, None], settled[:, None] & (u < p_cross[:, None]))

    # -- weeks and months ------------------------------------------------------------

    def _week(self, w: int, idx: np.ndarray, record: bool = True) -> None:
        """One week of usage for the active accounts ``idx``; updates the health proxy."""
        rng, b = self.rng, self.book
        n = len(idx)
        if not n:
            return
        x = self.base[idx] + self.drifted[idx] + self.walk[idx] + self.shock[idx]
        self.walk[idx] = 0.97 * self.walk[idx] + rng.normal(0.0, 0.14, n)
        self.drifted[idx] = np.clip(self.drifted[idx] + b.drift[idx], -1.5, 1.0)
        self.shock[idx] *= 0.92
        self.weeks_live[idx] += 1
        weeks = self.weeks_live[idx]
        hf = self.cal.holiday_factor[w] if record else 1.0
        ramp = 1.0 - np.exp(-weeks / self.ramp_tau[idx])
        p_act = (0.12 + 0.86 * _sigmoid(1.6 * x + 1.0)) * ramp * np.where(self.never[idx], 0.25, 1.0)
        seats = self.seats[idx]
        activated = rng.binomial(seats, np.clip(p_act, 0.0, 1.0))
        logged = rng.binomial(activated, _sigmoid(1.3 * x + 0.3 + rng.normal(0.0, 0.3, n)) * hf)
        bi = rng.binomial(logged, _sigmoid(1.2 * x - 0.6 - 1.4 * ~self.has[idx, 0]))
        per_seat = np.exp(1.0 + 1.1 * x + 0.004 * np.minimum(weeks, 104) + rng.normal(0.0, 0.25, n)) * hf
        target = rng.poisson(activated * per_seat)
        z = x[:, None] + rng.normal(0.0, 0.3, (n, len(MODULES)))
        used = (b.module_affinity[idx] < _sigmoid(1.5 * (z - b.module_threshold[idx]))) & (activated > 0)[:, None]
        share = b.module_weight[idx] * used
        total = share.sum(axis=1, keepdims=True)
        share = np.divide(share, total, out=np.zeros_like(share), where=total > 0)
        module_records = (np.floor(share * target[:, None]) + used).astype(np.int32)
        records = module_records.sum(axis=1)
        self.invoices[idx] += module_records[:, _INVOICES]

        with np.errstate(divide="ignore", invalid="ignore"):
            act_rate = activated / seats
            login_rate = np.where(activated > 0, logged / activated, np.nan)
            bi_rate = np.where(activated > 0, bi / activated, np.nan)
            inst = np.where(activated > 0, records / activated, np.nan)
        score = (
            np.minimum(30.0, (module_records > 0) @ _MODULE_POINTS)
            + _band_points(inst, (0, 1, 3, 8, 60), (0, 5, 10, 15, 8))
            + _band_points(act_rate, (0, 0.3, 0.5, 0.7, 0.85), (0, 5, 10, 15, 20))
            + _band_points(login_rate, (0, 0.2, 0.4, 0.6, 0.8), (0, 5, 10, 15, 20))
            + _band_points(bi_rate, (0, 0.05, 0.15, 0.3), (0, 5, 10, 15))
        )
        prev, prev_act = self.ema_score[idx], self.ema_act[idx]
        self.ema_score[idx] = np.where(np.isnan(prev), score, prev + _EMA_ALPHA * (score - prev))
        self.ema_act[idx] = np.where(np.isnan(prev_act), act_rate, prev_act + _EMA_ALPHA * (act_rate - prev_act))
        if not record:
            return
        week = np.full(n, w, np.int32)
        self.out["usage"].append({
            "account": idx.astype(np.int32), "week": week, "seats_purchased": seats.astype(np.int32),
            "seats_activated": activated.astype(np.int32), "users_logged_in": logged.astype(np.int32),
            "users_bi": bi.astype(np.int32), "records_created": records.astype(np.int32),
        })
        rows, cols = np.nonzero(module_records)
        self.out["modules"].append({
            "account": idx[rows].astype(np.int32), "week": np.full(len(rows), w, np.int32),
            "module": cols.astype(np.int8), "records": module_records[rows, cols],
        })

    def _revenue(self, k: int) -> None:
        idx = np.flatnonzero(self.status == 1)
        # bill usage per average month, so 4- and 5-Monday months do not swing usage MRR
        self.invoices *= 4.35 / max(1, int((self.cal.week_month == k).sum()))
        core, analytics, integrations, einv_base, einv_usage = self._mrr(idx)
        chunks = [
            (np.ones(len(idx), bool), 0, self.plan[idx], core, np.zeros(len(idx))),
            (self.has[idx, 0], 1, 3, analytics, np.zeros(len(idx))),
            (self.has[idx, 2], 2, 4, einv_base, einv_usage),
            (self.has[idx, 1], 3, 3, integrations, np.zeros(len(idx))),
        ]
        for mask, product, plan, sub, usage in chunks:
            m = int(mask.sum())
            self.out["revenue"].append({
                "account": idx[mask], "month": np.full(m, k), "product": np.full(m, product),
                "plan": np.broadcast_to(plan, len(idx))[mask], "mrr_subscription": sub[mask],
                "mrr_usage": usage[mask],
            })
        self.last_mrr[idx] = core + analytics + integrations + einv_base + einv_usage
        self.last_usage_mrr[idx] = einv_usage
        self.invoices[:] = 0.0
        self.active[idx, k] = True
        self.health[idx, k] = self.ema_score[idx]
        self.activation[idx, k] = self.ema_act[idx]

    def run(self, progress: ProgressFn | None = None) -> History:
        cal, b = self.cal, self.book
        for k in range(cal.n_months):
            m_abs = cal.first_month + k
            self._churn(np.flatnonzero((self.status == 1) & (self.churn_at == k)), k)
            self._reactivate(np.flatnonzero((self.status == 2) & (self.winback_at == k)), k)
            if k == 0:
                live = np.flatnonzero(b.signed_month < m_abs)
                self._start(live, k)
                for _ in range(4):  # warm up the health proxy of accounts already live
                    self._week(0, live, record=False)
                self.invoices *= 4.35 / 4
                self.last_mrr[live] = np.sum(self._mrr(live), axis=0)  # a month of usage
                self.last_usage_mrr[live] = self._mrr(live)[-1]
                self.invoices[:] = 0.0
            self._start(np.flatnonzero((self.status == 0) & (b.signed_month == m_abs)), k)
            self._renewals(k)
            self._monthly_changes(k)
            for w in np.flatnonzero(cal.week_month == k):
                self._week(int(w), np.flatnonzero(self.status == 1))
            self._revenue(k)
            if progress:
                progress(f"simulated {_month_label(m_abs)}", (k + 1) / cal.n_months)
        return self._history()

    def _history(self) -> History:
        out = self.out
        # renewals not yet due: the next anniversary of every live account not in grace
        live = np.flatnonzero((self.status == 1) & ~self.in_grace)
        out["renewals"].append({
            "account": live,
            "due_on": _dates(self.due_month[live], self.due_day[live]),
            "due_arr": np.round(self.last_mrr[live] * 12, 2),
            "renewed_on": np.full(len(live), np.datetime64("NaT"), "datetime64[D]"),
            "renewed_arr": np.full(len(live), np.nan),
            "outcome": np.full(len(live), 3),
        })
        return History(
            usage=_concat(out["usage"], ("account", "week", "seats_purchased", "seats_activated",
                                         "users_logged_in", "users_bi", "records_created")),
            modules=_concat(out["modules"], ("account", "week", "module", "records")),
            revenue=_concat(out["revenue"], ("account", "month", "product", "plan",
                                             "mrr_subscription", "mrr_usage")),
            renewals=_concat(out["renewals"], ("account", "due_on", "due_arr", "renewed_on",
                                               "renewed_arr", "outcome")),
            churns=_concat(out["churns"], ("account", "month", "reason", "log_on")),
            reactivations=_concat(out["reactivations"], ("account", "month", "day")),
            kp_events=_concat(out["kp_events"], ("account", "month", "kind", "day")),
            health=self.health,
            activation=self.activation,
            active=self.active,
            final_status=self.status.copy(),
        )


def simulate_book(
    rng: np.random.Generator, book: Book, calendar: Calendar, progress: ProgressFn | None = None
) -> History:
    """Run the book through the calendar (see the module docstring for the causal chain)."""
    return _Simulation(rng, book, calendar).run(progress)


# --- qualitative tables -----------------------------------------------------------------

_LOG_CODES = CHURN_REASONS + RISK_FLAGS
_LOG_NOTES = (
    tuple(_CHURN_NOTES[c] for c in CHURN_REASONS)
    + tuple(_RISK_NOTES[c] for c in RISK_FLAGS)
    + _TOUCHPOINT_NOTES
    + _FREE_NOTES
    + ("Won back: new annual contract signed",)
)
_RISK_NOTE0 = len(CHURN_REASONS)
_TOUCH_NOTE0 = _RISK_NOTE0 + len(RISK_FLAGS)
_FREE_NOTE0 = _TOUCH_NOTE0 + len(_TOUCHPOINT_NOTES)
_WINBACK_NOTE = len(_LOG_NOTES) - 1
_EVENT_NOTES = (
    ("New system administrator appointed", "New department head")
    + _COMPLAINT_NOTES
    + _NPS_NOTES
)


def _active_pairs(history: History, calendar: Calendar, book: Book) -> dict[str, np.ndarray]:
    """Every (account, month) with revenue, with the month's health proxy and tenure."""
    acc, k = np.nonzero(history.active)
    return {
        "account": acc,
        "month": k,
        "health": np.nan_to_num(history.health[acc, k], nan=50.0),
        "tenure": calendar.first_month + k - book.signed_month[acc] + 1,
    }


def _day_in_month(rng: np.random.Generator, calendar: Calendar, k: np.ndarray) -> np.ndarray:
    return _dates(calendar.first_month + k, rng.integers(1, 29, len(k)))


def generate_csm_logs(rng: np.random.Generator, book: Book, history: History, calendar: Calendar) -> pd.DataFrame:
    """csm_logs: a churn_reason for every churn, risk flags, touchpoints and notes.

    Risk flags follow low health (late_go_live in the first 4 months) and key-person
    events (sponsor_left / key_user_changed); touchpoints are more frequent for larger
    accounts. log_id 'L0000001'... in date order.
    """
    pairs = _active_pairs(history, calendar, book)
    n = len(pairs["account"])
    chunks = []  # account, logged_on, kind, code (-1 none), note (-1 none)

    ch = history.churns
    chunks.append((ch["account"], ch["log_on"], 0, ch["reason"], ch["reason"]))

    low = (pairs["health"] < 35.0) & (rng.random(n) < 0.2)
    acc, k, tenure = pairs["account"][low], pairs["month"][low], pairs["tenure"][low]
    code = np.where(tenure <= 4, RISK_FLAGS.index("late_go_live"),
                    np.where(rng.random(len(acc)) < 0.4, 0, 1)) + len(CHURN_REASONS)
    note = np.where(rng.random(len(acc)) < 0.5, code - len(CHURN_REASONS) + _RISK_NOTE0, -1)
    chunks.append((acc, _day_in_month(rng, calendar, k), 1, code, note))

    kp = history.kp_events
    flag = rng.random(len(kp["account"])) < 0.55
    code = np.where(kp["kind"][flag] == 1, RISK_FLAGS.index("sponsor_left"),
                    RISK_FLAGS.index("key_user_changed"))
    when = _dates(calendar.first_month + kp["month"][flag], kp["day"][flag])
    when = when + rng.integers(1, 11, flag.sum()).astype("timedelta64[D]")
    chunks.append((kp["account"][flag], when, 1, code + len(CHURN_REASONS), code + _RISK_NOTE0))

    p_touch = np.array([0.12, 0.3, 0.6])[book.segment[pairs["account"]]]
    touch = rng.random(n) < p_touch
    notes = _TOUCH_NOTE0 + rng.integers(0, len(_TOUCHPOINT_NOTES), touch.sum())
    chunks.append((pairs["account"][touch], _day_in_month(rng, calendar, pairs["month"][touch]), 2, -1, notes))

    re_ = history.reactivations
    chunks.append((re_["account"], _dates(calendar.first_month + re_["month"], re_["day"]), 2, -1, _WINBACK_NOTE))

    free = rng.random(n) < 0.04
    notes = _FREE_NOTE0 + rng.integers(0, len(_FREE_NOTES), free.sum())
    chunks.append((pairs["account"][free], _day_in_month(rng, calendar, pairs["month"][free]), 3, -1, notes))

    acc = np.concatenate([np.asarray(c[0], np.int64) for c in chunks])
    size = [len(c[0]) for c in chunks]
    logged_on = np.minimum(np.concatenate([np.asarray(c[1], "datetime64[D]") for c in chunks]), calendar.end_date)
    kind = np.concatenate([np.broadcast_to(c[2], s) for c, s in zip(chunks, size)])
    code = np.concatenate([np.broadcast_to(c[3], s) for c, s in zip(chunks, size)])
    note = np.concatenate([np.broadcast_to(c[4], s) for c, s in zip(chunks, size)])
    order = np.lexsort((code, kind, acc, logged_on))
    acc, logged_on, kind, code, note = acc[order], logged_on[order], kind[order], code[order], note[order]
    m = len(acc)
    return pd.DataFrame({
        "log_id": pd.Series(np.char.mod("L%07d", np.arange(1, m + 1)), dtype="str"),
        "account_id": _account_ids(book, acc),
        "logged_on": _date_column(logged_on),
        "author": _str_column(book.csm_index[acc], book.csm_names),
        "kind": _str_column(kind, contract.LOG_KINDS),
        "reason_code": _str_column(code, _LOG_CODES),
        "note": _str_column(note, _LOG_NOTES),
    })


def generate_events(rng: np.random.Generator, book: Book, history: History, calendar: Calendar) -> pd.DataFrame:
    """events: admin / department-head changes (from the simulation), quarterly NPS
    (score 0-10, follows health), milestone satisfaction (1-5, month 3 and 12) and
    complaints (more frequent when health is low)."""
    pairs = _active_pairs(history, calendar, book)
    n = len(pairs["account"])
    h = pairs["health"]
    chunks = []  # account, occurred_on, kind, score, role (-1 none), note (-1 none)
    kinds = contract.EVENT_KINDS

    kp = history.kp_events
    m = len(kp["account"])
    chunks.append((
        kp["account"], _dates(calendar.first_month + kp["month"], kp["day"]),
        np.where(kp["kind"] == 1, kinds.index("dept_head_changed"), kinds.index("admin_changed")),
        np.full(m, np.nan),
        np.where(kp["kind"] == 1, EVENT_ROLES.index("dept_head"), EVENT_ROLES.index("admin")),
        kp["kind"],
    ))

    quarter_end = (calendar.first_month + pairs["month"]) % 3 == 2
    survey = quarter_end & (rng.random(n) < np.where(book.segment[pairs["account"]] == 2, 0.5, 0.25))
    s = survey.sum()
    nps = np.clip(np.round(rng.normal(1.5 + h[survey] / 11.0, 1.7)), 0, 10)
    note = np.where(rng.random(s) < 0.15, 2 + len(_COMPLAINT_NOTES) + rng.integers(0, len(_NPS_NOTES), s), -1)
    chunks.append((pairs["account"][survey], _day_in_month(rng, calendar, pairs["month"][survey]),
                   kinds.index("nps"), nps, rng.choice(5, s, p=_EVENT_ROLE_SHARES), note))

    milestone = ((pairs["tenure"] == 3) & (rng.random(n) < 0.6)) | ((pairs["tenure"] == 12) & (rng.random(n) < 0.4))
    s = milestone.sum()
    sat = np.clip(np.round(rng.normal(1.2 + h[milestone] / 28.0, 0.7)), 1, 5)
    chunks.append((pairs["account"][milestone], _day_in_month(rng, calendar, pairs["month"][milestone]),
                   kinds.index("satisfaction"), sat, rng.choice(5, s, p=_EVENT_ROLE_SHARES), -1))

    complaint = rng.random(n) < 0.004 + 0.04 * (1.0 - h / 100.0) ** 2
    s = complaint.sum()
    chunks.append((pairs["account"][complaint], _day_in_month(rng, calendar, pairs["month"][complaint]),
                   kinds.index("complaint"), np.full(s, np.nan),
                   np.array([0, 2, 3])[rng.integers(0, 3, s)], 2 + rng.integers(0, len(_COMPLAINT_NOTES), s)))

    size = [len(c[0]) for c in chunks]
    acc = np.concatenate([np.asarray(c[0], np.int64) for c in chunks])
    occurred_on = np.minimum(np.concatenate([np.asarray(c[1], "datetime64[D]") for c in chunks]), calendar.end_date)
    kind = np.concatenate([np.broadcast_to(c[2], s) for c, s in zip(chunks, size)])
    score = np.concatenate([np.broadcast_to(c[3], s) for c, s in zip(chunks, size)]).astype(float)
    role = np.concatenate([np.broadcast_to(c[4], s) for c, s in zip(chunks, size)])
    note = np.concatenate([np.broadcast_to(c[5], s) for c, s in zip(chunks, size)])
    order = np.lexsort((kind, occurred_on, acc))
    return pd.DataFrame({
        "account_id": _account_ids(book, acc[order]),
        "occurred_on": _date_column(occurred_on[order]),
        "kind": _str_column(kind[order], kinds),
        "score": score[order],
        "role": _str_column(role[order], EVENT_ROLES),
        "note": _str_column(note[order], _EVENT_NOTES),
    })


# --- frames ----------------------------------------------------------------------------


def _account_ids(book: Book, idx: np.ndarray) -> pd.Series:
    labels = book.extra.get("account_labels")
    if labels is None:
        labels = book.extra["account_labels"] = book.accounts["account_id"].tolist()
    return _str_column(idx, labels)


def _lifecycle_stage(book: Book, history: History, calendar: Calendar) -> np.ndarray:
    """CRM stage at the end month: tenure since signing 1-3 onboarding, 4-12 adoption,
    13+ established; churned when the account has no revenue at the end."""
    tenure = calendar.first_month + calendar.n_months - book.signed_month
    stage = np.where(tenure <= 3, "onboarding", np.where(tenure <= 12, "adoption", "established"))
    return np.where(history.final_status == 1, stage, "churned")


def _frames(book: Book, history: History, calendar: Calendar) -> dict[str, pd.DataFrame]:
    accounts = book.accounts.copy()
    accounts["lifecycle_stage"] = pd.Series(_lifecycle_stage(book, history, calendar), dtype="str")

    rev = history.revenue
    order = np.lexsort((rev["product"], rev["month"], rev["account"]))
    revenue = pd.DataFrame({
        "account_id": _account_ids(book, rev["account"][order]),
        "month": _str_column(rev["month"][order], calendar.month_labels),
        "product": _str_column(rev["product"][order], PRODUCTS),
        "plan": _str_column(rev["plan"][order], PLANS),
        "mrr_subscription": rev["mrr_subscription"][order].astype(float),
        "mrr_usage": rev["mrr_usage"][order].astype(float),
    })

    # the big tables: hand each array over and drop it from the history right away
    use = history.usage
    usage = pd.DataFrame({"account_id": _account_ids(book, use.pop("account")),
                          "week_start": _date_column(calendar.week_start, use.pop("week"))})
    for col in ("seats_purchased", "seats_activated", "users_logged_in", "users_bi", "records_created"):
        usage[col] = use.pop(col)

    mod = history.modules
    modules = pd.DataFrame({"account_id": _account_ids(book, mod.pop("account"))})
    modules["week_start"] = _date_column(calendar.week_start, mod.pop("week"))
    modules["module"] = _str_column(mod.pop("module"), MODULES)
    modules["records"] = mod.pop("records")

    ren = history.renewals
    order = np.lexsort((ren["due_on"], ren["account"]))
    renewals = pd.DataFrame({
        "account_id": _account_ids(book, ren["account"][order]),
        "due_on": _date_column(ren["due_on"][order]),
        "due_arr": ren["due_arr"][order].astype(float),
        "renewed_on": _date_column(ren["renewed_on"][order]),
        "renewed_arr": ren["renewed_arr"][order].astype(float),
        "outcome": _str_column(ren["outcome"][order], OUTCOMES),
    })
    return {
        "accounts": accounts,
        "revenue_monthly": revenue,
        "usage_weekly": usage,
        "module_usage_weekly": modules,
        "renewals": renewals,
    }


def generate(
    n_accounts: int = DEMO_ACCOUNTS,
    n_months: int = DEMO_MONTHS,
    seed: int = DEMO_SEED,
    end_month: str = DEMO_END_MONTH,
    progress: ProgressFn | None = None,
) -> dict[str, pd.DataFrame]:
    """The demo company's seven contract tables, keyed by contract table name.

    Each frame has exactly the contract columns in contract order. Same arguments ->
    identical frames (no global random state, no dependence on today's date).
    ``progress(message, fraction)`` is called as the simulation advances.
    """
    rng = np.random.default_rng(seed)
    calendar = make_calendar(n_months, end_month)
    book = generate_accounts(rng, n_accounts, calendar)
    history = simulate_book(rng, book, calendar, progress)
    frames = _frames(book, history, calendar)
    frames["csm_logs"] = generate_csm_logs(rng, book, history, calendar)
    frames["events"] = generate_events(rng, book, history, calendar)
    frames["reason_taxonomy"] = load_taxonomy()  # the shipped default (method section 4)
    frames["churn_feedback"] = _empty_churn_feedback()  # the demo logs its reasons in csm_logs
    frames["usage_metrics"] = _empty_usage_metrics()  # the demo's usage is weekly (usage_weekly)
    return {t.name: frames[t.name][t.column_names] for t in contract.TABLES}


#: Contract tables the demo leaves empty (its churn reasons are CSM logs).
EMPTY_IN_DEMO = ("churn_feedback", "usage_metrics")


def _empty_usage_metrics() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": pd.Series([], dtype="str"),
        "date": pd.Series([], dtype="datetime64[s]"),
        "metric": pd.Series([], dtype="str"),
        "value": pd.Series([], dtype="float64"),
    })


def _empty_churn_feedback() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": pd.Series([], dtype="str"),
        "churned_on": pd.Series([], dtype="datetime64[s]"),
        "reason_code": pd.Series([], dtype="str"),
        "feedback": pd.Series([], dtype="str"),
    })


# --- database and files --------------------------------------------------------------------


def _select_list(table: contract.Table) -> str:
    # identifiers and types come from the contract, never from data
    return ", ".join(f"cast({c.name} as {c.type}) as {c.name}" for c in table.columns)


def populate(conn, frames: dict[str, pd.DataFrame]) -> None:
    """Create the ``raw_*`` tables and insert every contract frame into its table."""
    from cslib.store import pipeline

    pipeline.create_raw_tables(conn)
    for table in contract.TABLES:
        view = f"_demo_{table.name}"
        conn.register(view, frames[table.name])
        try:
            cols = ", ".join(table.column_names)
            conn.execute(f"insert into raw_{table.name} ({cols}) select {_select_list(table)} from {view}")
        finally:
            conn.unregister(view)


def export_csv(frames: dict[str, pd.DataFrame], out_dir: str | os.PathLike) -> list[Path]:
    """Write ``<table>.csv`` (header, ISO dates, empty = NULL) for every contract table.

    The files re-import with ``python -m cslib import out_dir``. Returns the paths.
    """
    import duckdb

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    conn = duckdb.connect()
    try:
        for table in contract.TABLES:
            view = f"_demo_{table.name}"
            conn.register(view, frames[table.name])
            path = out / f"{table.name}.csv"
            conn.sql(f"select {_select_list(table)} from {view}").write_csv(str(path), header=True)
            conn.unregister(view)
            written.append(path)
    finally:
        conn.close()
    return written


def write_demo(
    db_path: str | os.PathLike,
    n_accounts: int = DEMO_ACCOUNTS,
    n_months: int = DEMO_MONTHS,
    seed: int = DEMO_SEED,
    end_month: str = DEMO_END_MONTH,
    export_dir: str | os.PathLike | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, int]:
    """Build the demo database at ``db_path`` (atomically replacing any old file).

    generate -> populate raw tables -> (export the contract CSVs to ``export_dir``) ->
    build the SQL models. All or nothing: on any error the old file stays as it was.
    Returns the raw row count per table.
    """
    from cslib.store import db, pipeline
    from cslib.store.dataset import mark_demo
    from cslib.store.renewals import write_renewals_source

    def report(message: str, fraction: float) -> None:
        if progress:
            progress(message, min(1.0, max(0.0, fraction)))

    with db.replace_atomically(db_path) as conn:
        conn.execute("set enable_progress_bar = false")  # progress goes through ``progress``
        report("generating the demo company", 0.0)
        frames = generate(n_accounts, n_months, seed, end_month,
                          progress=lambda msg, frac: report(msg, 0.5 * frac))
        counts = {name: len(df) for name, df in frames.items()}
        report("loading raw tables", 0.5)
        populate(conn, frames)
        write_renewals_source(conn, "file")  # the demo's renewals are its own renewals table
        mark_demo(conn)  # the app says "Demo data" on every page of this file
        if export_dir is not None:
            report("exporting CSVs", 0.6)
            export_csv(frames, export_dir)
        del frames  # the models are built from the raw tables: free the frames first
        pa.default_memory_pool().release_unused()
        report("building models", 0.65)
        pipeline.build_models(conn)
        report("finalising the database file", 0.95)
    report("done", 1.0)
    return counts
