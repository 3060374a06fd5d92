-- Decided renewals of a slice counted per indicator band, overall and per segment (query,
-- not a model; cslib.renewal_model.indicator_band_table adds labels, rates, intervals).
-- Each indicator's 13-week mean is banded with the scorecard's bands, bound as three
-- parallel lists (indicator VARCHAR[], min_value DOUBLE[], band INTEGER[]; the band is the
-- band's position, 0 = lowest): a value takes the band with the largest min_value <= it;
-- no value (or one below every band) is band -1, 'no data'. segment_group is 'all' for
-- the whole slice. The sidebar predicate is spliced in from Filters.where('f'), its
-- values bound after the three lists.
with band_params as (
    select
        unnest(?::varchar[]) as indicator,
        unnest(?::double[]) as min_value,
        unnest(?::integer[]) as band
),

band_ranges as (
    -- [min_value, next band's min_value): a plain range join (an ASOF join measured 5x slower here)
    select
        indicator,
        min_value,
        lead(min_value) over (partition by indicator order by min_value) as next_min_value,
        band
    from band_params
),

renewals as (
    select * from model_renewal_features
),

decided as (
    select
        f.segment,
        f.is_renewed,
        f.activation_rate_mean,
        f.login_rate_mean,
        f.bi_rate_mean,
        f.instance_ratio_mean,
        f.modules_points_mean
    from renewals as f
    where f.is_decided
        and /* filter_predicate */ true
),

indicator_values as (
    select segment, is_renewed, 'activation_rate' as indicator, activation_rate_mean as value from decided
    union all
    select segment, is_renewed, 'login_rate' as indicator, login_rate_mean as value from decided
    union all
    select segment, is_renewed, 'bi_rate' as indicator, bi_rate_mean as value from decided
    union all
    select segment, is_renewed, 'instance_ratio' as indicator, instance_ratio_mean as value from decided
    union all
    select segment, is_renewed, 'modules' as indicator, modules_points_mean as value from decided
),

banded as (
    select
        v.segment,
        v.is_renewed,
        v.indicator,
        coalesce(b.band, -1) as band
    from indicator_values as v
    left join band_ranges as b
        on v.indicator = b.indicator
        and v.value >= b.min_value
        and (v.value < b.next_min_value or b.next_min_value is null)
),

final as (
    select
        indicator,
        case when grouping(segment) = 1 then 'all' else segment end as segment_group,
        band,
        count(*) as renewals,
        count_if(is_renewed) as renewed
    from banded
    group by grouping sets ((indicator, band), (indicator, segment, band))
)

select * from final
