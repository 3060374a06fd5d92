-- stg_accounts: raw_accounts, cleaned once for every reader (a view: see docs/decisions.md).
-- Grain: one row per account (the contract's key, account_id).
-- * is_target: NULL -> false (an account the importer did not write, e.g. one inserted by
--   hand, counts as outside the ideal customer profile, as every reader did before).
-- Readers that LEFT JOIN accounts still default is_target for an account without a row.
create or replace view stg_accounts as
select
    account_id,
    name,
    industry,
    region,
    segment,
    source_channel,
    csm,
    csm_team,
    signed_on,
    lifecycle_stage,
    coalesce(is_target, false) as is_target
from raw_accounts
