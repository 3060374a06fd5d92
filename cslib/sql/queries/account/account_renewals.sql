-- account_renewals: one account's renewals as known at a month's end, with the stored
-- model's probability (the Account page). A parametrised query (not a model), run by
-- cslib.views.account with named parameters: $account_id and $month_end_on (the month's last day).
-- Grain: one row per renewal (account x due date), latest due first.
-- * status, point in time (only what was known at the month end): 'renewed' when its
--   renewal order is dated on or before the month end; 'lapsed' when it fell due by the
--   month end, has no order by then and the account had a month without revenue from the
--   due month to the month end (it churned, whether or not it came back later); 'overdue'
--   when it fell due by the month end, has no order by then and the account has paid every
--   month since its due month (account_month.is_overdue's rule); 'upcoming' when it falls
--   due after the month end. The file's later outcome is
--   not used for past months.
-- * p_renewal: the boosted model's probability for the renewal (model_renewal_predictions;
--   NULL when the book was too small to fit a model), as on the Renewal model page.
with params as (
    select $account_id::varchar as account_id, $month_end_on::date as month_end_on
),

renewals as (
    select r.*
    from stg_renewals as r
    cross join params as p
    where r.account_id = p.account_id
),

inactive_months as (
    select m.month_start
    from account_month as m
    cross join params as p
    where m.account_id = p.account_id
        and not m.is_active
        and m.month_start <= p.month_end_on
),

final as (
    select
        r.due_on,
        r.due_arr,
        case when r.renewed_on <= p.month_end_on then r.renewed_on end as renewed_on,
        case when r.renewed_on <= p.month_end_on then r.renewed_arr end as renewed_arr,
        case
            when r.renewed_on <= p.month_end_on then 'renewed'
            when r.due_on > p.month_end_on then 'upcoming'
            when exists (
                select 1 from inactive_months as i
                where i.month_start >= date_trunc('month', r.due_on)
            ) then 'lapsed'
            else 'overdue'
        end as status,
        pr.p_boosted as p_renewal,
        pr.driver_1,
        pr.driver_2,
        pr.driver_3
    from renewals as r
    cross join params as p
    left join model_renewal_predictions as pr
        on pr.account_id = r.account_id
        and pr.due_on = r.due_on
    order by r.due_on desc
)

select * from final
