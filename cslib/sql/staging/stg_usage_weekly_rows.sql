-- stg_usage_weekly_rows: raw_usage_weekly, the wide weekly usage file as given (a view:
-- see docs/decisions.md). stg_usage_weekly is the scored usage: this file, module usage
-- and long usage metrics rolled up to account x Monday week x metric, missing weeks filled.
-- Grain: one row per account x week (the contract's key, account_id x week_start).
create or replace view stg_usage_weekly_rows as
select
    account_id,
    week_start,
    seats_purchased,
    seats_activated,
    users_logged_in,
    users_bi,
    records_created
from raw_usage_weekly
