-- ninebox_cells: the nine-box grid of one month and the month before, for a slice.
-- A parametrised query (not a model), run by cslib.views.ninebox with named parameters:
--   $this_month and $prev_month ('YYYY-MM'; also compared with constants in the scan, so
--   DuckDB skips other months' row groups). The filter_predicate marker takes the slice
--   (cslib.store.queries.render, alias 'a').
-- Grain: one row per cell, always 12 rows: health tier (healthy, at_risk, unhealthy,
-- unscored) x value tier (high, mid, low). Active accounts only (mrr > 0); the filter
-- applies to the account's row of each month (so the previous month's counts are that
-- month's members of the slice). Shares are of the month's total over all 12 rows,
-- so the nine scored cells plus the three unscored rows sum to the slice's total.
with params as (
    select
        $this_month::varchar as this_month,
        $prev_month::varchar as prev_month
),

sliced as (
    select
        a.month,
        a.health_tier,
        a.value_tier,
        a.arr
    from ninebox_account_month as a
    where a.month in ($this_month, $prev_month)
        and a.is_active
        and (/* filter_predicate */ true)
),

per_month as (
    select month, health_tier, value_tier, count(*) as accounts, sum(arr) as arr
    from sliced
    group by month, health_tier, value_tier
),

health_tiers as (
    select * from (
        values ('healthy', 1), ('at_risk', 2), ('unhealthy', 3), ('unscored', 4)
    ) as t (health_tier, health_order)
),

value_tiers as (
    select * from (values ('high', 1), ('mid', 2), ('low', 3)) as t (value_tier, value_order)
),

cells as (
    select h.health_tier, h.health_order, v.value_tier, v.value_order
    from health_tiers as h
    cross join value_tiers as v
),

counts as (
    select
        m.health_tier,
        m.value_tier,
        sum(m.accounts) filter (where m.month = p.this_month) as accounts,
        sum(m.arr) filter (where m.month = p.this_month) as arr,
        sum(m.accounts) filter (where m.month = p.prev_month) as prev_accounts,
        sum(m.arr) filter (where m.month = p.prev_month) as prev_arr
    from per_month as m
    cross join params as p
    group by m.health_tier, m.value_tier
),

filled as (
    select
        c.health_tier,
        c.value_tier,
        c.health_order,
        c.value_order,
        cast(coalesce(n.accounts, 0) as bigint) as accounts,
        coalesce(n.arr, 0)::double as arr,
        cast(coalesce(n.prev_accounts, 0) as bigint) as prev_accounts,
        coalesce(n.prev_arr, 0)::double as prev_arr
    from cells as c
    left join counts as n
        on n.health_tier = c.health_tier
        and n.value_tier = c.value_tier
),

final as (
    select
        health_tier,
        value_tier,
        accounts,
        arr,
        arr / nullif(sum(arr) over (), 0) as arr_share,
        accounts / nullif(sum(accounts) over (), 0) as accounts_share,
        prev_accounts,
        prev_arr,
        prev_arr / nullif(sum(prev_arr) over (), 0) as prev_arr_share,
        health_order,
        value_order
    from filled
)

select * from final
order by health_order, value_order
