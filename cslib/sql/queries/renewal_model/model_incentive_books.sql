-- Incentive books (query, not a model): per CSM, the book's MRR and healthy MRR in a
-- month and in the month before. Parameters: $month_start (the month's first day, DATE),
-- $deferred_is_unhealthy (BOOLEAN); the filter_predicate marker takes the sidebar's
-- predicate for alias a (cslib.store.queries.render; the slice applies to each month's rows).
-- "Overdue" is account_month.is_overdue: at the month end, the latest renewal due by then
-- had no renewal order by then, whatever its later outcome (method section 3), the one
-- definition every page uses.
with params as (
    select
        $month_start::date as month_start,
        $deferred_is_unhealthy::boolean as deferred_is_unhealthy
),

book as (
    select
        a.account_id,
        a.month_start,
        (a.month_start + interval 1 month - interval 1 day)::date as month_end_on,
        a.csm,
        a.csm_team,
        a.mrr,
        a.health_tier,
        a.is_overdue
    from account_month as a
    cross join params as p
    where a.is_active
        and a.month_start in (p.month_start, (p.month_start - interval 1 month)::date)
        and /* filter_predicate */ true
),

flagged as (
    select
        b.*,
        b.health_tier = 'healthy'
            and not (p.deferred_is_unhealthy and b.is_overdue) as is_incentive_healthy
    from book as b
    cross join params as p
),

final as (
    select
        f.csm,
        min(f.csm_team) as csm_team,
        count(*) filter (where f.month_start = p.month_start) as accounts,
        count(*) filter (where f.month_start = p.month_start and f.is_overdue) as overdue_accounts,
        coalesce(sum(f.mrr) filter (where f.month_start = p.month_start), 0) as mrr,
        coalesce(sum(f.mrr) filter (where f.month_start = p.month_start and f.is_incentive_healthy), 0)
            as healthy_mrr,
        coalesce(sum(f.mrr) filter (where f.month_start < p.month_start), 0) as prev_mrr,
        coalesce(sum(f.mrr) filter (where f.month_start < p.month_start and f.is_incentive_healthy), 0)
            as prev_healthy_mrr,
        -- accounts of the month with a month-end score: 0 -> no health data, commission n/a
        count(*) filter (where f.month_start = p.month_start and f.health_tier <> 'unscored')
            as scored_accounts
    from flagged as f
    cross join params as p
    group by f.csm
    order by f.csm
)

select * from final
