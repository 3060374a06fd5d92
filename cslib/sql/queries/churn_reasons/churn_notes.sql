-- churn_notes: CSM log notes of the filtered accounts in a period, containing a search text.
-- A parametrised query (not a model) with named parameters: $month_from and $month_to,
-- $text (the search text: case-insensitive, a literal substring: no wildcards; '' matches
-- every note) and $limit (rows); the filter_predicate marker takes the slice as in
-- churn_breakdown.sql. contains(lower(...)) is used rather than ILIKE: the same match for a literal
-- text, several times faster on large books. Newest first.
with logs as (
    select * from churn_logs
    where month >= $month_from
        and month <= $month_to
        and note is not null
        and contains(lower(note), lower($text))
        and (/* filter_predicate */ true)
),

final as (
    select
        logged_on,
        account_id,
        name,
        author,
        kind,
        reason_code,
        note,
        log_id
    from logs
)

select * from final
order by logged_on desc, log_id desc
limit $limit
