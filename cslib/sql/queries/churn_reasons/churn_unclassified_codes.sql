-- churn_unclassified_codes: churn_reason / risk_flag logs and churn events whose reason code
-- is not in the taxonomy, from the staging views (which exist with the raw tables: the importer
-- runs this before any model is built). Codes are compared normalised (as in churn_taxonomy.sql); an empty code
-- counts too.
-- Grain: one row per source file and code as logged (trimmed; '' for empty); csm_logs.csv
-- first, then churn_feedback.csv, each in order of first appearance.
with logged as (
    select 'csm_logs.csv' as file, 1 as file_order, file_row, reason_code, reason_code_normalised
    from stg_csm_logs
    where kind in ('churn_reason', 'risk_flag')
    union all
    select 'churn_feedback.csv' as file, 2 as file_order, file_row, reason_code, reason_code_normalised
    from stg_churn_feedback
),

logs as (
    select
        file,
        file_order,
        file_row,
        coalesce(trim(reason_code), '') as code_as_logged,
        reason_code_normalised as reason_code
    from logged
),

taxonomy as (
    select reason_code_normalised as reason_code
    from stg_reason_taxonomy
),

unmatched as (
    select l.*
    from logs as l
    where l.reason_code is null
        or not exists (select 1 from taxonomy as t where t.reason_code = l.reason_code)
),

final as (
    select file, code_as_logged, count(*) as n_logs, min(file_order) as file_order, min(file_row) as first_row
    from unmatched
    group by file, code_as_logged
)

select file, code_as_logged, n_logs, first_row from final
order by file_order, first_row
