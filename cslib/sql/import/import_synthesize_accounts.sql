-- Importer step: accounts synthesised from subscription_periods when accounts.csv is absent:
-- name = the id, every attribute 'unassigned' (as an accounts file without those columns),
-- signed_on = the first period's start date, is_target true.
insert into raw_accounts
with periods as (
    select _row, customer_id, start_date from _typed_subscription_periods
    where customer_id is not null
),
customers as (
    select customer_id, min(start_date) as signed_on, min(_row) as first_row
    from periods
    group by customer_id
),
final as (
    select
        customer_id as account_id,
        customer_id as name,
        'unassigned' as industry,
        'unassigned' as region,
        'unassigned' as segment,
        'unassigned' as source_channel,
        'unassigned' as csm,
        'unassigned' as csm_team,
        signed_on,
        cast(null as varchar) as lifecycle_stage,
        true as is_target
    from customers
    order by first_row
)
select * from final
