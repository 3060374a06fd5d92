-- stg_revenue: raw_revenue_monthly renamed and typed.
-- Grain: account x month x product (the contract's key). Money in the currency of the
-- data, per month; a missing usage MRR is 0.
create or replace table stg_revenue as
with source as (
    select * from raw_revenue_monthly
),

renamed as (
    select
        account_id,
        month,
        cast(strptime(month || '-01', '%Y-%m-%d') as date) as month_start,
        product,
        plan,
        cast(coalesce(mrr_subscription, 0) as double) as subscription_mrr,
        cast(coalesce(mrr_usage, 0) as double) as usage_mrr
    from source
),

final as (
    select
        account_id,
        month,
        month_start,
        product,
        plan,
        subscription_mrr,
        usage_mrr,
        subscription_mrr + usage_mrr as mrr
    from renamed
)

select * from final
