-- Importer step: expand subscription_periods to monthly revenue rows.
-- A period covers the months from its start month up to, not including, its end month;
-- one that starts and ends in the same month covers that month.
insert into raw_revenue_monthly
with periods as (
    select
        _row,
        customer_id as account_id,
        coalesce(product, 'default') as product,
        plan,
        start_date,
        end_date,
        monthly_amount
    from _typed_subscription_periods
),
bounds as (
    select
        *,
        date_trunc('month', start_date) as first_month_start,
        greatest(
            date_trunc('month', start_date),
            date_trunc('month', end_date) - interval 1 month
        ) as last_month_start
    from periods
),
months as (
    select
        *,
        unnest(generate_series(first_month_start, last_month_start, interval 1 month))
            as month_start
    from bounds
),
final as (
    select
        account_id,
        strftime(month_start, '%Y-%m') as month,
        product,
        first(plan order by start_date desc, _row desc) as plan,
        sum(monthly_amount) as mrr_subscription,
        0.0 as mrr_usage
    from months
    group by account_id, month, product
)
select * from final
order by account_id, month, product
