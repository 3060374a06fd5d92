-- Decided renewals of a slice counted per indicator band, overall and per segment (query,
-- not a model; cslib.views.renewal_model.indicator_band_table adds labels, rates, intervals).
-- Any set of indicators: the banded ones and their bands are bound as four parallel lists
-- ($indicators VARCHAR[], $min_values DOUBLE[], $bands INTEGER[], $on_points BOOLEAN[];
-- one element per band, the band is its position, 0 = lowest). Each indicator's 13-week mean
-- (model_renewal_indicator_features: value_mean, or points_mean when on_points, e.g. the
-- modules, which have no value bands) takes the band with the largest min_value <= it;
-- no value (or one below every band) is band -1, 'no data'. segment_group is 'all' for
-- the whole slice. The filter_predicate marker takes the sidebar's predicate for alias f
-- (cslib.store.queries.render).
with band_params as (
    select
        unnest($indicators::varchar[]) as indicator,
        unnest($min_values::double[]) as min_value,
        unnest($bands::integer[]) as band,
        unnest($on_points::boolean[]) as on_points
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

banded_indicators as (
    select indicator, bool_or(on_points) as on_points
    from band_params
    group by indicator
),

renewals as (
    select * from model_renewal_features
),

indicator_features as (
    select account_id, due_on, indicator, points_mean, value_mean
    from model_renewal_indicator_features
),

decided as (
    select
        f.account_id,
        f.due_on,
        f.segment,
        f.is_renewed
    from renewals as f
    where f.is_decided
        and /* filter_predicate */ true
),

-- every decided renewal once per banded indicator (a renewal without health weeks has
-- no feature row: its value is NULL, 'no data')
indicator_values as (
    select
        d.segment,
        d.is_renewed,
        b.indicator,
        case when b.on_points then i.points_mean else i.value_mean end as value
    from decided as d
    cross join banded_indicators as b
    left join indicator_features as i
        on i.account_id = d.account_id
        and i.due_on = d.due_on
        and i.indicator = b.indicator
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
