-- Renewals of a slice due in ($due_after_on, $due_until_on] (DATE parameters) with the
-- stored model's probabilities and drivers (query, not a model), riskiest first. The
-- filter_predicate marker takes the sidebar's predicate for alias f
-- (cslib.store.queries.render).
with params as (
    select
        $due_after_on::date as due_after_on,
        $due_until_on::date as due_until_on
),

renewals as (
    select * from model_renewal_features
),

predictions as (
    select * from model_renewal_predictions
),

final as (
    select
        f.account_id,
        f.name,
        f.segment,
        f.csm,
        f.csm_team,
        f.due_on,
        f.due_arr,
        f.outcome,
        f.month_end_tier,
        p.p_boosted as p_renewal,
        p.p_logistic as p_baseline,
        p.driver_1,
        p.driver_2,
        p.driver_3
    from renewals as f
    cross join params as w
    left join predictions as p
        on p.account_id = f.account_id
        and p.due_on = f.due_on
    where f.due_on > w.due_after_on
        and f.due_on <= w.due_until_on
        and /* filter_predicate */ true
    order by p_renewal asc nulls last, f.due_arr desc, f.due_on, f.account_id
)

select * from final
