-- What-if usage (in-memory database, app file attached read-only as src): the weekly usage
-- (stg_usage_weekly: rolled up, missing weeks filled) of the what-if book, to be re-scored
-- by health_weekly and health_indicator_weekly (cslib.rules.scoring_sql) with the edited scorecard. The
-- what-if edits bands, weights, feature points, tiers and the window, never the metrics,
-- so the stored roll-up is the one the edited scorecard would build.
create or replace table stg_usage_weekly as
with book as (
    select account_id from whatif_accounts
),

final as (
    select u.*
    from src.stg_usage_weekly as u
    semi join book as b on b.account_id = u.account_id
)

select * from final
