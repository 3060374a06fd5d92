-- Importer step: accounts synthesised from subscription_periods when accounts.csv is absent.
insert into raw_accounts
with periods as (
    select _row, customer_id, start_date from _typed_subscription_periods
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
        'unknown' as industry,
        'unknown' as region,
        'smb' as segment,
        'unknown' as source_channel,
        'unknown' as csm,
        'unknown' as csm_team,
        signed_on,
        'unknown' as lifecycle_stage,
        true as is_target
    from customers
    order by first_row
)
select * from final
