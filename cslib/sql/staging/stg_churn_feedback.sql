-- stg_churn_feedback: raw_churn_feedback with each row's file position (a view: see
-- docs/decisions.md).
-- Grain: one row per churn event (the contract's key, account_id x churned_on).
-- * file_row: the row's position in the table (0-based, the import's file order).
-- * reason_code as given; reason_code_normalised as in stg_csm_logs.
-- * feedback: trimmed, empty -> NULL.
create or replace view stg_churn_feedback as
select
    rowid as file_row,
    account_id,
    churned_on,
    reason_code,
    nullif(
        regexp_replace(lower(regexp_replace(reason_code, '^\s+|\s+$', '', 'g')), '[\s-]+', '_', 'g'), ''
    ) as reason_code_normalised,
    nullif(trim(feedback), '') as feedback
from raw_churn_feedback
