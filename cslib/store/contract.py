"""The data contract: every input table, its columns, types, keys and allowed values.

This module is the single source of truth for the importer (validation), the raw
schema (``raw_*`` tables), the demo generator (which must emit exactly these columns)
and docs/data-contract.md (a test checks every column here is documented there, and the
other way round).

Types are DuckDB types. ``required`` columns must be present in a CSV; optional
columns default to NULL when absent. Money columns must be >= 0.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type: VARCHAR, INTEGER, DOUBLE, DATE, BOOLEAN
    required: bool = True
    description: str = ""
    enum: tuple[str, ...] | None = None  # allowed values (case-sensitive) when set
    is_money: bool = False  # must be >= 0 and finite
    is_month: bool = False  # VARCHAR in YYYY-MM form
    is_monday: bool = False  # DATE that must fall on a Monday
    nullable: bool = False  # a required column whose cells may be empty
    accepts_timestamp: bool = False  # DATE that also accepts YYYY-MM-DD[T ]HH:MM:SS[Z] (date kept)
    non_negative: bool = False  # DOUBLE that must be >= 0 (not money)
    default: str | None = None  # value when the column is absent or a cell is empty
    default_from: str | None = None  # ... or the value of this other column of the row
    normalised: bool = False  # trimmed, lower case, runs of spaces/hyphens -> '_'


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # unique key; empty tuple = no key check
    required_file: bool = True  # must the import folder contain this file? (accounts only;
    # a revenue file is required in one of two shapes, see the importer)
    references_accounts: bool = True  # account_id must exist in accounts

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


SEGMENTS = ("smb", "mid_market", "enterprise")
RENEWAL_OUTCOMES = ("renewed", "deferred", "churned", "pending")
LOG_KINDS = ("churn_reason", "risk_flag", "touchpoint", "note")
EVENT_KINDS = ("admin_changed", "dept_head_changed", "nps", "satisfaction", "complaint")
EVENT_ROLES = ("admin", "dept_head", "key_user", "user", "executive")

ACCOUNTS = Table(
    name="accounts",
    description="One row per customer account. Only account_id is required: the other "
    "attributes default when the column is absent or a cell is empty.",
    key=("account_id",),
    references_accounts=False,
    columns=(
        Column("account_id", "VARCHAR", description="Unique account key."),
        Column("name", "VARCHAR", required=False, default_from="account_id",
               description="Account (company) name (default: the account_id)."),
        Column("industry", "VARCHAR", required=False, default="unassigned",
               description="Industry / vertical."),
        Column("region", "VARCHAR", required=False, default="unassigned", description="Sales region."),
        Column(
            "segment",
            "VARCHAR",
            required=False,
            default="unassigned",
            normalised=True,
            description="Size segment, free text normalised like reason codes "
            "('Mid Market' -> mid_market); the demo uses smb, mid_market, enterprise.",
        ),
        Column("source_channel", "VARCHAR", required=False, default="unassigned",
               description="Lead channel the account came from."),
        Column("csm", "VARCHAR", required=False, default="unassigned",
               description="Owning customer-success manager."),
        Column("csm_team", "VARCHAR", required=False, default="unassigned", description="The CSM's team."),
        Column("signed_on", "DATE", required=False,
               description="Date the first contract was signed (informational; may be empty)."),
        Column(
            "lifecycle_stage",
            "VARCHAR",
            required=False,
            description="Stage as recorded in the CRM (informational; the app derives a "
            "monthly stage from tenure, see Metric definitions).",
        ),
        Column(
            "is_target",
            "BOOLEAN",
            required=False,
            default="true",
            description="false for accounts outside the ideal customer profile that sales "
            "signed anyway; excluded from metrics by default (default true).",
        ),
    ),
)

REVENUE_MONTHLY = Table(
    name="revenue_monthly",
    description="Recurring revenue per account, month and product.",
    key=("account_id", "month", "product"),
    required_file=False,  # required unless subscription_periods.csv is given instead
    columns=(
        Column("account_id", "VARCHAR", description="Account key (must exist in accounts)."),
        Column("month", "VARCHAR", is_month=True, description="Calendar month, YYYY-MM."),
        Column("product", "VARCHAR", description="Product name."),
        Column("plan", "VARCHAR", required=False, description="Plan / edition of the product."),
        Column(
            "mrr_subscription",
            "DOUBLE",
            is_money=True,
            description="Subscription (seat/plan) MRR for the month.",
        ),
        Column(
            "mrr_usage",
            "DOUBLE",
            is_money=True,
            required=False,
            description="Usage-priced MRR for the month (0 when absent).",
        ),
    ),
)

SUBSCRIPTION_PERIODS = Table(
    name="subscription_periods",
    description="Alternative to revenue_monthly: periods with a monthly amount, expanded "
    "to months by the importer (a month is covered from the start month up to, not "
    "including, the end month; a period that starts and ends in one month covers that month).",
    key=(),
    columns=(
        Column("customer_id", "VARCHAR", description="Account key (maps to account_id)."),
        Column("start_date", "DATE", description="First day of the period."),
        Column(
            "end_date",
            "DATE",
            required=False,
            description="End of the period (exclusive month); empty or absent = open-ended "
            "(active through the last month of any revenue in the import).",
        ),
        Column("monthly_amount", "DOUBLE", is_money=True, description="MRR during the period."),
        Column("product", "VARCHAR", required=False, description="Product (default 'default')."),
        Column("plan", "VARCHAR", required=False, description="Plan."),
    ),
    required_file=False,
)

USAGE_WEEKLY = Table(
    name="usage_weekly",
    description="Weekly usage per account; weeks start on Monday.",
    key=("account_id", "week_start"),
    required_file=False,  # optional: without it every health score is unscored
    columns=(
        Column("account_id", "VARCHAR", description="Account key."),
        Column("week_start", "DATE", is_monday=True, description="Monday of the week."),
        Column("seats_purchased", "INTEGER", description="Seats under contract."),
        Column("seats_activated", "INTEGER", description="Seats with an activated user."),
        Column("users_logged_in", "INTEGER", description="Activated users who logged in."),
        Column("users_bi", "INTEGER", description="Activated users who used analytics (BI)."),
        Column("records_created", "INTEGER", description="Business records created."),
    ),
)

MODULE_USAGE_WEEKLY = Table(
    name="module_usage_weekly",
    description="Records created per module per week (rows with zero may be omitted).",
    key=("account_id", "week_start", "module"),
    columns=(
        Column("account_id", "VARCHAR", description="Account key."),
        Column("week_start", "DATE", is_monday=True, description="Monday of the week."),
        Column("module", "VARCHAR", description="Module name (see the scorecard)."),
        Column("records", "INTEGER", description="Records created in the module that week."),
    ),
    required_file=False,
)

USAGE_METRICS = Table(
    name="usage_metrics",
    description="Usage in long form: one value of one metric (or feature) per account and "
    "day, any day of the week; rolled up to Monday weeks with the aggregation the scorecard "
    "declares for the metric (names the scorecard does not declare are features, summed). "
    "Rows may repeat (an event stream): they are aggregated, never de-duplicated.",
    key=(),
    required_file=False,
    columns=(
        Column("account_id", "VARCHAR", description="Account key."),
        Column(
            "date",
            "DATE",
            accepts_timestamp=True,
            description="Day of the value: YYYY-MM-DD, or a timestamp YYYY-MM-DD HH:MM:SS / "
            "YYYY-MM-DDTHH:MM:SS[Z] whose date is kept.",
        ),
        Column("metric", "VARCHAR", description="Metric or feature name (see the scorecard)."),
        Column("value", "DOUBLE", non_negative=True, description="The value (>= 0), e.g. a count of events."),
    ),
)

RENEWALS = Table(
    name="renewals",
    description="One row per contract renewal due. outcome is the status as of the data's "
    "end: renewed (renewed_on set, on time or late), deferred (due date passed, no "
    "renewal order yet), churned, pending (not yet due).",
    key=("account_id", "due_on"),
    required_file=False,  # optional: without it renewal rates are empty
    columns=(
        Column("account_id", "VARCHAR", description="Account key."),
        Column("due_on", "DATE", description="Contract end / renewal due date."),
        Column("due_arr", "DOUBLE", is_money=True, description="ARR up for renewal."),
        Column("renewed_on", "DATE", nullable=True, description="Date of the renewal order."),
        Column(
            "renewed_arr", "DOUBLE", is_money=True, nullable=True, description="ARR renewed."
        ),
        Column("outcome", "VARCHAR", enum=RENEWAL_OUTCOMES, description="Renewal status."),
    ),
)

CSM_LOGS = Table(
    name="csm_logs",
    description="CSM log entries: churn reasons, risk flags, touchpoints, notes.",
    key=("log_id",),
    columns=(
        Column("log_id", "VARCHAR", description="Unique log key."),
        Column("account_id", "VARCHAR", description="Account key."),
        Column("logged_on", "DATE", description="Date of the entry."),
        Column("author", "VARCHAR", description="Who wrote it."),
        Column("kind", "VARCHAR", enum=LOG_KINDS, description="Entry kind."),
        Column(
            "reason_code",
            "VARCHAR",
            nullable=True,
            description="Churn-reason / risk code from the taxonomy (churn_reason, risk_flag).",
        ),
        Column("note", "VARCHAR", nullable=True, description="Free text; shown as plain text."),
    ),
    required_file=False,
)

CHURN_FEEDBACK = Table(
    name="churn_feedback",
    description="Churn events with reasons, e.g. from a cancellation survey or the billing "
    "system: each row becomes a churn-reason entry (author 'churn event', kind churn_reason, "
    "note = feedback) beside the CSM logs, and is matched to revenue churn like them. "
    "(Named churn_feedback: churn_events is the app's model of revenue churns.)",
    key=("account_id", "churned_on"),
    required_file=False,
    columns=(
        Column("account_id", "VARCHAR", description="Account key."),
        Column("churned_on", "DATE", description="Date of the churn event (cancellation)."),
        Column(
            "reason_code",
            "VARCHAR",
            required=False,
            nullable=True,
            description="Churn-reason code from the taxonomy (normalised like csm_logs.reason_code).",
        ),
        Column("feedback", "VARCHAR", required=False, nullable=True,
               description="Free-text feedback; shown as plain text."),
    ),
)

EVENTS = Table(
    name="events",
    description="Account events: admin or department-head changes, NPS, satisfaction, complaints.",
    key=(),
    columns=(
        Column("account_id", "VARCHAR", description="Account key."),
        Column("occurred_on", "DATE", description="Date of the event."),
        Column("kind", "VARCHAR", enum=EVENT_KINDS, description="Event kind."),
        Column("score", "DOUBLE", nullable=True, description="NPS 0-10 or satisfaction 1-5."),
        Column("role", "VARCHAR", nullable=True, description="Role of the person involved."),
        Column("note", "VARCHAR", nullable=True, description="Free text."),
    ),
    required_file=False,
)

REASON_TAXONOMY = Table(
    name="reason_taxonomy",
    description="The company's churn-reason and risk-flag taxonomy. Optional: without it (or "
    "with no rows) the shipped default cslib/config/reason_taxonomy.csv is used. Codes and "
    "categories are normalised (trimmed, lower case, runs of spaces/hyphens -> '_') like "
    "csm_logs.reason_code; two codes equal after normalising are an error.",
    key=("reason_code",),
    required_file=False,
    references_accounts=False,
    columns=(
        Column("reason_code", "VARCHAR", description="Code as used in csm_logs.reason_code."),
        Column("label", "VARCHAR", description="Display label (free text; empty = the code)."),
        Column(
            "category",
            "VARCHAR",
            description="Group of reasons, e.g. customer, product, service, competition, price.",
        ),
        Column("is_avoidable", "BOOLEAN", description="Could the company have prevented it?"),
        Column(
            "owner_department",
            "VARCHAR",
            nullable=True,
            description="Who a risk flag with this code is routed to (empty = unassigned).",
        ),
    ),
)

#: Tables loaded into the database, in load order (accounts first: others reference it).
TABLES: tuple[Table, ...] = (
    ACCOUNTS,
    REVENUE_MONTHLY,
    USAGE_WEEKLY,
    MODULE_USAGE_WEEKLY,
    USAGE_METRICS,
    RENEWALS,
    CSM_LOGS,
    CHURN_FEEDBACK,
    EVENTS,
    REASON_TAXONOMY,
)
TABLES_BY_NAME = {t.name: t for t in TABLES}
ALL_SHAPES = {**TABLES_BY_NAME, SUBSCRIPTION_PERIODS.name: SUBSCRIPTION_PERIODS}


def raw_table_ddl(table: Table) -> str:
    """``create table raw_<name> (...)`` for a contract table (identifiers are ours)."""
    cols = ",\n    ".join(f"{c.name} {c.type}" for c in table.columns)
    return f"create or replace table raw_{table.name} (\n    {cols}\n)"
