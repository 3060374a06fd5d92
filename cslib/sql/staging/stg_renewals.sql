-- stg_renewals: raw_renewals as every reader sees it (a view: see docs/decisions.md).
-- Grain: one row per renewal (the contract's key, account_id x due_on). The importer
-- already typed and checked the rows (outcome in the contract's values, money >= 0), and
-- renewals derived from revenue are inserted into raw_renewals, so nothing is left to clean.
create or replace view stg_renewals as
select
    account_id,
    due_on,
    due_arr,
    renewed_on,
    renewed_arr,
    outcome
from raw_renewals
