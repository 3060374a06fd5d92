-- account_timeline: one account's CSM logs and customer events (NPS, satisfaction,
-- complaints, contact changes) up to a day, on one timeline (the Account page). A
-- parametrised query (not a model), run by cslib.views.account with named parameters:
-- $account_id and $last_on (the last day: the month's last day).
-- Grain: one row per log or event, newest first. source: 'csm_log' | 'event'; kind: the
-- log's or the event's kind; who: the log's author or the event's contact role; reason:
-- a logged reason code's label; score: an NPS or satisfaction score;
-- text: the note (text from the data, shown as plain text, never as HTML).
with params as (
    select $account_id::varchar as account_id, $last_on::date as last_on
),

logs as (
    select
        l.logged_on::date as happened_on,
        'csm_log' as source,
        l.kind,
        l.author as who,
        cast(null as double) as score,
        coalesce(t.label, l.reason_code) as reason,
        l.note as text
    from stg_csm_logs as l
    cross join params as p
    left join stg_reason_taxonomy as t
        on t.reason_code = l.reason_code
    where l.account_id = p.account_id
        and l.logged_on::date <= p.last_on
),

events as (
    select
        e.occurred_on::date as happened_on,
        'event' as source,
        e.kind,
        e.role as who,
        e.score,
        cast(null as varchar) as reason,
        e.note as text
    from stg_events as e
    cross join params as p
    where e.account_id = p.account_id
        and e.occurred_on::date <= p.last_on
),

final as (
    select * from logs
    union all
    select * from events
    order by happened_on desc, source, kind
)

select * from final
