-- flows_health_trend: healthy / unhealthy / total ARR per month and group, for the trend.
-- A parametrised query run by cslib.views.flows.health_rate_trend: named parameters
-- $first_month and $last_month ('YYYY-MM', inclusive); the filter_predicate marker takes the
-- slice (cslib.store.queries.render, alias 'f'). The group_key marker (with the 'all' after it) is
-- replaced by a whitelisted column (f.csm_team or f.csm). Each month is sliced on its own
-- rows. Healthy ARR excludes deferred accounts; unhealthy ARR includes them.
with rows as (
    select * from flows_account_month as f
    where f.month >= $first_month
        and f.month <= $last_month
        and (/* filter_predicate */ true)
),

final as (
    select
        month,
        /* group_key */ 'all' as group_name,
        count(*) filter (where is_active) as active_accounts,
        -- active accounts with a month-end score (deferred ones too): 0 -> health n/a
        count(*) filter (where is_active and health_tier <> 'unscored') as scored_accounts,
        coalesce(sum(arr) filter (where is_active), 0) as arr,
        coalesce(sum(arr) filter (where state = 'healthy'), 0) as healthy_arr,
        coalesce(sum(arr) filter (where state in ('unhealthy', 'deferred')), 0) as unhealthy_arr,
        coalesce(sum(arr) filter (where state = 'deferred'), 0) as deferred_arr
    from rows as f
    group by all
)

select * from final
