-- ninebox_account_month: the columns of account_month the Nine-box page reads, stored
-- in month order (then cell order) so that a query for one month or one cell reads
-- only the row groups of that month (DuckDB's zone maps skip the others). At 100,000
-- accounts x 36 months this turns a scan of the whole mart into a scan of one month.
-- Grain and values exactly as account_month (one row per account per month, dense,
-- inactive months included: the movement query needs them); the filter columns of
-- cslib.filters.FILTER_COLUMNS and is_target are kept so Filters.where_named() applies.
-- One exception: health_tier is the grid's tier, and an account overdue at the month end
-- (account_month.is_overdue, method section 3) is 'unhealthy' whatever its score's tier,
-- so the healthy row's share of ARR is the Overview's health rate. score_tier keeps the
-- score's own tier; is_overdue says why.
create or replace table ninebox_account_month as
with account_months as (
    select * from account_month
),

final as (
    select
        account_id,
        month,
        month_start,
        name,
        industry,
        region,
        segment,
        source_channel,
        csm,
        csm_team,
        is_target,
        lifecycle_stage,
        is_active,
        arr,
        health_score,
        case when is_overdue then 'unhealthy' else health_tier end as health_tier,
        health_tier as score_tier,
        is_overdue,
        value_tier
    from account_months
)

select * from final
order by month, health_tier, value_tier
