-- revenue_top_accounts: the accounts whose existing business grew or shrank most over a
-- period (cslib.views.revenue.top_accounts; a parametrised query, not a model).
-- Parameters: $month_from, $month_to (the first and last month, 'YYYY-MM'), $n (how
-- many per direction); the filter_predicate marker is replaced as in
-- revenue_movements.sql.
-- * retained_change_mrr = expansion + contraction + churn of the period (signed): the
--   account's contribution to NRR's numerator; new and reactivation are left out.
-- * main_lever: for growth, the expansion lever with the largest sum (upsell,
--   cross_sell, usage_expansion; ties in that order); for a loss, churn when the account
--   churned at least as much as it contracted, else contraction.
-- * health_tier and end_mrr are those of the period's last month (NULL tier: not active
--   then, or that month's row is outside the filtered slice).
-- Grain: up to N rows with retained_change_mrr > 0 ('expanding', largest first) and up
-- to N with retained_change_mrr < 0 ('contracting', largest loss first); ties by name.
-- Speed: the sums are per account_id only; names and last-month columns are read for the
-- candidates (the top N of each direction by amount, ties included) alone.
with account_months as not materialized (
    select *
    from account_month as a
    where a.month >= $month_from
        and a.month <= $month_to
        and (/* filter_predicate */ true)
),

per_account as (
    select
        account_id,
        sum(upsell_mrr) as upsell_mrr,
        sum(cross_sell_mrr) as cross_sell_mrr,
        sum(usage_expansion_mrr) as usage_expansion_mrr,
        sum(contraction_mrr) as contraction_mrr,
        sum(churn_mrr) as churn_mrr,
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

-- every account that can make the top N: rank() keeps all ties at the boundary, so the
-- name tie-break below sees each account that could precede a finalist
candidates as (
    select *
    from labelled
    qualify rank() over (partition by direction order by abs(retained_change_mrr) desc) <= $n
),

named as (
    select
        c.account_id,
        any_value(m.name) as name,
        any_value(m.segment) as segment,
        any_value(m.csm) as csm,
        coalesce(max(m.mrr) filter (where m.month = $month_to), 0) as end_mrr,
        max(m.health_tier) filter (where m.month = $month_to) as health_tier
    from candidates as c
    inner join account_months as m on m.account_id = c.account_id
    group by c.account_id
),

ranked as (
    select
        c.*,
        n.name,
        n.segment,
        n.csm,
        n.end_mrr,
        n.health_tier,
        row_number() over (
            partition by c.direction
            order by abs(c.retained_change_mrr) desc, n.name, c.account_id
        ) as rank_in_direction
    from candidates as c
    inner join named as n on n.account_id = c.account_id
),

final as (
    select
        direction,
        rank_in_direction,
        account_id,
        name,
        segment,
        csm,
        main_lever,
        retained_change_mrr,
        upsell_mrr,
        cross_sell_mrr,
        usage_expansion_mrr,
        contraction_mrr,
        churn_mrr,
        end_mrr,
        health_tier
    from ranked
    where rank_in_direction <= $n
)

select * from final
order by direction desc, rank_in_direction
