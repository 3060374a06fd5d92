-- What-if backtest (in-memory database; src = the app's file, read-only): each decided
-- renewal of the slice with the month-end score and tier of the month before its
-- cut-off month (model_renewal_features), stored ("before") and re-scored ("after").
-- Both versions are NULL when the account was not active in that month.
-- The filter_predicate marker takes the sidebar's predicate (alias f; cslib.store.queries.render).
with renewals as (
    select
        f.account_id,
        f.due_on,
        f.due_arr,
        f.is_renewed,
        f.segment,
        (f.cutoff_on - interval 1 month)::date as score_month_start,
        f.month_end_score as score_before,
        f.month_end_tier as tier_before
    from src.model_renewal_features as f
    where f.is_decided
        and /* filter_predicate */ true
),

stored_months as (
    select account_id, month_start, is_active
    from src.account_month
),

rescored as (
    select
        account_id,
        date_trunc('month', week_start)::date as month_start,
        score,
        tier
    from health_weekly
    qualify row_number() over (
        partition by account_id, date_trunc('month', week_start) order by week_start desc
    ) = 1
),

final as (
    select
        r.account_id,
        r.due_on,
        r.due_arr,
        r.is_renewed,
        r.segment,
        case when m.is_active then r.score_before end as score_before,
        case when m.is_active then r.tier_before end as tier_before,
        case when m.is_active then h.score end as score_after,
        case when m.is_active then coalesce(h.tier, 'unscored') end as tier_after
    from renewals as r
    left join stored_months as m
        on m.account_id = r.account_id
        and m.month_start = r.score_month_start
    left join rescored as h
        on h.account_id = r.account_id
        and h.month_start = r.score_month_start
)

select * from final
