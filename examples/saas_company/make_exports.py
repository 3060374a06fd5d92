"""Write the exports of a made-up B2B SaaS company, shaped like the files real tools give.

    python examples/saas_company/make_exports.py /tmp/northwind_exports

writes four files into the folder, none of them in Healthgrid's own shape:

* ``crm_accounts.csv``: a CRM's account export (Salesforce-like headers, US dates,
  the billing system's customer id as a field, tiers spelled three ways);
* ``subscriptions.csv``: a billing system's subscriptions export (one row per
  subscription; a plan change starts a new row and leaves the old one open; trials at
  0.00; active subscriptions have no end date; add-on seats as their own rows);
* ``product_events.csv``: a product-analytics export, one row per event type, account
  and day with a count, timestamps in UTC on any day of the week;
* ``cancellations.csv``: the billing system's cancellation feedback (reason codes of its
  own, free-text comments, day/month/year dates).

``mapping.toml`` and ``scorecard.toml`` beside this script turn them into Healthgrid's
data (see docs/bring-your-own-data.md). The company is deterministic (same files every
run). ``truth()`` returns what the generator decided (who churned when, and why), so a
test can check that Healthgrid finds it in the exports.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

FIRST_MONTH = dt.date(2024, 7, 1)
LAST_MONTH = dt.date(2026, 10, 1)
EXPORT_DAY = dt.date(2026, 10, 31)  # the day the exports were taken
N_ACCOUNTS = 48
SEED = 11

TIERS = (("SMB", 0.6), ("Mid-Market", 0.3), ("Enterprise", 0.1))
TIER_SPELLINGS = {"SMB": ("SMB", "smb"), "Mid-Market": ("Mid-Market", "Mid Market", "mid-market"),
                  "Enterprise": ("Enterprise", "ENTERPRISE")}
PLANS = {"SMB": ("Starter", 149.0, 8), "Mid-Market": ("Growth", 1200.0, 35), "Enterprise": ("Scale", 6500.0, 150)}
UPGRADE = {"Starter": ("Growth", 1.8), "Growth": ("Scale", 1.6), "Scale": ("Scale Plus", 1.3)}
CSMS = (("Maya Fischer", "North"), ("Omar Haddad", "North"), ("Lena Park", "South"), ("Tom Reyes", "South"))
INDUSTRIES = ("Software", "Retail", "Manufacturing", "Financial Services", "Healthcare", "Logistics")
COUNTRIES = ("Germany", "United Kingdom", "United States", "France", "Netherlands", "Canada")
NAMES = ("Northwind", "Bluebird", "Copperline", "Driftwood", "Evergreen", "Foxglove", "Granite", "Harbor",
         "Ironwood", "Juniper", "Kestrel", "Lakeside", "Meridian", "Nimbus", "Oakridge", "Pinecrest")
SUFFIXES = ("Labs", "Group", "Systems", "Partners", "Works", "Trading")
#: archetype -> (share of accounts, weekly engagement at the start, change per month)
ARCHETYPES = {"engaged": (0.55, 0.85, 0.0), "drifting": (0.25, 0.7, -0.06), "silent": (0.1, 0.15, 0.0),
              "churner": (0.1, 0.75, 0.0)}
#: the billing system's cancellation reasons (its own codes)
REASONS = {"silent": ("unused", "We never really started using it"),
           "drifting": ("too_expensive", "Budget cut, could not justify the price"),
           "churner": ("switched_service", "Moved to a competitor that bundles this")}
FEATURES = (("Invoice Created", 0.8), ("Report Exported", 0.6), ("Workflow Run", 0.5),
            ("Dashboard Viewed", 0.9), ("Integration Sync", 0.3))


@dataclass
class Account:
    crm_id: str
    customer_id: str
    name: str
    tier: str
    archetype: str
    start: dt.date  # first paid day
    churn_on: dt.date | None = None  # cancellation date (just after a 12-month term)
    subscriptions: list[dict] = field(default_factory=list)


def _months_between(a: dt.date, b: dt.date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def _add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


def _pick(rng: random.Random, weighted) -> str:
    x, acc = rng.random(), 0.0
    for value, weight in weighted:
        acc += weight
        if x < acc:
            return value
    return weighted[-1][0]


def build_company(seed: int = SEED) -> list[Account]:
    """The accounts, their subscriptions and their fate."""
    rng = random.Random(seed)
    accounts = []
    arche = [(k, v[0]) for k, v in ARCHETYPES.items()]
    for i in range(N_ACCOUNTS):
        tier = _pick(rng, TIERS)
        start = _add_months(FIRST_MONTH, rng.randrange(0, 25)) + dt.timedelta(days=rng.randrange(0, 20))
        acct = Account(
            crm_id=f"001Hs00000{rng.randrange(16**5):05X}{i:02d}",
            customer_id=f"cus_{rng.randrange(36**10):010x}"[:18],
            name=f"{NAMES[i % len(NAMES)]} {SUFFIXES[(i * 7) % len(SUFFIXES)]}" + (f" {i // len(NAMES) + 1}" if i >= len(NAMES) else ""),
            tier=tier,
            archetype=_pick(rng, arche),
            start=start,
        )
        plan, price, seats = PLANS[tier]
        price = round(price * rng.uniform(0.8, 1.3), 2)
        # a 14-day trial at 0.00 before the first paid day
        acct.subscriptions.append(dict(plan="Trial", status="trialing", start=start - dt.timedelta(days=14),
                                       end=start, amount=0.0, quantity=seats))
        subs = [dict(plan=plan, status="active", start=start, end=None, amount=price, quantity=seats)]
        # fate: silent, drifting and churner accounts cancel at a term end
        terms_in_data = _months_between(start, LAST_MONTH) // 12
        # (at the end of a 12-month term: the cancellation lands in the first days of the
        # month after the term, so the term is paid in full and that month is not)
        if acct.archetype in ("silent", "churner") and terms_in_data >= 1:
            acct.churn_on = _add_months(start.replace(day=1), 12) + dt.timedelta(days=rng.randrange(1, 10))
        elif acct.archetype == "drifting" and terms_in_data >= 1 and rng.random() < 0.6:
            term = 1 if terms_in_data == 1 else rng.choice((1, 2))
            acct.churn_on = _add_months(start.replace(day=1), 12 * term) + dt.timedelta(days=rng.randrange(1, 10))
        # engaged accounts may upgrade (a new row; the old one is left open) and buy seats
        if acct.archetype == "engaged" and rng.random() < 0.4:
            up_on = _add_months(start.replace(day=1), rng.randrange(4, 14))
            if up_on < LAST_MONTH:
                new_plan, factor = UPGRADE[plan]
                subs.append(dict(plan=new_plan, status="active", start=up_on + dt.timedelta(days=rng.randrange(0, 25)),
                                 end=None, amount=round(price * factor, 2), quantity=int(seats * 1.5)))
        if acct.archetype == "engaged" and rng.random() < 0.35:
            add_on = _add_months(start.replace(day=1), rng.randrange(2, 18))
            if add_on < LAST_MONTH:
                subs.append(dict(plan="Extra seats", status="active", start=add_on, end=None,
                                 amount=round(price * 0.2, 2), quantity=max(2, seats // 5)))
        for sub in subs:
            if acct.churn_on and sub["start"] >= acct.churn_on:
                continue
            if acct.churn_on:
                sub["end"], sub["status"] = acct.churn_on, "canceled"
            acct.subscriptions.append(sub)
        accounts.append(acct)
    return accounts


def truth(seed: int = SEED) -> dict[str, dict]:
    """customer_id -> {archetype, tier, churn_month ('YYYY-MM' of the first unpaid month or None)}."""
    out = {}
    for a in build_company(seed):
        # a subscription ending on day d of a month covers the months before it (the
        # contract's rule), so the month of the cancellation is the first unpaid one
        churn_month = a.churn_on.strftime("%Y-%m") if a.churn_on else None
        out[a.customer_id] = {"archetype": a.archetype, "tier": a.tier, "churn_month": churn_month,
                              "name": a.name}
    return out


def _engagement(acct: Account, day: dt.date) -> float:
    _share, start_level, drift = ARCHETYPES[acct.archetype]
    level = start_level + drift * _months_between(acct.start, day)
    if acct.archetype == "churner" and acct.churn_on and (acct.churn_on - day).days < 100:
        level = 0.1  # the last three months before cancelling: almost nobody logs in
    return max(0.0, min(1.0, level))


def _events(acct: Account, rng: random.Random) -> list[tuple]:
    rows = []
    last_day = min(acct.churn_on or EXPORT_DAY, EXPORT_DAY) + dt.timedelta(days=0 if acct.churn_on else 1)
    seats = next(s["quantity"] for s in acct.subscriptions if s["plan"] != "Trial")
    monday = acct.start - dt.timedelta(days=acct.start.weekday())  # Monday of the first paid week
    day = dt.datetime.combine(monday, dt.time())
    while day.date() < last_day:
        week_seats = seats + sum(s["quantity"] for s in acct.subscriptions
                                 if s["plan"] == "Extra seats" and s["start"] <= day.date())
        # the seat count is synced weekly on a random weekday
        rows.append((acct.customer_id, day + dt.timedelta(days=rng.randrange(0, 5), hours=2), "Seat Count", week_seats))
        level = _engagement(acct, day.date())
        for offset in range(5):
            if rng.random() < level:
                users = max(1, round(week_seats * level * rng.uniform(0.6, 1.0)))
                stamp = day + dt.timedelta(days=offset, hours=rng.randrange(7, 19), minutes=rng.randrange(60))
                rows.append((acct.customer_id, stamp, "Session Started", users * rng.randint(1, 3)))
                rows.append((acct.customer_id, stamp.replace(hour=23, minute=59), "Active Users", users))
        for feature, p in FEATURES:
            if rng.random() < p * level:
                stamp = day + dt.timedelta(days=rng.randrange(0, 7), hours=rng.randrange(0, 24))
                rows.append((acct.customer_id, stamp, feature, rng.randint(1, 40)))
        day += dt.timedelta(days=7)
    return [r for r in rows if r[1].date() < last_day]  # nothing after the export or the cancellation


def write_exports(folder: str | Path, seed: int = SEED) -> Path:
    """Write the four export files into ``folder`` (created); returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed + 1)
    accounts = build_company(seed)
    with open(folder / "crm_accounts.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Account ID", "Account Name", "Stripe Customer ID", "Customer Tier", "Industry",
                    "Billing Country", "CSM", "CS Team", "Created Date", "Employees"])
        for i, a in enumerate(accounts):
            csm, team = CSMS[i % len(CSMS)]
            spelling = TIER_SPELLINGS[a.tier][i % len(TIER_SPELLINGS[a.tier])]
            created = a.start - dt.timedelta(days=30 + i)
            w.writerow([a.crm_id, a.name, a.customer_id, spelling, INDUSTRIES[i % len(INDUSTRIES)],
                        COUNTRIES[(i * 5) % len(COUNTRIES)], csm, team, created.strftime("%m/%d/%Y"),
                        rng.choice((12, 40, 85, 230, 900, 2400))])
    with open(folder / "subscriptions.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "Customer ID", "Plan", "Quantity", "Status", "Start (UTC)", "Ended At (UTC)",
                    "Amount per month", "Currency"])
        n = 0
        for a in accounts:
            for s in a.subscriptions:
                n += 1
                ended = "" if s["end"] is None else f"{s['end'].isoformat()} 00:00"
                w.writerow([f"sub_{n:05d}", a.customer_id, s["plan"], s["quantity"], s["status"],
                            f"{s['start'].isoformat()} 09:00", ended, f"{s['amount']:.2f}", "EUR"])
    with open(folder / "product_events.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["event", "timestamp", "account", "count"])
        for a in accounts:
            for customer_id, stamp, event, count in _events(a, rng):
                w.writerow([event, stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), customer_id, count])
    with open(folder / "cancellations.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Customer ID", "Canceled At", "Reason", "Comment"])
        for a in accounts:
            if a.churn_on:
                code, comment = REASONS[a.archetype]
                w.writerow([a.customer_id, a.churn_on.strftime("%d/%m/%Y"), code, comment])
    return folder


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python examples/saas_company/make_exports.py OUTPUT_FOLDER")
    out = write_exports(sys.argv[1])
    print(f"wrote {', '.join(sorted(p.name for p in out.iterdir()))} to {out}")
