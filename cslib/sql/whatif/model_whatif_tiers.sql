-- What-if tiers of a month (in-memory database; src = the app's file, read-only): each
-- active account of the slice in the month with its stored month-end score and tier
-- ("before") and the re-scored ones ("after", same month-end rule as account_month: the
-- latest week starting in the month; 'unscored' when none or NULL score). The tiers are
-- the Nine-box's: an account overdue at the month end (account_month.is_overdue) is
-- 'unhealthy' before and after whatever its score (a scorecard edit cannot change it), so
-- the "current" health rate is the Overview's.
-- Parameters: $month ('YYYY-MM'); the filter_predicate marker takes the sidebar's
-- predicate (alias f; cslib.store.queries.render).
with params as (
    select $month::varchar as month
),

current_book as (
    select
        f.account_id,
        f.arr,
        f.value_tier,
        f.health_score as score_before,
        f.health_tier as tier_before,
        f.is_overdue
    from src.account_month as f
    cross join params as p
    where f.month = p.month
        and f.is_active
        and /* filter_predicate */ true
),

rescored as (
    select h.account_id, h.score, h.tier
    from health_weekly as h
    cross join params as p
    where strftime(h.week_start, '%Y-%m') = p.month
    qualify row_number() over (partition by h.account_id order by h.week_start desc) = 1
),

final as (
    select
        c.account_id,
        c.arr,
        c.value_tier,
        c.score_before,
        case when c.is_overdue then 'unhealthy' else c.tier_before end as tier_before,
        r.score as score_after,
        case when c.is_overdue then 'unhealthy' else coalesce(r.tier, 'unscored') end as tier_after,
        c.is_overdue
    from current_book as c
    left join rescored as r on r.account_id = c.account_id
)

select * from final
