-- stg_events: raw_events with each event's file position (a view: see docs/decisions.md).
-- Grain: one row per events row (the contract has no key: file_row identifies a row).
-- * file_row: the row's position in the table (0-based, the import's file order); the
--   churn risk flags name an event flag by it ('event-<file_row + 1>').
create or replace view stg_events as
select
    rowid as file_row,
    account_id,
    occurred_on,
    kind,
    score,
    role,
    note
from raw_events
