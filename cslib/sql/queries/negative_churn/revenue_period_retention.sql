-- revenue_period_retention: true period retention (NRR and GRR over n months) for a
-- filtered slice, per group of one dimension (cslib.views.revenue.period_retention; a
-- parametrised query, not a model).
-- Parameters: $month_to (the period's last month), $base_month (the month before the
-- period's first month), both 'YYYY-MM'; $attribute when the group is an account
-- attribute. Markers replaced by
-- cslib.views.revenue: the group_column marker (the comment and the column after it: a column of
-- cslib.views.revenue.BREAKDOWN_DIMENSIONS, an attribute look-up, or 'all') and the
-- filter_predicate marker (as in revenue_movements.sql).
-- * The base: the accounts active (mrr > 0) in the base month whose row of that month is
--   in the slice (filters and the group are read on the base month: a lifecycle-stage
--   filter selects where the account stood when the period opened). Accounts that start
--   or come back during the period are not in the base.
-- * start_mrr: their MRR in the base month; end_mrr: their MRR in the period's last month
--   (0 when not paying then; an account of the base that churned and came back during
--   the period counts with its MRR at the end).
-- * gross_retained_mrr: each account's end MRR floored at 0 and capped at its start MRR
--   (expansion ignored; no account loses more than 100% of its start), summed.
-- NRR = end_mrr / start_mrr and GRR = gross_retained_mrr / start_mrr
-- (cslib.views.revenue.REVENUE_METRICS period_nrr, period_grr); revenue_t12m.sql uses the same
-- per-account formula for the 12 months ending with each month.
-- Grain: one row per group value with at least one base account.
with ends as (
    select account_id, mrr as end_mrr
    from account_month
    where month = $month_to
),

base as (
    select
        /* group_column */ segment as group_value,
        account_id,
        mrr as start_mrr
    from account_month
    where month = $base_month
        and mrr > 0
        and (/* filter_predicate */ true)
),

per_account as (
    select
        b.group_value,
        b.account_id,
        b.start_mrr,
        coalesce(e.end_mrr, 0) as end_mrr,
        least(greatest(coalesce(e.end_mrr, 0), 0), b.start_mrr) as gross_retained_mrr
    from base as b
    left join ends as e on e.account_id = b.account_id
),

final as (
    select
        coalesce(cast(group_value as varchar), '(none)') as group_value,
        count(*) as base_accounts,
        count(*) filter (where end_mrr > 0) as retained_accounts,
        sum(start_mrr) as start_mrr,
        sum(end_mrr) as end_mrr,
        sum(gross_retained_mrr) as gross_retained_mrr
    from per_account
    group by 1
)

select * from final
order by group_value
