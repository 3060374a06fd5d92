-- account_search: accounts whose name, id or CSM contains a text, for the Account page's
-- search. A parametrised query (not a model), run by cslib.views.account with named parameters:
-- $text (in lower case), $month ('YYYY-MM') and $limit (the most rows); the filter_predicate
-- marker takes the viewer's scope (alias 'm').
-- Grain: one row per account that has a row in the month (active or not), largest ARR
-- first; an account is found by its name, its id or its CSM's name.
with params as (
    select $text::varchar as text, $month::varchar as month
),

final as (
    select
        m.account_id,
        m.name,
        m.segment,
        m.csm,
        m.arr,
        m.is_active
    from account_month as m
    cross join params as p
    where m.month = p.month
        and (
            contains(lower(m.name), p.text)
            or contains(lower(m.account_id), p.text)
            or contains(lower(coalesce(m.csm, '')), p.text)
        )
        and (/* filter_predicate */ true)
    order by m.is_active desc, m.arr desc, m.name, m.account_id
    limit $limit
)

select * from final
