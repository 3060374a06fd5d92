-- account_revenue: one account's MRR by product and month with each month's movement
-- (the Account page's revenue table). A parametrised query (not a model), run by
-- cslib.views.account with named parameters: $account_id and $month (the last month, 'YYYY-MM').
-- Grain: one row per product and month in which the product's MRR changed (flat months
-- are left out), newest first. Money is MRR; movement is mrr_movements' class.
with params as (
    select $account_id::varchar as account_id, $month::varchar as month
),

final as (
    select
        v.month,
        v.product,
        v.prev_mrr,
        v.mrr,
        v.mrr - v.prev_mrr as change_mrr,
        v.movement
    from mrr_movements as v
    cross join params as p
    where v.account_id = p.account_id
        and v.month <= p.month
        and v.movement <> 'flat'
    order by v.month desc, v.product
)

select * from final
