-- Renewals of a slice due in (?, ?] (two DATE parameters) with the stored renewal model's
-- probability (model_renewal_predictions.p_boosted: the Renewal model page's P(renew))
-- and the filter columns the forecast breaks down by (query, not a model). The sidebar
-- predicate is spliced in by cslib.forecast from Filters.where('f'), its values bound
-- after the dates. No outcome column: what renewed is read by the backtest only, for
-- quarters that are over.
with params as (
    select
        ?::date as due_after_on,
        ?::date as due_until_on
),

renewals as (
    select * from model_renewal_features
),

predictions as (
    select account_id, due_on, p_boosted from model_renewal_predictions
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
        p.p_boosted as p_renewal
    from renewals as f
    cross join params as w
    left join predictions as p
        on p.account_id = f.account_id
        and p.due_on = f.due_on
    where f.due_on > w.due_after_on
        and f.due_on <= w.due_until_on
        and /* filter_predicate */ true
    order by f.due_on, f.account_id
)

select * from final
