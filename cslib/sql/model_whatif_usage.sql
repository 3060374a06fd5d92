-- What-if usage (in-memory database, app file attached read-only as src): the raw usage
-- of the what-if book, to be re-scored by health_weekly.sql with the edited scorecard.
create or replace table raw_usage_weekly as
with book as (
    select account_id from whatif_accounts
),

final as (
    select u.*
    from src.raw_usage_weekly as u
    semi join book as b on b.account_id = u.account_id
)

select * from final;

create or replace table raw_module_usage_weekly as
with book as (
    select account_id from whatif_accounts
),

final as (
    select m.*
    from src.raw_module_usage_weekly as m
    semi join book as b on b.account_id = m.account_id
)

select * from final;
