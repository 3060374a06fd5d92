-- stg_csm_logs: raw_csm_logs with each log's file position (a view: see docs/decisions.md).
-- Grain: one row per log (the contract's key, log_id).
-- * file_row: the row's position in the table (0-based, the import's file order), for
--   readers that report or keep file order (a view has no rowid of its own).
-- * reason_code is the code as logged (the Account page's timeline shows it as logged when
--   the taxonomy lacks it); reason_code_normalised is the matching key: surrounding
--   whitespace removed, lower case, every run of whitespace/hyphens -> '_', empty -> NULL
--   (cslib.views.churn.normalise_code; churn_logs and churn_taxonomy normalise the same way).
create or replace view stg_csm_logs as
select
    rowid as file_row,
    log_id,
    account_id,
    logged_on,
    author,
    kind,
    reason_code,
    nullif(
        regexp_replace(lower(regexp_replace(reason_code, '^\s+|\s+$', '', 'g')), '[\s-]+', '_', 'g'), ''
    ) as reason_code_normalised,
    note
from raw_csm_logs
