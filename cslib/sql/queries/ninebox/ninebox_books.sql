-- ninebox_books: the nine-box grid of one month per owner (CSM team or CSM), to compare
-- books side by side.
-- A parametrised query (not a model), run by cslib.views.ninebox with the named parameter
--   $month ('YYYY-MM'); the filter_predicate marker takes the slice
--   (cslib.store.queries.render, alias 'a').
-- The owner_column marker comment and the column name after it are replaced by a
-- column from cslib.views.ninebox.BOOK_OWNERS (a whitelist).
-- Grain: one row per owner x cell (health tier incl. unscored x value tier), 12 per
-- owner; shares are of the owner's own total (all 12 rows).
with params as (
    select $month::varchar as month
),

sliced as (
    select
        coalesce(a./* owner_column */ csm_team, '(none)') as owner,
        a.health_tier,
        a.value_tier,
        a.arr
    from ninebox_account_month as a
    cross join params as p
    where a.month = p.month
        and a.is_active
        and (/* filter_predicate */ true)
),

owners as (
    select distinct owner from sliced
),

cells as (
    select o.owner, h.health_tier, h.health_order, v.value_tier, v.value_order
    from owners as o
    cross join (
        values ('healthy', 1), ('at_risk', 2), ('unhealthy', 3), ('unscored', 4)
    ) as h (health_tier, health_order)
    cross join (values ('high', 1), ('mid', 2), ('low', 3)) as v (value_tier, value_order)
),

counts as (
    select owner, health_tier, value_tier, count(*) as accounts, sum(arr) as arr
    from sliced
    group by owner, health_tier, value_tier
),

filled as (
    select
        c.owner,
        c.health_tier,
        c.value_tier,
        c.health_order,
        c.value_order,
        cast(coalesce(n.accounts, 0) as bigint) as accounts,
        coalesce(n.arr, 0)::double as arr
    from cells as c
    left join counts as n
        on n.owner = c.owner
        and n.health_tier = c.health_tier
        and n.value_tier = c.value_tier
),

final as (
    select
        owner,
        health_tier,
        value_tier,
        accounts,
        arr,
        arr / nullif(sum(arr) over (partition by owner), 0) as arr_share,
        accounts / nullif(sum(accounts) over (partition by owner), 0) as accounts_share,
        cast(sum(accounts) over (partition by owner) as bigint) as owner_accounts,
        sum(arr) over (partition by owner) as owner_arr,
        health_order,
        value_order
    from filled
)

select * from final
order by owner, health_order, value_order
