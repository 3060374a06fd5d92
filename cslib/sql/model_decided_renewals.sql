-- Decided renewals of a slice with only the columns the outcome analyses read (query, not
-- a model): score bands and indicator bands on the Renewal model page. A narrow read:
-- model_renewal_features has 50 columns, these tables need 11. The sidebar predicate is
-- spliced in by cslib.renewal_model from Filters.where('f'), its values bound.
with renewals as (
    select * from model_renewal_features
),

final as (
    select
        f.account_id,
        f.due_on,
        f.segment,
        f.is_decided,
        f.is_renewed,
        f.due_arr,
        f.renewed_arr,
        f.month_end_score,
        f.activation_rate_mean,
        f.login_rate_mean,
        f.bi_rate_mean,
        f.instance_ratio_mean,
        f.modules_points_mean
    from renewals as f
    where f.is_decided
        and /* filter_predicate */ true
    order by f.due_on, f.account_id
)

select * from final
