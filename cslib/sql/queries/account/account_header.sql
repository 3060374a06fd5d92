-- account_header: one account as it stood at the end of one month (the Account page's
-- header). A parametrised query (not a model), run by cslib.views.account with named
-- parameters: $account_id and $month ('YYYY-MM'); the filter_predicate marker takes the
-- viewer's scope (alias 'm': the account is returned only when some month of it lies in it).
-- Grain: at most one row. The tiers are the Nine-box's (an account overdue at the month end
-- is unhealthy whatever its score; score_tier keeps the score's own tier), so the page
-- shows the same tier as the grid and its drill-down. Columns of a month the account had no
-- row in (before its first revenue month) are NULL.
with params as (
    select $account_id::varchar as account_id, $month::varchar as month
),

accounts as (
    select * from stg_accounts
),

in_scope as (
    select distinct m.account_id
    from account_month as m
    cross join params as p
    where m.account_id = p.account_id
        and (/* filter_predicate */ true)
),

final as (
    select
        a.account_id,
        a.name,
        a.segment,
        a.industry,
        a.region,
        a.source_channel,
        a.csm,
        a.csm_team,
        a.lifecycle_stage,
        a.is_target,
        a.signed_on,
        n.is_active,
        n.arr,
        n.health_score,
        n.health_tier,
        n.score_tier,
        n.is_overdue,
        n.value_tier
    from accounts as a
    cross join params as p
    inner join in_scope as s
        on s.account_id = a.account_id
    left join ninebox_account_month as n
        on n.account_id = a.account_id
        and n.month = p.month
    where a.account_id = p.account_id
)

select * from final
