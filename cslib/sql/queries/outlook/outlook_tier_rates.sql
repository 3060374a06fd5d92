-- outlook_tier_rates: the renewal rate (ARR) of a slice per health tier over the 12 months
-- up to a month (the ARR outlook's base case). A parametrised query (not a model), run by
-- cslib.views.outlook with bound parameters: $first_month and $last_month ('YYYY-MM'); the
-- filter_predicate marker takes the sidebar's predicate for alias m
-- (cslib.store.queries.render).
-- Grain: one row per health tier (the Nine-box's tier in the renewal's due month) with
-- decided renewals, plus 'all'. The rate is the renewal-rate metric's: ARR kept (capped at
-- the ARR due) over ARR due of decided renewals (account_month's renewal columns).
with params as (
    select $first_month::varchar as first_month, $last_month::varchar as last_month
),

rows as (
    select
        coalesce(n.health_tier, 'unscored') as health_tier,
        m.renewal_decided_arr,
        m.renewal_kept_arr,
        m.renewals_decided
    from account_month as m
    cross join params as p
    inner join ninebox_account_month as n
        on n.account_id = m.account_id
        and n.month = m.month
    where m.month between p.first_month and p.last_month
        and m.renewals_decided > 0
        and (/* filter_predicate */ true)
),

final as (
    select
        coalesce(health_tier, 'all') as health_tier,
        cast(sum(renewals_decided) as bigint) as renewals_decided,
        sum(renewal_decided_arr) as decided_arr,
        sum(renewal_kept_arr) as kept_arr
    from rows
    group by grouping sets ((health_tier), ())
)

select * from final order by health_tier
