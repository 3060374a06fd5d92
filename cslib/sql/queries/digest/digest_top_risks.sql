-- digest_top_risks: the month's top risks for the monthly digest (cslib.views.digest; a
-- parametrised query, not a model): active accounts of the slice whose health state fell
-- this month or that have an open red-light flag at the month end, largest ARR first.
-- Named parameters: $month ('YYYY-MM'), $month_end (the month's last day, DATE) and $limit
-- (rows); the filter_predicate marker takes the slice (cslib.store.queries.render with
-- alias 'f', columns of flows_account_month read on the month's row).
-- * health fell: the state ranks below last month's (healthy 3 > at_risk 2 > unhealthy 1 =
--   deferred 1, an overdue account counting as unhealthy as in the Health flows bridges);
--   new, won-back and unscored accounts have no rank, so they never "fall".
-- * open flag (churn_risk_flags, the Churn reasons page's red-light flags): raised on or
--   before the month's last day and not resolved by then.
with states as (
    select * from flows_account_month where month = $month
),

open_flags as (
    select
        account_id,
        count(*) as open_flags,
        min(raised_on) as oldest_open_flag_on
    from churn_risk_flags
    where raised_on <= $month_end
        and (resolved_on is null or resolved_on > $month_end)
    group by account_id
),

ranked as (
    select
        f.*,
        case f.state when 'healthy' then 3 when 'at_risk' then 2 when 'unhealthy' then 1
            when 'deferred' then 1 end as state_rank,
        case f.from_state when 'healthy' then 3 when 'at_risk' then 2 when 'unhealthy' then 1
            when 'deferred' then 1 end as from_rank,
        coalesce(o.open_flags, 0) as open_flags,
        o.oldest_open_flag_on
    from states as f
    left join open_flags as o on o.account_id = f.account_id
    where f.is_active
        and (/* filter_predicate */ true)
),

final as (
    select
        account_id,
        name,
        segment,
        csm,
        csm_team,
        arr,
        from_state,
        state,
        health_score,
        coalesce(state_rank < from_rank, false) as health_fell,
        open_flags,
        oldest_open_flag_on
    from ranked
    where coalesce(state_rank < from_rank, false) or open_flags > 0
)

select * from final
order by arr desc, name, account_id
limit $limit
