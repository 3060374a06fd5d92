-- kpi_data_status: is there health data and are there renewals in a slice's month?
-- A parametrised query (not a model), run by cslib.views.metrics.health_data_status and
-- renewal_data_status with the named parameter $month ('YYYY-MM'); the filter_predicate
-- marker takes the slice (cslib.store.queries.render, alias 'a').
-- One row: active accounts of the slice in the month, those with a month-end score
-- (health_tier not 'unscored'), the renewals due / decided in the month; then, for the
-- whole data (any month, any account): whether health_weekly has any row and how many
-- renewals there are, to tell "none imported" from "none in this slice / month".
with slice as (
    select a.is_active, a.health_tier, a.renewals_due, a.renewals_decided
    from account_month as a
    where a.month = $month
        and (/* filter_predicate */ true)
),

final as (
    select
        count(*) filter (where s.is_active) as active_accounts,
        count(*) filter (where s.is_active and s.health_tier <> 'unscored') as scored_accounts,
        cast(coalesce(sum(s.renewals_due), 0) as bigint) as renewals_due,
        cast(coalesce(sum(s.renewals_decided), 0) as bigint) as renewals_decided,
        (select count(*) from (select 1 from health_weekly limit 1)) as any_health_rows,
        (select cast(coalesce(sum(renewals_due), 0) as bigint) from account_month) as renewals_in_data
    from slice as s
)

select * from final
