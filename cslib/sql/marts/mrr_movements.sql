-- mrr_movements: MRR movements per account x product x month.
--
-- ChartMogul-compatible at the account level (new / reactivation / churn are decided on
-- the account's total MRR), with products kept apart so expansion splits into the three
-- levers: cross-sell (a product new to the account), upsell (subscription MRR up on a
-- continuing product) and usage expansion (usage MRR up on a continuing product).
--
-- Grain: one row per account x product x month where the product had MRR in the month
-- or in the previous month, for months inside the data range (min..max month of
-- raw_revenue_monthly). The month right after a product's last revenue is included (the
-- churn or contraction month) when it is inside the range.
--
-- Rules, comparing each account x product with the previous month:
--   account total prev = 0, cur > 0: all current MRR is new (the account's first revenue
--     month) or reactivation (revenue again after at least one month at zero);
--   account total cur = 0, prev > 0: churn = -prev on every product;
--   otherwise, per product: prev 0 -> cross_sell = +cur; cur 0 -> contraction = -prev
--     (a product dropped while others remain is not churn); continuing product:
--     subscription delta > 0 -> upsell, usage delta > 0 -> usage_expansion, each negative
--     delta -> contraction.
-- Edge cases (also in docs/metrics.md, "MRR movements"):
--   * Same-month new and churn: at monthly grain, revenue in one month only is new in
--     that month and churn in the next month (when that month is inside the data range).
--   * Pauses: a month at zero is churn; revenue after any gap is reactivation, never new.
--   * The first month of the data has no previous month: its revenue counts as new.
--   * Rows with zero MRR in raw_revenue_monthly count as no revenue.
-- Invariant: new + reactivation + upsell + cross_sell + usage_expansion + contraction
-- + churn = mrr - prev_mrr on every row (and so per account and per month).
create or replace table mrr_movements as
with revenue as (
    select * from stg_revenue
),

data_range as (
    select max(month_start) as last_month_start
    from revenue
),

paid as (
    select account_id, product, month_start, subscription_mrr, usage_mrr
    from revenue
    where mrr > 0
),

candidate_months as (
    select account_id, product, month_start
    from paid
    union
    select account_id, product, cast(month_start + interval 1 month as date) as month_start
    from paid
),

in_range as (
    select c.account_id, c.product, c.month_start
    from candidate_months as c
    cross join data_range as r
    where c.month_start <= r.last_month_start
),

compared as (
    select
        i.account_id,
        strftime(i.month_start, '%Y-%m') as month,
        i.month_start,
        i.product,
        coalesce(p.subscription_mrr, 0) as prev_subscription_mrr,
        coalesce(p.usage_mrr, 0) as prev_usage_mrr,
        coalesce(c.subscription_mrr, 0) as subscription_mrr,
        coalesce(c.usage_mrr, 0) as usage_mrr
    from in_range as i
    left join paid as c
        on c.account_id = i.account_id
        and c.product = i.product
        and c.month_start = i.month_start
    left join paid as p
        on p.account_id = i.account_id
        and p.product = i.product
        and p.month_start = cast(i.month_start - interval 1 month as date)
),

first_revenue as (
    select account_id, min(month_start) as first_month_start
    from paid
    group by account_id
),

with_totals as (
    select
        compared.*,
        prev_subscription_mrr + prev_usage_mrr as prev_mrr,
        subscription_mrr + usage_mrr as mrr,
        sum(prev_subscription_mrr + prev_usage_mrr)
            over (partition by compared.account_id, compared.month_start) as account_prev_mrr,
        sum(subscription_mrr + usage_mrr)
            over (partition by compared.account_id, compared.month_start) as account_mrr,
        compared.month_start = f.first_month_start as is_first_revenue_month
    from compared
    inner join first_revenue as f on f.account_id = compared.account_id
),

classified as (
    select
        *,
        case
            when account_prev_mrr = 0 then 'start'
            when account_mrr = 0 then 'stop'
            when prev_mrr = 0 then 'product_added'
            when mrr = 0 then 'product_dropped'
            else 'continuing'
        end as change_kind
    from with_totals
),

amounts as (
    select
        *,
        case when change_kind = 'start' and is_first_revenue_month then mrr else 0 end
            as new_mrr,
        case when change_kind = 'start' and not is_first_revenue_month then mrr else 0 end
            as reactivation_mrr,
        case when change_kind = 'continuing'
            then greatest(subscription_mrr - prev_subscription_mrr, 0) else 0 end
            as upsell_mrr,
        case when change_kind = 'product_added' then mrr else 0 end as cross_sell_mrr,
        case when change_kind = 'continuing'
            then greatest(usage_mrr - prev_usage_mrr, 0) else 0 end
            as usage_expansion_mrr,
        case
            when change_kind = 'product_dropped' then -prev_mrr
            when change_kind = 'continuing'
                then least(subscription_mrr - prev_subscription_mrr, 0)
                    + least(usage_mrr - prev_usage_mrr, 0)
            else 0
        end as contraction_mrr,
        case when change_kind = 'stop' then -prev_mrr else 0 end as churn_mrr
    from classified
),

labelled as (
    select
        *,
        (new_mrr <> 0)::int + (reactivation_mrr <> 0)::int + (upsell_mrr <> 0)::int
            + (cross_sell_mrr <> 0)::int + (usage_expansion_mrr <> 0)::int
            + (contraction_mrr <> 0)::int + (churn_mrr <> 0)::int as n_movements
    from amounts
),

final as (
    select
        account_id,
        month,
        month_start,
        product,
        prev_subscription_mrr,
        prev_usage_mrr,
        subscription_mrr,
        usage_mrr,
        prev_mrr,
        mrr,
        case
            when n_movements = 0 then 'flat'
            when n_movements > 1 then 'mixed'
            when new_mrr <> 0 then 'new'
            when reactivation_mrr <> 0 then 'reactivation'
            when churn_mrr <> 0 then 'churn'
            when cross_sell_mrr <> 0 then 'cross_sell'
            when upsell_mrr <> 0 then 'upsell'
            when usage_expansion_mrr <> 0 then 'usage_expansion'
            else 'contraction'
        end as movement,
        new_mrr,
        reactivation_mrr,
        upsell_mrr,
        cross_sell_mrr,
        usage_expansion_mrr,
        contraction_mrr,
        churn_mrr
    from labelled
)

select * from final
