-- Importer step: expand subscription_periods to monthly revenue rows.
-- A period covers the months from its start month up to, not including, its end month;
-- one that starts and ends in the same month covers that month. An empty end_date is
-- open-ended: the period runs through the data's last month: the mapping's
-- [subscriptions] through month (temp table _import_as_of), else the latest month of any
-- revenue (the last covered month of a closed period, or any start month) or usage.
-- Overlapping periods of one account and product add up, unless the product's overlap
-- mode (temp table _import_overlap: product NULL = the default) is 'replace': then a
-- newer period (later start_date; on a tie, the later row) replaces the earlier ones from
-- the newer one's start month, so an earlier period stops the month before it; a newer
-- period that starts in the same month as an earlier one takes that whole month.
insert into raw_revenue_monthly
with periods as (
    select
        _row,
        customer_id as account_id,
        coalesce(product, 'default') as product,
        plan,
        start_date,
        end_date,
        monthly_amount,
        date_trunc('month', start_date) as first_month_start,
        case when end_date is not null then greatest(
            date_trunc('month', start_date),
            date_trunc('month', end_date) - interval 1 month
        ) end as own_last_month_start
    from _typed_subscription_periods
),
data_end as (
    -- the mapping's through month when given, else the latest month of revenue or usage
    select coalesce(
        (select through_month_start from _import_as_of),
        greatest(
            max(coalesce(own_last_month_start, first_month_start)),
            (select usage_month_start from _import_as_of)
        )
    ) as last_month_start
    from periods
),
modes as (
    select
        p.*,
        coalesce(o.is_replace, d.is_replace, false) as is_replace
    from periods p
    left join _import_overlap o on o.product = p.product
    left join (select is_replace from _import_overlap where product is null) d on true
),
bounds as (
    select
        m.*,
        least(
            coalesce(m.own_last_month_start, e.last_month_start),
            case when m.is_replace then
                lead(m.first_month_start) over (
                    partition by m.account_id, m.product order by m.start_date, m._row
                ) - interval 1 month
            end
        ) as last_month_start
    from modes m
    cross join data_end e
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
