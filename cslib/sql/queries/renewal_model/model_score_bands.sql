-- Decided renewals of a slice counted by band of the month-end score before the due month
-- (query, not a model; cslib.views.renewal_model.score_band_table adds rates and intervals).
-- Parameter: $is_coarse BOOLEAN. Fine bands '0-10' .. '90-100' (lower bound inclusive, 100
-- in '90-100'); coarse '<30', '30-70', '>=70'; no score: 'unscored'. kept_arr = the renewed
-- ARR capped at the ARR due. The filter_predicate marker takes the sidebar's predicate
-- for alias f (cslib.store.queries.render).
with params as (
    select $is_coarse::boolean as is_coarse
),

renewals as (
    select * from model_renewal_features
),

decided as (
    select
        f.is_renewed,
        f.due_arr,
        case when f.is_renewed then least(coalesce(f.renewed_arr, 0), f.due_arr) else 0 end as kept_arr,
        f.month_end_score as score,
        (floor(least(f.month_end_score, 99.999) / 10) * 10)::integer as fine_low
    from renewals as f
    where f.is_decided
        and /* filter_predicate */ true
),

banded as (
    select
        case
            when d.score is null then 'unscored'
            when p.is_coarse and d.score < 30 then '<30'
            when p.is_coarse and d.score < 70 then '30-70'
            when p.is_coarse then '>=70'
            else d.fine_low::varchar || '-' || (d.fine_low + 10)::varchar
        end as band,
        d.is_renewed,
        d.due_arr,
        d.kept_arr
    from decided as d
    cross join params as p
),

final as (
    select
        band,
        count(*) as renewals,
        count_if(is_renewed) as renewed,
        sum(due_arr) as due_arr,
        sum(kept_arr) as kept_arr
    from banded
    group by band
)

select * from final
