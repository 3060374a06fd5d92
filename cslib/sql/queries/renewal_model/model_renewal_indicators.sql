-- The per-indicator features (model_renewal_indicator_features rows) of the renewals of a
-- slice due in ($due_after_on, $due_until_on] (DATE parameters; query, not a model): the
-- same renewals as model_renewals.sql, with the same filter_predicate marker (alias f).
-- cslib.views.renewal_model pivots them into one column per indicator and statistic.
with params as (
    select
        $due_after_on::date as due_after_on,
        $due_until_on::date as due_until_on
),

renewals as (
    select * from model_renewal_features
),

indicator_features as (
    select account_id, due_on, indicator, ordinal, points_mean, points_last, points_slope, value_mean
    from model_renewal_indicator_features
),

selected as (
    select f.account_id, f.due_on
    from renewals as f
    cross join params as p
    where f.due_on > p.due_after_on
        and f.due_on <= p.due_until_on
        and /* filter_predicate */ true
),

final as (
    select i.*
    from indicator_features as i
    inner join selected as s
        on s.account_id = i.account_id
        and s.due_on = i.due_on
)

select * from final
