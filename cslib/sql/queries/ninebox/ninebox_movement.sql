-- ninebox_movement: how accounts moved into and out of one nine-box cell between the
-- previous month and this month, per account.
-- A parametrised query (not a model), run by cslib.views.ninebox with named parameters:
-- $this_month and $prev_month ('YYYY-MM'), $cell_id ('<value>|<health>'), $health_tier and
-- $value_tier (constants in the scan for the candidates, as are the months). The
-- filter_predicate marker takes the slice (cslib.store.queries.render, alias 'a').
-- The filter is evaluated on each month's own row, as the grid does.
-- Grain: one row per account whose state either month is the cell.
-- An account's state in a month is, in this order:
--   no row that month              -> 'new' (previous month only: first revenue month)
--   not active (mrr = 0)           -> 'churned' this month / 'reactivated' last month
--   row outside the filtered slice -> 'outside_slice' (e.g. a lifecycle-stage change)
--   health tier unscored           -> 'unscored'
--   otherwise                      -> its cell '<value_tier>|<health_tier>'
-- arr is this month's ARR, prev_arr last month's (0 when not active).
with params as (
    select
        $this_month::varchar as this_month,
        $prev_month::varchar as prev_month,
        $cell_id::varchar as cell_id
),

-- accounts in the cell in either month (whatever the filter): the only ones that can
-- enter, leave or stay; reading them first keeps the rest of the query small
candidates as (
    select distinct a.account_id
    from ninebox_account_month as a
    where a.month in ($this_month, $prev_month)
        and a.health_tier = $health_tier
        and a.value_tier = $value_tier
),

account_rows as (
    select
        a.account_id,
        a.name,
        a.month,
        a.is_active,
        a.arr,
        a.health_tier,
        a.value_tier,
        (/* filter_predicate */ true) as is_in_slice
    from ninebox_account_month as a
    semi join candidates as c on c.account_id = a.account_id
    where a.month in ($this_month, $prev_month)
),

states as (
    select
        account_id,
        name,
        month,
        arr,
        is_active,
        case
            when not is_active then null
            when not is_in_slice then 'outside_slice'
            when health_tier = 'unscored' then 'unscored'
            else value_tier || '|' || health_tier
        end as state
    from account_rows
),

this_month as (
    select s.* from states as s cross join params as p where s.month = p.this_month
),

prev_month as (
    select s.* from states as s cross join params as p where s.month = p.prev_month
),

paired as (
    select
        coalesce(t.account_id, r.account_id) as account_id,
        coalesce(t.name, r.name) as name,
        case when t.account_id is null or not t.is_active then 'churned' else t.state end as this_state,
        case
            when r.account_id is null then 'new'
            when not r.is_active then 'reactivated'
            else r.state
        end as prev_state,
        case when t.is_active then t.arr else 0 end as arr,
        case when r.is_active then r.arr else 0 end as prev_arr
    from this_month as t
    full outer join prev_month as r on r.account_id = t.account_id
),

final as (
    select
        q.account_id,
        q.name,
        q.prev_state,
        q.this_state,
        q.prev_arr,
        q.arr
    from paired as q
    cross join params as p
    where q.this_state = p.cell_id or q.prev_state = p.cell_id
)

select * from final
order by account_id
