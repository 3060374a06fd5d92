-- Renewals of a slice with their health features (query, not a model): every column of
-- model_renewal_features for the renewals due in (?, ?] (two DATE parameters) that match
-- the sidebar filters (predicate spliced in by cslib.views.renewal_model from Filters.where('f'),
-- its values bound after the dates), oldest due first.
with params as (
    select
        ?::date as due_after_on,
        ?::date as due_until_on
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
