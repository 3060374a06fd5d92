-- account_months: one account's months up to a month (the Account page's nine-box path and
-- ARR line). A parametrised query (not a model), run by cslib.views.account with named
-- parameters: $account_id and $month (the last month, 'YYYY-MM').
-- Grain: one row per month the account has in the marts (from its first revenue month),
-- oldest first. Tiers as on the Nine-box (overdue = unhealthy); movement columns in MRR as
-- in account_month (one month's change).
with params as (
    select $account_id::varchar as account_id, $month::varchar as month
),

final as (
    select
        n.month,
        n.is_active,
        n.arr,
        n.health_score,
        n.health_tier,
        n.value_tier,
        n.is_overdue,
        m.new_mrr,
        m.reactivation_mrr,
        m.upsell_mrr,
        m.cross_sell_mrr,
        m.usage_expansion_mrr,
        m.contraction_mrr,
        m.churn_mrr
    from ninebox_account_month as n
    cross join params as p
    inner join account_month as m
        on m.account_id = n.account_id
        and m.month = n.month
    where n.account_id = p.account_id
        and n.month <= p.month
    order by n.month
)

select * from final
