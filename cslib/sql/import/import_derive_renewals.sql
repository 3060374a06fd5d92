-- import_derive_renewals: renewal events derived from revenue, for an import without renewal
-- rows (cslib.store.renewals.derive_renewals). Two parameters: the term length in months given by
-- the mapping or the caller (NULL when none is given), and the default term (12).
--
-- Inserts into raw_renewals, the same columns as a renewals.csv, so account_month (renewal
-- rates, deferred months), churn_events (contract stage) and the renewal model read them
-- like imported ones. The rules (also in docs/renewals-and-churn-events.md):
-- * MRR is the account's total (every product, subscription + usage) per month of
--   raw_revenue_monthly; a month with MRR 0 (or no row) is a month without revenue.
-- * A revenue run is a stretch of consecutive months with revenue. Terms are anchored on
--   the run's first month S (the account's first revenue month; again after a gap, when it
--   comes back): term k covers months S + (k-1)T .. S + kT - 1.
-- * The term length T of a run: the given term when there is one. Otherwise, for revenue
--   imported as subscription periods (temp table _import_period_terms, written by the
--   importer: one row per period with an amount above 0, its start month and its length
--   start to end_date rounded to whole months, 1..120; NULL when open-ended), the length
--   of the period that starts in S (the earliest start_date, then the first row in the
--   file, when several do); the default term when that period is open-ended or none
--   starts in S (revenue imported as months).
-- * A term's renewal is due on the first day of the month after the term (month
--   U = S + kT). due_arr = 12 x MRR of the term's last month (U - 1).
--   - revenue in month U: renewed; renewed_on = due_on, renewed_arr = 12 x MRR of month U.
--   - no revenue in month U, which is inside the data: churned (renewed_on/_arr empty).
--   - month U after the data's last month D (the account still pays in D): pending, only
--     the next one; due_arr = 12 x MRR of the last paid month before the due date (D).
--   - the run stops before the term ends: no renewal for that term (a mid-term churn is a
--     churn, not a renewal) and no later term.
-- * 'deferred' is never derived: revenue cannot show a late renewal order.
-- * D is the last month of raw_revenue_monthly (as in stg_revenue / account_month).
insert into raw_renewals (account_id, due_on, due_arr, renewed_on, renewed_arr, outcome)
with params as (
    select cast(? as integer) as term_months, cast(? as integer) as default_term_months
),

-- the period that starts a run, per account and start month (see the rules above)
period_terms as (
    select account_id, month_index, term_months
    from (
        select
            account_id,
            month_index,
            term_months,
            row_number() over (partition by account_id, month_index order by start_date, _row) as rank
        from _import_period_terms
    )
    where rank = 1
),

account_months as (
    select
        account_id,
        cast(substr(trim(month), 1, 4) as integer) * 12 + cast(substr(trim(month), 6, 2) as integer) - 1
            as month_index,
        sum(coalesce(mrr_subscription, 0) + coalesce(mrr_usage, 0)) as mrr
    from raw_revenue_monthly
    group by all
),

data_end as (
    select max(month_index) as last_index from account_months
),

paid as (
    select account_id, month_index, mrr
    from account_months
    where mrr > 0
),

runs as (
    select
        account_id,
        month_index,
        month_index - row_number() over (partition by account_id order by month_index) as run_key
    from paid
),

run_bounds as (
    select account_id, min(month_index) as run_start, max(month_index) as run_last
    from runs
    group by account_id, run_key
),

run_terms as (
    select
        b.account_id,
        b.run_start,
        b.run_last,
        coalesce(p.term_months, t.term_months, p.default_term_months) as term_months
    from run_bounds as b
    cross join params as p
    left join period_terms as t
        on t.account_id = b.account_id
        and t.month_index = b.run_start
),

terms as (
    -- every term that ends inside the run, plus the term running at its last month
    select
        b.account_id,
        b.run_last,
        b.run_start + k.term_number * b.term_months as due_index
    from run_terms as b
    cross join lateral (
        select unnest(range(1, (b.run_last - b.run_start) // b.term_months + 2)) as term_number
    ) as k
),

classified as (
    select
        t.account_id,
        t.due_index,
        least(t.due_index - 1, t.run_last) as due_arr_index,
        case
            when t.due_index <= t.run_last then 'renewed'
            when t.run_last = d.last_index then 'pending'
            when t.due_index = t.run_last + 1 then 'churned'
        end as outcome
    from terms as t
    cross join data_end as d
),

final as (
    select
        c.account_id,
        make_date(cast(c.due_index // 12 as integer), cast(c.due_index % 12 + 1 as integer), 1) as due_on,
        before_due.mrr * 12 as due_arr,
        case when c.outcome = 'renewed'
            then make_date(cast(c.due_index // 12 as integer), cast(c.due_index % 12 + 1 as integer), 1)
        end as renewed_on,
        case when c.outcome = 'renewed' then after_due.mrr * 12 end as renewed_arr,
        c.outcome
    from classified as c
    inner join paid as before_due
        on before_due.account_id = c.account_id and before_due.month_index = c.due_arr_index
    left join paid as after_due
        on after_due.account_id = c.account_id and after_due.month_index = c.due_index
    where c.outcome is not null
)

select account_id, due_on, due_arr, renewed_on, renewed_arr, outcome
from final
order by account_id, due_on
