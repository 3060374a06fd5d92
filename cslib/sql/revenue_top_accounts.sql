-- revenue_top_accounts: the accounts whose existing business grew or shrank most over a
-- period (cslib.revenue.top_accounts; a parametrised query, not a model).
-- Parameters: 1. first month, 2. last month ('YYYY-MM'), 3. how many per direction,
-- then the filter's parameters (the filter_predicate marker is replaced as in
-- revenue_movements.sql).
-- * retained_change_mrr = expansion + contraction + churn of the period (signed): the
--   account's contribution to NRR's numerator; new and reactivation are left out.
-- * main_lever: for growth, the expansion lever with the largest sum (upsell,
--   cross_sell, usage_expansion; ties in that order); for a loss, churn when the account
--   churned at least as much as it contracted, else contraction.
-- * health_tier and end_mrr are those of the period's last month (NULL tier: not active
--   then, or that month's row is outside the filtered slice).
-- Grain: up to N rows with retained_change_mrr > 0 ('expanding', largest first) and up
-- to N with retained_change_mrr < 0 ('contracting', largest loss first); ties by name.
with params as (
    select ? as first_month, ? as last_month, cast(? as integer) as n_rows
),

account_months as (
    select a.*
    from account_month as a
    cross join params as p
    where a.month >= p.first_month
        and a.month <= p.last_month
        and (/* filter_predicate */ true)
),

per_account as (
    select
        account_id,
        any_value(name) as name,
        any_value(segment) as segment,
        any_value(csm) as csm,
        coalesce(max(mrr) filter (where month = (select last_month from params)), 0) as end_mrr,
        max(health_tier) filter (where month = (select last_month from params)) as health_tier,
        sum(upsell_mrr) as upsell_mrr,
        sum(cross_sell_mrr) as cross_sell_mrr,
        sum(usage_expansion_mrr) as usage_expansion_mrr,
        sum(upsell_mrr + cross_sell_mrr + usage_expansion_mrr) as expansion_mrr,
        sum(contraction_mrr) as contraction_mrr,
        sum(churn_mrr) as churn_mrr,
        sum(new_mrr + reactivation_mrr) as new_and_reactivation_mrr,
        sum(upsell_mrr + cross_sell_mrr + usage_expansion_mrr + contraction_mrr + churn_mrr)
            as retained_change_mrr
    from account_months
    group by account_id
),

labelled as (
    select
        pa.*,
        case when pa.retained_change_mrr > 0 then 'expanding' else 'contracting' end as direction,
        case
            when pa.retained_change_mrr > 0 then
                case
                    when pa.upsell_mrr >= pa.cross_sell_mrr and pa.upsell_mrr >= pa.usage_expansion_mrr
                        then 'upsell'
                    when pa.cross_sell_mrr >= pa.usage_expansion_mrr then 'cross_sell'
                    else 'usage_expansion'
                end
            when pa.churn_mrr <= pa.contraction_mrr and pa.churn_mrr < 0 then 'churn'
            else 'contraction'
        end as main_lever
    from per_account as pa
    where abs(pa.retained_change_mrr) >= 0.005  -- ignore float noise below half a cent
),

ranked as (
    select
        *,
        row_number() over (
            partition by direction
            order by abs(retained_change_mrr) desc, name, account_id
        ) as rank_in_direction
    from labelled
),

final as (
    select
        r.direction,
        r.rank_in_direction,
        r.account_id,
        r.name,
        r.segment,
        r.csm,
        r.main_lever,
        r.retained_change_mrr,
        r.upsell_mrr,
        r.cross_sell_mrr,
        r.usage_expansion_mrr,
        r.contraction_mrr,
        r.churn_mrr,
        r.end_mrr,
        r.health_tier
    from ranked as r
    cross join params as p
    where r.rank_in_direction <= p.n_rows
)

select * from final
order by direction desc, rank_in_direction
