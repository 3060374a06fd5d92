-- Renewals of a slice with their health features (query, not a model): every column of
-- model_renewal_features for the renewals due in ($due_after_on, $due_until_on] (DATE
-- parameters) that match the sidebar filters (the filter_predicate marker, alias f, filled
-- by cslib.store.queries.render), oldest due first.
with params as (
    select
        $due_after_on::date as due_after_on,
        $due_until_on::date as due_until_on
),

renewals as (
    select * from model_renewal_features
),

final as (
    select f.*
    from renewals as f
    cross join params as p
    where f.due_on > p.due_after_on
        and f.due_on <= p.due_until_on
        and /* filter_predicate */ true
    order by f.due_on, f.account_id
)

select * from final
