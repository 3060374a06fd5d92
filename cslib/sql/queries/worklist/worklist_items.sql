-- worklist_items: the alerts and red-light flags of a slice that a team works through, as
-- they stood at a month's end (the Worklist page). A parametrised query (not a model), run
-- by cslib.views.worklist with named parameters: $month ('YYYY-MM'), $last_on (the month's
-- last day), $first_on (the first day an item may have been raised on: the age window);
-- the filter_predicate marker takes the slice (alias 'am').
-- The slice is each account's account_month row of the month (its CSM, team, segment ...
-- then), so the list follows the sidebar and the viewer's book like every page.
-- Grain: one row per item (an alert: account x week x rule; a flag: one raise).
-- * alerts: raised in a week starting from the first day to the month's last day.
-- * flags: raised in the same window and not resolved by the month's last day (a flag
--   resolved later is open at the month end).
-- Statuses, owners and due dates people set live in the app store (cslib.views.worklist).
with params as (
    select $month::varchar as month, $last_on::date as last_on, $first_on::date as first_on
),

account_months as (
    select am.account_id, am.name, am.csm, am.csm_team, am.arr
    from account_month as am
    cross join params as p
    where am.month = p.month
        and (/* filter_predicate */ true)
),

alerts as (
    select
        'alert' as item_kind,
        a.alert_id as item_id,
        a.account_id,
        a.rule as code,
        cast(null as varchar) as label,
        a.severity,
        a.detail,
        a.week_start::date as raised_on
    from health_alerts as a
    cross join params as p
    where a.week_start::date between p.first_on and p.last_on
),

flags as (
    select
        'flag' as item_kind,
        f.flag_id as item_id,
        f.account_id,
        f.flag_code as code,
        f.flag_label as label,
        cast(null as varchar) as severity,
        coalesce(f.note, f.flag_label) as detail,
        f.raised_on::date as raised_on
    from churn_risk_flags as f
    cross join params as p
    where f.raised_on::date between p.first_on and p.last_on
        and (f.resolved_on is null or f.resolved_on::date > p.last_on)
),

items as (
    select * from alerts
    union all
    select * from flags
),

final as (
    select
        i.item_kind,
        i.item_id,
        i.account_id,
        m.name,
        m.csm,
        m.csm_team,
        m.arr,
        i.code,
        i.label,
        i.severity,
        i.detail,
        i.raised_on,
        date_diff('day', i.raised_on, p.last_on) as age_days
    from items as i
    cross join params as p
    inner join account_months as m
        on m.account_id = i.account_id
    order by i.raised_on, i.item_kind, m.name, i.item_id
)

select * from final
