-- stg_reason_taxonomy: raw_reason_taxonomy with each row's file position (a view: see
-- docs/decisions.md). The de-duplicated, defaulted taxonomy is the churn_taxonomy model.
-- Grain: one row per taxonomy row (the contract's key, reason_code as given).
-- * file_row: the row's position in the table (0-based, file order: the first row of a
--   code wins in churn_taxonomy).
-- * reason_code as given; reason_code_normalised as in stg_csm_logs.
create or replace view stg_reason_taxonomy as
select
    rowid as file_row,
    reason_code,
    nullif(
        regexp_replace(lower(regexp_replace(reason_code, '^\s+|\s+$', '', 'g')), '[\s-]+', '_', 'g'), ''
    ) as reason_code_normalised,
    label,
    category,
    is_avoidable,
    owner_department
from raw_reason_taxonomy
