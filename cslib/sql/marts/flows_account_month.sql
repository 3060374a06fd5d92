-- flows_account_month: each account's health *state* per month and where it came from,
-- with its step in the healthy-ARR and unhealthy-ARR bridges (method section 3).
--
-- Grain: one row per account x month where the account is active or churned that month
-- (account_month rows with mrr > 0, or mrr = 0 after an active month).
-- state (this month):
--   'churned'   mrr went to 0 this month (active last month);
--   'deferred'  active and overdue at the month end (account_month.is_overdue: the latest
--               renewal due on or before the month's last day had no renewal order by
--               then, whatever its later outcome; a late renewal is deferred until its
--               order arrives); it overrides the health tier and counts as unhealthy;
--   otherwise the month-end health tier: healthy / at_risk / unhealthy / unscored.
-- from_state: last month's state when the account was active last month; else 'new'
--   (first revenue month) or 'won_back' (revenue again after a month at zero).
-- ARR of a row: arr this month (stays, new, won back) and prev_arr (= prev_mrr * 12) for
--   churned rows; the bridges below say which one each step uses.
-- Bridges, for the group G = {healthy} and G = {unhealthy, deferred}; in_prev = from_state
-- in G, in_now = state in G; exactly one step per row (or none), amount signed:
--   in_prev and in_now:        'expansion' (arr - prev_arr > 0) or 'contraction' (< 0)
--   in_now, from new/won_back: 'new' / 'won_back'            (+ arr)
--   in_now, state deferred:    'deferred'                    (+ arr; unhealthy group only)
--   in_now otherwise:          'moved_in'                    (+ arr: upgraded to healthy /
--                                                              downgraded to unhealthy; an
--                                                              account that also expanded
--                                                              counts fully here)
--   in_prev, state churned:    'churned'                     (- prev_arr)
--   in_prev, state deferred:   'deferred'                    (- prev_arr; healthy group only)
--   in_prev otherwise:         'moved_out'                   (- prev_arr)
-- So per group and month: sum(prev_arr where in_prev) + sum(amounts) = sum(arr where in_now).
create or replace table flows_account_month as
with account_months as (
    select * from account_month
),

with_state as (
    select
        am.*,
        am.prev_mrr * 12 as prev_arr,
        case
            when am.is_overdue then 'deferred'
            when am.is_active then am.health_tier
            when am.prev_mrr > 0 then 'churned'
        end as state
    from account_months as am
),

with_from as (
    select
        *,
        case
            when prev_mrr > 0 then lag(state) over (partition by account_id order by month_start)
            when is_active and tenure_months = 1 then 'new'
            when is_active then 'won_back'
        end as from_state
    from with_state
),

grouped as (
    select
        *,
        coalesce(from_state = 'healthy', false) as healthy_in_prev,
        coalesce(state = 'healthy', false) as healthy_in_now,
        coalesce(from_state in ('unhealthy', 'deferred'), false) as unhealthy_in_prev,
        coalesce(state in ('unhealthy', 'deferred'), false) as unhealthy_in_now
    from with_from
    where state is not null
),

stepped as (
    select
        *,
        case
            when healthy_in_prev and healthy_in_now then
                case when arr > prev_arr then 'expansion' when arr < prev_arr then 'contraction' end
            when healthy_in_now and from_state in ('new', 'won_back') then from_state
            when healthy_in_now then 'moved_in'
            when healthy_in_prev and state in ('churned', 'deferred') then state
            when healthy_in_prev then 'moved_out'
        end as healthy_step,
        case
            when unhealthy_in_prev and unhealthy_in_now then
                case when arr > prev_arr then 'expansion' when arr < prev_arr then 'contraction' end
            when unhealthy_in_now and from_state in ('new', 'won_back') then from_state
            when unhealthy_in_now and state = 'deferred' then 'deferred'
            when unhealthy_in_now then 'moved_in'
            when unhealthy_in_prev and state = 'churned' then 'churned'
            when unhealthy_in_prev then 'moved_out'
        end as unhealthy_step
    from grouped
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
        tenure_months,
        is_active,
        arr,
        prev_arr,
        health_score,
        health_tier,
        is_overdue,
        from_state,
        state,
        healthy_step,
        case
            when healthy_step in ('expansion', 'contraction') then arr - prev_arr
            when healthy_step in ('new', 'won_back', 'moved_in') then arr
            when healthy_step in ('churned', 'deferred', 'moved_out') then -prev_arr
        end as healthy_step_arr,
        unhealthy_step,
        case
            when unhealthy_step in ('expansion', 'contraction') then arr - prev_arr
            when unhealthy_step in ('new', 'won_back', 'moved_in', 'deferred') then arr
            when unhealthy_step in ('churned', 'moved_out') then -prev_arr
        end as unhealthy_step_arr
    from stepped
)

select * from final
-- stored in month order: the page's queries read one month (or the last 13), and DuckDB's
-- row-group min/max then skips the other months' rows
order by month_start, account_id
